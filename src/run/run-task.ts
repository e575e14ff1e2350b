import { existsSync, mkdirSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import type { Config } from "../config/config-schema.ts";
import { UsageError } from "../errors.ts";
import { assertCheckRunnable } from "../evaluate/check-command.ts";
import { headCommit } from "../git/repo.ts";
import { withHomeLock } from "../log/home-lock.ts";
import type { ModelRegistry } from "../models/model-registry.ts";
import { knownCostUsd } from "../models/pricing.ts";
import type { SandboxLimits } from "../sandbox/limits.ts";
import { findSharedDeps } from "../sandbox/shared-deps.ts";
import { applyChanges } from "../workspace/apply-changes.ts";
import { type SnapshotRef, takeSnapshot } from "../workspace/snapshot.ts";
import { pinTree } from "../workspace/snapshot-store.ts";
import { type AttemptResult, runAttempt } from "./attempt.ts";
import { leaseRun } from "./prune-runs.ts";
import { newRunId, type RunRecord, runsDir, saveRunRecord } from "./run-record.ts";

export interface RunTaskInput {
  home: string;
  /** The checkout whose agent-src runs; the home unless a candidate is being tried. */
  agentDir?: string;
  task: string;
  workspace: string;
  check: string | null;
  rubric: string | null;
  config: Config;
  models: ModelRegistry;
  apply: boolean;
  signal?: AbortSignal;
  onEvent?: (line: Record<string, unknown>) => void;
  sandbox: SandboxLimits | null;
}

export interface RunTaskOutput {
  record: RunRecord;
  attempt: AttemptResult;
}

/**
 * `moss run`: snapshot the workspace, run one attempt in a scratch copy, score it, and apply the
 * diff to the user's folder only when it passed. Leaves a record under <home>/runs/<runId>/.
 */
export async function runTask(input: RunTaskInput): Promise<RunTaskOutput> {
  const workspace = path.resolve(input.workspace);
  if (!existsSync(workspace) || !statSync(workspace).isDirectory()) {
    throw new UsageError(`--workspace: ${workspace} is not a folder`);
  }
  if (!input.task.trim()) throw new UsageError("the task is empty: say what the agent should do");
  if (input.check) assertCheckRunnable(input.check, workspace);
  const executor = input.models.for("executor");
  const judge = input.rubric ? input.models.for("judge") : undefined;
  const runId = newRunId();
  const runDir = path.join(runsDir(input.home), runId);
  mkdirSync(runDir, { recursive: true });
  // Kept by prune while this process lives: an evolution on this run replays its snapshot.
  leaseRun(runDir);
  const t0 = Date.now();
  let snapshot: SnapshotRef;
  try {
    // Under the home lock: `moss runs --prune` never sees objects stored but not yet pinned.
    snapshot = await withHomeLock(input.home, async () => {
      const { ref } = takeSnapshot(input.home, workspace, input.config.workspace.maxSnapshotBytes);
      pinTree(ref.store, runId, ref.tree);
      return ref;
    });
  } catch (err) {
    rmSync(runDir, { recursive: true, force: true });
    throw err;
  }
  const snapshotMs = Date.now() - t0;
  const agentDir = input.agentDir ?? input.home;
  const executorPrice = input.config.prices[input.config.models.executor.model];
  const attempt = await runAttempt({
    agentDir,
    snapshot,
    task: input.task,
    check: input.check,
    rubric: input.rubric,
    threshold: input.config.threshold,
    limits: input.config.limits,
    ...(executorPrice ? { price: executorPrice } : {}),
    ...(input.config.limits.costBudgetUsd !== undefined
      ? { costBudgetUsd: input.config.limits.costBudgetUsd }
      : {}),
    checkTimeoutMs: input.config.check.timeoutMs,
    executor,
    ...(judge ? { judge: () => judge } : {}),
    baseline: true,
    transcript: path.join(runDir, "transcript.jsonl"),
    keepScratch: true,
    sandbox: input.sandbox,
    sharedDeps: findSharedDeps(workspace, input.config.workspace.shareIgnored),
    ...(input.signal ? { signal: input.signal } : {}),
    ...(input.onEvent ? { onEvent: input.onEvent } : {}),
  });
  let applied = false;
  let conflicts: string[] = [];
  let applyRefused: string[] = [];
  let madeExecutable: string[] = [];
  try {
    if (input.apply && attempt.score.passed && attempt.diff.changes.length && attempt.scratch) {
      const result = applyChanges(attempt.diff.changes, attempt.before!, attempt.scratch, workspace, {
        maxFiles: input.config.workspace.maxApplyFiles,
        maxBytes: input.config.workspace.maxApplyBytes,
      });
      applied = result.applied > 0;
      ({ conflicts, refused: applyRefused, madeExecutable } = result);
    }
  } finally {
    attempt.release();
  }
  const prices = input.config.prices;
  const baseline = attempt.baseline;
  const unrunnable = baseline?.unrunnable ? baseline : null;
  const record: RunRecord = {
    runId,
    startedAt: new Date(t0).toISOString(),
    task: input.task,
    workspace,
    agentDir,
    agentCommit: await headCommit(agentDir),
    check: input.check,
    rubric: input.rubric,
    threshold: input.config.threshold,
    score: unrunnable ? 0 : attempt.score.score,
    passed: unrunnable ? false : attempt.score.passed,
    rationale: unrunnable ? [`the check cannot run: ${unrunnable.unrunnable}`] : attempt.score.rationale,
    exitReason: unrunnable ? "check_unrunnable" : attempt.agent.exitReason,
    ...(unrunnable
      ? {
          detail: `the check "${input.check}" cannot run on the untouched workspace: ${unrunnable.unrunnable}`,
        }
      : attempt.agent.detail
        ? { detail: attempt.agent.detail }
        : {}),
    scoreBefore: baseline && !baseline.unrunnable ? baseline.score : null,
    ...(baseline
      ? {
          baseline: {
            score: baseline.score,
            passed: baseline.passed,
            exitCode: baseline.exitCode,
            timedOut: baseline.timedOut,
            outputTail: baseline.outputTail,
            unrunnable: baseline.unrunnable,
            ms: baseline.ms,
          },
        }
      : {}),
    ...(attempt.modelFailure ? { modelFailure: attempt.modelFailure } : {}),
    finalText: attempt.agent.finalText,
    turns: attempt.agent.turns,
    usage: attempt.agent.usage,
    costUsd: knownCostUsd([
      { usage: attempt.agent.usage, price: prices[input.config.models.executor.model] },
      ...(attempt.judgeUsage
        ? [{ usage: attempt.judgeUsage, price: prices[input.config.models.judge.model] }]
        : []),
    ]),
    models: { executor: executor.model, ...(judge ? { judge: judge.model } : {}) },
    diff: attempt.diff.patch,
    changedFiles: attempt.diff.changes,
    applied,
    applyConflicts: conflicts,
    applyRefused,
    madeExecutable,
    checkOutputTail: attempt.check?.output.slice(-6000) ?? "",
    timings: { snapshotMs, ...attempt.timings, totalMs: Date.now() - t0 },
    snapshot,
    sandbox: input.sandbox ? (process.platform === "darwin" ? "sandbox-exec" : "bubblewrap") : "none",
  };
  saveRunRecord(input.home, record);
  return { record, attempt };
}
