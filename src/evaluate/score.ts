import type { ExitReason } from "../contract/index.ts";
import type { CheckResult } from "./check-command.ts";
import type { Verdict } from "./judge.ts";

export interface Score {
  score: number;
  passed: boolean;
  rationale: string[];
  check?: { score: number; exitCode: number | null; counts: CheckResult["counts"]; timedOut: boolean };
  judge?: Verdict;
  cap?: { limit: number; reason: string };
}

/** Caps for how an attempt ended: a run that did not finish cannot score as if it had. */
const CAPS: Partial<Record<ExitReason, number>> = {
  agent_crash: 0,
  agent_hang: 0,
  protocol_error: 0,
  sandbox_limit: 0,
  aborted: 0,
  model_error: 0.5,
  max_turns: 0.5,
  timeout: 0.5,
  budget_exhausted: 0.5,
};

/**
 * Combines the check (test counts as a fraction, else the exit code), the rubric verdict and the
 * trace cap into one score in 0..1.
 * Rule for a failing check: a check that exited non-zero never passes. Its counted failures score
 * passed/(passed+failed); when it counted no failure (e.g. "7 passed" then exit 1: coverage, lint, a
 * crash after the run) the non-zero exit counts as one failure: passed/(passed+1). `passed` is
 * score >= threshold AND, when a check ran, that it exited 0.
 */
export function scoreAttempt(input: {
  check?: CheckResult;
  verdict?: Verdict;
  exitReason: ExitReason;
  threshold: number;
}): Score {
  const parts: number[] = [];
  const rationale: string[] = [];
  const out: Partial<Score> = {};
  if (input.check) {
    const c = input.check;
    let s: number;
    if (c.timedOut) {
      s = 0;
      rationale.push(`check timed out: ${c.command}`);
    } else if (c.counts && c.counts.passed + c.counts.failed > 0) {
      // A non-zero exit with no failure counted counts as one failure (see the rule above).
      const failed = c.exitCode !== 0 && c.counts.failed === 0 ? 1 : c.counts.failed;
      s = c.counts.passed / (c.counts.passed + failed);
      rationale.push(`${c.counts.framework}: ${c.counts.passed} passed, ${c.counts.failed} failed`);
    } else {
      s = c.exitCode === 0 ? 1 : 0;
    }
    rationale.push(`check exited ${c.exitCode}`);
    parts.push(s);
    out.check = { score: s, exitCode: c.exitCode, counts: c.counts, timedOut: c.timedOut };
  }
  if (input.verdict) {
    parts.push(input.verdict.score);
    rationale.push(`judge: ${input.verdict.score.toFixed(2)} (${input.verdict.rationale})`);
    out.judge = input.verdict;
  }
  if (parts.length === 0) {
    parts.push(input.exitReason === "completed" ? 1 : 0);
    rationale.push("no check or rubric given: scored on whether the agent completed");
  }
  let score = parts.reduce((a, b) => a + b, 0) / parts.length;
  const limit = CAPS[input.exitReason];
  if (limit !== undefined && score > limit) {
    score = limit;
    out.cap = { limit, reason: input.exitReason };
    rationale.push(`capped at ${limit} because the agent ended with ${input.exitReason}`);
  }
  score = Math.round(score * 1000) / 1000;
  const checkFailed = input.check !== undefined && input.check.exitCode !== 0;
  if (checkFailed && score >= input.threshold) rationale.push("not passed: the check exited non-zero");
  return { ...out, score, passed: score >= input.threshold && !checkFailed, rationale };
}
