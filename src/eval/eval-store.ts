import {
  appendFileSync,
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readdirSync,
  readFileSync,
} from "node:fs";
import path from "node:path";
import { z } from "zod";
import { ExitReasonSchema, UsageSchema } from "../contract/index.ts";
import { UsageError } from "../errors.ts";
import { writeFileAtomic } from "../log/atomic-write.ts";
import { SplitSchema, TaskLimitsSchema } from "../suite/suite-schema.ts";

export const evalsDir = (home: string) => path.join(home, "evals");

/** A task as the eval ran it: frozen in the plan, so a resume runs exactly the same tasks. */
export const PlannedTaskSchema = z.object({
  id: z.string(),
  prompt: z.string(),
  workspaceDir: z.string(),
  setup: z.string().optional(),
  check: z.string().optional(),
  rubric: z.string().optional(),
  threshold: z.number(),
  split: SplitSchema,
  limits: TaskLimitsSchema,
  tags: z.array(z.string()),
});

/** An agent under evaluation: a label and the commit of the home whose agent-src runs. */
export const PlannedAgentSchema = z.object({
  label: z.enum(["head", "against"]),
  rev: z.string(),
  commit: z.string().nullable(),
});

export const EvalPlanSchema = z.object({
  evalId: z.string(),
  createdAt: z.string(),
  suite: z.object({ name: z.string(), file: z.string() }),
  tasks: z.array(PlannedTaskSchema),
  trials: z.number().int().positive(),
  seed: z.number().int(),
  agents: z.array(PlannedAgentSchema).min(1),
  /** Every trial key, in the (seeded) order they are started. */
  order: z.array(z.string()),
  /** What evolve campaigns tag their evals with; absent for a plain `moss eval`. */
  purpose: z.string().optional(),
});

/** One finished trial. `error` trials hit a model, transport or environment failure: not scores. */
export const TrialResultSchema = z.object({
  type: z.literal("trial"),
  key: z.string(),
  agent: z.enum(["head", "against"]),
  taskId: z.string(),
  trial: z.number().int().nonnegative(),
  status: z.enum(["scored", "error"]),
  score: z.number(),
  passed: z.boolean(),
  exitReason: ExitReasonSchema.or(z.string()),
  detail: z.string().optional(),
  rationale: z.array(z.string()),
  turns: z.number().int(),
  usage: UsageSchema,
  costUsd: z.number(),
  ms: z.number(),
  finishedAt: z.string(),
});

export type PlannedTask = z.infer<typeof PlannedTaskSchema>;
export type PlannedAgent = z.infer<typeof PlannedAgentSchema>;
export type EvalPlan = z.infer<typeof EvalPlanSchema>;
export type TrialResult = z.infer<typeof TrialResultSchema>;

export const trialKey = (agent: string, taskId: string, trial: number) => `${agent}:${taskId}:${trial}`;

export function evalDir(home: string, evalId: string): string {
  if (!/^[\w.-]+$/.test(evalId)) throw new UsageError(`not an eval id: "${evalId}"`);
  return path.join(evalsDir(home), evalId);
}

export function savePlan(home: string, plan: EvalPlan): void {
  writeFileAtomic(path.join(evalDir(home, plan.evalId), "plan.json"), `${JSON.stringify(plan, null, 2)}\n`);
}

export function loadPlan(home: string, evalId: string): EvalPlan {
  const file = path.join(evalDir(home, evalId), "plan.json");
  if (!existsSync(file)) {
    throw new UsageError(
      `no eval ${evalId} in ${evalsDir(home)}; \`moss eval --list\` shows the evals of this home`,
    );
  }
  return EvalPlanSchema.parse(JSON.parse(readFileSync(file, "utf8")));
}

/** Appends one result line and flushes it to disk before returning (a kill loses no finished trial). */
export function appendResult(home: string, evalId: string, result: TrialResult): void {
  const file = path.join(evalDir(home, evalId), "results.jsonl");
  appendFileSync(file, `${JSON.stringify(TrialResultSchema.parse(result))}\n`);
  const fd = openSync(file, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * The results of an eval, one per trial key (the first scored line wins; an error line counts
 * only while no scored line exists for its key). A torn last line from a kill is skipped.
 */
export function readResults(home: string, evalId: string): TrialResult[] {
  const file = path.join(evalDir(home, evalId), "results.jsonl");
  if (!existsSync(file)) return [];
  const byKey = new Map<string, TrialResult>();
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (!line.trim()) continue;
    let parsed: TrialResult;
    try {
      parsed = TrialResultSchema.parse(JSON.parse(line));
    } catch {
      continue;
    }
    const seen = byKey.get(parsed.key);
    if (!seen || (seen.status === "error" && parsed.status === "scored")) byKey.set(parsed.key, parsed);
  }
  return [...byKey.values()];
}

/** The ids of this home's evals, oldest first. */
export function listEvals(home: string): string[] {
  const dir = evalsDir(home);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((id) => existsSync(path.join(dir, id, "plan.json")))
    .sort();
}
