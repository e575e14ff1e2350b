import type { TaskComparison, Trial } from "../../log/evolution-record.ts";
import type { RunRecord } from "../../run/run-record.ts";
import { comparePaired, succeeds } from "./paired-comparison.ts";
import type { PanelTask } from "./regression-panel.ts";
import { IMPROVEMENT, NON_INFERIORITY } from "./sequential-rule.ts";
import type { RunTrial } from "./trial-runner.ts";

export interface JudgeInput {
  /** The failing task the candidate must be better on; null for a revert (the panel alone judges it). */
  target: RunRecord | null;
  panel: PanelTask[];
  /** A checkout of the head the candidate was built on, and the candidate's worktree. */
  headDir: string;
  candidateDir: string;
  runTrial: RunTrial;
  maxInvalidPairs: number;
  /** A lower cap on pairs per task than the rules' own (cheaper; fewer accepts, never more). */
  maxPairs?: number;
  signal?: AbortSignal;
  say?: (line: string) => void;
}

export interface JudgeResult {
  comparisons: TaskComparison[];
  decision: "accept" | "reject" | "undecided";
  /** One line for the record, and for the patcher's next attempt (sealed tasks are not named). */
  reason: string;
  agentRuns: number;
}

/**
 * Judges a candidate against the head: first the failing task with the improvement rule, then,
 * only when the candidate is better there, each panel task with the non-inferiority rule
 * (stopping at the first regression). Errors leave the decision undecided, never a reject.
 */
export async function judgeCandidate(input: JudgeInput): Promise<JudgeResult> {
  const say = input.say ?? (() => {});
  const comparisons: TaskComparison[] = [];
  const common = {
    headDir: input.headDir,
    candidateDir: input.candidateDir,
    runTrial: input.runTrial,
    maxInvalidPairs: input.maxInvalidPairs,
    ...(input.maxPairs ? { maxPairs: input.maxPairs } : {}),
    ...(input.signal ? { signal: input.signal } : {}),
  };
  const result = (decision: JudgeResult["decision"], reason: string): JudgeResult => ({
    comparisons,
    decision,
    reason,
    agentRuns: comparisons.reduce((n, c) => n + c.head.length + c.candidate.length, 0),
  });

  let target: TaskComparison | null = null;
  if (input.target) {
    say("paired trials of head and candidate on the failing task…");
    // Success on the failing task: beating the failing run's score (a pass, or partial progress).
    target = await comparePaired({
      ...common,
      rule: IMPROVEMENT,
      role: "target",
      run: input.target,
      bar: { bar: input.target.score, strict: true },
    });
    comparisons.push(target);
    if (target.call === "undecided") return result("undecided", undecidedReason(target));
    if (target.call === "not-better")
      return result("reject", `not shown better than the head on the failing task: ${summarize(target)}`);
  }

  for (const { run, sealed } of input.panel) {
    say(`regression panel: ${sealed ? "a sealed task" : `"${run.task.slice(0, 60)}"`}…`);
    const c = await comparePaired({
      ...common,
      rule: NON_INFERIORITY,
      role: sealed ? "sealed" : "panel",
      run,
      bar: { bar: run.threshold, strict: false },
      deferHead: true,
    });
    comparisons.push(sealed ? { ...c, task: SEALED } : c);
    if (c.call === "undecided") return result("undecided", undecidedReason(c, sealed));
    if (c.call === "regressed")
      return result("reject", `regression on ${taskName(c, sealed)}: ${summarize(c)}`);
  }
  const panel = `no regression on ${input.panel.length} panel task(s)`;
  return result("accept", target ? `better on the failing task (${summarize(target)}); ${panel}` : panel);
}

/** What a sealed panel task is called in records and feedback: its text stays out of both. */
export const SEALED = "(sealed)";

export function summarize(c: TaskComparison): string {
  const passes = (ts: Trial[]) =>
    `${ts.filter((t) => succeeds(t, c)).length}/${ts.filter((t) => !t.error).length}`;
  const bound =
    c.role === "target"
      ? `D = ${c.statistic}, accept at >= ${c.upper ?? "-"}, reject at <= ${c.lower ?? "-"}`
      : `head - candidate = ${c.statistic}, regressed at >= ${c.upper ?? "-"}`;
  const errs = c.invalidPairs ? `, ${c.invalidPairs} pair(s) left out for errors` : "";
  const what = c.strict ? `scores above ${c.bar}` : "passes";
  return `head ${passes(c.head)}, candidate ${passes(c.candidate)} ${what} over ${c.pairs} pair(s) (${bound}${errs})`;
}

const taskName = (c: TaskComparison, sealed: boolean) =>
  sealed ? "a sealed panel task" : `"${c.task.slice(0, 80)}"`;

function undecidedReason(c: TaskComparison, sealed = false): string {
  const errors = [...c.head, ...c.candidate].filter((t) => t.error).map((t) => t.error);
  return `undecided: ${c.invalidPairs} pair(s) on ${c.role === "target" ? "the failing task" : taskName(c, sealed)} were left out for errors (${[...new Set(errors)].slice(0, 2).join("; ")}); not accepted or rejected on them`;
}

export interface Reproduction {
  trials: Trial[];
  outcome: "reproduced" | "not-reproduced" | "undecided";
}

/**
 * The rule before evolving: re-run the head on the failing task until `trials` valid runs (an
 * erring run is retried, at most `maxErrors` times). If any valid run passes, the failure did
 * not reproduce and the cycle does not evolve on it; if no run was valid, it is undecided.
 */
export async function reproduceFailure(
  runTrial: RunTrial,
  headDir: string,
  run: RunRecord,
  trials: number,
  maxErrors: number,
  signal?: AbortSignal,
): Promise<Reproduction> {
  const out: Trial[] = [];
  let valid = 0;
  let errors = 0;
  while (valid < trials && errors <= maxErrors && !signal?.aborted) {
    const t = await runTrial(headDir, run);
    out.push(t);
    if (t.error) errors++;
    else if (t.passed) return { trials: out, outcome: "not-reproduced" };
    else valid++;
  }
  return { trials: out, outcome: valid >= trials ? "reproduced" : "undecided" };
}
