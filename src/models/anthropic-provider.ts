import type { ContentBlock, Message, ModelRequest, ModelTurn } from "../contract/index.ts";
import { callService } from "./model-failure.ts";
import { type Provider, tokenCount } from "./provider.ts";
import { observedFetch, type RetryNotice } from "./retry-observer.ts";

export interface AnthropicOptions {
  model: string;
  apiKey: string;
  baseUrl?: string;
  maxRetries: number;
  timeoutMs: number;
  /** Told about each failed attempt (a 429, a timeout) as it happens, for live progress. */
  onRetry?: (notice: RetryNotice) => void;
}

type Client = InstanceType<typeof import("@anthropic-ai/sdk").default>;

/**
 * Anthropic Messages API through the official SDK (loaded lazily: it costs ~300 ms). The SDK
 * retries 429/5xx/529 and timeouts; what still fails becomes an error turn saying what and why.
 * Cache breakpoints sit on the system prompt and the last tool, which are stable across turns.
 */
export function createAnthropicProvider(opts: AnthropicOptions): Provider {
  let client: Promise<Client> | undefined;
  const getClient = () => {
    client ??= import("@anthropic-ai/sdk").then(
      ({ default: Anthropic }) =>
        new Anthropic({
          apiKey: opts.apiKey,
          baseURL: opts.baseUrl ?? null,
          maxRetries: opts.maxRetries,
          timeout: opts.timeoutMs,
          ...(opts.onRetry ? { fetch: observedFetch(opts.onRetry, opts.maxRetries) } : {}),
        }),
    );
    return client;
  };
  return {
    name: "anthropic",
    model: opts.model,
    complete(request: ModelRequest, signal?: AbortSignal): Promise<ModelTurn> {
      return callService(
        opts,
        signal,
        async (s) =>
          (await getClient()).messages.create(toAnthropicParams(opts.model, request), { signal: s }),
        (reply) => fromAnthropicMessage(reply as AnthropicMessage),
      );
    },
  };
}

function toAnthropicParams(model: string, request: ModelRequest) {
  const tools = request.tools.map((t, i) => ({
    name: t.name,
    description: t.description,
    input_schema: { type: "object" as const, ...t.input_schema },
    ...(i === request.tools.length - 1 ? { cache_control: { type: "ephemeral" as const } } : {}),
  }));
  return {
    model,
    max_tokens: request.maxTokens,
    system: [{ type: "text" as const, text: request.system, cache_control: { type: "ephemeral" as const } }],
    tools,
    messages: request.messages.map(toAnthropicMessage),
  };
}

function toAnthropicMessage(m: Message) {
  return {
    role: m.role,
    content: m.content.map((b) =>
      b.type === "tool_use" ? { ...b, input: (b.input ?? {}) as Record<string, unknown> } : b,
    ),
  };
}

interface AnthropicMessage {
  content: Array<{ type: string; text?: string; id?: string; name?: string; input?: unknown }>;
  stop_reason: string | null;
  usage: {
    input_tokens: number;
    output_tokens: number;
    cache_read_input_tokens?: number | null;
    cache_creation_input_tokens?: number | null;
  };
}

export function fromAnthropicMessage(message: AnthropicMessage): ModelTurn {
  // What is not a Messages API reply is the service's failure, never an empty turn of the agent's.
  const m = message as Partial<AnthropicMessage> & { type?: unknown; role?: unknown };
  if (
    m.type !== "message" ||
    m.role !== "assistant" ||
    !Array.isArray(m.content) ||
    typeof m.stop_reason !== "string" ||
    typeof m.usage !== "object" ||
    m.usage === null ||
    typeof m.usage.input_tokens !== "number" ||
    typeof m.usage.output_tokens !== "number"
  )
    throw new Error(`not a Messages API reply: ${JSON.stringify(message).slice(0, 120)}`);
  const content: ContentBlock[] = [];
  for (const block of message.content) {
    // A known block missing its fields is a broken reply, not an empty turn; other block types
    // (thinking, server tools) are the API's own and are skipped.
    if (block.type === "text") {
      if (typeof block.text !== "string") throw new Error("a text block without text");
      content.push({ type: "text", text: block.text });
    }
    if (block.type === "tool_use") {
      const input = block.input ?? {};
      if (typeof block.id !== "string" || typeof block.name !== "string" || typeof input !== "object")
        throw new Error(
          `a tool_use block without an id, a name or an input: ${JSON.stringify(block).slice(0, 120)}`,
        );
      content.push({ type: "tool_use", id: block.id, name: block.name, input });
    }
  }
  const stop = message.stop_reason;
  return {
    content,
    stopReason: stop === "end_turn" || stop === "tool_use" || stop === "max_tokens" ? stop : "other",
    usage: {
      inputTokens: tokenCount(message.usage.input_tokens, "input_tokens"),
      outputTokens: tokenCount(message.usage.output_tokens, "output_tokens"),
      cacheReadTokens: tokenCount(message.usage.cache_read_input_tokens, "cache_read_input_tokens"),
      cacheWriteTokens: tokenCount(message.usage.cache_creation_input_tokens, "cache_creation_input_tokens"),
    },
  };
}
