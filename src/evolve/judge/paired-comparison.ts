import type { TaskComparison, Trial } from "../../log/evolution-record.ts";
import type { RunRecord } from "../../run/run-record.ts";
import type { PairCounts, SequentialRule } from "./sequential-rule.ts";
import type { RunTrial } from "./trial-runner.ts";

/** A trial succeeds when its score is above the bar (`strict`) or at least the bar. */
export interface Bar {
  bar: number;
  strict: boolean;
}
export const succeeds = (t: Trial, b: Bar) => !t.error && (b.strict ? t.score > b.bar : t.score >= b.bar);

export interface CompareInput {
  rule: SequentialRule;
  bar: Bar;
  role: TaskComparison["role"];
  run: RunRecord;
  headDir: string;
  candidateDir: string;
  runTrial: RunTrial;
  /** Pairs lost to errors before the comparison gives up as undecided. */
  maxInvalidPairs: number;
  /**
   * Run the candidate alone while it passes every trial and owe the head's trials, paid when the
   * candidate first fails. Only for rules whose call ignores the head while the candidate is
   * perfect (see NON_INFERIORITY): a task the candidate keeps passing costs no head runs.
   */
  deferHead?: boolean;
  /** Stop after this many valid pairs even if the rule would go on (<= the rule's cap). */
  maxPairs?: number;
  signal?: AbortSignal;
}

/**
 * Head against candidate on one task, pair by pair, until the rule calls it. A pair is one trial
 * of each, run back to back (the order alternates, so neither side always goes first). A trial
 * that errs is retried once; a pair with an erring side is left out and counted, and too many
 * of those end the comparison undecided: errors never count as a fail or a pass.
 */
export async function comparePaired(input: CompareInput): Promise<TaskComparison> {
  const { rule, run } = input;
  const cap = Math.min(input.maxPairs ?? rule.maxPairs, rule.maxPairs);
  const head: Trial[] = [];
  const candidate: Trial[] = [];
  const counts: PairCounts = { pairs: 0, head: 0, candidate: 0 };
  let invalidPairs = 0;
  let call = rule.decide(counts);
  let undecided = false;
  const once = async (dir: string, into: Trial[]) => {
    for (let tries = 0; tries < 2; tries++) {
      const trial = await input.runTrial(dir, run);
      into.push(trial);
      if (!trial.error) return trial;
      if (input.signal?.aborted) break;
    }
    return null;
  };
  // Pair outcomes so far, for dropping a pair whose deferred head trial erred.
  const candidateOutcomes: boolean[] = [];
  let owed = 0;
  while (call === "continue") {
    if (input.signal?.aborted || invalidPairs > input.maxInvalidPairs) {
      undecided = true;
      break;
    }
    if (counts.pairs >= cap && owed === 0) {
      // A cap below the rule's own: every earlier look already failed to decide, so the cautious call.
      call = rule.atCap;
      break;
    }
    if (owed > 0) {
      // The candidate just failed for the first time: run the head trials its passes left owed.
      const slot = counts.pairs - owed;
      const h = await once(input.headDir, head);
      if (h) counts.head += succeeds(h, input.bar) ? 1 : 0;
      else {
        invalidPairs++;
        counts.pairs--;
        counts.candidate -= candidateOutcomes.splice(slot, 1)[0] ? 1 : 0;
      }
      owed--;
      if (owed === 0) call = rule.decide(counts);
      continue;
    }
    if (input.deferHead && counts.candidate === counts.pairs) {
      // While the candidate has passed every trial, the rule's call does not depend on the head.
      const c = await once(input.candidateDir, candidate);
      if (!c) {
        invalidPairs++;
        continue;
      }
      counts.pairs++;
      const ok = succeeds(c, input.bar);
      candidateOutcomes.push(ok);
      if (ok) {
        counts.candidate++;
        call = rule.decide(counts);
        if (call !== "continue") break;
      }
      owed = ok ? 0 : counts.pairs;
      continue;
    }
    const headFirst = counts.pairs % 2 === 0;
    const first = await once(headFirst ? input.headDir : input.candidateDir, headFirst ? head : candidate);
    const second = first
      ? await once(headFirst ? input.candidateDir : input.headDir, headFirst ? candidate : head)
      : null;
    if (!first || !second) {
      invalidPairs++;
      continue;
    }
    const [h, c] = headFirst ? [first, second] : [second, first];
    counts.pairs++;
    counts.head += succeeds(h, input.bar) ? 1 : 0;
    counts.candidate += succeeds(c, input.bar) ? 1 : 0;
    candidateOutcomes.push(succeeds(c, input.bar));
    call = rule.decide(counts);
  }
  const s = rule.statistic(counts);
  const finite = (x: number) => (Number.isFinite(x) ? x : null);
  return {
    task: run.task,
    runId: run.runId,
    role: input.role,
    rule: rule.name,
    ...input.bar,
    head,
    candidate,
    pairs: counts.pairs,
    invalidPairs,
    statistic: s.value,
    upper: finite(s.upper),
    lower: finite(s.lower),
    call: undecided ? "undecided" : callName(input.role, call),
  };
}

function callName(
  role: TaskComparison["role"],
  call: "upper" | "lower" | "continue",
): TaskComparison["call"] {
  if (role === "target") return call === "upper" ? "better" : "not-better";
  return call === "lower" ? "regressed" : "non-inferior";
}
