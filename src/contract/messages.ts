/**
 * The contract between the harness and the agent: Anthropic-format messages, tool specs and
 * the model channel. This is the only harness module that agent-src may import.
 */
import { z } from "zod";

export const TextBlockSchema = z.object({ type: z.literal("text"), text: z.string() });
export const ToolUseBlockSchema = z.object({
  type: z.literal("tool_use"),
  id: z.string().min(1),
  name: z.string().min(1),
  input: z.unknown(),
});
export const ToolResultBlockSchema = z.object({
  type: z.literal("tool_result"),
  tool_use_id: z.string().min(1),
  content: z.string(),
  is_error: z.boolean().optional(),
});
export const ContentBlockSchema = z.discriminatedUnion("type", [
  TextBlockSchema,
  ToolUseBlockSchema,
  ToolResultBlockSchema,
]);
export const MessageSchema = z.object({
  role: z.enum(["user", "assistant"]),
  content: z.array(ContentBlockSchema),
});
export const ToolSpecSchema = z.object({
  name: z.string().min(1),
  description: z.string(),
  input_schema: z.record(z.string(), z.unknown()),
});
export const ModelRequestSchema = z.object({
  system: z.string(),
  tools: z.array(ToolSpecSchema),
  messages: z.array(MessageSchema),
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
  content: z.array(ContentBlockSchema),
  stopReason: z.enum(["end_turn", "tool_use", "max_tokens", "error", "other"]),
  usage: UsageSchema,
  error: z.string().optional(),
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
