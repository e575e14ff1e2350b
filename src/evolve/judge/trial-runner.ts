import { existsSync } from "node:fs";
import type { Config } from "../../config/config-schema.ts";
import type { Trial } from "../../log/evolution-record.ts";
import type { ModelRegistry } from "../../models/model-registry.ts";
import { type AttemptResult, runAttempt } from "../../run/attempt.ts";
import { unfairReason } from "../../run/fairness.ts";
import type { RunRecord } from "../../run/run-record.ts";
import type { SandboxLimits } from "../../sandbox/limits.ts";
import { findSharedDeps } from "../../sandbox/shared-deps.ts";
import { watchSurface } from "./model-surface.ts";

/** Runs a recorded task once with the agent in `agentDir`, from the run's snapshot and limits. */
export type RunTrial = (agentDir: string, run: RunRecord) => Promise<Trial>;

/** The real trial runner: one agent process per trial, scored by the harness like any run. */
export function makeTrialRunner(
  config: Config,
  models: ModelRegistry,
  sandbox: SandboxLimits | null,
  signal?: AbortSignal,
): RunTrial {
  return async (agentDir, run) => {
    // The dependencies installed in the run's workspace now (gone with the folder: none).
    const sharedDeps = existsSync(run.workspace)
      ? findSharedDeps(run.workspace, config.workspace.shareIgnored)
      : undefined;
    const surface: string[] = [];
    const served = { toolCalls: 0 };
    const attempt = await runAttempt({
      agentDir,
      snapshot: run.snapshot,
      task: run.task,
      check: run.check,
      rubric: run.rubric,
      threshold: run.threshold,
      limits: config.limits,
      checkTimeoutMs: config.check.timeoutMs,
      executor: watchSurface(models.for("executor"), surface, served),
      sandbox,
      ...(sharedDeps ? { sharedDeps } : {}),
      ...(run.rubric ? { judge: () => models.for("judge") } : {}),
      ...(signal ? { signal } : {}),
    });
    const trial = trialOf(attempt);
    const unprompted = served.toolCalls === 0 && attempt.diff.changes.length > 0;
    return {
      ...trial,
      ...(surface.length > 0 ? { surface: surface.slice(0, 20) } : {}),
      ...(unprompted ? { unprompted } : {}),
    };
  };
}

/**
 * A trial's pass (score >= the task's threshold) and score, or why it is no measurement of the
 * agent (`unfairReason`: the model service failed, the check cannot run, the run was
 * interrupted; or the judge could not answer). Such a trial is left out, never scored.
 */
export function trialOf(attempt: AttemptResult): Trial {
  const error =
    unfairReason(attempt) ??
    (attempt.judgeError ? `the judge failed: ${attempt.judgeError.slice(0, 200)}` : null);
  return {
    score: attempt.score.score,
    passed: attempt.score.passed,
    ...(error ? { error } : {}),
  };
}
