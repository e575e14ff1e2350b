import type { ModelRequest, ModelTurn } from "../contract/index.ts";
import { errorTurn, type Provider } from "./provider.ts";

/** A reply, or a function of the request that builds one. */
export type ScriptStep = ModelTurn | ((request: ModelRequest) => ModelTurn);

/**
 * A model that answers from a fixed script, in order. Product code: the demo's cassette is
 * recorded from it, and tests use it where a cassette would be circular.
 */
export function createScriptedProvider(steps: ScriptStep[], model = "scripted"): Provider {
  let i = 0;
  return {
    name: "scripted",
    model,
    async complete(request) {
      const step = steps[i++];
      if (!step) return errorTurn(`the script has no reply for request ${i}`);
      return typeof step === "function" ? step(request) : step;
    },
  };
}

/** Shorthand for a scripted turn. */
export function turn(content: ModelTurn["content"], usage: Partial<ModelTurn["usage"]> = {}): ModelTurn {
  return {
    content,
    stopReason: content.some((b) => b.type === "tool_use") ? "tool_use" : "end_turn",
    usage: { inputTokens: 100, outputTokens: 20, cacheReadTokens: 0, cacheWriteTokens: 0, ...usage },
  };
}
