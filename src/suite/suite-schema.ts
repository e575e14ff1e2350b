import { z } from "zod";

/** The file that makes a folder a suite. */
export const SUITE_FILE = "suite.json";

/** Per-task overrides of the config's agent limits, plus the check's own time limit. */
export const TaskLimitsSchema = z
  .object({
    maxTurns: z.number().int().positive(),
    wallClockMs: z.number().int().positive(),
    tokenBudget: z.number().int().positive(),
    commandTimeoutMs: z.number().int().positive(),
    maxOutputTokens: z.number().int().positive(),
    checkTimeoutMs: z.number().int().positive(),
  })
  .partial()
  .strict();

export const SplitSchema = z.enum(["train", "holdout"]);

export const SuiteTaskSchema = z
  .object({
    /** Unique in the suite; names result lines, folders and report rows. */
    id: z
      .string()
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
        "must be letters, digits, '.', '_' or '-' (no spaces or slashes)",
      )
      .max(120),
    prompt: z.string().trim().min(1, "must say what the agent should do"),
    /** A folder: relative to the suite folder, or absolute. */
    workspace: z.string().min(1),
    /** Run once in a prepared copy of the workspace before any trial (e.g. `npm ci`). */
    setup: z.string().min(1).optional(),
    check: z.string().min(1).optional(),
    rubric: z.string().min(1).optional(),
    /** The score needed to pass; the config's threshold when omitted. */
    threshold: z.number().min(0).max(1).optional(),
    /** `holdout` tasks are measured but never shown to the patcher. */
    split: SplitSchema.default("train"),
    limits: TaskLimitsSchema.default({}),
    tags: z.array(z.string().min(1)).default([]),
  })
  .strict()
  .refine((t) => t.check !== undefined || t.rubric !== undefined, {
    message: "a task needs a check command or a rubric to be scored",
    path: ["check"],
  });

export const SuiteSchema = z
  .object({
    version: z.literal(1).default(1),
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "must be letters, digits, '.', '_' or '-'")
      .max(80),
    description: z.string().optional(),
    tasks: z.array(SuiteTaskSchema).min(1, "a suite needs at least one task"),
  })
  .strict()
  .superRefine((suite, ctx) => {
    const seen = new Map<string, number>();
    suite.tasks.forEach((t, i) => {
      const first = seen.get(t.id);
      if (first !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["tasks", i, "id"],
          message: `"${t.id}" is already the id of tasks[${first}]`,
        });
      } else seen.set(t.id, i);
    });
  });

export type Suite = z.infer<typeof SuiteSchema>;
export type SuiteTask = z.infer<typeof SuiteTaskSchema>;
export type SuiteTaskInput = z.input<typeof SuiteTaskSchema>;
export type TaskLimits = z.infer<typeof TaskLimitsSchema>;
export type Split = z.infer<typeof SplitSchema>;
