import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Config } from "../config/config-schema.ts";
import { createWorktree, type Worktree } from "../git/worktree.ts";
import type { ModelSource } from "../models/model-registry.ts";
import type { SandboxLimits } from "../sandbox/limits.ts";
import { findSharedDeps, type SharedDeps } from "../sandbox/shared-deps.ts";
import { appendResult, type EvalPlan, evalDir, readResults, type TrialResult } from "./eval-store.ts";
import { runLocalTrial, type TrialExecutor } from "./local-trial.ts";
import { prepareTask, taskBaseline } from "./prepare-task.ts";

export type EvalEvent =
  | { type: "prepare"; taskId: string }
  /** The task's check passes on the untouched workspace: trials of it measure little. */
  | { type: "already_passes"; taskId: string }
  | { type: "start"; key: string; taskId: string }
  | { type: "finish"; result: TrialResult }
  | { type: "budget_stop"; spentUsd: number; budgetUsd: number; remaining: number };

export interface RunEvalInput {
  home: string;
  plan: EvalPlan;
  config: Config;
  /** How each trial's models are built (a fresh registry per trial, so costs are the trial's own). */
  models: ModelSource;
  sandbox: SandboxLimits | null;
  parallel: number;
  /** No new trial starts once spend + in-flight estimates + one more estimate would pass it. */
  budgetUsd?: number;
  /** What one trial is expected to cost before any has finished (updated from finished trials). */
  estimatePerTrialUsd: number;
  /** Only these trial keys (an evolve cascade runs a few first); every key of the plan otherwise. */
  only?: Set<string>;
  signal?: AbortSignal;
  onEvent?: (event: EvalEvent) => void;
  /** Where trials run: this machine's pool (runLocalTrial) unless given, e.g. a queue of workers. */
  executor?: TrialExecutor;
}

export interface RunEvalOutput {
  stoppedBy: "done" | "budget" | "interrupted";
  /** Every result of the eval so far, this run's and earlier ones'. */
  results: TrialResult[];
  spentUsd: number;
}

/**
 * Runs the plan's trials that have no scored result yet (a resumed eval picks up where it
 * stopped; error results are retried) on a pool of `parallel` workers, each trial an attempt in
 * its own sandboxed scratch copy of the task's prepared workspace. Every finished trial is
 * appended to the eval's results.jsonl before the next one is counted; an aborted trial is not.
 */
export async function runEval(input: RunEvalInput): Promise<RunEvalOutput> {
  const { home, plan, config } = input;
  const dir = evalDir(home, plan.evalId);
  const done = new Set(
    readResults(home, plan.evalId)
      .filter((r) => r.status === "scored")
      .map((r) => r.key),
  );
  const queue = plan.order.filter((k) => !done.has(k) && (!input.only || input.only.has(k)));
  const tasks = new Map(plan.tasks.map((t) => [t.id, t]));
  const prepared = new Map<string, string>();
  const shared = new Map<string, SharedDeps>();
  const worktrees: Worktree[] = [];
  const agentDirs = new Map<string, string>();
  let spent = 0;
  let finished = 0;
  let inFlight = 0;
  let stoppedBy: RunEvalOutput["stoppedBy"] = "done";
  const estimate = () => (finished > 0 ? spent / finished : input.estimatePerTrialUsd);

  mkdirSync(path.join(dir, "trials"), { recursive: true });
  // Every set-up runs before the first model call, so a broken one costs nothing.
  for (const key of queue) {
    const task = tasks.get(splitKey(key)[1]);
    if (!task || prepared.has(task.id)) continue;
    input.onEvent?.({ type: "prepare", taskId: task.id });
    const ready = await prepareTask(dir, task, {
      maxSnapshotBytes: config.workspace.maxSnapshotBytes,
      setupTimeoutMs: config.check.timeoutMs,
    });
    prepared.set(task.id, ready);
    // Installed dependencies (ignored, so never copied) are shared read-only: those the task's
    // setup installed in the prepared copy, else those of the suite's own workspace folder.
    const deps = findSharedDeps(task.setup ? ready : task.workspaceDir, config.workspace.shareIgnored);
    shared.set(task.id, deps);
    const baseline = await taskBaseline(dir, task, ready, {
      timeoutMs: task.limits.checkTimeoutMs ?? config.check.timeoutMs,
      sandbox: input.sandbox,
      sharedDeps: deps,
      ...(input.signal ? { signal: input.signal } : {}),
    });
    if (baseline?.passed) input.onEvent?.({ type: "already_passes", taskId: task.id });
  }
  try {
    for (const agent of plan.agents) {
      if (!agent.commit) {
        agentDirs.set(agent.label, home);
        continue;
      }
      const wt = await createWorktree(home, agent.commit);
      worktrees.push(wt);
      agentDirs.set(agent.label, wt.dir);
    }

    const next = (): string | null => {
      if (input.signal?.aborted) {
        stoppedBy = "interrupted";
        return null;
      }
      if (!queue.length) return null;
      if (input.budgetUsd !== undefined && spent + (inFlight + 1) * estimate() > input.budgetUsd) {
        if (stoppedBy !== "budget") {
          stoppedBy = "budget";
          input.onEvent?.({
            type: "budget_stop",
            spentUsd: spent,
            budgetUsd: input.budgetUsd,
            remaining: queue.length,
          });
        }
        return null;
      }
      return queue.shift() ?? null;
    };

    const worker = async () => {
      for (let key = next(); key; key = next()) {
        inFlight++;
        try {
          const result = await runTrial(key);
          if (result) {
            appendResult(home, plan.evalId, result);
            spent += result.costUsd;
            finished++;
            input.onEvent?.({ type: "finish", result });
          }
        } finally {
          inFlight--;
        }
      }
    };

    const execute: TrialExecutor =
      input.executor ??
      ((spec) => runLocalTrial(spec, { config, models: input.models, sandbox: input.sandbox }));
    const runTrial = async (key: string): Promise<TrialResult | null> => {
      const [label, taskId, n] = splitKey(key);
      const task = tasks.get(taskId);
      const agentDir = agentDirs.get(label);
      if (!task || !agentDir)
        throw new Error(`eval ${plan.evalId}: trial ${key} names no planned task or agent`);
      const snapshot = prepared.get(taskId);
      if (!snapshot) throw new Error(`eval ${plan.evalId}: task ${taskId} was not prepared`);
      input.onEvent?.({ type: "start", key, taskId });
      const sharedDeps = shared.get(taskId);
      return execute({
        evalId: plan.evalId,
        key,
        label,
        trial: n,
        task,
        agentDir,
        snapshot,
        ...(sharedDeps ? { sharedDeps } : {}),
        transcript: trialTranscript(dir, key),
        ...(input.signal ? { signal: input.signal } : {}),
      });
    };

    await Promise.all(Array.from({ length: Math.max(1, input.parallel) }, worker));
    if (input.signal?.aborted) stoppedBy = "interrupted";
  } finally {
    for (const wt of worktrees) await wt.remove();
  }
  return { stoppedBy, results: readResults(home, plan.evalId), spentUsd: spent };
}

/** `head:fix-add:2` -> ["head", "fix-add", 2]. */
export function splitKey(key: string): ["head" | "against", string, number] {
  const first = key.indexOf(":");
  const last = key.lastIndexOf(":");
  return [key.slice(0, first) as "head" | "against", key.slice(first + 1, last), Number(key.slice(last + 1))];
}

/** Where a trial's transcript is kept (a retried trial starts it afresh). */
export const trialTranscript = (dir: string, key: string) =>
  path.join(dir, "trials", `${key.replaceAll(":", "_")}.jsonl`);
