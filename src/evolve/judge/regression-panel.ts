import { createHash } from "node:crypto";
import path from "node:path";
import { leaseRun } from "../../run/prune-runs.ts";
import { listRunRecords, type RunRecord, runsDir } from "../../run/run-record.ts";
import { snapshotExists } from "../../workspace/snapshot.ts";

export interface PanelTask {
  run: RunRecord;
  /** Used only for acceptance: never named to the patcher, reported apart in the record. */
  sealed: boolean;
}

/**
 * The regression panel: for each other task (task text and workspace) of this home, its most
 * recent run, kept when that run passed and its snapshot is still there; most recent first, at
 * most `limit`. A task is sealed when the hash of its text and workspace falls in the first
 * `sealedFraction` of the hash range: the same task is always sealed or always open.
 */
export function regressionPanel(
  home: string,
  /** The failing task being evolved on (not its own regression check); null for none. */
  exclude: RunRecord | null,
  limit: number,
  sealedFraction: number,
): PanelTask[] {
  const latest = new Map<string, RunRecord>();
  for (const r of listRunRecords(home).records) latest.set(taskKey(r), r);
  if (exclude) latest.delete(taskKey(exclude));
  const chosen = [...latest.values()]
    .filter((r) => r.passed && snapshotExists(r.snapshot))
    .sort((a, b) => b.startedAt.localeCompare(a.startedAt) || b.runId.localeCompare(a.runId))
    .slice(0, limit);
  // Leased for this process, so a prune meanwhile (a newer passing run of the task makes this one
  // prunable) keeps them; checked again after the lease, for a prune that was already under way.
  for (const run of chosen) leaseRun(path.join(runsDir(home), run.runId));
  return chosen
    .filter((run) => snapshotExists(run.snapshot))
    .map((run) => ({ run, sealed: isSealed(run, sealedFraction) }));
}

const taskKey = (r: RunRecord) => `${r.task}\u0000${r.workspace}`;

export function isSealed(run: Pick<RunRecord, "task" | "workspace">, sealedFraction: number): boolean {
  const h = createHash("sha256").update(`${run.task}\u0000${run.workspace}`).digest();
  return h.readUInt32BE(0) / 2 ** 32 < sealedFraction;
}
