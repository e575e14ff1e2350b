import { rmSync } from "node:fs";
import path from "node:path";
import type { Config } from "../../config/config-schema.ts";
import { assertAgentSrcClean, headBranch, readRef } from "../../git/ratchet.ts";
import { createWorktree } from "../../git/worktree.ts";
import { appendRecord, findRecord } from "../../log/evolution-log.ts";
import type { EvolutionRecord } from "../../log/evolution-record.ts";
import { withHomeLock } from "../../log/home-lock.ts";
import type { SandboxLimits } from "../../sandbox/limits.ts";
import { candidatePolicy, checkCandidate } from "../check/candidate-policy.ts";
import { loadPending } from "./candidates.ts";
import { applyDiff, promoteCandidate } from "./promote.ts";
import { recordDraft } from "./record-draft.ts";
import { judgementTrailers } from "./trailers.ts";

/** `moss apply <id>`: promotes a pending candidate after re-running scope and gate on the current head. */
export async function applyPending(
  sandbox: SandboxLimits | null,
  home: string,
  id: string,
  config: Config,
): Promise<{ ok: boolean; commit?: string; record: EvolutionRecord }> {
  const pending = loadPending(home, id);
  const original = findRecord(home, pending.id)?.record;
  await assertAgentSrcClean(home);
  const branch = await headBranch(home);
  const head = await readRef(home, branch);
  const t0 = Date.now();
  const wt = await createWorktree(home, head);
  try {
    // `moss apply <id>` is the user's consent, test changes included (shown by `moss log <id>`).
    const policy = candidatePolicy(config, sandbox, [], { testChanges: true });
    const problem = await applyDiff(wt.dir, pending.diff);
    const checked = problem ? null : await checkCandidate(wt.dir, policy);
    const passed = checked !== null && checked.failure === null;
    const draft = recordDraft({
      kind: "apply",
      task: pending.task,
      runId: pending.runId,
      triggerScore: pending.before,
      attempt: original?.attempt ?? 0,
      diagnosis: original?.diagnosis ?? null,
      plan: original?.plan ?? null,
      rationale: original?.rationale ?? `apply pending candidate ${pending.id}`,
      regression: original?.regression ?? [],
      judgement: original?.judgement ?? null,
      parentCommit: head,
      target: pending.id,
      models: original?.models ?? {},
      diff: checked?.diff ?? pending.diff,
      scope: checked?.scope ?? null,
      gate: checked?.gate ?? null,
      verdict: passed ? "accepted" : "rejected",
      reason: problem
        ? `the candidate no longer applies to the head: ${problem}`
        : passed
          ? `re-gated on ${head.slice(0, 10)}: ${checked.gate?.summary}`
          : `re-checked on the current head and failed: ${checked?.failure}`,
      timings: { totalMs: Date.now() - t0, ...(checked?.gate ? { gateMs: checked.gate.ms } : {}) },
    });
    if (draft.verdict !== "accepted") {
      const entry = await withHomeLock(home, async () => appendRecord(home, draft));
      return { ok: false, record: entry.record };
    }
    const result = await promoteCandidate({
      home,
      branch,
      worktree: wt,
      draft,
      trailers: {
        "Moss-Verdict": "accepted",
        "Moss-Applied-Candidate": pending.id,
        ...(original?.judgement ? judgementTrailers(original.judgement) : {}),
      },
      policy,
    });
    if (!result.ok) {
      const entry = await withHomeLock(home, async () =>
        appendRecord(home, { ...result.record, verdict: "rejected", reason: result.reason }),
      );
      return { ok: false, record: entry.record };
    }
    rmSync(path.join(home, ".moss", "candidates", `${pending.id}.json`), { force: true });
    return { ok: true, commit: result.commit, record: result.record };
  } finally {
    await wt.remove();
  }
}
