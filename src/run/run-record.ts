import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { ExitReasonSchema, UsageSchema } from "../contract/index.ts";
import { writeFileAtomic } from "../log/atomic-write.ts";

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
  exitReason: ExitReasonSchema,
  detail: z.string().optional(),
  turns: z.number().int(),
  usage: UsageSchema,
  costUsd: z.number(),
  models: z.record(z.string(), z.string()),
  diff: z.string(),
  changedFiles: z.array(z.object({ path: z.string(), kind: z.enum(["added", "modified", "deleted"]) })),
  applied: z.boolean(),
  applyConflicts: z.array(z.string()).default([]),
  checkOutputTail: z.string().default(""),
  timings: z.record(z.string(), z.number()),
  /** Where the starting state of the workspace is kept, for replay. */
  snapshot: z.string(),
  /** How the agent was confined: "none" only when the user passed --no-sandbox. */
  sandbox: z.enum(["bubblewrap", "none"]).default("none"),
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

/** Every readable run record, oldest first; unreadable ones are reported, not fatal. */
export function listRunRecords(home: string): { records: RunRecord[]; broken: string[] } {
  const dir = runsDir(home);
  if (!existsSync(dir)) return { records: [], broken: [] };
  const records: RunRecord[] = [];
  const broken: string[] = [];
  for (const id of readdirSync(dir).sort()) {
    const file = path.join(dir, id, "record.json");
    if (!existsSync(file)) continue;
    try {
      records.push(RunRecordSchema.parse(JSON.parse(readFileSync(file, "utf8"))));
    } catch {
      broken.push(file);
    }
  }
  return { records, broken };
}
