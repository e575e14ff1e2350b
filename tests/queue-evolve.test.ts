import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, expect, it } from "vitest";
import { readLog } from "../src/log/evolution-log.ts";
import { campaignResponder, greetTask } from "./helpers/campaign-model.ts";
import { type FakeServer, startFakeModelServer } from "./helpers/fake-model-server.ts";
import { makeHome } from "./helpers/homes.ts";
import { moss } from "./helpers/moss-cli.ts";
import { killAll, spawnWorker, type WorkerProc } from "./helpers/queue-workers.ts";
import { type RedisServer, redisMissing, startRedis } from "./helpers/redis-server.ts";
import { describeSandboxed } from "./helpers/sandbox-gate.ts";
import { makeWorkspace } from "./helpers/workspaces.ts";

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

// Skipped only where redis-server is not installed; CI sets MOSS_REQUIRE_REDIS=1, which turns a
// missing server into a failure, so these always run there.
const missing = redisMissing();

describeSandboxed("moss evolve --queue", () => {
  // Skipped only without redis-server (see `missing` above); CI requires it (MOSS_REQUIRE_REDIS=1).
  it.skipIf(missing)(
    "a campaign's trials run on 2 queue workers (the candidate's agent-src travels to them); only the submitter promotes",
    async () => {
      server = await startFakeModelServer(campaignResponder());
      redis = await startRedis();
      const env = { ANTHROPIC_API_KEY: "sk-test", ANTHROPIC_BASE_URL: server.url };
      const home = await makeHome({ planted: true });
      const workerHome = await makeHome();
      const suite = path.join(makeWorkspace({}), "greetings");
      expect((await moss(["suite", "init", suite])).code).toBe(0);
      const file = path.join(suite, "suite.json");
      const json = JSON.parse(readFileSync(file, "utf8"));
      json.tasks = [
        greetTask("crlf-greeting", "greeting", true),
        greetTask("crlf-welcome", "welcome", true),
        greetTask("lf-hello", "hello", false),
        greetTask("crlf-salute", "salute", true, "holdout"),
      ];
      writeFileSync(file, JSON.stringify(json));
      workers = [0, 1].map(() => spawnWorker(workerHome, redis!.url, env));
      const workerHead = execFileSync("git", ["-C", workerHome, "rev-parse", "HEAD"]).toString();

      const r = await moss(
        [
          "--home",
          home,
          "evolve",
          suite,
          "--generations",
          "1",
          "--trials",
          "1",
          "--seed",
          "5",
          "--yes",
          "--json",
          "--queue",
          redis.url,
        ],
        env,
      );
      expect(r.code, `${r.stderr}\n${workers.map((w) => w.output()).join("\n")}`).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.history[0]).toMatchObject({ n: 1, verdict: "accepted" });
      const [before, after] = out.figures;
      expect(before.train).toMatchObject({ n: 3, passes: 1 });
      expect(after.train).toMatchObject({ n: 3, passes: 3 });
      expect(after.holdout).toMatchObject({ n: 1, passes: 1 });
      // Every trial ran on a worker; the workers ran at least two agent revisions (head, candidate).
      const outputs = workers.map((w) => w.output()).join("\n");
      const done = outputs.match(/ done (head|against):/g) ?? [];
      expect(done.length).toBeGreaterThanOrEqual(8);
      expect(new Set(outputs.match(/fetched agent [0-9a-f]{12}/g)).size).toBeGreaterThanOrEqual(2);
      // The promotion is the submitter's: its log has it, the workers' home did not move.
      expect(readLog(home).filter((e) => e.record.verdict === "accepted")).toHaveLength(1);
      expect(execFileSync("git", ["-C", workerHome, "rev-parse", "HEAD"]).toString()).toBe(workerHead);
      expect(readLog(workerHome)).toHaveLength(0);
    },
    600_000,
  );
});
