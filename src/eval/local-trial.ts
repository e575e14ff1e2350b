import { appendFileSync, rmSync } from "node:fs";
import type { Config } from "../config/config-schema.ts";
import { emptyUsage } from "../contract/index.ts";
import { ModelRegistry, type ModelSource } from "../models/model-registry.ts";
import { runAttempt } from "../run/attempt.ts";
import { unfairReason } from "../run/fairness.ts";
import type { SandboxLimits } from "../sandbox/limits.ts";
import type { SharedDeps } from "../sandbox/shared-deps.ts";
import type { SnapshotRef } from "../workspace/snapshot.ts";
import type { PlannedTask, TrialResult } from "./eval-store.ts";

/** What a trial needs of its task: no path or set-up of the machine that planned it. */
export type TrialTask = Pick<PlannedTask, "id" | "prompt" | "check" | "rubric" | "threshold" | "limits">;

/** One trial of an eval, as the pool hands it to an executor. */
export interface TrialSpec {
  evalId: string;
  key: string;
  label: "head" | "against";
  trial: number;
  task: TrialTask;
  /** A folder holding the agent's agent-src (the home, or a worktree of the planned commit). */
  agentDir: string;
  /** The task's prepared starting state. */
  snapshot: SnapshotRef;
  sharedDeps?: SharedDeps;
  /** Where the trial's JSONL transcript goes (started afresh). */
  transcript: string;
  signal?: AbortSignal;
}

/**
 * Runs one trial and returns its result, or null when it was aborted (not a result: it runs
 * again). The local pool's executor is `(spec) => runLocalTrial(spec, env)`; a queue executor
 * sends the trial elsewhere, where a worker runs this same function with its own environment.
 */
export type TrialExecutor = (spec: TrialSpec) => Promise<TrialResult | null>;

/** What a machine brings to its trials: its config, its models (and keys) and its sandbox. */
export interface TrialEnv {
  config: Config;
  models: ModelSource;
  sandbox: SandboxLimits | null;
}

/**
 * One trial here: an attempt in its own sandboxed scratch copy of the snapshot, scored; a model
 * service failure is an `error` result (not a score), as is an environment failure.
 */
export async function runLocalTrial(spec: TrialSpec, env: TrialEnv): Promise<TrialResult | null> {
  const { config } = env;
  const { task, key } = spec;
  const models = new ModelRegistry(config, env.models);
  const t0 = Date.now();
  rmSync(spec.transcript, { force: true });
  const { checkTimeoutMs, ...limits } = task.limits;
  const base = {
    type: "trial" as const,
    key,
    agent: spec.label,
    taskId: task.id,
    trial: spec.trial,
    finishedAt: "",
  };
  try {
    const attempt = await runAttempt({
      agentDir: spec.agentDir,
      snapshot: spec.snapshot,
      task: task.prompt,
      check: task.check ?? null,
      rubric: task.rubric ?? null,
      threshold: task.threshold,
      limits: { ...config.limits, ...limits },
      checkTimeoutMs: checkTimeoutMs ?? config.check.timeoutMs,
      executor: models.for("executor"),
      ...(task.rubric ? { judge: () => models.for("judge") } : {}),
      transcript: spec.transcript,
      sandbox: env.sandbox,
      ...(spec.sharedDeps ? { sharedDeps: spec.sharedDeps } : {}),
      ...(spec.signal ? { signal: spec.signal } : {}),
    });
    if (attempt.agent.exitReason === "aborted" || spec.signal?.aborted) return null;
    const unfair = unfairReason(attempt);
    // The transcript ends with the attempt's diff: evidence for a patcher, beside the check's output.
    appendFileSync(
      spec.transcript,
      `${JSON.stringify({ type: "diff", patch: attempt.diff.patch.slice(0, 20_000) })}\n`,
    );
    const detail = unfair ?? attempt.agent.detail;
    return {
      ...base,
      // A model-service failure is not a score: the trial is left out and rerun on resume.
      status: unfair ? "error" : "scored",
      score: attempt.score.score,
      passed: attempt.score.passed,
      exitReason: attempt.agent.exitReason,
      ...(detail ? { detail: detail.slice(0, 2000) } : {}),
      rationale: attempt.score.rationale,
      turns: attempt.agent.turns,
      usage: attempt.agent.usage,
      costUsd: models.totalCost(),
      ms: Date.now() - t0,
      finishedAt: new Date().toISOString(),
    };
  } catch (err) {
    if (spec.signal?.aborted) return null;
    return {
      ...base,
      status: "error",
      score: 0,
      passed: false,
      exitReason: "environment_error",
      detail: (err as Error).message.slice(0, 2000),
      rationale: [],
      turns: 0,
      usage: emptyUsage(),
      costUsd: models.totalCost(),
      ms: Date.now() - t0,
      finishedAt: new Date().toISOString(),
    };
  }
}
