import type { Config } from "../config/config-schema.ts";
import { costUsd } from "../models/pricing.ts";
import { newRunId } from "../run/run-record.ts";
import type { LoadedSuite } from "../suite/load-suite.ts";
import {
  type EvalPlan,
  listEvals,
  loadPlan,
  type PlannedAgent,
  type PlannedTask,
  readResults,
  trialKey,
} from "./eval-store.ts";
import { shuffled } from "./stats.ts";

export interface PlanInput {
  suite: LoadedSuite;
  config: Config;
  trials: number;
  seed: number;
  agents: PlannedAgent[];
  /** Only these task ids (all when omitted). */
  taskIds?: string[];
  purpose?: string;
}

/**
 * The plan of an eval: the tasks frozen as they are now, and every trial key in a seeded order.
 * With two agents, each (task, trial) runs for both back to back, so a change in the model
 * service over time hits both sides of a pair alike.
 */
export function makePlan(input: PlanInput): EvalPlan {
  const tasks = input.suite.tasks
    .filter((t) => !input.taskIds || input.taskIds.includes(t.id))
    .map((t) => ({
      id: t.id,
      prompt: t.prompt,
      workspaceDir: t.workspaceDir,
      ...(t.setup ? { setup: t.setup } : {}),
      ...(t.check ? { check: t.check } : {}),
      ...(t.rubric ? { rubric: t.rubric } : {}),
      threshold: t.threshold ?? input.config.threshold,
      split: t.split,
      limits: t.limits,
      tags: t.tags,
    }));
  return planFor(tasks, {
    suite: { name: input.suite.suite.name, file: input.suite.file },
    trials: input.trials,
    seed: input.seed,
    agents: input.agents,
    purpose: input.purpose,
  });
}

/** A plan over tasks already frozen in another plan (an evolve cascade reuses its generation's). */
export function planFor(
  tasks: PlannedTask[],
  opts: Pick<EvalPlan, "suite" | "trials" | "seed" | "agents"> & { purpose?: string | undefined },
): EvalPlan {
  const pairs = tasks.flatMap((t) => Array.from({ length: opts.trials }, (_, i) => [t.id, i] as const));
  const order = shuffled(pairs, opts.seed).flatMap(([id, i]) =>
    opts.agents.map((a) => trialKey(a.label, id, i)),
  );
  return {
    evalId: newRunId(),
    createdAt: new Date().toISOString(),
    suite: opts.suite,
    tasks,
    trials: opts.trials,
    seed: opts.seed,
    agents: opts.agents,
    order,
    ...(opts.purpose ? { purpose: opts.purpose } : {}),
  };
}

/** Tokens a trial is guessed to use when this home has never run the suite. */
export const DEFAULT_TRIAL_USAGE = {
  inputTokens: 60_000,
  outputTokens: 3_000,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
};

export interface CostEstimate {
  perTrialUsd: number;
  totalUsd: number;
  /** Where the figure comes from, for the user. */
  basis: string;
}

/**
 * What the plan's open trials will cost: the mean cost of this suite's earlier trials in this
 * home (per task when the task has history), else a default guess at the executor's prices.
 */
export function estimateCost(home: string, plan: EvalPlan, config: Config, openKeys: string[]): CostEstimate {
  const byTask = new Map<string, number[]>();
  for (const id of listEvals(home)) {
    let other: EvalPlan;
    try {
      other = loadPlan(home, id);
    } catch {
      continue;
    }
    if (other.suite.name !== plan.suite.name) continue;
    for (const r of readResults(home, id)) {
      if (r.status !== "scored") continue;
      byTask.set(r.taskId, [...(byTask.get(r.taskId) ?? []), r.costUsd]);
    }
  }
  const all = [...byTask.values()].flat();
  const guess = costUsd(DEFAULT_TRIAL_USAGE, config.prices[config.models.executor.model]);
  const suiteMean = all.length ? all.reduce((a, b) => a + b, 0) / all.length : guess;
  let total = 0;
  for (const key of openKeys) {
    const taskId = key.slice(key.indexOf(":") + 1, key.lastIndexOf(":"));
    const costs = byTask.get(taskId);
    total += costs?.length ? costs.reduce((a, b) => a + b, 0) / costs.length : suiteMean;
  }
  return {
    perTrialUsd: openKeys.length ? total / openKeys.length : suiteMean,
    totalUsd: total,
    basis: all.length
      ? `from ${all.length} earlier trial(s) of this suite in this home`
      : `a guess of ${DEFAULT_TRIAL_USAGE.inputTokens / 1000}k input + ${DEFAULT_TRIAL_USAGE.outputTokens / 1000}k output tokens per trial at ${config.models.executor.model}'s prices (no history yet)`,
  };
}
