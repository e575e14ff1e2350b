import type { ContentBlock, Message, ModelRequest, ModelTurn } from "../contract/index.ts";
import { callService } from "./model-failure.ts";
import { type Provider, tokenCount } from "./provider.ts";
import { observedFetch, type RetryNotice } from "./retry-observer.ts";

export interface OpenAIOptions {
  model: string;
  apiKey: string;
  baseUrl: string;
  maxRetries: number;
  timeoutMs: number;
  /** Told about each failed attempt (a 429, a timeout) as it happens, for live progress. */
  onRetry?: (notice: RetryNotice) => void;
}

type Client = InstanceType<typeof import("openai").default>;

/** Any OpenAI-compatible chat endpoint (Ollama, llama.cpp, vLLM); tool calls mapped both ways. */
export function createOpenAIProvider(opts: OpenAIOptions): Provider {
  let client: Promise<Client> | undefined;
  const getClient = () => {
    client ??= import("openai").then(
      ({ default: OpenAI }) =>
        new OpenAI({
          apiKey: opts.apiKey,
          baseURL: opts.baseUrl,
          maxRetries: opts.maxRetries,
          timeout: opts.timeoutMs,
          ...(opts.onRetry ? { fetch: observedFetch(opts.onRetry, opts.maxRetries) } : {}),
        }),
    );
    return client;
  };
  return {
    name: "openai",
    model: opts.model,
    complete(request: ModelRequest, signal?: AbortSignal): Promise<ModelTurn> {
      const body = {
        model: opts.model,
        max_tokens: request.maxTokens,
        messages: toOpenAIMessages(request) as never,
        ...(request.tools.length
          ? {
              tools: request.tools.map((t) => ({
                type: "function" as const,
                function: { name: t.name, description: t.description, parameters: t.input_schema },
              })),
            }
          : {}),
      };
      return callService(
        opts,
        signal,
        async (s) => (await getClient()).chat.completions.create(body, { signal: s }),
        (reply) => fromOpenAIResponse(reply as OpenAIResponse),
      );
    },
  };
}

type OpenAIMessage =
  | { role: "system" | "user"; content: string }
  | {
      role: "assistant";
      content: string | null;
      tool_calls?: Array<{ id: string; type: "function"; function: { name: string; arguments: string } }>;
    }
  | { role: "tool"; tool_call_id: string; content: string };

export function toOpenAIMessages(request: ModelRequest): OpenAIMessage[] {
  const out: OpenAIMessage[] = [{ role: "system", content: request.system }];
  for (const m of request.messages) out.push(...convertMessage(m));
  return out;
}

function convertMessage(m: Message): OpenAIMessage[] {
  const text = m.content
    .filter((b) => b.type === "text")
    .map((b) => b.text)
    .join("\n");
  if (m.role === "assistant") {
    const calls = m.content.flatMap((b) =>
      b.type === "tool_use"
        ? [
            {
              id: b.id,
              type: "function" as const,
              function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) },
            },
          ]
        : [],
    );
    return [{ role: "assistant", content: text || null, ...(calls.length ? { tool_calls: calls } : {}) }];
  }
  const results: OpenAIMessage[] = m.content.flatMap((b) =>
    b.type === "tool_result"
      ? [
          {
            role: "tool" as const,
            tool_call_id: b.tool_use_id,
            content: b.is_error ? `ERROR: ${b.content}` : b.content,
          },
        ]
      : [],
  );
  return text ? [...results, { role: "user", content: text }] : results;
}

interface OpenAIResponse {
  choices: Array<{
    finish_reason: string | null;
    message: {
      content: string | null;
      tool_calls?: Array<{ id: string; function: { name: string; arguments: string } }>;
    };
  }>;
  usage?: {
    prompt_tokens?: number;
    completion_tokens?: number;
    prompt_tokens_details?: { cached_tokens?: number };
  };
}

export function fromOpenAIResponse(response: OpenAIResponse): ModelTurn {
  // What is not a chat completion is the service's failure, never an empty turn of the agent's.
  if (!Array.isArray(response?.choices))
    throw new Error(`not a chat completion: ${JSON.stringify(response).slice(0, 120)}`);
  const choice = response.choices[0];
  if (!choice) throw new Error("the endpoint returned no choices");
  if (typeof choice.message !== "object" || choice.message === null)
    throw new Error(`not a chat completion: ${JSON.stringify(choice).slice(0, 120)}`);
  const content: ContentBlock[] = [];
  if (choice.message.content) content.push({ type: "text", text: choice.message.content });
  for (const call of choice.message.tool_calls ?? []) {
    content.push({
      type: "tool_use",
      id: call.id,
      name: call.function.name,
      input: parseArguments(call.function.arguments),
    });
  }
  const cached = tokenCount(response.usage?.prompt_tokens_details?.cached_tokens, "cached_tokens");
  const prompt = tokenCount(response.usage?.prompt_tokens, "prompt_tokens");
  const completion = tokenCount(response.usage?.completion_tokens, "completion_tokens");
  const finish = choice.finish_reason;
  return {
    content,
    stopReason:
      finish === "tool_calls" || content.some((b) => b.type === "tool_use")
        ? "tool_use"
        : finish === "length"
          ? "max_tokens"
          : finish === "stop"
            ? "end_turn"
            : "other",
    usage: {
      inputTokens: Math.max(0, prompt - cached),
      outputTokens: completion,
      cacheReadTokens: cached,
      cacheWriteTokens: 0,
    },
  };
}

/** Invalid JSON arguments are passed on as-is so the tool answers with a readable input error. */
function parseArguments(raw: string): unknown {
  try {
    return JSON.parse(raw || "{}");
  } catch {
    return { invalid_json_arguments: raw };
  }
}
