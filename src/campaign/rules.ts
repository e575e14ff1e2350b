import type { PairRule } from "./cascade.ts";

/**
 * Stand-ins until the paired sequential rule of src/evolve/judge lands: is the candidate better
 * on the failing tasks (D = candidate - head passes reaches 3; no lead after 4 pairs, or 8 pairs,
 * is a no), and is it no worse on the tasks that passed (head - candidate reaching 2 is a
 * regression; 4 pairs without one clear it).
 */
export const IMPROVEMENT: PairRule = {
  name: "candidate - head passes >= 3 (stand-in)",
  maxPairs: 8,
  decide: ({ pairs, head, candidate }) => {
    if (candidate - head >= 3) return "upper";
    if ((pairs >= 4 && candidate <= head) || pairs >= 8) return "lower";
    return "continue";
  },
};

export const NON_INFERIORITY: PairRule = {
  name: "head - candidate passes < 2 over 4 pairs (stand-in)",
  maxPairs: 4,
  decide: ({ pairs, head, candidate }) => {
    if (head - candidate >= 2) return "lower";
    return pairs >= 4 ? "upper" : "continue";
  },
};
