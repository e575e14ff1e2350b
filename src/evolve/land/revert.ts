import type { Config } from "../../config/config-schema.ts";
import { UsageError } from "../../errors.ts";
import { assertAgentSrcClean, headBranch, readRef } from "../../git/ratchet.ts";
import { git } from "../../git/repo.ts";
import { createWorktree } from "../../git/worktree.ts";
import { appendRecord, findRecord } from "../../log/evolution-log.ts";
import type { EvolutionRecord } from "../../log/evolution-record.ts";
import { withHomeLock } from "../../log/home-lock.ts";
import { commitOfRecord } from "../../log/verify-log.ts";
import type { ModelRegistry } from "../../models/model-registry.ts";
import type { SandboxLimits } from "../../sandbox/limits.ts";
import { candidatePolicy, gateFailure } from "../check/candidate-policy.ts";
import { runGate } from "../check/gate.ts";
import { checkScope } from "../check/scope-check.ts";
import { judgeCandidate } from "../judge/judge-candidate.ts";
import { regressionPanel } from "../judge/regression-panel.ts";
import { makeTrialRunner } from "../judge/trial-runner.ts";
import { applyDiff, promoteCandidate } from "./promote.ts";
import { recordDraft } from "./record-draft.ts";
import { judgementTrailers } from "./trailers.ts";

export interface RevertInput {
  home: string;
  /** The evolution id of an accepted patch (a prefix is enough). */
  id: string;
  config: Config;
  models: ModelRegistry;
  sandbox: SandboxLimits | null;
  signal?: AbortSignal;
  say?: (line: string) => void;
}

/**
 * Undoes one accepted patch, wherever it is in history: a new commit on the head that reverses
 * only the agent-src diff that patch's commit made, leaving later patches in place. The revert is
 * a candidate like any other: scope-checked, gated, and judged against the head on the
 * regression panel (it must not make a task that passes now worse), then landed by
 * compare-and-swap. Every outcome leaves a record.
 */
export async function revertPatch(
  input: RevertInput,
): Promise<{ record: EvolutionRecord; commit: string | null }> {
  const { home, config } = input;
  const say = input.say ?? (() => {});
  const original = findRecord(home, input.id)?.record;
  if (!original) throw new UsageError(`no evolution record "${input.id}"; run \`moss log\` to list them`);
  if (original.verdict !== "accepted")
    throw new UsageError(`${original.id} was ${original.verdict}: only an accepted patch can be reverted`);
  const landed = await commitOfRecord(home, original.id);
  if (!landed) throw new UsageError(`${original.id} has no commit on the head branch`);
  await assertAgentSrcClean(home);
  const branch = await headBranch(home);
  const head = await readRef(home, branch);
  const patch = await git(home).raw([
    "diff",
    "--no-color",
    "--no-ext-diff",
    `${landed.commit}^`,
    landed.commit,
    "--",
    "agent-src",
  ]);
  if (!patch.trim()) throw new UsageError(`${original.id} changed nothing in agent-src: nothing to revert`);

  const t0 = Date.now();
  const wt = await createWorktree(home, head);
  const headWt = await createWorktree(home, head);
  try {
    const conflict = await applyDiff(wt.dir, patch, { reverse: true });
    if (conflict)
      throw new UsageError(
        `${original.id} cannot be reverted on its own: later patches changed the same lines (${conflict.split("\n")[0]}); use \`moss rollback\` to restore an earlier state`,
      );
    const policy = candidatePolicy(config, input.sandbox);
    // Restoring the files the patch touched may drop tests it added: that is the point of a revert.
    const touched = new Set(
      (await git(home).raw(["diff", "--name-only", `${landed.commit}^`, landed.commit, "--", "agent-src"]))
        .split("\n")
        .filter(Boolean),
    );
    const scoped = await checkScope(wt.dir, policy.scope);
    const violations = scoped.result.violations.filter((v) => ![...touched].some((f) => v.includes(f)));
    const scope = { ...scoped.result, violations, passed: violations.length === 0 };
    const gate = scope.passed ? await runGate(wt.dir, policy.gateTimeoutMs, policy.sandbox) : null;
    const failure = !scope.passed
      ? `scope: ${violations.join("; ")}`
      : gate && !gate.passed
        ? gateFailure(gate)
        : null;
    const judged = failure
      ? null
      : await judgeCandidate({
          target: null,
          panel: regressionPanel(home, null, config.evolve.regressionLimit, config.evolve.sealedFraction),
          headDir: headWt.dir,
          candidateDir: wt.dir,
          runTrial: makeTrialRunner(config, input.models, input.sandbox, input.signal),
          maxInvalidPairs: config.evolve.maxInvalidPairs,
          ...(input.signal ? { signal: input.signal } : {}),
          say,
        });
    const verdict = failure
      ? "rejected"
      : judged!.decision === "accept"
        ? "accepted"
        : judged!.decision === "reject"
          ? "rejected"
          : "undecided";
    const draft = recordDraft({
      kind: "revert",
      rationale: `revert ${original.id} (${landed.commit.slice(0, 10)}): ${original.rationale.split("\n")[0]}`,
      diff: scoped.diff,
      scope,
      gate,
      judgement: judged
        ? {
            reproduce: [],
            comparisons: judged.comparisons,
            decision: judged.decision,
            agentRuns: judged.agentRuns,
          }
        : null,
      verdict,
      reason: failure ?? `gate passed (${gate?.summary}); ${judged!.reason}`,
      parentCommit: head,
      target: original.id,
      timings: { totalMs: Date.now() - t0, ...(gate ? { gateMs: gate.ms } : {}) },
    });
    if (verdict !== "accepted") {
      const entry = await withHomeLock(home, async () => appendRecord(home, draft));
      return { record: entry.record, commit: null };
    }
    const result = await promoteCandidate({
      home,
      branch,
      worktree: wt,
      draft,
      subject: `moss: revert ${original.id}`,
      trailers: {
        "Moss-Verdict": "accepted",
        "Moss-Revert": original.id,
        ...(draft.judgement ? judgementTrailers(draft.judgement) : {}),
      },
      policy,
    });
    if (!result.ok) {
      const entry = await withHomeLock(home, async () =>
        appendRecord(home, { ...result.record, verdict: "rejected", reason: result.reason }),
      );
      return { record: entry.record, commit: null };
    }
    return { record: result.record, commit: result.commit };
  } finally {
    await wt.remove();
    await headWt.remove();
  }
}
