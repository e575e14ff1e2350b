import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, expect, it } from "vitest";
import { anthropicMessage, type FakeServer, startFakeModelServer } from "./helpers/fake-model-server.ts";
import { moss } from "./helpers/moss-cli.ts";
import { describeSandboxed } from "./helpers/sandbox-gate.ts";
import { makeWorkspace, mathProject } from "./helpers/workspaces.ts";

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const fixTurns = () => [
  { body: anthropicMessage([{ type: "tool_use", name: "read_file", input: { path: "src/math.js" } }]) },
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

function snapshotDir(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = readFileSync(p, "base64");
    }
  };
  walk(dir);
  return out;
}

describeSandboxed("moss run through the built binary", () => {
  it("passes a task with a real check, applies the diff and prints JSON", async () => {
    server = await startFakeModelServer(fixTurns());
    const ws = makeWorkspace(mathProject, { git: true });
    const r = await moss(
      ["run", "make the failing test pass", "-w", ws, "--check", "node --test", "--json", "--no-evolve"],
      {
        ANTHROPIC_API_KEY: "sk-test",
        ANTHROPIC_BASE_URL: server.url,
      },
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ score: 1, passed: true, exitReason: "completed", turns: 3, applied: true });
    expect(out.runId).toMatch(/^\d{8}-\d{6}-/);
    expect(out.usage).toMatchObject({
      inputTokens: 360,
      outputTokens: 90,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
    });
    expect(out.costUsd).toBeGreaterThan(0);
    expect(out.diff).toContain("+  return a + b;");
    expect(readFileSync(path.join(ws, "src/math.js"), "utf8")).toContain("a + b");

    const runs = await moss(["runs"]);
    expect(runs.stdout).toContain(out.runId);
    const transcript = readFileSync(path.join("runs", out.runId, "transcript.jsonl"), "utf8")
      .trim()
      .split("\n");
    expect(transcript.map((l) => JSON.parse(l).type)).toContain("tool_call");
  });

  it("leaves the workspace byte-for-byte untouched when the attempt fails", async () => {
    server = await startFakeModelServer([
      {
        body: anthropicMessage([
          { type: "tool_use", name: "write_file", input: { path: "src/math.js", content: "broken(" } },
        ]),
      },
      { body: anthropicMessage([{ type: "text", text: "done" }]) },
    ]);
    const ws = makeWorkspace(mathProject, { git: true });
    const before = snapshotDir(ws);
    const r = await moss(["run", "fix it", "-w", ws, "--check", "node --test", "--no-evolve"], {
      ANTHROPIC_API_KEY: "sk-test",
      ANTHROPIC_BASE_URL: server.url,
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("FAIL score 0.000");
    expect(r.stdout).toContain("not applied: the attempt did not pass");
    expect(snapshotDir(ws)).toEqual(before);
  });

  it("names the missing key and the offline ways out", async () => {
    const ws = makeWorkspace(mathProject);
    const r = await moss(["run", "x", "-w", ws]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ANTHROPIC_API_KEY is not set/);
    expect(r.stderr).toMatch(/--replay FILE/);
    expect(r.stderr).toMatch(/moss demo/);
  });

  it("rejects bad input with exit code 2 and says where", async () => {
    const ws = makeWorkspace(mathProject);
    const env = { ANTHROPIC_API_KEY: "sk-test" };
    const missing = await moss(["run", "x", "-w", path.join(ws, "nope")], env);
    expect(missing).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--workspace: .*nope is not a folder/),
    });
    const noCmd = await moss(["run", "x", "-w", ws, "--check", "definitely-not-a-command --flag"], env);
    expect(noCmd).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/"definitely-not-a-command" was not found/),
    });
    const cfg = path.join(mkdtempSync(path.join(os.tmpdir(), "moss-cfg-")), "moss.config.json");
    writeFileSync(cfg, JSON.stringify({ threshold: 3, limits: { maxTurns: "many" } }));
    const bad = await moss(["run", "x", "-w", ws, "--config", cfg], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(cfg);
    expect(bad.stderr).toMatch(/threshold: .*<=1/);
    expect(bad.stderr).toMatch(/limits\.maxTurns: /);
    writeFileSync(cfg, "{ not json");
    expect((await moss(["run", "x", "-w", ws, "--config", cfg], env)).stderr).toMatch(/not valid JSON/);
    expect((await moss(["run", "x", "--threshold", "high"], env)).stderr).toMatch(
      /--threshold must be a number/,
    );
    expect((await moss(["frobnicate"])).code).toBe(2);
    expect((await moss(["run", "--nope"])).code).toBe(2);
  });

  it("turns API failures after retries into a failed run with the reason, and keeps the record", async () => {
    server = await startFakeModelServer([{ status: 500 }, { status: 500 }, { status: 500 }, { status: 500 }]);
    const ws = makeWorkspace(mathProject);
    const r = await moss(["run", "fix", "-w", ws, "--check", "node --test", "--json", "--no-evolve"], {
      ANTHROPIC_API_KEY: "sk-test",
      ANTHROPIC_BASE_URL: server.url,
    });
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ exitReason: "model_error", passed: false });
    expect(out.detail).toMatch(/model API error 500/);
    expect(readFileSync(path.join("runs", out.runId, "record.json"), "utf8")).toContain("model_error");
  });

  it("records a cassette and replays it offline without a key", async () => {
    server = await startFakeModelServer(fixTurns());
    const cassette = path.join(mkdtempSync(path.join(os.tmpdir(), "moss-cas-")), "fix.json");
    const ws1 = makeWorkspace(mathProject);
    const rec = await moss(
      ["run", "fix add", "-w", ws1, "--check", "node --test", "--record", cassette, "--no-evolve"],
      {
        ANTHROPIC_API_KEY: "sk-test",
        ANTHROPIC_BASE_URL: server.url,
      },
    );
    expect(rec.code).toBe(0);
    const ws2 = makeWorkspace(mathProject);
    const replay = await moss([
      "run",
      "fix add",
      "-w",
      ws2,
      "--check",
      "node --test",
      "--replay",
      cassette,
      "--json",
      "--no-evolve",
    ]);
    expect(replay.code).toBe(0);
    expect(JSON.parse(replay.stdout)).toMatchObject({ passed: true, turns: 3 });
    const other = await moss([
      "run",
      "a different task",
      "-w",
      makeWorkspace(mathProject),
      "--replay",
      cassette,
      "--json",
      "--no-evolve",
    ]);
    expect(JSON.parse(other.stdout).detail).toMatch(
      /request 1 \(executor\) differs from the recording at request\.messages\.0/,
    );
  });
});
