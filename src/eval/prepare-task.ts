import { existsSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { UsageError } from "../errors.ts";
import { runInGroup } from "../process/run-in-group.ts";
import { snapshotWorkspace } from "../workspace/snapshot.ts";
import type { PlannedTask } from "./eval-store.ts";

/**
 * The starting state every trial of `task` copies: a snapshot of its workspace in the eval's
 * folder, with the task's set-up command (dependency install) run there once. Done once per eval
 * (a marker file records it, so a resumed eval does not redo it). The set-up is the suite
 * author's own command on an untouched copy, so it runs outside the sandbox, with network.
 */
export async function prepareTask(
  dir: string,
  task: PlannedTask,
  opts: { maxSnapshotBytes: number; setupTimeoutMs: number },
): Promise<string> {
  const dest = path.join(dir, "work", task.id);
  const marker = path.join(dir, "work", `${task.id}.ready`);
  if (existsSync(marker) && existsSync(dest)) return dest;
  rmSync(dest, { recursive: true, force: true });
  snapshotWorkspace(task.workspaceDir, dest, opts.maxSnapshotBytes);
  if (task.setup) {
    const run = await runInGroup("bash", ["-c", task.setup], {
      cwd: dest,
      timeoutMs: opts.setupTimeoutMs,
      maxOutputChars: 4000,
    });
    if (run.code !== 0) {
      const tail = run.output.trim().split("\n").slice(-15).join("\n");
      throw new UsageError(
        `task "${task.id}": its setup \`${task.setup}\` ${run.timedOut ? "timed out" : `exited ${run.code}`} in ${dest}:\n${tail}\n` +
          "Fix the setup field of the task in suite.json (it runs once in a copy of the workspace before the trials).",
      );
    }
  }
  writeFileSync(marker, `${new Date().toISOString()}\n`);
  return dest;
}
