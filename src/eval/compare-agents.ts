import { IMPROVEMENT } from "../evolve/judge/sequential-rule.ts";
import type { EvalPlan, TrialResult } from "./eval-store.ts";

export interface PairedTally {
  taskId: string;
  pairs: number;
  headPasses: number;
  againstPasses: number;
  /** Pairs where only the head passed / only the other revision passed. */
  headOnly: number;
  againstOnly: number;
  /** Two-sided exact sign test (McNemar) on the discordant pairs, for reference. */
  pValue: number;
  /**
   * The evolve pipeline's paired sequential rule (IMPROVEMENT), fed the pairs in trial order, each
   * way round: "more trials needed" when neither direction has decided within the pairs run.
   */
  verdict: "head better" | "against better" | "no clear difference" | "more trials needed";
}

export interface Comparison {
  alpha: number;
  tasks: PairedTally[];
  all: PairedTally;
}

/**
 * Head vs the other revision, paired by (task, trial): both ran the same trial back to back from
 * the same prepared workspace. Only pairs where both trials scored count. The test is an exact
 * two-sided sign test on discordant pairs at `alpha`.
 */
export function compareAgents(plan: EvalPlan, results: TrialResult[], alpha = 0.05): Comparison {
  const byKey = new Map(results.filter((r) => r.status === "scored").map((r) => [r.key, r]));
  const tasks = plan.tasks.map((t) => {
    const pairs: Array<[boolean, boolean]> = [];
    for (let i = 0; i < plan.trials; i++) {
      const h = byKey.get(`head:${t.id}:${i}`);
      const a = byKey.get(`against:${t.id}:${i}`);
      if (h && a) pairs.push([h.passed, a.passed]);
    }
    return { ...paired(t.id, pairs, alpha), verdict: ruleVerdict(pairs) };
  });
  const sum = (f: (p: PairedTally) => number) => tasks.reduce((a, t) => a + f(t), 0);
  const all = fromCounts(
    "all",
    sum((t) => t.pairs),
    sum((t) => t.headPasses),
    sum((t) => t.againstPasses),
    sum((t) => t.headOnly),
    sum((t) => t.againstOnly),
    alpha,
  );
  return { alpha, tasks, all: { ...all, verdict: ruleVerdict(allPairs(plan, byKey)) } };
}

/** Every valid pair of the eval, round by round (trial index), then task by task. */
function allPairs(plan: EvalPlan, byKey: Map<string, TrialResult>): Array<[boolean, boolean]> {
  const out: Array<[boolean, boolean]> = [];
  for (let i = 0; i < plan.trials; i++) {
    for (const t of plan.tasks) {
      const h = byKey.get(`head:${t.id}:${i}`);
      const a = byKey.get(`against:${t.id}:${i}`);
      if (h && a) out.push([h.passed, a.passed]);
    }
  }
  return out;
}

/** Runs IMPROVEMENT over the pairs with each agent as the "candidate". */
function ruleVerdict(pairs: Array<[boolean, boolean]>): PairedTally["verdict"] {
  const call = (mine: 0 | 1) => {
    const counts = { pairs: 0, head: 0, candidate: 0 };
    for (const pair of pairs) {
      counts.pairs++;
      if (pair[1 - mine]) counts.head++;
      if (pair[mine]) counts.candidate++;
      const c = IMPROVEMENT.decide(counts);
      if (c !== "continue") return c;
    }
    return "continue";
  };
  const headWins = call(0);
  const againstWins = call(1);
  if (headWins === "upper") return "head better";
  if (againstWins === "upper") return "against better";
  return headWins === "continue" || againstWins === "continue" ? "more trials needed" : "no clear difference";
}

function paired(taskId: string, pairs: Array<[boolean, boolean]>, alpha: number): PairedTally {
  return fromCounts(
    taskId,
    pairs.length,
    pairs.filter(([h]) => h).length,
    pairs.filter(([, a]) => a).length,
    pairs.filter(([h, a]) => h && !a).length,
    pairs.filter(([h, a]) => a && !h).length,
    alpha,
  );
}

function fromCounts(
  taskId: string,
  pairs: number,
  headPasses: number,
  againstPasses: number,
  headOnly: number,
  againstOnly: number,
  alpha: number,
): PairedTally {
  const pValue = signTest(headOnly, againstOnly);
  return {
    taskId,
    pairs,
    headPasses,
    againstPasses,
    headOnly,
    againstOnly,
    pValue,
    verdict:
      pValue >= alpha ? "no clear difference" : headOnly > againstOnly ? "head better" : "against better",
  };
}

/** Two-sided exact binomial (p = 1/2) test of b vs c discordant pairs. */
export function signTest(b: number, c: number): number {
  const n = b + c;
  if (n === 0) return 1;
  const k = Math.min(b, c);
  let tail = 0;
  let coef = 1;
  for (let i = 0; i <= k; i++) {
    tail += coef;
    coef = (coef * (n - i)) / (i + 1);
  }
  return Math.min(1, (2 * tail) / 2 ** n);
}
