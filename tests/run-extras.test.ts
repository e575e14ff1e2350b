import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, expect, it } from "vitest";
import {
  anthropicMessage,
  type FakeServer,
  openaiCompletion,
  startFakeModelServer,
} from "./helpers/fake-model-server.ts";
import { moss, mossBin } from "./helpers/moss-cli.ts";
import { describeSandboxed } from "./helpers/sandbox-gate.ts";
import { makeWorkspace, mathProject, repoRoot } from "./helpers/workspaces.ts";

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describeSandboxed("moss run, more of the surface", () => {
  it("scores with a rubric through the judge model's structured verdict", async () => {
    server = await startFakeModelServer([
      {
        body: anthropicMessage([
          {
            type: "tool_use",
            name: "edit_file",
            input: { path: "src/math.js", old_string: "a - b", new_string: "a + b" },
          },
        ]),
      },
      { body: anthropicMessage([{ type: "text", text: "fixed" }]) },
      {
        body: anthropicMessage([
          {
            type: "tool_use",
            name: "submit_verdict",
            input: {
              score: 0.5,
              rationale: "fixed, but no test was added",
              criteria: [{ criterion: "adds a test", met: false }],
            },
          },
        ]),
      },
    ]);
    const ws = makeWorkspace(mathProject);
    const r = await moss(
      [
        "run",
        "fix add and add a test",
        "-w",
        ws,
        "--check",
        "node --test",
        "--rubric",
        "The fix is right and a new test covers it.",
        "--threshold",
        "0.7",
        "--json",
        "--no-evolve",
      ],
      { ANTHROPIC_API_KEY: "sk-test", ANTHROPIC_BASE_URL: server.url },
    );
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ score: 0.75, passed: true, applied: true });
    expect(out.rationale.join("\n")).toContain("judge: 0.50 (fixed, but no test was added)");
    const judgeRequest = server.requests[2]!.body as {
      tools: Array<{ name: string }>;
      messages: Array<{ content: Array<{ text: string }> }>;
    };
    expect(judgeRequest.tools[0]!.name).toBe("submit_verdict");
    expect(judgeRequest.messages[0]!.content[0]!.text).toContain("+  return a + b;");
  });

  it("runs the executor on an OpenAI-compatible endpoint chosen by config", async () => {
    server = await startFakeModelServer([
      {
        body: openaiCompletion(null, [
          {
            name: "edit_file",
            args: JSON.stringify({ path: "src/math.js", old_string: "a - b", new_string: "a + b" }),
          },
        ]),
      },
      { body: openaiCompletion("done") },
    ]);
    const ws = makeWorkspace(mathProject);
    const cfgDir = makeWorkspace({
      "moss.config.json": JSON.stringify({
        providers: { openai: { baseUrl: `${server.url}/v1`, apiKeyEnv: "LOCAL_KEY" } },
      }),
    });
    const r = await moss(
      [
        "run",
        "fix add",
        "-w",
        ws,
        "--check",
        "node --test",
        "--config",
        path.join(cfgDir, "moss.config.json"),
        "--json",
        "--no-evolve",
      ],
      {
        MOSS_EXECUTOR_PROVIDER: "openai",
        MOSS_EXECUTOR_MODEL: "qwen3-coder",
      },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ passed: true, models: { executor: "qwen3-coder" } });
    expect(server.requests[0]!.path).toBe("/v1/chat/completions");
    expect(server.requests[0]!.body.model).toBe("qwen3-coder");
  });

  it("on Ctrl-C stops the agent, removes its scratch copy, keeps the record and leaves the workspace alone", async () => {
    server = await startFakeModelServer([
      { hangMs: 60_000, body: anthropicMessage([{ type: "text", text: "late" }]) },
    ]);
    const ws = makeWorkspace(mathProject);
    const before = readFileSync(path.join(ws, "src/math.js"), "utf8");
    const result = await new Promise<{ code: number | null; pid: number; stdout: string }>((resolve) => {
      const child = execFile(
        process.execPath,
        [mossBin, "run", "fix add", "-w", ws, "--check", "node --test", "--json", "--no-evolve"],
        {
          env: {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            MOSS_HOME: repoRoot,
            ANTHROPIC_API_KEY: "sk-test",
            ANTHROPIC_BASE_URL: server!.url,
          },
        },
        (_err, stdout) => resolve({ code: child.exitCode, pid: child.pid!, stdout }),
      );
      setTimeout(() => child.kill("SIGINT"), 2500);
    });
    expect(result.code).toBe(130);
    expect(JSON.parse(result.stdout)).toMatchObject({ exitReason: "aborted", passed: false, applied: false });
    expect(readFileSync(path.join(ws, "src/math.js"), "utf8")).toBe(before);
    expect(readdirSync(os.tmpdir()).filter((n) => n.startsWith(`moss-scratch-${result.pid}-`))).toEqual([]);
  });
});

describeSandboxed("an external patcher CLI", () => {
  it("writes the patch in the candidate worktree; the same gate and replay judge it", async () => {
    const { demoFixScript, evolveWithPatcherScript, makeHome } = await import("./helpers/homes.ts");
    const home = await makeHome({ planted: true });
    // The "external CLI": a script that reads the prompt and restores CRLF handling in edit_file.
    const script = demoFixScript();
    const { outcome, record } = await evolveWithPatcherScript(home, script);
    expect(record.passed).toBe(false);
    expect(outcome.accepted, outcome.records[0]?.reason).not.toBeNull();
    expect(outcome.records[0]).toMatchObject({
      verdict: "accepted",
      models: { patcher: `external: node ${script}` },
    });
    expect(outcome.records[0]!.rationale).toContain("patched edit_file");
    expect(outcome.records[0]!.diff).toContain('raw.includes("\\r\\n")');
  }, 240_000);
});
