import type { TrialResult } from "../eval/eval-store.ts";
import type { PairCounts, SequentialRule } from "../evolve/judge/sequential-rule.ts";

export interface StageOutcome {
  call: "upper" | "lower" | "undecided";
  counts: PairCounts;
  /** Rounds of trials run (one trial per task and agent per round). */
  rounds: number;
}

/**
 * One stage of the evaluation cascade: rounds of paired trials (head and candidate on each of
 * `tasks`, trial index = round) until `rule` decides. Pairs are fed to the rule one at a time in a
 * fixed order (round, then task), so the decision is a function of the results alone and a
 * resumed stage decides the same. A pair with an error trial is not a pair. `runRound` runs the
 * round's trials (resumed ones return at once) and gives every result so far, or null when the
 * budget or an interrupt stopped it.
 */
export async function runStage(
  tasks: string[],
  rule: SequentialRule,
  maxRounds: number,
  runRound: (keys: string[]) => Promise<TrialResult[] | null>,
): Promise<StageOutcome | null> {
  const counts: PairCounts = { pairs: 0, head: 0, candidate: 0 };
  for (let round = 0; round < maxRounds; round++) {
    const keys = tasks.flatMap((t) => [`head:${t}:${round}`, `against:${t}:${round}`]);
    const results = await runRound(keys);
    if (!results) return null;
    const byKey = new Map(results.filter((r) => r.status === "scored").map((r) => [r.key, r]));
    for (const t of tasks) {
      const h = byKey.get(`head:${t}:${round}`);
      const c = byKey.get(`against:${t}:${round}`);
      if (!h || !c) continue;
      counts.pairs++;
      if (h.passed) counts.head++;
      if (c.passed) counts.candidate++;
      const call = rule.decide(counts);
      if (call !== "continue") return { call, counts: { ...counts }, rounds: round + 1 };
    }
  }
  return { call: "undecided", counts, rounds: maxRounds };
}
