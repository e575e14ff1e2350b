import type { Config } from "../../config/config-schema.ts";
import { UsageError } from "../../errors.ts";
import { assertAgentSrcClean, headBranch, readRef } from "../../git/ratchet.ts";
import { git } from "../../git/repo.ts";
import { createWorktree } from "../../git/worktree.ts";
import { appendRecord, readLog } from "../../log/evolution-log.ts";
import type { EvolutionRecord } from "../../log/evolution-record.ts";
import { withHomeLock } from "../../log/home-lock.ts";
import { commitOfRecord, mossCommits } from "../../log/verify-log.ts";
import type { SandboxLimits } from "../../sandbox/limits.ts";
import { candidatePolicy } from "../check/candidate-policy.ts";
import { runGate } from "../check/gate.ts";
import { promoteCandidate } from "./promote.ts";
import { recordDraft } from "./record-draft.ts";

/**
 * Restores agent-src to a known-good state as a new commit on the head (history is never
 * rewritten), after the same gate. `rev` is an evolution id or a commit of the head branch.
 * Known-good: a commit that landed through moss, or one that was the head when moss evolved.
 */
export async function rollback(
  sandbox: SandboxLimits | null,
  home: string,
  rev: string,
  config: Config,
): Promise<{ commit: string; record: EvolutionRecord; target: string }> {
  await assertAgentSrcClean(home);
  const branch = await headBranch(home);
  const head = await readRef(home, branch);
  const target = await resolveKnownGood(home, rev, head);
  const same = await git(home).raw(["diff", "--name-only", target, head, "--", "agent-src"]);
  if (!same.trim())
    throw new UsageError(`agent-src at ${target.slice(0, 10)} is the same as the head: nothing to roll back`);

  const t0 = Date.now();
  const wt = await createWorktree(home, head);
  try {
    await git(wt.dir).raw(["rm", "-r", "-q", "--", "agent-src"]);
    await git(wt.dir).raw(["checkout", target, "--", "agent-src"]);
    await git(wt.dir).raw(["add", "-A", "--", "agent-src"]);
    const diff = await git(wt.dir).raw([
      "diff",
      "--cached",
      "--no-color",
      "--no-ext-diff",
      "HEAD",
      "--",
      "agent-src",
    ]);
    // The user asked for this state, tests included: its own tests judge it.
    const gate = await runGate(wt.dir, config.evolve.gateTimeoutMs, sandbox, { allowTestChanges: true });
    const draft = recordDraft({
      kind: "rollback",
      rationale: `roll agent-src back to ${target.slice(0, 10)} (${rev})`,
      diff,
      gate,
      verdict: gate.passed ? "accepted" : "rejected",
      reason: gate.passed
        ? `gate passed (${gate.summary})`
        : `gate failed at the rollback target: ${gate.summary}`,
      parentCommit: head,
      target,
      timings: { gateMs: gate.ms, totalMs: Date.now() - t0 },
    });
    if (!gate.passed) {
      await withHomeLock(home, async () => appendRecord(home, draft));
      throw new UsageError(`refusing to roll back to ${rev}: ${draft.reason}`);
    }
    const result = await promoteCandidate({
      home,
      branch,
      worktree: wt,
      draft,
      subject: `moss: roll agent-src back to ${target.slice(0, 10)}`,
      trailers: { "Moss-Verdict": "accepted", "Moss-Rollback": target },
      policy: candidatePolicy(config, sandbox, [], { testChanges: true }),
    });
    if (!result.ok) throw new Error(`rollback not landed: ${result.reason}`);
    return { commit: result.commit, record: result.record, target };
  } finally {
    await wt.remove();
  }
}

async function resolveKnownGood(home: string, rev: string, head: string): Promise<string> {
  const log = readLog(home).map((e) => e.record);
  const byId = log.find((r) => r.id === rev);
  if (byId) {
    if (byId.verdict !== "accepted")
      throw new UsageError(`${rev} was ${byId.verdict}, so it is not a known-good state`);
    const c = await commitOfRecord(home, byId.id);
    if (!c) throw new UsageError(`${rev} has no commit on the head branch`);
    return c.commit;
  }
  let commit: string;
  try {
    commit = (await git(home).revparse(["--verify", "--quiet", `${rev}^{commit}`])).trim();
  } catch {
    throw new UsageError(
      `unknown revision "${rev}": give an evolution id from \`moss log\` or a commit of the head branch`,
    );
  }
  if (!commit) throw new UsageError(`unknown revision "${rev}"`);
  try {
    await git(home).raw(["merge-base", "--is-ancestor", commit, head]);
  } catch {
    throw new UsageError(`${rev} is not on the head branch's history`);
  }
  const roots = (await git(home).raw(["rev-list", "--max-parents=0", head])).split("\n").filter(Boolean);
  const good = new Set([
    ...roots,
    ...log.map((r) => r.parentCommit),
    ...(await mossCommits(home))
      .filter((c) => c.trailers["Moss-Verdict"] === "accepted")
      .map((c) => c.commit),
  ]);
  if (!good.has(commit)) {
    throw new UsageError(
      `${rev} is not a known-good state: it neither landed through moss nor was the head when moss evolved`,
    );
  }
  return commit;
}
