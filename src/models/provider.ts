import type { ModelRequest, ModelTurn } from "../contract/index.ts";

/** One model endpoint for one role. `complete` never throws: failures are error turns. */
export interface Provider {
  readonly name: string;
  readonly model: string;
  complete(request: ModelRequest, signal?: AbortSignal): Promise<ModelTurn>;
}

export const errorTurn = (message: string): ModelTurn => ({
  content: [],
  stopReason: "error",
  usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
  error: message,
});

/**
 * A token count from a reply: absent is 0; anything but a non-negative whole number (negative,
 * fractional, a string, beyond 2^31) makes the reply not an API reply, so the call is the
 * service's failure and never a count that could slip past the harness's budgets.
 */
export function tokenCount(value: unknown, field: string): number {
  if (value === undefined || value === null) return 0;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 2 ** 31)
    throw new Error(`usage.${field} is ${JSON.stringify(value)}, not a token count`);
  return value;
}

/**
 * Runs one model call under a hard deadline: the SDK's timeout is per attempt and does not stop
 * a reply whose body trickles in. Past `ms` the call is aborted and answered as a time-out (the
 * service's failure, never the agent's); an abort from `signal` still ends it as aborted.
 */
export async function withDeadline(
  ms: number,
  signal: AbortSignal | undefined,
  where: string,
  call: (signal: AbortSignal) => Promise<ModelTurn>,
): Promise<ModelTurn> {
  const ac = new AbortController();
  const onAbort = () => ac.abort();
  signal?.addEventListener("abort", onAbort, { once: true });
  if (signal?.aborted) ac.abort();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<ModelTurn>((resolve) => {
    timer = setTimeout(() => {
      resolve({
        ...errorTurn(`model request timed out: no complete reply within ${ms} ms${where}`),
        failure: { kind: "timeout" },
      });
      ac.abort();
    }, ms);
  });
  try {
    return await Promise.race([call(ac.signal), late]);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}

/**
 * The whole time a call may take: every attempt's timeout, a short back-off between them, and a
 * second more so that the SDK's own time-out, when it works, is the one that fires.
 */
export const callDeadlineMs = (timeoutMs: number, maxRetries: number) =>
  timeoutMs * (maxRetries + 1) + 2_000 * maxRetries + 1_000;
