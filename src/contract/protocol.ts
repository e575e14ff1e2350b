/**
 * The stdio protocol between the harness and an agent child process: one JSON object per line.
 * The child writes AgentToHarness lines on stdout and reads HarnessToAgent lines on stdin.
 */
import { z } from "zod";
import { ModelRequestSchema, ModelTurnSchema, UsageSchema, WIRE_CAPS } from "./messages.ts";

export const ExitReasonSchema = z.enum([
  "completed",
  "max_turns",
  "timeout",
  "budget_exhausted",
  "model_error",
  "aborted",
  // Set by the harness, never by the agent:
  "agent_crash",
  "agent_hang",
  "protocol_error",
  "sandbox_limit",
]);
export type ExitReason = z.infer<typeof ExitReasonSchema>;
/** The reasons an agent may report in `done`; the others are the harness's alone. */
export const AgentExitReasonSchema = ExitReasonSchema.exclude([
  "agent_crash",
  "agent_hang",
  "protocol_error",
  "sandbox_limit",
]);

export const AgentLimitsSchema = z.object({
  maxTurns: z.number().int().positive(),
  wallClockMs: z.number().int().positive(),
  tokenBudget: z.number().int().positive(),
  commandTimeoutMs: z.number().int().positive(),
  maxOutputTokens: z.number().int().positive(),
});
export type AgentLimits = z.infer<typeof AgentLimitsSchema>;

const text = () => z.string().max(WIRE_CAPS.text);
const name = () => z.string().max(WIRE_CAPS.name);

export const AgentEventSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("assistant_text"), turn: z.number().int(), text: text() }),
  z.object({
    type: z.literal("tool_call"),
    turn: z.number().int(),
    id: name(),
    name: name(),
    input: z.unknown(),
  }),
  z.object({
    type: z.literal("tool_result"),
    turn: z.number().int(),
    id: name(),
    name: name(),
    isError: z.boolean(),
    content: text(),
    ms: z.number(),
  }),
]);
export type AgentEvent = z.infer<typeof AgentEventSchema>;

export const AgentResultSchema = z.object({
  exitReason: ExitReasonSchema,
  turns: z.number().int().nonnegative(),
  usage: UsageSchema,
  finalText: text(),
  detail: text().optional(),
});
export type AgentResult = z.infer<typeof AgentResultSchema>;

export const HarnessToAgentSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("start"), task: z.string(), limits: AgentLimitsSchema }),
  z.object({ type: z.literal("model_response"), id: z.number().int(), turn: ModelTurnSchema }),
  z.object({ type: z.literal("abort"), reason: z.string() }),
]);
export type HarnessToAgent = z.infer<typeof HarnessToAgentSchema>;

export const AgentToHarnessSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("ready") }),
  z.object({ type: z.literal("model_request"), id: z.number().int(), request: ModelRequestSchema }),
  z.object({ type: z.literal("event"), event: AgentEventSchema }),
  z.object({ type: z.literal("done"), result: AgentResultSchema }),
]);
export type AgentToHarness = z.infer<typeof AgentToHarnessSchema>;
