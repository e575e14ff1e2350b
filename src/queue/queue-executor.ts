import { writeFileSync } from "node:fs";
import path from "node:path";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { emptyUsage } from "../contract/index.ts";
import type { TrialResult } from "../eval/eval-store.ts";
import type { TrialExecutor, TrialSpec } from "../eval/local-trial.ts";
import { makeTempDir, removeTree } from "../git/temp-dirs.ts";
import { materializeSnapshot, type SnapshotRef } from "../workspace/snapshot.ts";
import { connectRedis, ensureReachable, QUEUE_NAME, redactUrl, withDeadline } from "./connection.ts";
import { type PackedTree, packTree } from "./file-tree.ts";
import { uploadTree } from "./tree-store.ts";
import { TrialReturnSchema, trialJob, trialJobId } from "./trial-job.ts";

export interface QueueExecutorOptions {
  url: URL;
  say: (line: string) => void;
  /** How often a trial's job is looked at. */
  pollMs?: number;
  /** Redis silent this long stops the eval (its trials stay queued for a resume). */
  lostAfterMs?: number;
  /** The command that resumes this eval, for the message when the queue is lost. */
  resumeHint: string;
}

export interface QueueExecutor {
  execute: TrialExecutor;
  close(): Promise<void>;
}

/**
 * Sends each trial to the BullMQ queue as one job (id from eval and key, so a resumed submitter
 * finds the job it added before) and waits for a worker's result. Only this side writes the
 * home: results are appended by the pool that called `execute`, exactly once per key. A job that
 * vanished (Redis restarted without its data) is submitted again with its trees; Redis silent
 * for `lostAfterMs` stops the eval with a message saying how to resume.
 */
export async function createQueueExecutor(opts: QueueExecutorOptions): Promise<QueueExecutor> {
  const pollMs = opts.pollMs ?? 500;
  const lostAfterMs = opts.lostAfterMs ?? Number(process.env.MOSS_QUEUE_LOST_MS ?? 120_000);
  const redis: Redis = connectRedis(opts.url, "moss-submitter");
  await ensureReachable(redis, opts.url, 15_000);
  const queue = new Queue(QUEUE_NAME, { connection: redis });
  queue.on("error", () => {});
  const packs = new Map<string, PackedTree>();
  // Prepared workspaces and agent folders do not change during an eval: each is packed once.
  const packOnce = (ref: SnapshotRef) => {
    const id = JSON.stringify(ref);
    let p = packs.get(id);
    if (!p) {
      p = typeof ref === "string" ? packTree(ref) : packStored(ref);
      packs.set(id, p);
    }
    return p;
  };
  const where = redactUrl(opts.url.toString());
  const lost = () =>
    new Error(
      `the queue at ${where} has not answered for ${Math.round(lostAfterMs / 1000)} s; the trials in flight stay queued. ` +
        `Once Redis is back, finish with: ${opts.resumeHint}`,
    );
  const ask = <T>(p: Promise<T>) => withDeadline(p, lostAfterMs, lost);
  let closed = false;

  const execute: TrialExecutor = async (spec: TrialSpec): Promise<TrialResult | null> => {
    const agent = packOnce(path.join(spec.agentDir, "agent-src"));
    const workspace = packOnce(spec.snapshot);
    const data = trialJob(spec, agent.hash, workspace.hash);
    const jobId = trialJobId(spec.evalId, spec.key);
    const submit = async () => {
      await ask(uploadTree(redis, agent));
      await ask(uploadTree(redis, workspace));
      await ask(
        queue.add("trial", data, {
          jobId,
          attempts: 1,
          removeOnComplete: { age: 7 * 24 * 3600 },
          removeOnFail: { age: 7 * 24 * 3600 },
        }),
      );
    };
    // A failed job left by an earlier submitter is retried, like an error result on resume.
    const old = await ask(queue.getJob(jobId));
    if (old && (await ask(old.getState())) === "failed") await ask(old.remove());
    await submit();
    for (;;) {
      await new Promise((r) => setTimeout(r, pollMs));
      if (spec.signal?.aborted || closed) return null;
      // The state first, then the job: a job read before its state could be one that finished
      // in between, without its result.
      const state = await ask(queue.getJobState(jobId));
      const job = state === "completed" || state === "failed" ? await ask(queue.getJob(jobId)) : null;
      if (state === "unknown" || ((state === "completed" || state === "failed") && !job)) {
        opts.say(`trial ${spec.key} vanished from the queue (was Redis restarted?); submitting it again`);
        await submit();
        continue;
      }
      if (job && state === "completed") {
        const back = TrialReturnSchema.safeParse(job.returnvalue);
        await ask(job.remove()).catch(() => {});
        if (!back.success || back.data.result.key !== spec.key) {
          return errorResult(spec, "a worker sent back a result that is not this trial's (schema)");
        }
        writeFileSync(spec.transcript, back.data.transcript);
        return back.data.result;
      }
      if (job && state === "failed") {
        await ask(job.remove()).catch(() => {});
        return errorResult(spec, `the worker failed the trial: ${job.failedReason ?? "no reason given"}`);
      }
    }
  };

  return {
    execute,
    async close() {
      closed = true;
      await withDeadline(queue.close(), 5000, () => new Error("close")).catch(() => {});
      redis.disconnect();
    },
  };
}

function packStored(ref: SnapshotRef): PackedTree {
  const dir = makeTempDir("scratch");
  try {
    materializeSnapshot(ref, dir);
    return packTree(dir);
  } finally {
    removeTree(dir);
  }
}

/** A trial the queue could not run: an error result (not a score), retried on resume. */
function errorResult(spec: TrialSpec, detail: string): TrialResult {
  return {
    type: "trial",
    key: spec.key,
    agent: spec.label,
    taskId: spec.task.id,
    trial: spec.trial,
    status: "error",
    score: 0,
    passed: false,
    exitReason: "environment_error",
    detail: detail.slice(0, 2000),
    rationale: [],
    turns: 0,
    usage: emptyUsage(),
    costUsd: 0,
    ms: 0,
    finishedAt: new Date().toISOString(),
  };
}
