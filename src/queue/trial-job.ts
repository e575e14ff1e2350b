import { z } from "zod";
import { TrialResultSchema } from "../eval/eval-store.ts";
import type { TrialSpec } from "../eval/local-trial.ts";
import { TaskLimitsSchema } from "../suite/suite-schema.ts";
import { sha256 } from "./file-tree.ts";

/** A job's serialized data may not be larger than this (a prompt and a check, not files). */
export const MAX_JOB_BYTES = 256 * 1024;
/** The transcript a worker sends back is cut to its last this many characters. */
export const MAX_TRANSCRIPT_CHARS = 2 * 1024 * 1024;

const Hash = z.string().regex(/^[0-9a-f]{64}$/, "must be a sha256 hex digest");

/**
 * What travels to a worker: the task (prompt, check, threshold, limits), the agent revision and
 * the starting workspace as hashes of content-addressed trees, never a key, a config value or a
 * path of the submitting machine. The worker supplies its own config, keys and sandbox.
 */
export const TrialJobSchema = z
  .object({
    v: z.literal(1),
    evalId: z.string().regex(/^[\w.-]{1,100}$/),
    key: z.string().min(1).max(300),
    label: z.enum(["head", "against"]),
    trial: z.number().int().nonnegative().max(100_000),
    task: z
      .object({
        id: z
          .string()
          .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/)
          .max(120),
        prompt: z.string().min(1).max(100_000),
        check: z.string().min(1).max(10_000).optional(),
        rubric: z.string().min(1).max(20_000).optional(),
        threshold: z.number().min(0).max(1),
        limits: TaskLimitsSchema,
      })
      .strict(),
    /** sha256 of the agent-src tree (see file-tree.ts). */
    agentTree: Hash,
    /** sha256 of the prepared workspace tree. */
    workspaceTree: Hash,
  })
  .strict();

export type TrialJob = z.infer<typeof TrialJobSchema>;

/** What a worker hands back: the trial's result and its transcript (JSONL, cut to the tail). */
export const TrialReturnSchema = z.object({
  result: TrialResultSchema,
  transcript: z.string().max(MAX_TRANSCRIPT_CHARS + 1000),
  worker: z.string().max(200),
});
export type TrialReturn = z.infer<typeof TrialReturnSchema>;

export function trialJob(spec: TrialSpec, agentTree: string, workspaceTree: string): TrialJob {
  const { task } = spec;
  return {
    v: 1,
    evalId: spec.evalId,
    key: spec.key,
    label: spec.label,
    trial: spec.trial,
    task: {
      id: task.id,
      prompt: task.prompt,
      ...(task.check ? { check: task.check } : {}),
      ...(task.rubric ? { rubric: task.rubric } : {}),
      threshold: task.threshold,
      limits: task.limits,
    },
    agentTree,
    workspaceTree,
  };
}

/** One job per (eval, trial key): adding it again while it exists is a no-op in BullMQ. */
export const trialJobId = (evalId: string, key: string) => `${evalId}-${sha256(key).slice(0, 24)}`;
