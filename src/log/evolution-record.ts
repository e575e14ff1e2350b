import { z } from "zod";
import { UsageSchema } from "../contract/index.ts";

export const TestResultSchema = z.object({
  name: z.string(),
  file: z.string(),
  status: z.enum(["passed", "failed", "skipped", "todo"]),
  message: z.string().optional(),
});
export type TestResult = z.infer<typeof TestResultSchema>;

export const GateResultSchema = z.object({
  passed: z.boolean(),
  typecheck: z.object({ passed: z.boolean(), output: z.string() }),
  tests: z.array(TestResultSchema),
  summary: z.string(),
  ms: z.number(),
  /** With test changes allowed: the same gate with the head's tests and configs put back. */
  headTests: z.object({ passed: z.boolean(), summary: z.string() }).optional(),
});
export type GateResult = z.infer<typeof GateResultSchema>;

export const ScopeResultSchema = z.object({
  passed: z.boolean(),
  files: z.array(z.string()),
  violations: z.array(z.string()),
  bytes: z.number(),
  /** Escalations the user allowed (`--allow-escalation`), shown at consent. */
  escalations: z.array(z.string()).optional(),
  /** Changes to existing tests, snapshots or test/type configuration: a consent question. */
  testChanges: z.array(z.string()).optional(),
  /** Prompt (`.md`) files under agent-src the candidate changes: instructions to the model. */
  instructionChanges: z.array(z.string()).optional(),
  /** Best-effort review flags (text addressed to a model, shadow copies, `@ts-ignore`). */
  flags: z.array(z.string()).optional(),
});
export type ScopeResult = z.infer<typeof ScopeResultSchema>;

export const ScoreChangeSchema = z.object({
  task: z.string(),
  runId: z.string(),
  before: z.number(),
  after: z.array(z.number()),
});

/** `interrupted`: the user stopped moss (Ctrl-C, SIGTERM) mid-attempt; it says nothing of the candidate. */
export const VerdictSchema = z.enum(["accepted", "rejected", "pending", "declined", "interrupted"]);

/** One evolution-log entry. Append-only; `prevHash` is the SHA-256 of the previous record file. */
export const EvolutionRecordSchema = z.object({
  seq: z.number().int().nonnegative(),
  id: z.string(),
  kind: z.enum(["evolution", "rollback", "apply"]),
  time: z.string(),
  prevHash: z.string(),
  task: z.string().nullable(),
  runId: z.string().nullable(),
  triggerScore: z.number().nullable(),
  attempt: z.number().int().nonnegative(),
  diagnosis: z.string().nullable(),
  plan: z.string().nullable(),
  rationale: z.string(),
  diff: z.string(),
  scope: ScopeResultSchema.nullable(),
  gate: GateResultSchema.nullable(),
  replay: ScoreChangeSchema.nullable(),
  regression: z.array(ScoreChangeSchema),
  verdict: VerdictSchema,
  reason: z.string(),
  parentCommit: z.string(),
  /** For rollback: the commit whose agent-src was restored. For apply: the pending record's id. */
  target: z.string().nullable(),
  models: z.record(z.string(), z.string()),
  usage: UsageSchema,
  costUsd: z.number(),
  timings: z.record(z.string(), z.number()),
});
export type EvolutionRecord = z.infer<typeof EvolutionRecordSchema>;
