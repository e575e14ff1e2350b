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

/** One agent run in a comparison. A run with `error` (model, transport or environment) is not a score. */
export const TrialSchema = z.object({
  score: z.number(),
  passed: z.boolean(),
  error: z.string().optional(),
  /** Hashes of the executor's system prompt + tool schemas in the requests the harness served. */
  surface: z.array(z.string().max(64)).max(20).optional(),
  /** The workspace changed although the model asked for no tool call in any reply served. */
  unprompted: z.boolean().optional(),
});
export type Trial = z.infer<typeof TrialSchema>;

/** Head against candidate on one task, trial by trial, with the rule's statistic where it stopped. */
export const TaskComparisonSchema = z.object({
  task: z.string(),
  runId: z.string(),
  /** target: the failing task; panel: passed before; sealed: a panel task the patcher never saw. */
  role: z.enum(["target", "panel", "sealed"]),
  rule: z.string(),
  /**
   * What counts as a success for the rule: score > bar when `strict` (the failing task: beating
   * the failing run's score, so partial progress counts), else score >= bar (a panel task: its
   * threshold). Fixed before any trial, so the rule's error rates hold.
   */
  bar: z.number(),
  strict: z.boolean(),
  head: z.array(TrialSchema),
  candidate: z.array(TrialSchema),
  /** Valid pairs the rule looked at, and pairs left out because a trial of either side erred. */
  pairs: z.number().int().nonnegative(),
  invalidPairs: z.number().int().nonnegative(),
  statistic: z.number(),
  /** The boundaries at `pairs`; null where the rule has none there. */
  upper: z.number().nullable(),
  lower: z.number().nullable(),
  call: z.enum(["better", "not-better", "non-inferior", "regressed", "undecided"]),
});
export type TaskComparison = z.infer<typeof TaskComparisonSchema>;

/** Why a candidate was accepted, rejected or left undecided: the paired trials and the rule's calls. */
export const JudgementSchema = z.object({
  /** The head re-run on the failing task before anything was proposed. */
  reproduce: z.array(TrialSchema),
  comparisons: z.array(TaskComparisonSchema),
  decision: z.enum(["accept", "reject", "undecided"]),
  /** Agent runs this judgement spent, errors included. */
  agentRuns: z.number().int().nonnegative(),
});
export type Judgement = z.infer<typeof JudgementSchema>;

/**
 * `interrupted`: the user stopped moss (Ctrl-C, SIGTERM) mid-attempt; it says nothing of the candidate.
 * `undecided`: too many of its trials hit model, transport or environment errors to judge it.
 */
export const VerdictSchema = z.enum([
  "accepted",
  "rejected",
  "pending",
  "declined",
  "interrupted",
  "undecided",
]);

/** One evolution-log entry. Append-only; `prevHash` is the SHA-256 of the previous record file. */
export const EvolutionRecordSchema = z.object({
  seq: z.number().int().nonnegative(),
  id: z.string(),
  kind: z.enum(["evolution", "rollback", "apply", "revert"]),
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
  /** Paired head-vs-candidate trials and the decision rule's calls (records before it: null). */
  judgement: JudgementSchema.nullable().default(null),
  verdict: VerdictSchema,
  reason: z.string(),
  parentCommit: z.string(),
  /**
   * For rollback: the commit whose agent-src was restored. For apply: the pending record's id.
   * For revert: the id of the accepted record whose patch is undone.
   */
  target: z.string().nullable(),
  models: z.record(z.string(), z.string()),
  usage: UsageSchema,
  costUsd: z.number(),
  timings: z.record(z.string(), z.number()),
});
export type EvolutionRecord = z.infer<typeof EvolutionRecordSchema>;
