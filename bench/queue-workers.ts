/**
 * `moss eval --queue` through the real binary: a 20-task x 3-trial suite on 1 vs 2 `moss worker`
 * processes (the speed-up of adding a worker) and the per-trial time through the queue with one
 * worker against the local pool at --parallel 1 (the queue's overhead), with the loopback fake
 * model and a throwaway redis-server. Skipped, with a note, when redis-server is not installed.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { initHome } from "../src/home/init-home.ts";
import { writeSuite } from "../src/suite/load-suite.ts";
import { startFakeModelServer } from "../tests/helpers/fake-model-server.ts";
import { startRedis } from "../tests/helpers/redis-server.ts";
import { suiteResponder } from "../tests/helpers/suite-agent.ts";
import type { Report } from "./report.ts";

const TASKS = 20;
const TRIALS = 3;

export async function benchQueueWorkers(report: Report, packageRoot: string) {
  try {
    execFileSync("redis-server", ["--version"], { stdio: "ignore" });
  } catch {
    console.error("  queue bench skipped: redis-server is not installed (apt-get install redis-server)");
    return;
  }
  const root = mkdtempSync(path.join(os.tmpdir(), "moss-bench-queue-"));
  const server = await startFakeModelServer(suiteResponder());
  const redis = await startRedis();
  const bin = path.join(packageRoot, "bin", "moss.js");
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ANTHROPIC_API_KEY: "sk-bench",
    ANTHROPIC_BASE_URL: server.url,
  };
  const moss = (args: string[]) =>
    new Promise<void>((resolve, reject) => {
      const c = spawn(process.execPath, [bin, ...args], { env, stdio: ["ignore", "ignore", "pipe"] });
      let err = "";
      c.stderr.on("data", (d) => {
        err += d;
      });
      c.once("exit", (code) =>
        code === 0 ? resolve() : reject(new Error(`moss ${args[2]} exited ${code}: ${err.slice(-500)}`)),
      );
    });
  try {
    const home = await initHome(path.join(root, "home"), packageRoot);
    const workerHome = await initHome(path.join(root, "worker-home"), packageRoot);
    const suiteDir = path.join(root, "suite");
    const ws = path.join(suiteDir, "ws");
    mkdirSync(ws, { recursive: true });
    writeFileSync(
      path.join(ws, "check.js"),
      'process.exit(require("fs").readFileSync("answer.txt","utf8").trim()==="42"?0:1)\n',
    );
    writeSuite(suiteDir, {
      name: "bench-queue",
      tasks: Array.from({ length: TASKS }, (_, i) => ({
        id: `t${i}`,
        prompt: `[solve] Write 42 into answer.txt (task ${i}).`,
        workspace: "ws",
        check: "node check.js",
      })),
    });
    const evalArgs = ["--home", home, "eval", suiteDir, "--trials", String(TRIALS), "--seed", "1"];
    const timed = async (f: () => Promise<void>) => {
      const t = performance.now();
      await f();
      return performance.now() - t;
    };
    const local = await timed(() => moss([...evalArgs, "--parallel", "1"]));
    const wall: Record<number, number> = {};
    for (const n of [1, 2]) {
      const workers = Array.from({ length: n }, () =>
        spawn(
          process.execPath,
          [
            bin,
            "--home",
            workerHome,
            "worker",
            "--queue",
            redis.url,
            "--cache-dir",
            path.join(root, "cache"),
          ],
          { env, stdio: "ignore" },
        ),
      );
      wall[n] = await timed(() => moss([...evalArgs, "--queue", redis.url]));
      for (const w of workers) w.kill("SIGTERM");
      await Promise.all(workers.map((w) => new Promise((r) => w.once("exit", r))));
    }
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    const trials = TASKS * TRIALS;
    report(
      `eval --queue, ${TASKS} tasks x ${TRIALS} trials: 2 worker processes`,
      s(wall[2]!),
      `1 worker ${s(wall[1]!)}`,
      `${(wall[1]! / wall[2]!).toFixed(2)}x faster`,
      ">= 1.5x on 2 cores",
      wall[1]! / wall[2]! >= 1.5,
    );
    report(
      "eval --queue per-trial time, 1 worker",
      `${(wall[1]! / trials / 1000).toFixed(2)} s`,
      `local pool --parallel 1 ${(local / trials / 1000).toFixed(2)} s`,
      `${(wall[1]! / local).toFixed(2)}x`,
      "<= 1.2x",
      wall[1]! <= local * 1.2,
    );
  } finally {
    await redis.stop();
    await server.close();
    rmSync(root, { recursive: true, force: true });
  }
}
