import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pidAlive } from "../git/temp-dirs.ts";
import { withHomeLock } from "../log/home-lock.ts";
import { folderBytes, gcStore, storeDir } from "../workspace/snapshot-store.ts";
import { listRunRecords, runsDir } from "./run-record.ts";

/** Which runs to remove: older than `olderThanMs`, and/or all but the newest `keep`. */
export interface PrunePolicy {
  olderThanMs?: number;
  keep?: number;
}

export interface PruneResult {
  removed: string[];
  kept: number;
  /** Bytes the runs folder (records, transcripts, snapshot store) shrank by. */
  freedBytes: number;
}

/** A folder without a record this old is taken to be a killed run, not a running one. */
const INCOMPLETE_AFTER_MS = 24 * 3600_000;

/**
 * Removes the runs the policy selects, then every stored snapshot object no remaining run needs.
 * The latest passing run of each task and workspace is always kept: the regression suite replays
 * it. A run folder without a record is removed only when it is over a day old (it may be running).
 */
export async function pruneRuns(home: string, policy: PrunePolicy, now = Date.now()): Promise<PruneResult> {
  return withHomeLock(home, async () => {
    const dir = runsDir(home);
    const before = folderBytes(dir);
    const { records, incomplete, broken } = listRunRecords(home);
    // A run a live moss process still works with (an evolution replays its snapshot) is kept.
    const inUse = (id: string) => leaseHolders(path.join(dir, id)).length > 0;
    const regression = new Map<string, string>();
    for (const r of records) if (r.passed) regression.set(`${r.task}\u0000${r.workspace}`, r.runId);
    const protectedIds = new Set(regression.values());
    const newestFirst = [...records].sort((a, b) => b.startedAt.localeCompare(a.startedAt));
    const removed: string[] = [];
    const keep = new Set<string>();
    newestFirst.forEach((r, i) => {
      const tooOld = policy.olderThanMs !== undefined && now - Date.parse(r.startedAt) > policy.olderThanMs;
      const beyondKeep = policy.keep !== undefined && i >= policy.keep;
      if ((tooOld || beyondKeep) && !protectedIds.has(r.runId) && !inUse(r.runId)) removed.push(r.runId);
      else keep.add(r.runId);
    });
    // An unreadable record is left for the user to look at, with its snapshot.
    for (const file of broken) keep.add(path.basename(path.dirname(file)));
    for (const r of incomplete) {
      const folder = path.join(dir, r.runId);
      if (existsSync(folder) && now - statSync(folder).mtimeMs > INCOMPLETE_AFTER_MS && !inUse(r.runId))
        removed.push(r.runId);
      else keep.add(r.runId);
    }
    for (const id of removed) rmSync(path.join(dir, id), { recursive: true, force: true });
    gcStore(storeDir(home), keep);
    return { removed: removed.sort(), kept: keep.size, freedBytes: Math.max(0, before - folderBytes(dir)) };
  });
}

/**
 * Marks a run folder as in use by this process until it exits: `moss runs --prune` (or another
 * run's auto-prune) then keeps the run and its snapshot. The mark is a file named after the pid;
 * one left by a process that has gone is ignored.
 */
export function leaseRun(runDir: string): void {
  try {
    writeFileSync(path.join(runDir, `.in-use-${process.pid}`), "");
  } catch {
    // The run folder is gone: nothing left to keep.
  }
}

/** The live pids holding a lease on the run folder. */
function leaseHolders(runDir: string): number[] {
  let names: string[];
  try {
    names = readdirSync(runDir);
  } catch {
    return [];
  }
  return names
    .map((n) => /^\.in-use-(\d+)$/.exec(n)?.[1])
    .filter((pid): pid is string => pid !== undefined)
    .map(Number)
    .filter(pidAlive);
}

/** "30d", "12h", "2w", "90m", or a bare number of days, in milliseconds. */
export function parseAge(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*([mhdw]?)$/.exec(text.trim());
  if (!m) return null;
  const unit = { m: 60_000, h: 3600_000, d: 86_400_000, w: 7 * 86_400_000, "": 86_400_000 }[m[2] as "m"];
  return Number(m[1]) * unit;
}
