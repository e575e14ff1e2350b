import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { type Job, UnrecoverableError, WaitingError, Worker } from "bullmq";
import type { Config } from "../config/config-schema.ts";
import { runLocalTrial } from "../eval/local-trial.ts";
import { makeTempDir, removeTree } from "../git/temp-dirs.ts";
import type { ModelSource } from "../models/model-registry.ts";
import type { SandboxLimits } from "../sandbox/limits.ts";
import { createAgentDirs } from "./agent-dirs.ts";
import { connectRedis, ensureReachable, QUEUE_NAME } from "./connection.ts";
import { TreeRejected } from "./file-tree.ts";
import { createTreeCache } from "./tree-store.ts";
import { MAX_JOB_BYTES, MAX_TRANSCRIPT_CHARS, TrialJobSchema, type TrialReturn } from "./trial-job.ts";
import { clearStatus, HEARTBEAT_MS, publishStatus, type WorkerStatus } from "./worker-status.ts";

export interface TrialWorkerOptions {
  url: URL;
  /** This machine's home: its config, and the contract and node_modules every agent runs with. */
  home: string;
  config: Config;
  models: ModelSource;
  sandbox: SandboxLimits | null;
  concurrency: number;
  /** Where fetched trees and agent folders are cached between jobs. */
  cacheDir: string;
  /** A killed worker's trial goes back to the queue about this long after its last sign of life. */
  lockMs: number;
  log: (line: string) => void;
}

export interface TrialWorker {
  name: string;
  /**
   * Takes no new trial; the running ones finish within `graceMs`, then are handed back to the
   * queue (at once with 0). Resolves once the worker is disconnected.
   */
  stop(graceMs: number): Promise<void>;
}

/**
 * A worker of the trial queue: takes jobs, checks them (size, schema, tree hashes and paths;
 * a bad job is refused with the reason logged and sent back as the job's failure), and runs
 * each as a local trial would: in its own sandbox, with this machine's config and keys.
 */
export async function startTrialWorker(opts: TrialWorkerOptions): Promise<TrialWorker> {
  const name = `${os.hostname()}-${process.pid}`;
  const { log } = opts;
  const redis = connectRedis(opts.url, `moss-worker-${name}`);
  await ensureReachable(redis, opts.url, 15_000);
  const treeBytes = Math.ceil(opts.config.workspace.maxSnapshotBytes * 1.4) + 1024 * 1024;
  const trees = createTreeCache(
    redis,
    path.join(opts.cacheDir, "trees"),
    { maxBytes: treeBytes, maxFiles: 100_000 },
    log,
  );
  const agents = createAgentDirs(path.join(opts.cacheDir, "agents"), opts.home);
  const running = new Map<string, { key: string; evalId: string; since: string; abort: AbortController }>();
  const status = { done: 0, refused: 0, stopping: false, startedAt: new Date().toISOString() };

  const refuse = (job: Job, reason: string): never => {
    status.refused++;
    log(`refused job ${job.id}: ${reason}`);
    throw new UnrecoverableError(`refused by worker ${name}: ${reason}`);
  };

  const processor = async (job: Job, token?: string): Promise<TrialReturn> => {
    const size = Buffer.byteLength(JSON.stringify(job.data ?? null));
    if (size > MAX_JOB_BYTES) refuse(job, `the job is ${size} bytes, over the ${MAX_JOB_BYTES} cap`);
    const parsed = TrialJobSchema.safeParse(job.data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      refuse(
        job,
        `the job does not fit the trial schema (${issue?.path.join(".") || "job"}: ${issue?.message})`,
      );
    }
    const data = parsed.data!;
    let agentDir: string;
    let snapshot: string;
    try {
      agentDir = await agents.get(data.agentTree, () => trees.get(data.agentTree, "agent"));
      snapshot = await trees.get(data.workspaceTree, "workspace");
    } catch (err) {
      if (err instanceof TreeRejected) refuse(job, err.message);
      throw err;
    }
    const abort = new AbortController();
    running.set(String(job.id), {
      key: data.key,
      evalId: data.evalId,
      since: new Date().toISOString(),
      abort,
    });
    const scratch = makeTempDir("scratch");
    const transcript = path.join(scratch, "trial.jsonl");
    log(`start ${data.evalId} ${data.key}`);
    try {
      const result = await runLocalTrial(
        {
          evalId: data.evalId,
          key: data.key,
          label: data.label,
          trial: data.trial,
          task: data.task,
          agentDir: agentDir!,
          snapshot: snapshot!,
          transcript,
          signal: abort.signal,
        },
        { config: opts.config, models: opts.models, sandbox: opts.sandbox },
      );
      if (!result) {
        log(`handed back ${data.key}`);
        await job.moveToWait(token);
        throw new WaitingError();
      }
      status.done++;
      log(
        `done ${data.key}: ${result.status === "error" ? "ERROR" : result.passed ? "pass" : "fail"} ${result.score.toFixed(2)}`,
      );
      let text = "";
      try {
        text = readFileSync(transcript, "utf8");
      } catch {
        // A trial that failed before it started has no transcript.
      }
      return { result, transcript: text.slice(-MAX_TRANSCRIPT_CHARS), worker: name };
    } finally {
      running.delete(String(job.id));
      removeTree(scratch);
    }
  };

  const worker = new Worker(QUEUE_NAME, processor, {
    connection: redis,
    concurrency: opts.concurrency,
    lockDuration: opts.lockMs,
    stalledInterval: opts.lockMs,
    maxStalledCount: 5,
    name,
  });
  let lastError = "";
  worker.on("error", (err) => {
    if (err.message !== lastError) log(`queue error: ${err.message}`);
    lastError = err.message;
  });

  const beat = async () => {
    const s: WorkerStatus = {
      name,
      host: os.hostname(),
      pid: process.pid,
      concurrency: opts.concurrency,
      startedAt: status.startedAt,
      seenAt: new Date().toISOString(),
      stopping: status.stopping,
      done: status.done,
      refused: status.refused,
      running: [...running.values()].map(({ key, evalId, since }) => ({ key, evalId, since })),
    };
    await publishStatus(redis, s).catch(() => {});
  };
  await beat();
  const timer = setInterval(beat, HEARTBEAT_MS);

  return {
    name,
    async stop(graceMs: number) {
      if (status.stopping) {
        for (const r of running.values()) r.abort.abort();
        return;
      }
      status.stopping = true;
      await beat();
      const handBack = setTimeout(() => {
        for (const r of running.values()) r.abort.abort();
      }, graceMs);
      try {
        await worker.close();
      } finally {
        clearTimeout(handBack);
        clearInterval(timer);
        await clearStatus(redis, name).catch(() => {});
        redis.disconnect();
      }
    },
  };
}
