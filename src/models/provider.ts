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
