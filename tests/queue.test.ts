import { readFileSync } from "node:fs";
import path from "node:path";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { QUEUE_NAME } from "../src/queue/connection.ts";
import { type FakeServer, startFakeModelServer } from "./helpers/fake-model-server.ts";
import { makeHome } from "./helpers/homes.ts";
import { moss } from "./helpers/moss-cli.ts";
import { killAll, spawnWorker, type WorkerProc } from "./helpers/queue-workers.ts";
import { type RedisServer, redisMissing, startRedis } from "./helpers/redis-server.ts";
import { addTasks, answerTask, spawnMoss, suiteResponder } from "./helpers/suite-agent.ts";
import { makeWorkspace } from "./helpers/workspaces.ts";

const missing = redisMissing();
let server: FakeServer | undefined;
let redis: RedisServer | undefined;
let workers: WorkerProc[] = [];
afterEach(async () => {
  await killAll(workers);
  workers = [];
  await server?.close();
  await redis?.stop();
  server = undefined;
  redis = undefined;
});

/** The workers' keys: the submitter's never travel (it gets a different one). */
const workerEnv = (s: FakeServer) => ({ ANTHROPIC_API_KEY: "sk-worker", ANTHROPIC_BASE_URL: s.url });
const SUBMITTER_KEY = "sk-submitter-secret-0451";

const perTask = (summary: {
  agents: Array<{ tasks: Array<{ taskId: string; n: number; passes: number }> }>;
}) => Object.fromEntries(summary.agents[0]!.tasks.map((t) => [t.taskId, `${t.passes}/${t.n}`]));

function resultKeys(home: string, evalId: string): string[] {
  return readFileSync(path.join(home, "evals", evalId, "results.jsonl"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l).key);
}

async function makeSuite(): Promise<string> {
  const suite = path.join(makeWorkspace({}), "suite");
  expect((await moss(["suite", "init", suite])).code).toBe(0);
  addTasks(suite, [answerTask("solve-me", "solve"), answerTask("stuck", "give-up", { split: "holdout" })]);
  return suite;
}

/** Polls until `fn` returns a value (not undefined), up to `ms`. */
async function until<T>(fn: () => Promise<T | undefined> | T | undefined, ms = 120_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe.skipIf(missing)("moss eval --queue (BullMQ on a real redis-server)", () => {
  it("3 worker processes give the same per-task results as the local pool; jobs carry no key or submitter path", async () => {
    server = await startFakeModelServer(suiteResponder());
    redis = await startRedis();
    const home = await makeHome();
    const suite = await makeSuite();
    const args = ["--home", home, "eval", suite, "--trials", "2", "--seed", "11", "--json"];
    const local = await moss([...args, "--parallel", "2"], workerEnv(server));
    expect(local.code).toBe(0);

    // Submitted with no worker connected: the jobs wait in Redis, where the test reads them.
    const submitter = spawnMoss([...args, "--queue", redis.url], {
      ANTHROPIC_API_KEY: SUBMITTER_KEY,
      MOSS_HOME: home,
    });
    let stdout = "";
    let stderr = "";
    submitter.stdout.on("data", (d) => {
      stdout += d;
    });
    submitter.stderr.on("data", (d) => {
      stderr += d;
    });
    const submitterExit = new Promise<number | null>((r) => submitter.once("exit", r));
    const queue = new Queue(QUEUE_NAME, { connection: new Redis(redis.url, { maxRetriesPerRequest: null }) });
    const jobs = await until(async () => {
      const waiting = await queue.getJobs(["waiting"]);
      return waiting.length >= 6 ? waiting : undefined;
    });
    const payload = JSON.stringify(jobs.map((j) => j.data));
    expect(payload).not.toContain(SUBMITTER_KEY);
    expect(payload).not.toContain(home);
    expect(payload).not.toContain(suite);
    expect(payload).not.toContain("/tmp/");
    expect(jobs[0]!.data).toMatchObject({ v: 1, agentTree: expect.stringMatching(/^[0-9a-f]{64}$/) });
    await queue.close();

    const workerHome = await makeHome();
    workers = [0, 1, 2].map(() => spawnWorker(workerHome, redis!.url, workerEnv(server!)));
    const code = await submitterExit;
    expect(stderr).toContain("trials go to the queue");
    expect(code, `${stderr}\n${workers.map((w) => w.output()).join("\n")}`).toBe(0);
    const viaQueue = JSON.parse(stdout);
    expect(perTask(viaQueue)).toEqual(perTask(JSON.parse(local.stdout)));
    expect(perTask(viaQueue)).toEqual({ "fix-add": "2/2", "solve-me": "2/2", stuck: "0/2" });
    const keys = resultKeys(home, viaQueue.evalId);
    expect(keys).toHaveLength(6);
    expect(new Set(keys).size).toBe(6);
    // The model saw only the workers' key.
    const keysSeen = new Set(server.requests.map((r) => r.headers.authorization));
    expect([...keysSeen]).toEqual(["Bearer sk-worker"]);

    const status = await moss(["workers", "--queue", redis.url, "--json"]);
    expect(status.code).toBe(0);
    const { workers: seen, queue: depth } = JSON.parse(status.stdout);
    expect(seen).toHaveLength(3);
    expect(depth).toMatchObject({ waiting: 0, active: 0 });
    // Each tree is fetched at most once per worker, however many of its trials the worker ran.
    for (const w of workers) {
      const fetched = w.output().match(/fetched \w+ [0-9a-f]{12}/g) ?? [];
      expect(new Set(fetched).size).toBe(fetched.length);
    }
    const done = workers.map((w) => (w.output().match(/ done head:/g) ?? []).length);
    expect(done.reduce((a, b) => a + b, 0)).toBe(6);

    for (const w of workers) w.child.kill("SIGTERM");
    expect(await Promise.all(workers.map((w) => w.exited))).toEqual([0, 0, 0]);
  }, 300_000);
});
