import { existsSync } from "node:fs";
import type { Config } from "../../config/config-schema.ts";
import type { ModelRegistry } from "../../models/model-registry.ts";
import { runAttempt } from "../../run/attempt.ts";
import { listRunRecords, type RunRecord } from "../../run/run-record.ts";
import type { SandboxLimits } from "../../sandbox/limits.ts";
import { findSharedDeps } from "../../sandbox/shared-deps.ts";

/** Re-runs a recorded task with the agent in `agentDir`, from the same snapshot, `trials` times. */
export async function replayRun(
  agentDir: string,
  run: RunRecord,
  config: Config,
  models: ModelRegistry,
  trials: number,
  sandbox: SandboxLimits | null,
  signal?: AbortSignal,
): Promise<number[]> {
  const scores: number[] = [];
  // The dependencies installed in the run's workspace now (gone with the folder: none).
  const sharedDeps = existsSync(run.workspace)
    ? findSharedDeps(run.workspace, config.workspace.shareIgnored)
    : undefined;
  for (let i = 0; i < trials; i++) {
    const attempt = await runAttempt({
      agentDir,
      snapshot: run.snapshot,
      task: run.task,
      check: run.check,
      rubric: run.rubric,
      threshold: run.threshold,
      limits: config.limits,
      checkTimeoutMs: config.check.timeoutMs,
      executor: models.for("executor"),
      sandbox,
      ...(sharedDeps ? { sharedDeps } : {}),
      ...(run.rubric ? { judge: () => models.for("judge") } : {}),
      ...(signal ? { signal } : {}),
    });
    scores.push(attempt.score.score);
  }
  return scores;
}

/** The regression suite: the latest passing run of each other task in this home. */
export function regressionSuite(home: string, exclude: RunRecord, limit: number): RunRecord[] {
  const latest = new Map<string, RunRecord>();
  for (const r of listRunRecords(home).records) {
    if (r.task === exclude.task && r.workspace === exclude.workspace) continue;
    latest.set(`${r.task}\u0000${r.workspace}`, r);
  }
  return [...latest.values()].filter((r) => r.passed).slice(-limit);
}

export const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
