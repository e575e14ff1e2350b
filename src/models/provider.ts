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
