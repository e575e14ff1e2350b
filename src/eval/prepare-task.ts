import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { UsageError } from "../errors.ts";
import { runInGroup } from "../process/run-in-group.ts";
import { type Baseline, runBaseline } from "../run/baseline.ts";
import type { SandboxLimits } from "../sandbox/limits.ts";
import type { SharedDeps } from "../sandbox/shared-deps.ts";
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

/**
 * The task's check on its untouched prepared workspace, once per eval (kept beside it, so a
 * resume does not rerun it). Throws UsageError, before any model call, when the check cannot run
 * there: that is the environment's failure, and every trial would score it as the agent's.
 */
export async function taskBaseline(
  dir: string,
  task: PlannedTask,
  prepared: string,
  opts: { timeoutMs: number; sandbox: SandboxLimits | null; sharedDeps?: SharedDeps; signal?: AbortSignal },
): Promise<Baseline | null> {
  if (!task.check) return null;
  const file = path.join(dir, "work", `${task.id}.baseline.json`);
  if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8")) as Baseline;
  const baseline = await runBaseline({
    snapshot: prepared,
    check: task.check,
    threshold: task.threshold,
    timeoutMs: opts.timeoutMs,
    sandbox: opts.sandbox,
    ...(opts.sharedDeps ? { sharedDeps: opts.sharedDeps } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  if (opts.signal?.aborted) return baseline;
  if (baseline.unrunnable) {
    throw new UsageError(
      `task "${task.id}": its check \`${task.check}\` cannot run on the untouched workspace: ${baseline.unrunnable}\n${baseline.outputTail}\n` +
        "Fix the task's check (or its setup, which installs what the check needs) in suite.json.",
    );
  }
  writeFileSync(file, `${JSON.stringify(baseline)}\n`);
  return baseline;
}
