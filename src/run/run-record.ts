import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { ExitReasonSchema, ModelFailureKindSchema, UsageSchema } from "../contract/index.ts";
import { writeFileAtomic } from "../log/atomic-write.ts";
import { SnapshotRefSchema } from "../workspace/snapshot.ts";

/**
 * How a run ended: the agent's exit reason, or `check_unrunnable` when the check could not run on
 * the untouched workspace (the environment's failure: no score, no evolution).
 */
export const RunExitReasonSchema = z.enum([...ExitReasonSchema.options, "check_unrunnable"]);
export type RunExitReason = z.infer<typeof RunExitReasonSchema>;

export const BaselineRecordSchema = z.object({
  score: z.number(),
  passed: z.boolean(),
  exitCode: z.number().nullable(),
  timedOut: z.boolean(),
  outputTail: z.string(),
  unrunnable: z.string().nullable(),
  ms: z.number(),
});

export const RunRecordSchema = z.object({
  runId: z.string(),
  startedAt: z.string(),
  task: z.string(),
  workspace: z.string(),
  agentDir: z.string(),
  agentCommit: z.string().nullable(),
  check: z.string().nullable(),
  rubric: z.string().nullable(),
  threshold: z.number(),
  score: z.number(),
  passed: z.boolean(),
  rationale: z.array(z.string()),
  exitReason: RunExitReasonSchema,
  detail: z.string().optional(),
  /** The check's score on the untouched snapshot; null without a check (and in older records). */
  scoreBefore: z.number().nullable().default(null),
  baseline: BaselineRecordSchema.optional(),
  /** Set when the model service failed the run (after retries): it was not the agent's fault. */
  modelFailure: z
    .object({
      role: z.enum(["executor", "judge"]),
      kind: ModelFailureKindSchema,
      status: z.number().int().optional(),
      message: z.string(),
    })
    .optional(),
  /** The agent's last message. */
  finalText: z.string().default(""),
  turns: z.number().int(),
  usage: UsageSchema,
  /**
   * This run's own cost: its executor calls and its judge calls, nothing else of the process;
   * null when a model it used has no price in config (unknown; older records hold 0 there).
   */
  costUsd: z.number().nullable(),
  models: z.record(z.string(), z.string()),
  diff: z.string(),
  changedFiles: z.array(z.object({ path: z.string(), kind: z.enum(["added", "modified", "deleted"]) })),
  applied: z.boolean(),
  applyConflicts: z.array(z.string()).default([]),
  /** Why a passing attempt was not applied: special files, symlinks out, paths through a symlink, caps. */
  applyRefused: z.array(z.string()).default([]),
  /** Applied files that became executable (new, or not executable before). */
  madeExecutable: z.array(z.string()).default([]),
  checkOutputTail: z.string().default(""),
  timings: z.record(z.string(), z.number()),
  /** Where the starting state of the workspace is kept, for replay. */
  snapshot: SnapshotRefSchema,
  /** How the agent was confined: "none" only when the user passed --no-sandbox. */
  sandbox: z.enum(["bubblewrap", "sandbox-exec", "none"]).default("none"),
});
export type RunRecord = z.infer<typeof RunRecordSchema>;

export const runsDir = (home: string) => path.join(home, "runs");

export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\..*/, "").replace("T", "-");
  return `${stamp}-${Math.random().toString(36).slice(2, 8)}`;
}

export function saveRunRecord(home: string, record: RunRecord): string {
  const file = path.join(runsDir(home), record.runId, "record.json");
  writeFileAtomic(file, `${JSON.stringify(record, null, 2)}\n`);
  return file;
}

export function loadRunRecord(home: string, runId: string): RunRecord {
  const file = path.join(runsDir(home), runId, "record.json");
  if (!existsSync(file)) throw new Error(`no run ${runId} in ${runsDir(home)}`);
  return RunRecordSchema.parse(JSON.parse(readFileSync(file, "utf8")));
}

/** A run folder without a record: the run is still going, or was killed before it could write one. */
export interface IncompleteRun {
  runId: string;
  task: string | null;
  startedAt: string;
}

/**
 * Every readable run record, oldest first; unreadable ones are reported, not fatal, and folders
 * without a record are listed as incomplete.
 */
export function listRunRecords(home: string): {
  records: RunRecord[];
  broken: string[];
  incomplete: IncompleteRun[];
} {
  const dir = runsDir(home);
  if (!existsSync(dir)) return { records: [], broken: [], incomplete: [] };
  const records: RunRecord[] = [];
  const broken: string[] = [];
  const incomplete: IncompleteRun[] = [];
  for (const id of readdirSync(dir).sort()) {
    const folder = path.join(dir, id);
    const file = path.join(folder, "record.json");
    if (!RUN_ID.test(id) || !statSync(folder).isDirectory()) continue;
    if (!existsSync(file)) {
      incomplete.push({
        runId: id,
        task: startedTask(folder),
        startedAt: statSync(folder).mtime.toISOString(),
      });
      continue;
    }
    try {
      records.push(RunRecordSchema.parse(JSON.parse(readFileSync(file, "utf8"))));
    } catch {
      broken.push(file);
    }
  }
  return { records, broken, incomplete };
}

const RUN_ID = /^\d{8}-\d{6}-[a-z0-9]+$/;

/** The task named in the first line of a run's transcript, when it got that far. */
function startedTask(folder: string): string | null {
  try {
    const first = readFileSync(path.join(folder, "transcript.jsonl"), "utf8").split("\n", 1)[0] ?? "";
    const task = (JSON.parse(first) as { task?: unknown }).task;
    return typeof task === "string" ? task : null;
  } catch {
    return null;
  }
}
