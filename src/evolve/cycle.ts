import type { SandboxLimits } from "../agent-host/agent-process.ts";
import type { Config } from "../config/config-schema.ts";
import type { Usage } from "../contract/index.ts";
import { addUsage, emptyUsage } from "../contract/index.ts";
import { assertAgentSrcClean, headBranch, readRef } from "../git/ratchet.ts";
import { createWorktree } from "../git/worktree.ts";
import { appendRecord, newEvolutionId } from "../log/evolution-log.ts";
import type { EvolutionRecord, GateResult, ScopeResult } from "../log/evolution-record.ts";
import { withHomeLock } from "../log/home-lock.ts";
import type { ModelRegistry } from "../models/model-registry.ts";
import type { RunRecord } from "../run/run-record.ts";
import { listWorkspaceFiles } from "../workspace/file-list.ts";
import { applyEdits } from "./apply-edits.ts";
import { savePending } from "./candidates.ts";
import { agentSourceListing, buildEvidence } from "./evidence.ts";
import { runExternalPatcher } from "./external-patcher.ts";
import { runGate } from "./gate.ts";
import {
  patch as askPatch,
  plan as askPlan,
  diagnose,
  formatDiagnosis,
  formatPlan,
  review,
} from "./patcher.ts";
import { DEPTHS, type Depth, type Diagnosis, type Plan } from "./patcher-schemas.ts";
import { promoteCandidate, type RecordDraft } from "./promote.ts";
import { mean, regressionSuite, replayRun } from "./replay.ts";
import { checkScope } from "./scope-check.ts";

export type Consent = (summary: { diff: string; before: number; after: number[] }) => Promise<boolean>;

export interface EvolveInput {
  home: string;
  run: RunRecord;
  config: Config;
  models: ModelRegistry;
  depth: Depth;
  /** Replay trials per candidate; the depth's default when omitted. */
  trials?: number;
  /** Decides promotion; null means nobody can be asked: the candidate is kept as pending. */
  consent: Consent | null;
  patcherCmd?: string;
  signal?: AbortSignal;
  say?: (line: string) => void;
  sandbox: SandboxLimits | null;
}

export interface EvolveOutcome {
  records: EvolutionRecord[];
  accepted: { id: string; commit: string } | null;
  pending: string | null;
}

/**
 * One evolution cycle for a failed run: diagnose, then up to the depth's attempts of plan, review,
 * patch, scope, gate, replay and regression; the first candidate that clears all of them is
 * promoted (or kept pending consent). Every attempt leaves a log record.
 */
export async function evolve(input: EvolveInput): Promise<EvolveOutcome> {
  const { home, run, config, models } = input;
  const say = input.say ?? (() => {});
  const depth = { ...DEPTHS[input.depth], ...(input.trials ? { trials: input.trials } : {}) };
  await assertAgentSrcClean(home);
  const branch = await headBranch(home);
  const parent = await readRef(home, branch);
  const evidence = buildEvidence(home, run);
  const source = agentSourceListing(home);
  const taskFileNames = taskNames(run.snapshot);
  const outcome: EvolveOutcome = { records: [], accepted: null, pending: null };
  const feedback: string[] = [];
  const modelNames = {
    patcher: input.patcherCmd ? `external: ${input.patcherCmd}` : config.models.patcher.model,
    executor: config.models.executor.model,
  };

  let diagnosis: Diagnosis | null = null;
  if (!input.patcherCmd) {
    say("diagnosing the failure…");
    diagnosis = await diagnose(models.for("patcher"), evidence, source);
    say(`diagnosis: ${diagnosis.rootCause}`);
  }

  for (let attempt = 1; attempt <= depth.attempts && !input.signal?.aborted; attempt++) {
    const t0 = Date.now();
    const usageBefore = totalUsage(models);
    const timings: Record<string, number> = {};
    const id = newEvolutionId();
    let thePlan: Plan | null = null;
    let rationale = "";
    let scope: ScopeResult | null = null;
    let gate: GateResult | null = null;
    let replay: EvolutionRecord["replay"] = null;
    const regression: EvolutionRecord["regression"] = [];
    let diff = "";
    const finishDraft = (verdict: EvolutionRecord["verdict"], reason: string): RecordDraft => ({
      id,
      kind: "evolution",
      time: new Date().toISOString(),
      task: run.task,
      runId: run.runId,
      triggerScore: run.score,
      attempt,
      diagnosis: diagnosis ? formatDiagnosis(diagnosis) : null,
      plan: thePlan ? formatPlan(thePlan) : null,
      rationale: rationale || reason,
      diff,
      scope,
      gate,
      replay,
      regression,
      verdict,
      reason,
      parentCommit: parent,
      target: null,
      models: modelNames,
      ...usageSince(models, usageBefore, config),
      timings: { ...timings, totalMs: Date.now() - t0 },
    });
    const reject = async (reason: string) => {
      say(`attempt ${attempt} rejected: ${reason}`);
      feedback.push(`attempt ${attempt}: ${reason}`);
      const entry = await withHomeLock(home, async () => appendRecord(home, finishDraft("rejected", reason)));
      outcome.records.push(entry.record);
    };

    const wt = await createWorktree(home, parent);
    try {
      // Plan and review, then patch.
      let t = Date.now();
      try {
        if (diagnosis) {
          thePlan = await askPlan(models.for("patcher"), evidence, diagnosis, feedback);
          for (let round = 0; round < depth.reviewRounds; round++) {
            const verdict = await review(models.for("patcher"), evidence, diagnosis, thePlan);
            if (verdict.approved) break;
            if (round === depth.reviewRounds - 1)
              throw new Error(`plan review rejected the plan: ${verdict.concerns.join("; ")}`);
            thePlan = await askPlan(models.for("patcher"), evidence, diagnosis, [
              ...feedback,
              ...verdict.concerns,
            ]);
          }
          timings.planMs = Date.now() - t;
          t = Date.now();
          const p = await askPatch(models.for("patcher"), source, diagnosis, thePlan, feedback);
          rationale = p.rationale;
          applyEdits(wt.dir, p, config.evolve.allowPaths);
        } else {
          const prompt = `${evidence}\n\n${feedback.length ? `## Earlier attempts were rejected\n${feedback.join("\n")}\n\n` : ""}Fix the weakness in agent-src/ that made the agent fail. Change only files under agent-src/ and add a test.`;
          const ext = await runExternalPatcher(
            wt.dir,
            input.patcherCmd!,
            prompt,
            config.evolve.gateTimeoutMs,
          );
          rationale = `external patcher (${input.patcherCmd}) exited ${ext.code}: ${ext.output.trim().split("\n").slice(-5).join(" ").slice(0, 500)}`;
          if (ext.timedOut) throw new Error("the external patcher ran past its time limit");
        }
        timings.patchMs = Date.now() - t;
      } catch (err) {
        await reject((err as Error).message);
        continue;
      }

      t = Date.now();
      const scoped = await checkScope(wt.dir, {
        allowPaths: config.evolve.allowPaths,
        maxPatchBytes: config.evolve.maxPatchBytes,
        taskFileNames,
        allowEscalation: config.evolve.allowEscalation,
      });
      scope = scoped.result;
      diff = scoped.diff;
      timings.scopeMs = Date.now() - t;
      if (!scope.passed) {
        await reject(`scope: ${scope.violations.join("; ")}`);
        continue;
      }

      say(`attempt ${attempt}: gate (typecheck + agent tests)…`);
      t = Date.now();
      gate = await runGate(wt.dir, config.evolve.gateTimeoutMs, input.sandbox);
      timings.gateMs = Date.now() - t;
      if (!gate.passed) {
        const failures = gate.tests
          .filter((x) => x.status === "failed")
          .map((x) => `${x.name}: ${x.message ?? ""}`);
        await reject(
          `gate: ${gate.summary}${failures.length ? ` — ${failures.join(" | ")}` : ""}${gate.typecheck.passed ? "" : ` — ${gate.typecheck.output.slice(0, 800)}`}`,
        );
        continue;
      }

      say(`attempt ${attempt}: replaying the failed task on the candidate…`);
      t = Date.now();
      const after = await replayRun(wt.dir, run, config, models, depth.trials, input.sandbox, input.signal);
      replay = { task: run.task, runId: run.runId, before: run.score, after };
      timings.replayMs = Date.now() - t;
      if (!(mean(after) > run.score)) {
        await reject(`replay: the candidate scored ${after.join(", ")}, not above the head's ${run.score}`);
        continue;
      }

      t = Date.now();
      let regressed: string | null = null;
      for (const r of regressionSuite(home, run, config.evolve.regressionLimit)) {
        const scores = await replayRun(wt.dir, r, config, models, 1, input.sandbox, input.signal);
        regression.push({ task: r.task, runId: r.runId, before: r.score, after: scores });
        if (Math.min(...scores) < r.score)
          regressed = `regression: "${r.task}" fell from ${r.score} to ${scores.join(", ")}`;
      }
      timings.regressionMs = Date.now() - t;
      if (regressed) {
        await reject(regressed);
        continue;
      }

      const summary = { diff, before: run.score, after };
      const decision = input.consent ? await input.consent(summary) : null;
      if (decision === false) {
        const entry = await withHomeLock(home, async () =>
          appendRecord(home, finishDraft("declined", "the user declined the candidate")),
        );
        outcome.records.push(entry.record);
        break;
      }
      if (decision === null) {
        const draft = finishDraft(
          "pending",
          `passed every check; awaiting consent: run \`moss apply ${id}\` to promote it`,
        );
        const entry = await withHomeLock(home, async () => {
          savePending(home, {
            id,
            diff,
            parentCommit: parent,
            task: run.task,
            runId: run.runId,
            before: run.score,
            after,
          });
          return appendRecord(home, draft);
        });
        outcome.records.push(entry.record);
        outcome.pending = id;
        say(`candidate ${id} passed every check; promote it with: moss apply ${id}`);
        break;
      }
      const draft = finishDraft(
        "accepted",
        `gate passed (${gate.summary}); replay ${run.score} -> ${after.join(", ")}`,
      );
      const promoted = await promoteCandidate({
        home,
        branch,
        config,
        worktree: wt,
        draft,
        trailers: {
          "Moss-Verdict": "accepted",
          "Moss-Score-Before": String(run.score),
          "Moss-Score-After": after.join(","),
          "Moss-Models": Object.entries(modelNames)
            .map(([k, v]) => `${k}=${v}`)
            .join(" "),
          "Moss-Cost-Usd": draft.costUsd.toFixed(4),
        },
        taskFileNames,
        sandbox: input.sandbox,
      });
      if (!promoted.ok) {
        await reject(promoted.reason);
        continue;
      }
      outcome.records.push(promoted.record);
      outcome.accepted = { id, commit: promoted.commit };
      say(`attempt ${attempt} accepted: new head ${promoted.commit.slice(0, 10)}`);
      break;
    } finally {
      await wt.remove();
    }
  }
  return outcome;
}

/** Workspace file names specific enough that a patch naming them hard-codes the task. */
function taskNames(snapshot: string): string[] {
  const common = new Set([
    "package.json",
    "package-lock.json",
    "README.md",
    "index.js",
    "index.ts",
    ".gitignore",
    "tsconfig.json",
  ]);
  return [...new Set(listWorkspaceFiles(snapshot).map((f) => f.split("/").pop()!))].filter(
    (n) => n.length >= 6 && !common.has(n),
  );
}

function totalUsage(models: ModelRegistry): { usage: Usage; cost: number } {
  let usage = emptyUsage();
  for (const a of Object.values(models.usage())) if (a) usage = addUsage(usage, a.usage);
  return { usage, cost: models.totalCost() };
}

function usageSince(models: ModelRegistry, before: { usage: Usage; cost: number }, _config: Config) {
  const now = totalUsage(models);
  return {
    usage: {
      inputTokens: now.usage.inputTokens - before.usage.inputTokens,
      outputTokens: now.usage.outputTokens - before.usage.outputTokens,
      cacheReadTokens: now.usage.cacheReadTokens - before.usage.cacheReadTokens,
      cacheWriteTokens: now.usage.cacheWriteTokens - before.usage.cacheWriteTokens,
    },
    costUsd: now.cost - before.cost,
  };
}
