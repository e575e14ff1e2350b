import { rmSync } from "node:fs";
import path from "node:path";
import type { SandboxLimits } from "../agent-host/agent-process.ts";
import type { Config } from "../config/config-schema.ts";
import { emptyUsage } from "../contract/index.ts";
import { assertAgentSrcClean, headBranch, readRef } from "../git/ratchet.ts";
import { createWorktree } from "../git/worktree.ts";
import { appendRecord, findRecord, newEvolutionId } from "../log/evolution-log.ts";
import type { EvolutionRecord } from "../log/evolution-record.ts";
import { withHomeLock } from "../log/home-lock.ts";
import { loadPending } from "./candidates.ts";
import { runGate } from "./gate.ts";
import { applyDiff, promoteCandidate, type RecordDraft } from "./promote.ts";
import { checkScope } from "./scope-check.ts";

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
    const draftBase: Omit<RecordDraft, "verdict" | "reason" | "gate" | "scope" | "diff"> = {
      id: newEvolutionId(),
      kind: "apply",
      time: new Date().toISOString(),
      task: pending.task,
      runId: pending.runId,
      triggerScore: pending.before,
      attempt: original?.attempt ?? 0,
      diagnosis: original?.diagnosis ?? null,
      plan: original?.plan ?? null,
      rationale: original?.rationale ?? `apply pending candidate ${pending.id}`,
      replay: { task: pending.task, runId: pending.runId, before: pending.before, after: pending.after },
      regression: original?.regression ?? [],
      parentCommit: head,
      target: pending.id,
      models: original?.models ?? {},
      usage: emptyUsage(),
      costUsd: 0,
      timings: {},
    };
    const problem = await applyDiff(wt.dir, pending.diff);
    const scoped = problem
      ? null
      : await checkScope(wt.dir, {
          allowPaths: config.evolve.allowPaths,
          maxPatchBytes: config.evolve.maxPatchBytes,
          taskFileNames: [],
        });
    const gate = scoped?.result.passed ? await runGate(wt.dir, config.evolve.gateTimeoutMs, sandbox) : null;
    const draft: RecordDraft = {
      ...draftBase,
      diff: scoped?.diff ?? pending.diff,
      scope: scoped?.result ?? null,
      gate,
      verdict: gate?.passed ? "accepted" : "rejected",
      reason: problem
        ? `the candidate no longer applies to the head: ${problem}`
        : !scoped?.result.passed
          ? `scope: ${scoped?.result.violations.join("; ")}`
          : gate?.passed
            ? `re-gated on ${head.slice(0, 10)}: ${gate.summary}`
            : `gate on the current head failed: ${gate?.summary}`,
      timings: { totalMs: Date.now() - t0, ...(gate ? { gateMs: gate.ms } : {}) },
    };
    if (draft.verdict !== "accepted") {
      const entry = await withHomeLock(home, async () => appendRecord(home, draft));
      return { ok: false, record: entry.record };
    }
    const result = await promoteCandidate({
      home,
      branch,
      config,
      worktree: wt,
      draft,
      trailers: {
        "Moss-Verdict": "accepted",
        "Moss-Applied-Candidate": pending.id,
        "Moss-Score-Before": String(pending.before),
        "Moss-Score-After": pending.after.join(","),
      },
      taskFileNames: [],
      sandbox,
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
