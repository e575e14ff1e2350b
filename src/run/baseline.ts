import { type CheckResult, runCheck } from "../evaluate/check-command.ts";
import { scoreAttempt } from "../evaluate/score.ts";
import type { TestCounts } from "../evaluate/test-counts.ts";
import { makeTempDir, removeTree } from "../git/temp-dirs.ts";
import type { SandboxLimits } from "../sandbox/limits.ts";
import { attachSharedDeps, type SharedDeps } from "../sandbox/shared-deps.ts";
import { materializeSnapshotAsync, type SnapshotRef } from "../workspace/snapshot.ts";
import { outputTail } from "./output-tail.ts";

/** The check on the untouched snapshot: the run's "score before", or why the check cannot run. */
export interface Baseline {
  score: number;
  passed: boolean;
  exitCode: number | null;
  counts: TestCounts | null;
  timedOut: boolean;
  outputTail: string;
  /** Set when the check cannot run here at all: the environment's failure, never the agent's. */
  unrunnable: string | null;
  ms: number;
}

/** Runs `check` once in a scratch copy of `snapshot` of its own, as the attempt's check runs. */
export async function runBaseline(opts: {
  snapshot: SnapshotRef;
  check: string;
  threshold: number;
  timeoutMs: number;
  sandbox: SandboxLimits | null;
  sharedDeps?: SharedDeps;
  /** Stops the check (the run was interrupted); the result then means nothing. */
  signal?: AbortSignal;
}): Promise<Baseline> {
  const dir = makeTempDir("scratch");
  try {
    await materializeSnapshotAsync(opts.snapshot, dir);
    const shared = attachSharedDeps(dir, opts.sharedDeps, opts.sandbox !== null);
    const check = await runCheck(opts.check, dir, opts.timeoutMs, opts.sandbox, shared, opts.signal);
    const score = scoreAttempt({ check, exitReason: "completed", threshold: opts.threshold });
    return {
      score: score.score,
      passed: score.passed,
      exitCode: check.exitCode,
      counts: check.counts,
      timedOut: check.timedOut,
      outputTail: outputTail(check.output),
      unrunnable: unrunnableReason(check),
      ms: check.ms,
    };
  } finally {
    removeTree(dir);
  }
}

/**
 * Why a check run on the untouched workspace says nothing about the task, or null when its result
 * is a score. A check that counted tests always scores. One that counted none cannot run when it
 * timed out, was killed (by a signal or the sandbox's watchdog), exited 126/127 (not executable,
 * not found), or when npm/npx says the script or the package is not there. Any other failing exit
 * is a score of 0: a planted bug may well break the test run itself.
 */
export function unrunnableReason(check: CheckResult): string | null {
  if (check.timedOut) return `it timed out after ${Math.round(check.ms / 1000)} s`;
  if (check.counts && check.counts.passed + check.counts.failed > 0) return null;
  const out = check.output;
  if (/moss: the check .* and was killed/.test(out)) return "the sandbox's watchdog killed it";
  if (check.exitCode === 127) return "a command it runs was not found (exit 127)";
  if (check.exitCode === 126) return "a command it runs is not executable (exit 126)";
  if (check.exitCode === null || check.exitCode > 128)
    return `it crashed (${check.exitCode === null ? "killed by a signal" : `exit ${check.exitCode}`}) before any test was counted`;
  if (check.exitCode !== 0 && /npm (?:ERR!|error) Missing script/.test(out))
    return "the npm script it runs does not exist";
  if (
    check.exitCode !== 0 &&
    /npm (?:ERR!|error) (?:code E(?:NOTFOUND|AI_AGAIN|CONNREFUSED|CONNRESET|NETUNREACH)|could not determine executable to run)/.test(
      out,
    )
  )
    return "npx could not find the program installed and tried to download it";
  return null;
}
