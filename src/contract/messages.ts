/**
 * The contract between the harness and the agent: Anthropic-format messages, tool specs and
 * the model channel. This is the only harness module that agent-src may import.
 */
import { z } from "zod";

/**
 * Size caps on what crosses the channel. The harness rejects a line or message over them as a
 * protocol error; they are far above what an honest agent sends (tool output is truncated long
 * before), and they bound what a hostile one can make the harness hold or forward.
 */
export const WIRE_CAPS = {
  /** One protocol line, in bytes. */
  lineBytes: 8 * 1024 * 1024,
  /** Everything one agent process may write on the channel, in bytes. */
  totalBytes: 1024 * 1024 * 1024,
  /** Any text field (a text block, a tool result, the system prompt), in UTF-16 units. */
  text: 4 * 1024 * 1024,
  /** Ids and names. */
  name: 256,
  messages: 10_000,
  blocks: 1_000,
  tools: 256,
} as const;

const text = () => z.string().max(WIRE_CAPS.text);
const name = () => z.string().min(1).max(WIRE_CAPS.name);

export const TextBlockSchema = z.object({ type: z.literal("text"), text: text() });
export const ToolUseBlockSchema = z.object({
  type: z.literal("tool_use"),
  id: name(),
  name: name(),
  input: z.unknown(),
});
export const ToolResultBlockSchema = z.object({
  type: z.literal("tool_result"),
  tool_use_id: name(),
  content: text(),
  is_error: z.boolean().optional(),
});
export const ContentBlockSchema = z.discriminatedUnion("type", [
  TextBlockSchema,
  ToolUseBlockSchema,
  ToolResultBlockSchema,
]);
export const MessageSchema = z.object({
  role: z.enum(["user", "assistant"]),
  content: z.array(ContentBlockSchema).max(WIRE_CAPS.blocks),
});
export const ToolSpecSchema = z.object({
  name: name(),
  description: text(),
  input_schema: z.record(z.string(), z.unknown()),
});
/** `maxTokens` is the agent's wish: the harness clamps it to its configured limit. */
export const ModelRequestSchema = z.object({
  system: text(),
  tools: z.array(ToolSpecSchema).max(WIRE_CAPS.tools),
  messages: z.array(MessageSchema).max(WIRE_CAPS.messages),
  maxTokens: z.number().int().positive(),
});
export const UsageSchema = z.object({
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  cacheReadTokens: z.number().int().nonnegative(),
  cacheWriteTokens: z.number().int().nonnegative(),
});
/**
 * What kind of provider failure an error turn was, set by the harness's providers: `auth`
 * (401/403), `model_not_found` (404), `rate_limited` (429), `overloaded` (529), `server_error`
 * (other 5xx), `connection` (refused, DNS, reset), `timeout`, `bad_request` (400/413/422: the
 * request itself was wrong), `aborted`, `other`.
 */
export const ModelFailureKindSchema = z.enum([
  "auth",
  "model_not_found",
  "rate_limited",
  "overloaded",
  "server_error",
  "connection",
  "timeout",
  "bad_request",
  "aborted",
  "other",
]);
export const ModelFailureSchema = z.object({
  kind: ModelFailureKindSchema,
  status: z.number().int().optional(),
});

/** A provider failure is data: a turn whose stopReason is "error" and whose `error` says why. */
export const ModelTurnSchema = z.object({
  content: z.array(ContentBlockSchema).max(WIRE_CAPS.blocks),
  stopReason: z.enum(["end_turn", "tool_use", "max_tokens", "error", "other"]),
  usage: UsageSchema,
  error: text().optional(),
  failure: ModelFailureSchema.optional(),
});

export type TextBlock = z.infer<typeof TextBlockSchema>;
export type ToolUseBlock = z.infer<typeof ToolUseBlockSchema>;
export type ToolResultBlock = z.infer<typeof ToolResultBlockSchema>;
export type ContentBlock = z.infer<typeof ContentBlockSchema>;
export type Message = z.infer<typeof MessageSchema>;
export type ToolSpec = z.infer<typeof ToolSpecSchema>;
export type ModelRequest = z.infer<typeof ModelRequestSchema>;
export type Usage = z.infer<typeof UsageSchema>;
export type ModelTurn = z.infer<typeof ModelTurnSchema>;
export type ModelFailureKind = z.infer<typeof ModelFailureKindSchema>;
export type ModelFailure = z.infer<typeof ModelFailureSchema>;

export const emptyUsage = (): Usage => ({
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
});

export function addUsage(a: Usage, b: Usage): Usage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cacheReadTokens: a.cacheReadTokens + b.cacheReadTokens,
    cacheWriteTokens: a.cacheWriteTokens + b.cacheWriteTokens,
  };
}

/** What the agent sees of the model: one call per turn. Never throws; failures are error turns. */
export interface ModelChannel {
  complete(request: ModelRequest): Promise<ModelTurn>;
}
