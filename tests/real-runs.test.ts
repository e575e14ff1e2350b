import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, expect, it } from "vitest";
import { anthropicMessage, type FakeServer, startFakeModelServer } from "./helpers/fake-model-server.ts";
import { makeHome } from "./helpers/homes.ts";
import { type CliResult, moss, mossBin } from "./helpers/moss-cli.ts";
import { describeSandboxed } from "./helpers/sandbox-gate.ts";
import { makeWorkspace, mathProject } from "./helpers/workspaces.ts";

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Two tests, one failing until add() is fixed: the untouched workspace scores 0.5. */
const halfProject = {
  ...mathProject,
  "test/math.test.js": `import { test } from "node:test";
import assert from "node:assert";
import { add } from "../src/math.js";

test("adds", () => {
  assert.equal(add(2, 3), 5);
});
test("adds zero", () => {
  assert.equal(add(0, 0), 0);
});
`,
};

const fixTurns = () => [
  {
    body: anthropicMessage([
      {
        type: "tool_use",
        name: "edit_file",
        input: { path: "src/math.js", old_string: "a - b", new_string: "a + b" },
      },
    ]),
  },
  { body: anthropicMessage([{ type: "text", text: "Fixed add." }]) },
];

/** A config with fast retries, so the retry paths of the SDK are exercised in well under a second. */
function fastRetryConfig(maxRetries: number): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), "moss-cfg-")), "moss.config.json");
  writeFileSync(
    file,
    JSON.stringify({ providers: { anthropic: { apiKeyEnv: "ANTHROPIC_API_KEY", maxRetries } } }),
  );
  return file;
}

const evolutionRecords = (home: string) =>
  readdirSync(path.join(home, "evolution-log")).filter((f) => f.endsWith(".json"));

async function runIn(home: string, ws: string, url: string, extra: string[] = []): Promise<CliResult> {
  return moss(["--home", home, "run", "fix add", "-w", ws, "--check", "node --test", ...extra], {
    ANTHROPIC_API_KEY: "sk-test",
    ANTHROPIC_BASE_URL: url,
  });
}

describeSandboxed("blame: a run the model service broke is never the agent's failure", () => {
  const overloaded = { status: 529, headers: { "retry-after-ms": "5" } };

  it("401, 529 after retries and a refused connection end as model_error, with no evolution record", async () => {
    const home = await makeHome();
    const cases: Array<{
      replies: Parameters<typeof startFakeModelServer>[0] | null;
      kind: string;
      status?: number;
    }> = [
      {
        replies: [
          {
            status: 401,
            body: { type: "error", error: { type: "authentication_error", message: "bad key" } },
          },
        ],
        kind: "auth",
        status: 401,
      },
      { replies: [overloaded, overloaded], kind: "overloaded", status: 529 },
      { replies: null, kind: "connection" },
    ];
    for (const c of cases) {
      server = c.replies ? await startFakeModelServer(c.replies) : undefined;
      // Port 9 (discard) on loopback: nothing listens there, so the connection is refused.
      const url = server?.url ?? "http://127.0.0.1:9";
      const r = await runIn(home, makeWorkspace(mathProject), url, [
        "--json",
        "--config",
        fastRetryConfig(1),
      ]);
      expect(r.code, r.stderr).toBe(1);
      const out = JSON.parse(r.stdout);
      expect(out).toMatchObject({
        exitReason: "model_error",
        passed: false,
        modelFailure: { role: "executor", kind: c.kind, ...(c.status ? { status: c.status } : {}) },
      });
      expect(out.evolution).toBeUndefined();
      expect(r.stderr).toMatch(/the executor model failed: .*\n.*not the agent: nothing was evolved/);
      expect(evolutionRecords(home)).toEqual([]);
      if (c.kind === "overloaded") expect(server!.requests).toHaveLength(2);
      await server?.close();
      server = undefined;
    }
  }, 60_000);

  it("529 then a good reply: the SDK's retry succeeds and the run is a normal pass", async () => {
    server = await startFakeModelServer([overloaded, ...fixTurns()]);
    const home = await makeHome();
    const ws = makeWorkspace(mathProject);
    const r = await runIn(home, ws, server.url, ["--json", "--config", fastRetryConfig(2)]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ exitReason: "completed", passed: true, applied: true });
    expect(JSON.parse(r.stdout).modelFailure).toBeUndefined();
  }, 30_000);
});

describeSandboxed("baseline: the check on the untouched workspace", () => {
  it("is the run's score before, printed and recorded", async () => {
    server = await startFakeModelServer(fixTurns());
    const home = await makeHome();
    const ws = makeWorkspace(halfProject);
    const r = await runIn(home, ws, server.url, ["--no-evolve"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/PASS score 1\.000/);
    expect(r.stdout).toMatch(/score before: 0\.500\n/);
    const runId = /run (\S+)/.exec(r.stdout)![1]!;
    const record = JSON.parse(readFileSync(path.join(home, "runs", runId, "record.json"), "utf8"));
    expect(record).toMatchObject({
      scoreBefore: 0.5,
      score: 1,
      baseline: { passed: false, unrunnable: null },
    });
  }, 30_000);

  it("says so when the task already passes before the agent starts", async () => {
    server = await startFakeModelServer([
      { body: anthropicMessage([{ type: "text", text: "Nothing to do." }]) },
    ]);
    const home = await makeHome();
    const fixed = { ...mathProject, "src/math.js": "export function add(a, b) {\n  return a + b;\n}\n" };
    const r = await runIn(home, makeWorkspace(fixed), server.url, ["--no-evolve"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/score before: 1\.000 — the task already passed before the agent started/);
  }, 30_000);

  it("stops with exit 2, the command and its output, and no evolution, when the check cannot run", async () => {
    // The agent would wait a minute for its first reply: the baseline's verdict stops it first.
    server = await startFakeModelServer([
      { hangMs: 60_000, body: anthropicMessage([{ type: "text", text: "late" }]) },
    ]);
    const home = await makeHome();
    const ws = makeWorkspace({
      ...mathProject,
      "check.sh": "echo running the suite\nmoss-missing-runner --all\n",
    });
    const r = await moss(["--home", home, "run", "fix add", "-w", ws, "--check", "sh check.sh", "--json"], {
      ANTHROPIC_API_KEY: "sk-test",
      ANTHROPIC_BASE_URL: server.url,
    });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/the check "sh check\.sh" cannot run on the untouched workspace: .*exit 127/);
    expect(r.stderr).toMatch(/moss-missing-runner: .*not found/);
    expect(r.stderr).toMatch(/nothing was evolved/);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ exitReason: "check_unrunnable", passed: false, scoreBefore: null });
    expect(out.evolution).toBeUndefined();
    expect(evolutionRecords(home)).toEqual([]);
    expect(existsSync(path.join(home, "runs", out.runId, "record.json"))).toBe(true);
  }, 30_000);
});

describeSandboxed("baseline: when the agent finishes first", () => {
  it("a check found unrunnable afterwards still ends the run with exit 2, and the attempt is not checked", async () => {
    server = await startFakeModelServer([{ body: anthropicMessage([{ type: "text", text: "All done." }]) }]);
    const home = await makeHome();
    const ws = makeWorkspace({ ...mathProject, "check.sh": "sleep 5\nmoss-missing-runner --all\n" });
    const r = await moss(["--home", home, "run", "fix add", "-w", ws, "--check", "sh check.sh", "--json"], {
      ANTHROPIC_API_KEY: "sk-test",
      ANTHROPIC_BASE_URL: server.url,
    });
    expect(r.code, r.stderr).toBe(2);
    const out = JSON.parse(r.stdout);
    // (The agent is normally done long before the check's 5 s: then it was not checked either.)
    expect(out).toMatchObject({ exitReason: "check_unrunnable" });
    const types = readFileSync(path.join(home, "runs", out.runId, "transcript.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).type);
    expect(types).toContain("baseline");
    expect(types).not.toContain("check");
    expect(evolutionRecords(home)).toEqual([]);
  }, 30_000);
});

describeSandboxed("why it failed", () => {
  it("shows the agent's last message and the tail of the check's output", async () => {
    server = await startFakeModelServer([
      { body: anthropicMessage([{ type: "text", text: "I looked everywhere but could not find the bug." }]) },
    ]);
    const home = await makeHome();
    const r = await runIn(home, makeWorkspace(mathProject), server.url, ["--no-evolve"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /the agent's last message:\n\s+I looked everywhere but could not find the bug\./,
    );
    expect(r.stdout).toMatch(/the check's output \(last lines of node --test\):\n/);
    expect(r.stdout).toMatch(/# fail 1/);
    const tail = r.stdout.slice(r.stdout.indexOf("the check's output"));
    expect(tail.split("\n").length).toBeLessThanOrEqual(22);
  }, 30_000);
});

describeSandboxed("signals and killed runs", () => {
  it("SIGTERM ends a run like Ctrl-C: record written, exit 143; a SIGKILLed run is listed as incomplete", async () => {
    server = await startFakeModelServer([
      { hangMs: 60_000, body: anthropicMessage([{ type: "text", text: "late" }]) },
      { hangMs: 60_000, body: anthropicMessage([{ type: "text", text: "late" }]) },
    ]);
    const home = await makeHome();
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ANTHROPIC_API_KEY: "sk-test",
      ANTHROPIC_BASE_URL: server.url,
    };
    const start = (task: string, signal: NodeJS.Signals) =>
      new Promise<{ code: number | null; stdout: string }>((resolve) => {
        const child = execFile(
          process.execPath,
          [
            mossBin,
            "--home",
            home,
            "run",
            task,
            "-w",
            makeWorkspace(mathProject),
            "--check",
            "node --test",
            "--json",
          ],
          { env },
          (_err, stdout) => resolve({ code: child.exitCode, stdout }),
        );
        // Kill once the agent is waiting on the model (its request reached the server).
        const seen = server!.requests.length;
        const timer = setInterval(() => {
          if (server!.requests.length > seen) {
            clearInterval(timer);
            child.kill(signal);
          }
        }, 50);
      });
    const term = await start("fix add", "SIGTERM");
    expect(term.code).toBe(143);
    const out = JSON.parse(term.stdout);
    expect(out).toMatchObject({ exitReason: "aborted", passed: false });
    expect(existsSync(path.join(home, "runs", out.runId, "record.json"))).toBe(true);
    expect(evolutionRecords(home)).toEqual([]);

    const killed = await start("the killed task", "SIGKILL");
    expect(killed.code).toBeNull();
    const runs = await moss(["--home", home, "runs"]);
    expect(runs.stdout).toContain(out.runId);
    expect(runs.stdout).toMatch(/incomplete .*the killed task/);
  }, 60_000);
});

describeSandboxed("correctness of the record", () => {
  it("each run's costUsd is its own executor and judge calls, not the process's total", async () => {
    const { ConfigSchema } = await import("../src/config/config-schema.ts");
    const { ModelRegistry } = await import("../src/models/model-registry.ts");
    const { createScriptedProvider, turn } = await import("../src/models/scripted-provider.ts");
    const { runTask } = await import("../src/run/run-task.ts");
    const { costUsd } = await import("../src/models/pricing.ts");
    const home = await makeHome();
    const config = ConfigSchema.parse({});
    const said = turn([{ type: "text", text: "done" }], { inputTokens: 1000, outputTokens: 100 });
    const verdict = turn(
      [{ type: "tool_use", id: "v1", name: "submit_verdict", input: { score: 0.5, rationale: "half" } }],
      { inputTokens: 5000, outputTokens: 500 },
    );
    const models = new ModelRegistry(
      config,
      {
        providers: {
          executor: createScriptedProvider([said, said]),
          judge: createScriptedProvider([verdict, verdict]),
        },
      },
      {},
    );
    const records = [];
    for (let i = 0; i < 2; i++) {
      const { record } = await runTask({
        home,
        task: "fix add",
        workspace: makeWorkspace(mathProject),
        check: null,
        rubric: "add must add",
        config,
        models,
        apply: false,
        sandbox: null,
      });
      records.push(record);
    }
    const own =
      costUsd(said.usage, config.prices["claude-haiku-5-5"]) +
      costUsd(verdict.usage, config.prices["claude-sonnet-5-5"]);
    expect(own).toBeGreaterThan(0);
    expect(records.map((r) => r.costUsd)).toEqual([own, own].map((c) => expect.closeTo(c, 9)));
    expect(models.totalCost()).toBeCloseTo(2 * own, 9);
  }, 30_000);

  it("--no-apply holds on the retry after an accepted evolution", async () => {
    const { demoRunArgs, demoWorkspace } = await import("./helpers/homes.ts");
    const home = await makeHome({ planted: true });
    const ws = demoWorkspace();
    const before = readFileSync(path.join(ws, "src/greeting.js"), "utf8");
    const r = await moss(demoRunArgs(home, ws, "--yes", "--no-apply"));
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.evolution.retry).toMatchObject({ passed: true });
    const retry = JSON.parse(
      readFileSync(path.join(home, "runs", out.evolution.retry.runId, "record.json"), "utf8"),
    );
    expect(retry).toMatchObject({ passed: true, applied: false });
    expect(retry.diff).toContain("Hello");
    expect(readFileSync(path.join(ws, "src/greeting.js"), "utf8")).toBe(before);
  }, 120_000);
});

describeSandboxed("size: content-addressed snapshots", () => {
  it("an unchanged second run adds under 1 MB to the home; moss runs --prune removes old runs and their snapshots", async () => {
    const { randomBytes } = await import("node:crypto");
    const { folderBytes } = await import("../src/workspace/snapshot-store.ts");
    const { snapshotExists } = await import("../src/workspace/snapshot.ts");
    const said = { body: anthropicMessage([{ type: "text", text: "Nothing to change." }]) };
    server = await startFakeModelServer([said, said]);
    const home = await makeHome();
    const files: Record<string, string> = { ...mathProject };
    // 4 MB of incompressible files: a copy per run would show at once.
    for (let i = 0; i < 200; i++) files[`data/chunk-${i}.txt`] = randomBytes(15_000).toString("base64");
    const ws = makeWorkspace(files);
    const first = await runIn(home, ws, server.url, ["--no-evolve", "--json"]);
    expect(first.code).toBe(1);
    const size = folderBytes(home);
    const second = await runIn(home, ws, server.url, ["--no-evolve", "--json"]);
    expect(second.code).toBe(1);
    const grown = folderBytes(home) - size;
    expect(grown).toBeLessThan(1024 * 1024);
    const [a, b] = [JSON.parse(first.stdout).runId, JSON.parse(second.stdout).runId];

    const pruned = await moss(["--home", home, "runs", "--prune", "--keep", "1"]);
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(pruned.stdout).toMatch(/removed 1 run\(s\), kept 1/);
    expect(existsSync(path.join(home, "runs", a))).toBe(false);
    const kept = JSON.parse(readFileSync(path.join(home, "runs", b, "record.json"), "utf8"));
    expect(snapshotExists(kept.snapshot)).toBe(true);
    expect((await moss(["--home", home, "runs", "--keep", "x", "--prune"])).stderr).toMatch(/--keep must be/);

    // A run a live process still uses (an evolution replays its snapshot) survives --keep 0; once
    // that process is gone, its mark no longer protects it.
    writeFileSync(path.join(home, "runs", b, `.in-use-${process.pid}`), "");
    const busy = await moss(["--home", home, "runs", "--prune", "--keep", "0"]);
    expect(busy.stdout).toMatch(/removed 0 run\(s\), kept 1/);
    expect(snapshotExists(kept.snapshot)).toBe(true);
    rmSync(path.join(home, "runs", b, `.in-use-${process.pid}`));
    const gone = execFileSync(process.execPath, ["-e", "console.log(process.pid)"], {
      encoding: "utf8",
    }).trim();
    writeFileSync(path.join(home, "runs", b, `.in-use-${gone}`), "");
    const idle = await moss(["--home", home, "runs", "--prune", "--keep", "0"]);
    expect(idle.stdout).toMatch(/removed 1 run\(s\), kept 0/);
    expect(snapshotExists(kept.snapshot)).toBe(false);
  }, 60_000);
});
