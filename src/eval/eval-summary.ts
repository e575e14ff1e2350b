import type { EvalPlan, TrialResult } from "./eval-store.ts";
import { type Interval, meanOf, passHatK, wilson } from "./stats.ts";

export interface Tally {
  /** Scored trials (errors are not scores). */
  n: number;
  passes: number;
  errors: number;
  pass1: number | null;
  interval: Interval;
  /** pass^k with k = the plan's trials; null until a task has k scored trials. */
  passK: number | null;
  costUsd: number;
  tokens: number;
  ms: number;
}

export interface TaskTally extends Tally {
  taskId: string;
  split: "train" | "holdout";
}

export interface AgentSummary {
  label: "head" | "against";
  commit: string | null;
  tasks: TaskTally[];
  all: Tally;
  train: Tally;
  holdout: Tally;
}

export interface EvalSummary {
  evalId: string;
  suite: string;
  trials: number;
  seed: number;
  planned: number;
  done: number;
  complete: boolean;
  agents: AgentSummary[];
}

/** The figures per task, per split and in all, for each agent of the eval. */
export function summarize(plan: EvalPlan, results: TrialResult[]): EvalSummary {
  const agents = plan.agents.map((agent): AgentSummary => {
    const mine = results.filter((r) => r.agent === agent.label);
    const tasks = plan.tasks.map((t) => ({
      taskId: t.id,
      split: t.split,
      ...tally(
        mine.filter((r) => r.taskId === t.id),
        plan.trials,
      ),
    }));
    const of = (ts: TaskTally[]) => {
      const ids = new Set(ts.map((t) => t.taskId));
      const base = tally(
        mine.filter((r) => ids.has(r.taskId)),
        plan.trials,
      );
      return { ...base, passK: meanOf(ts.map((t) => t.passK)) };
    };
    return {
      label: agent.label,
      commit: agent.commit,
      tasks,
      all: of(tasks),
      train: of(tasks.filter((t) => t.split === "train")),
      holdout: of(tasks.filter((t) => t.split === "holdout")),
    };
  });
  const done = results.filter((r) => r.status === "scored").length;
  return {
    evalId: plan.evalId,
    suite: plan.suite.name,
    trials: plan.trials,
    seed: plan.seed,
    planned: plan.order.length,
    done,
    complete: done === plan.order.length,
    agents,
  };
}

function tally(rs: TrialResult[], k: number): Tally {
  const scored = rs.filter((r) => r.status === "scored");
  const passes = scored.filter((r) => r.passed).length;
  return {
    n: scored.length,
    passes,
    errors: rs.length - scored.length,
    pass1: scored.length ? passes / scored.length : null,
    interval: wilson(passes, scored.length),
    passK: passHatK(passes, scored.length, k),
    costUsd: rs.reduce((a, r) => a + r.costUsd, 0),
    tokens: rs.reduce((a, r) => a + r.usage.inputTokens + r.usage.outputTokens, 0),
    ms: rs.reduce((a, r) => a + r.ms, 0),
  };
}
