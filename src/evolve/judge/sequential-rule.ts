/**
 * Sequential decision rules on paired pass counts: after each pair of trials (one of the head, one
 * of the candidate, same task, same snapshot, same limits) a rule looks at the running counts and
 * calls the comparison, or asks for another pair. Pure: no I/O, no randomness.
 *
 * A trial is a pass or a fail: its score against the task's threshold (scores are test-count
 * fractions; what the user asked for is a pass, so a candidate that moves 0.4 to 0.6 below a
 * threshold of 1 has not fixed anything).
 */

/** Running counts after `pairs` valid pairs: passes of the head and of the candidate. */
export interface PairCounts {
  pairs: number;
  head: number;
  candidate: number;
}

/** `upper`: the rule's claim holds (better / not worse); `lower`: it does not; `continue`: one more pair. */
export type Call = "upper" | "lower" | "continue";

export interface SequentialRule {
  name: string;
  /** The hard cap: `decide` never answers `continue` at this many pairs. */
  maxPairs: number;
  decide(counts: PairCounts): Call;
  /** The call when trials stop before the rule decided (a user's lower cap): the cautious side. */
  atCap: "upper" | "lower";
  /** The statistic `decide` compares, and the boundaries it compares it with at `pairs`. */
  statistic(counts: PairCounts): { value: number; upper: number; lower: number };
}

const NEVER = Number.POSITIVE_INFINITY;

/**
 * Is the candidate better? A group-sequential exact test on D = candidate passes - head passes,
 * looked at after every pair from the 3rd to the 10th. Accept when D reaches UPPER[n], reject
 * when it falls to LOWER[n]; at 10 pairs one of them holds. Under "no effect" (both pass with the
 * same p) D is a symmetric walk, and the chance of ever reaching UPPER is largest at p = 0.5:
 * 4.0%, computed exactly by `operatingCharacteristics` (at p = 0.2 or 0.8 it is 1.1%). A real fix
 * that passes every time against a head that never does is accepted after 3 pairs.
 */
const UPPER = [NEVER, NEVER, 3, 4, 4, 4, 5, 5, 5, 5];
const LOWER = [-NEVER, -NEVER, -1, 0, 1, 1, 2, 3, 3, 4];

export const IMPROVEMENT: SequentialRule = {
  name: "paired group-sequential test on D = candidate - head passes",
  maxPairs: UPPER.length,
  atCap: "lower",
  statistic: ({ pairs, head, candidate }) => ({
    value: candidate - head,
    upper: UPPER[pairs - 1] ?? NEVER,
    lower: LOWER[pairs - 1] ?? -NEVER,
  }),
  decide(counts) {
    if (counts.pairs === 0) return "continue";
    const s = IMPROVEMENT.statistic(counts);
    if (s.value >= s.upper) return "upper";
    if (s.value <= s.lower) return "lower";
    return counts.pairs >= IMPROVEMENT.maxPairs ? "lower" : "continue";
  },
};

/**
 * Is the candidate no worse on a task that passed before? Regressed when the head's passes exceed
 * the candidate's by REGRESSED or more; cleared when the candidate passed all of at least 4
 * trials, or all but one of at least 7; cleared at 12 pairs otherwise. A task that drops from
 * 0.9 to 0.5 is caught 84% of the time; an unchanged task at 0.9 is flagged 3.5% of the time
 * (17.6% at 0.7: flaky panel tasks cost power, see the README).
 */
const REGRESSED = 3;
export const NON_INFERIORITY: SequentialRule = {
  name: "paired non-inferiority: regressed when head - candidate passes >= 3",
  maxPairs: 12,
  atCap: "upper",
  statistic: ({ head, candidate }) => ({ value: head - candidate, upper: REGRESSED, lower: -NEVER }),
  decide({ pairs, head, candidate }) {
    if (pairs === 0) return "continue";
    if (head - candidate >= REGRESSED) return "lower";
    if (candidate === pairs && pairs >= 4) return "upper";
    if (candidate >= pairs - 1 && pairs >= 7) return "upper";
    return pairs >= NON_INFERIORITY.maxPairs ? "upper" : "continue";
  },
};

export interface OperatingCharacteristics {
  /** Probability the rule ends `upper`, and `lower`. */
  upper: number;
  lower: number;
  meanPairs: number;
  /** The smallest n with P(decided within n pairs) >= 0.95. */
  p95Pairs: number;
}

/**
 * The rule's exact behaviour when every head trial passes with probability `pHead` and every
 * candidate trial with `pCandidate`, independently: dynamic programming over the counts.
 */
export function operatingCharacteristics(
  rule: SequentialRule,
  pHead: number,
  pCandidate: number,
): OperatingCharacteristics {
  // States still undecided: key head*64+candidate (counts stay <= maxPairs < 64).
  let open = new Map<number, number>([[0, 1]]);
  const result = { upper: 0, lower: 0, meanPairs: 0, p95Pairs: rule.maxPairs };
  let decided = 0;
  for (let pairs = 1; pairs <= rule.maxPairs && open.size > 0; pairs++) {
    const next = new Map<number, number>();
    for (const [key, p] of open) {
      for (const [dh, qh] of [
        [1, pHead],
        [0, 1 - pHead],
      ] as const)
        for (const [dc, qc] of [
          [1, pCandidate],
          [0, 1 - pCandidate],
        ] as const) {
          const q = p * qh * qc;
          if (q > 0) next.set(key + dh * 64 + dc, (next.get(key + dh * 64 + dc) ?? 0) + q);
        }
    }
    open = new Map();
    for (const [key, p] of next) {
      const call = rule.decide({ pairs, head: Math.floor(key / 64), candidate: key % 64 });
      if (call === "continue") open.set(key, p);
      else {
        result[call] += p;
        result.meanPairs += pairs * p;
        decided += p;
      }
    }
    if (decided >= 0.95 - 1e-12 && result.p95Pairs === rule.maxPairs) result.p95Pairs = pairs;
  }
  return result;
}

/** The largest chance of an `upper` call when head and candidate are the same, over p on a grid. */
export function worstCaseUpper(rule: SequentialRule, steps = 100): { rate: number; atP: number } {
  let worst = { rate: 0, atP: 0 };
  for (let i = 0; i <= steps; i++) {
    const p = i / steps;
    const rate = operatingCharacteristics(rule, p, p).upper;
    if (rate > worst.rate) worst = { rate, atP: p };
  }
  return worst;
}
