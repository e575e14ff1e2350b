import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { makeTempDir } from "../src/git/temp-dirs.ts";
import { QUEUE_NAME } from "../src/queue/connection.ts";
import { packTree, sha256 } from "../src/queue/file-tree.ts";
import { treeKey } from "../src/queue/tree-store.ts";
import { type FakeServer, startFakeModelServer } from "./helpers/fake-model-server.ts";
import { makeHome } from "./helpers/homes.ts";
import { moss } from "./helpers/moss-cli.ts";
import { killAll, spawnWorker, type WorkerProc } from "./helpers/queue-workers.ts";
import { type RedisServer, redisMissing, startRedis } from "./helpers/redis-server.ts";
import { addTasks, answerTask, spawnMoss, suiteResponder } from "./helpers/suite-agent.ts";
import { makeWorkspace, repoRoot } from "./helpers/workspaces.ts";

// Skipped only where redis-server is not installed; CI sets MOSS_REQUIRE_REDIS=1, which turns a
// missing server into a failure, so these always run there.
const missing = redisMissing();
let server: FakeServer | undefined;
let redis: RedisServer | undefined;
let workers: WorkerProc[] = [];
/** Submitters of the test, killed after it (a failed test must not leave one running). */
const submitters: Array<ReturnType<typeof spawnMoss>> = [];
afterEach(async () => {
  for (const s of submitters.splice(0)) if (s.exitCode === null) s.kill("SIGKILL");
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

// Skipped only without redis-server (see `missing` above); CI requires it (MOSS_REQUIRE_REDIS=1).
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
    submitters.push(submitter);
    let stdout = "";
    let stderr = "";
    submitter.stdout.on("data", (d) => {
      stdout += d;
    });
    submitter.stderr.on("data", (d) => {
      stderr += d;
    });
    const submitterExit = new Promise<number | null>((r) => submitter.once("exit", r));
    const peek = new Redis(redis.url, { maxRetriesPerRequest: null });
    peek.on("error", () => {});
    const queue = new Queue(QUEUE_NAME, { connection: peek });
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
    peek.disconnect();

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
    // Workers never write a home's history: the workers' home is as it was made, and only the
    // submitter's home holds the results.
    const git = (dir: string, ...a: string[]) =>
      execFileSync("git", ["-C", dir, ...a])
        .toString()
        .trim();
    expect(git(workerHome, "status", "--porcelain")).toBe("");
    expect(git(workerHome, "rev-list", "--count", "HEAD")).toBe(git(home, "rev-list", "--count", "HEAD"));
    expect(existsSync(path.join(workerHome, "evals"))).toBe(false);
  }, 300_000);
});

/** A submitter process (`moss eval ... --queue`), its output collected. */
function submit(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawnMoss(args, env);
  submitters.push(child);
  const out = { stdout: "", stderr: "" };
  child.stdout.on("data", (d) => {
    out.stdout += d;
  });
  child.stderr.on("data", (d) => {
    out.stderr += d;
  });
  const exited = new Promise<number | null>((r) => child.once("exit", r));
  return { child, out, exited };
}

function resultCount(home: string): { evalId: string; n: number } | undefined {
  const root = path.join(home, "evals");
  if (!existsSync(root)) return undefined;
  const evalId = readdirSync(root)[0];
  if (!evalId) return undefined;
  const file = path.join(root, evalId, "results.jsonl");
  return { evalId, n: existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean).length : 0 };
}

const totalDone = (ws: WorkerProc[]) =>
  ws.reduce((n, w) => n + (w.output().match(/ done head:/g) ?? []).length, 0);

// Skipped only without redis-server (see `missing` above); CI requires it (MOSS_REQUIRE_REDIS=1).
describe.skipIf(missing)("queue faults (real redis-server, real worker processes)", () => {
  it("a worker SIGKILLed mid-trial: its trial is run by another worker and counted once", async () => {
    server = await startFakeModelServer(suiteResponder({ delayMs: 2500 }));
    redis = await startRedis();
    const home = await makeHome();
    const suite = await makeSuite();
    const workerHome = await makeHome();
    const doomed = spawnWorker(workerHome, redis.url, workerEnv(server));
    workers = [doomed];
    const s = submit(["--home", home, "eval", suite, "--trials", "1", "--json", "--queue", redis.url]);
    // `moss workers` shows the running trial and the queue's depth.
    const status = await until(async () => {
      const r = JSON.parse((await moss(["workers", "--queue", redis!.url, "--json"])).stdout);
      return r.workers[0]?.running[0]?.key ? r : undefined;
    });
    const key: string = status.workers[0].running[0].key;
    expect(status.workers).toHaveLength(1);
    expect(status.queue).toMatchObject({ active: 1 });
    expect(doomed.output()).toContain(` start ${status.workers[0].running[0].evalId} ${key}`);
    doomed.child.kill("SIGKILL");
    await doomed.exited;
    const rescuer = spawnWorker(workerHome, redis.url, workerEnv(server));
    workers.push(rescuer);
    const code = await s.exited;
    expect(code, `${s.out.stderr}\n${rescuer.output()}`).toBe(0);
    const summary = JSON.parse(s.out.stdout);
    expect(perTask(summary)).toEqual({ "fix-add": "1/1", "solve-me": "1/1", stuck: "0/1" });
    expect(rescuer.output()).toContain(` done ${key}:`);
    const keys = resultKeys(home, summary.evalId);
    expect(keys.sort()).toEqual(["head:fix-add:0", "head:solve-me:0", "head:stuck:0"]);
  }, 300_000);

  it("a SIGKILLed submitter resumes from Redis: trials finished meanwhile are collected, none is run twice", async () => {
    server = await startFakeModelServer(suiteResponder({ delayMs: 300 }));
    redis = await startRedis();
    const home = await makeHome();
    const suite = await makeSuite();
    workers = [spawnWorker(await makeHome(), redis.url, workerEnv(server))];
    const s = submit(["--home", home, "eval", suite, "--trials", "2", "--queue", redis.url]);
    const first = await until(() => {
      const c = resultCount(home);
      return c && c.n >= 1 ? c : undefined;
    });
    s.child.kill("SIGKILL");
    await s.exited;
    // The worker goes on with what is queued while no submitter is there.
    await until(() => (totalDone(workers) >= 3 ? true : undefined));
    const r = await moss(["--home", home, "eval", "--resume", first.evalId, "--queue", redis.url, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ complete: true, done: 6 });
    expect(perTask(summary)).toEqual({ "fix-add": "2/2", "solve-me": "2/2", stuck: "0/2" });
    const keys = resultKeys(home, first.evalId);
    expect(new Set(keys).size).toBe(keys.length);
    expect(totalDone(workers)).toBe(6);
  }, 300_000);

  it("Redis restarted empty mid-campaign: vanished trials are submitted again, each counted once", async () => {
    server = await startFakeModelServer(suiteResponder({ delayMs: 400 }));
    redis = await startRedis();
    const home = await makeHome();
    const suite = await makeSuite();
    const workerHome = await makeHome();
    workers = [0, 1].map(() => spawnWorker(workerHome, redis!.url, workerEnv(server!)));
    const s = submit(["--home", home, "eval", suite, "--trials", "2", "--json", "--queue", redis.url]);
    await until(() => {
      const c = resultCount(home);
      return c && c.n >= 2 ? c : undefined;
    });
    await redis.kill();
    await new Promise((r) => setTimeout(r, 1000));
    await redis.restart();
    const code = await s.exited;
    expect(code, `${s.out.stderr}\n${workers.map((w) => w.output()).join("\n")}`).toBe(0);
    const summary = JSON.parse(s.out.stdout);
    expect(perTask(summary)).toEqual({ "fix-add": "2/2", "solve-me": "2/2", stuck: "0/2" });
    expect(s.out.stderr).toMatch(/vanished from the queue \(was Redis restarted\?\); submitting it again/);
    const keys = resultKeys(home, summary.evalId);
    expect(keys).toHaveLength(6);
    expect(new Set(keys).size).toBe(6);
  }, 300_000);

  it("Redis gone for good: the submitter stops with a message naming the resume command", async () => {
    redis = await startRedis();
    const home = await makeHome();
    const suite = await makeSuite();
    const s = submit(["--home", home, "eval", suite, "--queue", redis.url], { MOSS_QUEUE_LOST_MS: "3000" });
    await until(() => (s.out.stderr.includes("trials go to the queue") ? true : undefined));
    await redis.kill();
    const code = await s.exited;
    expect(code).not.toBe(0);
    expect(s.out.stderr).toMatch(/has not answered for 3 s/);
    expect(s.out.stderr).toMatch(/finish with: moss eval --resume \S+ --queue redis:\/\/127\.0\.0\.1/);
  }, 120_000);

  it("SIGTERM: a worker finishes its running trial within --grace; with --grace 0 it hands the trial back", async () => {
    server = await startFakeModelServer(suiteResponder({ delayMs: 1500 }));
    redis = await startRedis();
    const home = await makeHome();
    const suite = await makeSuite();
    const workerHome = await makeHome();
    const patient = spawnWorker(workerHome, redis.url, workerEnv(server), ["--grace", "5m"]);
    const hasty = spawnWorker(workerHome, redis.url, workerEnv(server), ["--grace", "0"]);
    workers = [patient, hasty];
    const s = submit([
      "--home",
      home,
      "eval",
      suite,
      "--json",
      "--queue",
      redis.url,
      "--tasks",
      "solve-me,stuck",
    ]);
    const [patientKey, hastyKey] = (
      await Promise.all([patient.waitFor(/ start \S+ head:/), hasty.waitFor(/ start \S+ head:/)])
    ).map((l) => /(head:\S+)/.exec(l)![1]!);
    patient.child.kill("SIGTERM");
    hasty.child.kill("SIGTERM");
    expect(await hasty.exited).toBe(0);
    expect(hasty.output()).toContain(`handed back ${hastyKey}`);
    expect(await patient.exited).toBe(0);
    expect(patient.output()).toContain(` done ${patientKey}:`);
    // The handed-back trial waits in the queue for the next worker.
    const next = spawnWorker(workerHome, redis.url, workerEnv(server));
    workers.push(next);
    const code = await s.exited;
    expect(code, s.out.stderr).toBe(0);
    expect(next.output()).toContain(` done ${hastyKey}:`);
    expect(perTask(JSON.parse(s.out.stdout))).toEqual({ "solve-me": "1/1", stuck: "0/1" });
  }, 300_000);
});

// Skipped only without redis-server (see `missing` above); CI requires it (MOSS_REQUIRE_REDIS=1).
describe.skipIf(missing)("queue security (real redis-server, a real worker process)", () => {
  it("a worker refuses hostile jobs with a logged reason: path traversal, wrong workspace or agent hash, oversize, extra fields, an escaping link, a missing tree", async () => {
    server = await startFakeModelServer(suiteResponder());
    redis = await startRedis();
    const worker = spawnWorker(await makeHome(), redis.url, workerEnv(server));
    workers = [worker];
    await worker.waitFor(/takes trials from/);
    const client = new Redis(redis.url, { maxRetriesPerRequest: null });
    client.on("error", () => {});
    const upload = async (entries: unknown[]) => {
      const json = Buffer.from(JSON.stringify({ v: 1, entries }));
      await client.set(treeKey(sha256(json)), gzipSync(json));
      return sha256(json);
    };
    const agent = packTree(path.join(repoRoot, "agent-src"));
    await client.set(treeKey(agent.hash), agent.gz);
    const okFile = { k: "f", p: "check.js", x: false, d: Buffer.from("process.exit(0)").toString("base64") };
    const base = {
      v: 1,
      evalId: "hostile",
      key: "head:t:0",
      label: "head",
      trial: 0,
      task: { id: "t", prompt: "[solve] hi", check: "node check.js", threshold: 1, limits: {} },
      agentTree: agent.hash,
      workspaceTree: await upload([okFile]),
    };
    const outside = path.join(path.dirname(repoRoot), `moss-escape-${process.pid}.txt`);
    const wrong = await upload([okFile, { ...okFile, p: "other.js" }]);
    await client.set(
      treeKey(sha256("not this content")),
      await client.getBuffer(treeKey(wrong)).then((b) => b!),
    );
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      [
        "traversal",
        {
          ...base,
          workspaceTree: await upload([okFile, { ...okFile, p: `../../${path.basename(outside)}` }]),
        },
        /unsafe path/,
      ],
      ["wrong hash", { ...base, workspaceTree: sha256("not this content") }, /does not match the job's/],
      ["wrong agent hash", { ...base, agentTree: sha256("not this content") }, /does not match the job's/],
      ["oversize", { ...base, task: { ...base.task, prompt: "x".repeat(300_000) } }, /over the 262144 cap/],
      ["extra field", { ...base, env: { ANTHROPIC_API_KEY: "sk-stolen" } }, /does not fit the trial schema/],
      [
        "escaping link",
        { ...base, workspaceTree: await upload([okFile, { k: "l", p: "home", t: "../../../root" }]) },
        /points outside the tree/,
      ],
      ["missing tree", { ...base, agentTree: sha256("never uploaded") }, /not in the queue's store/],
    ];
    const queue = new Queue(QUEUE_NAME, { connection: client });
    for (const [name, data] of cases)
      await queue.add("trial", data, { jobId: `hostile-${name.replaceAll(" ", "-")}` });
    for (const [name, , reason] of cases) {
      const failed = await until(async () => {
        const job = await queue.getJob(`hostile-${name.replaceAll(" ", "-")}`);
        return job && (await job.getState()) === "failed" ? job : undefined;
      });
      expect(failed.failedReason, name).toMatch(reason);
      expect(failed.failedReason).toMatch(/^refused by worker /);
    }
    expect(worker.output().match(/refused job hostile-/g)).toHaveLength(cases.length);
    expect(existsSync(outside)).toBe(false);
    expect(server.requests).toHaveLength(0);
    // The worker is still up and says how many it refused.
    const status = await until(async () => {
      const r = JSON.parse((await moss(["workers", "--queue", redis!.url, "--json"])).stdout);
      return r.workers[0]?.refused === cases.length ? r : undefined;
    });
    expect(status.workers[0]).toMatchObject({ refused: cases.length, done: 0 });
    await queue.close();
    client.disconnect();
  }, 180_000);

  it("a password-protected Redis: the right password works, a wrong one is a clear error that never echoes it", async () => {
    redis = await startRedis(["--requirepass", "s3cret-pw"]);
    const url = `redis://:s3cret-pw@127.0.0.1:${redis.port}`;
    const ok = await moss(["workers", "--queue", url]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain("no worker connected");
    const bad = await moss(["workers", "--queue", `redis://:wrong-pw@127.0.0.1:${redis.port}`]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/cannot use the queue at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+.*WRONGPASS/);
    expect(bad.stderr).toContain("Check the password");
    expect(bad.stderr).not.toContain("wrong-pw");
    const none = await moss(["workers", "--queue", redis.url]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/NOAUTH/);
    const notUrl = await moss(["eval", "x", "--queue", "http://127.0.0.1:1"]);
    expect(notUrl.code).toBe(2);
  }, 120_000);

  it("rediss:// (TLS) end to end: a trial through a worker over TLS; an unknown certificate is refused", async () => {
    const dir = makeTempDir("scratch");
    const cert = path.join(dir, "cert.pem");
    const key = path.join(dir, "key.pem");
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        key,
        "-out",
        cert,
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
      ],
      { stdio: "ignore" },
    );
    redis = await startRedis([], { cert, key });
    expect(redis.url).toMatch(/^rediss:/);
    const untrusted = await moss(["workers", "--queue", redis.url]);
    expect(untrusted.code).toBe(2);
    expect(untrusted.stderr).toMatch(/cannot use the queue at rediss:/);
    const ca = { MOSS_QUEUE_CA_FILE: cert };
    server = await startFakeModelServer(suiteResponder());
    workers = [spawnWorker(await makeHome(), redis.url, { ...workerEnv(server), ...ca })];
    const home = await makeHome();
    const suite = await makeSuite();
    const r = await moss(
      ["--home", home, "eval", suite, "--tasks", "fix-add", "--json", "--queue", redis.url],
      ca,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(perTask(JSON.parse(r.stdout))).toEqual({ "fix-add": "1/1" });
  }, 180_000);
});
