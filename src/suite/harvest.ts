import { listRunRecords, type RunRecord } from "../run/run-record.ts";
import { materializeSnapshot, snapshotExists } from "../workspace/snapshot.ts";
import { slug, suiteBuilder } from "./suite-builder.ts";

export interface HarvestResult {
  file: string;
  added: string[];
  skipped: string[];
  /** Runs left out, with why. */
  ignored: string[];
}

/**
 * A suite from this home's past runs (the user's own work): the latest run of each task and
 * workspace becomes a task whose workspace is that run's starting snapshot, with its check,
 * rubric and threshold. Every `holdoutEvery`-th task (0: none) goes to the holdout split.
 */
export function harvestSuite(home: string, out: string, opts: { holdoutEvery?: number } = {}): HarvestResult {
  const latest = new Map<string, RunRecord>();
  const ignored: string[] = [];
  const { records, broken } = listRunRecords(home);
  for (const path of broken) ignored.push(`${path}: unreadable record`);
  for (const r of records) latest.set(`${r.task}\u0000${r.workspace}`, r);
  const builder = suiteBuilder(out, `Harvested from the runs of ${home}`);
  let n = 0;
  for (const r of latest.values()) {
    if (!r.check && !r.rubric) {
      ignored.push(`${r.runId}: no check or rubric to score it`);
      continue;
    }
    if (!snapshotExists(r.snapshot)) {
      ignored.push(`${r.runId}: its workspace snapshot is gone`);
      continue;
    }
    n++;
    const holdout = opts.holdoutEvery ? n % opts.holdoutEvery === 0 : false;
    builder.add({
      id: slug(r.task.split(/\s+/).slice(0, 6).join(" ")),
      prompt: r.task,
      ...(r.check ? { check: r.check } : {}),
      ...(r.rubric ? { rubric: r.rubric } : {}),
      threshold: r.threshold,
      split: holdout ? "holdout" : "train",
      tags: ["harvested", r.passed ? "passed-before" : "failed-before"],
      fill: (ws) => materializeSnapshot(r.snapshot, ws),
    });
  }
  return { ...builder.save(), ignored };
}
