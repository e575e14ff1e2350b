import type { AttemptResult } from "./attempt.ts";

/**
 * Why an attempt's score says nothing about the agent, or null when it had a fair try: the model
 * service failed it (auth, missing model, rate limit or overload after retries, 5xx, connection,
 * time-out), the check could not run on the untouched workspace, or it was interrupted. Such an
 * attempt must never be a score: no evolution starts on it, and a replay that hits one is retried
 * or left undecided, never counted as 0.
 */
export function unfairReason(attempt: AttemptResult): string | null {
  if (attempt.modelFailure)
    return `the ${attempt.modelFailure.role} model failed: ${attempt.modelFailure.message}`;
  if (attempt.baseline?.unrunnable) return `the check cannot run: ${attempt.baseline.unrunnable}`;
  if (attempt.agent.exitReason === "aborted") return "the attempt was interrupted";
  return null;
}

export const isUnfairAttempt = (attempt: AttemptResult): boolean => unfairReason(attempt) !== null;
