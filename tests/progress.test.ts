import { execFile } from "node:child_process";
import { Chalk } from "chalk";
import { afterEach, describe, expect, it } from "vitest";
import { createProgress, preview } from "../src/cli/progress.ts";
import { anthropicMessage, type FakeServer, startFakeModelServer } from "./helpers/fake-model-server.ts";
import { moss, mossBin } from "./helpers/moss-cli.ts";
import { itSandboxed } from "./helpers/sandbox-gate.ts";
import { makeWorkspace, mathProject, repoRoot } from "./helpers/workspaces.ts";

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A 429 first (the SDK retries after the server's retry-after), then a fix in one edit. */
const replies = () => [
  { status: 429, headers: { "retry-after": "1" } },
  {
    body: anthropicMessage([
      { type: "text", text: "I will fix add.\u001b[2J" },
      {
        type: "tool_use",
        name: "edit_file",
        input: { path: "src/math.js", old_string: "a - b", new_string: "a + b" },
      },
    ]),
  },
  { body: anthropicMessage([{ type: "text", text: "Fixed add: it now returns a + b." }]) },
];

const ESC = "\u001b[";
const runArgs = (ws: string) => ["run", "fix add", "-w", ws, "--check", "node --test", "--no-evolve"];

/** Runs moss under a pseudo-terminal (util-linux `script`), returning what the terminal showed. */
function mossOnTerminal(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; screen: string }> {
  const quoted = [process.execPath, mossBin, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
  return new Promise((resolve) => {
    const child = execFile(
      "script",
      ["-q", "-e", "-c", quoted, "/dev/null"],
      {
        cwd: repoRoot,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, TERM: "xterm", MOSS_HOME: repoRoot, ...env },
        maxBuffer: 16 * 1024 * 1024,
      },
      (err, stdout) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, screen: stdout }),
    );
    child.stdin?.end();
  });
}

describe("live progress", () => {
  itSandboxed(
    "on a terminal: tool calls, agent text, the model call in flight, the retry, the check and the last message, in color",
    async () => {
      server = await startFakeModelServer(replies());
      const { code, screen } = await mossOnTerminal(runArgs(makeWorkspace(mathProject)), {
        ANTHROPIC_API_KEY: "sk-test",
        ANTHROPIC_BASE_URL: server.url,
      });
      expect(code, screen).toBe(0);
      const text = screen.replace(/\u001b\[[0-9;]*[A-Za-z]/g, "").replace(/\r/g, "");
      expect(text).toContain("agent started");
      expect(text).toMatch(/model executor: 429, retrying in 1\.0 s/);
      expect(text).toMatch(/waiting for the executor model \(claude-haiku-5-5\) \d+\.\d s/);
      expect(text).toContain("I will fix add.");
      expect(text).toContain("→ edit_file src/math.js a - b a + b");
      expect(text).toContain("agent finished: completed");
      expect(text).toMatch(/agent's last message:\n\s+Fixed add: it now returns a \+ b\./);
      expect(text).toMatch(/check: exit code 0, 1 passed \/ 0 failed/);
      expect(text).toContain("PASS score 1.000");
      expect(screen).toContain(ESC);
      expect(screen).not.toContain("\u001b[2J"); // the agent's own escape codes never reach the terminal
    },
  );

  itSandboxed("off a terminal: the same steps as plain lines, no status line, no colors", async () => {
    server = await startFakeModelServer(replies());
    const r = await moss(runArgs(makeWorkspace(mathProject)), {
      ANTHROPIC_API_KEY: "sk-test",
      ANTHROPIC_BASE_URL: server.url,
      FORCE_COLOR: undefined,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("model executor: 429, retrying in 1.0 s\n");
    expect(r.stderr).toContain("  → edit_file src/math.js a - b a + b\n");
    expect(r.stderr).toContain("agent's last message:\n  Fixed add: it now returns a + b.\n");
    expect(r.stderr).not.toContain("waiting for");
    expect(r.stderr + r.stdout).not.toContain("\u001b");
    expect(r.stdout).toContain("PASS score 1.000");
  });

  itSandboxed(
    "--json-stream: one JSON event per line, the result last; --json: nothing but the final object",
    async () => {
      server = await startFakeModelServer([...replies(), ...replies()]);
      const env = { ANTHROPIC_API_KEY: "sk-test", ANTHROPIC_BASE_URL: server.url };
      const stream = await moss([...runArgs(makeWorkspace(mathProject)), "--json-stream"], env);
      expect(stream.code, stream.stderr).toBe(0);
      const events = stream.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      const types = events.map((e) => e.type);
      expect(types).toEqual(
        expect.arrayContaining(["task", "tool_call", "tool_result", "model_call", "check"]),
      );
      expect(events.find((e) => e.type === "model_call" && e.phase === "retry")).toMatchObject({
        status: 429,
        retrying: true,
        retryAfterMs: 1000,
      });
      expect(events.at(-1)).toMatchObject({ type: "result", passed: true, score: 1 });
      expect(stream.stderr).not.toContain("→");

      const json = await moss([...runArgs(makeWorkspace(mathProject)), "--json"], env);
      expect(json.code).toBe(0);
      expect(json.stdout.trim().split("\n")).toHaveLength(1);
      expect(JSON.parse(json.stdout)).toMatchObject({ passed: true });
      expect(json.stderr).toBe("");
    },
  );

  it("renders evolution stages with elapsed time, and previews tool input on one line", () => {
    let t = 0;
    let out = "";
    const p = createProgress({
      mode: "plain",
      color: new Chalk({ level: 0 }),
      write: (s) => {
        out += s;
      },
      now: () => t,
    });
    p.stage("diagnosing the failure…");
    t = 3200;
    p.stage("attempt 1: scope and gate (typecheck + agent tests)…");
    t = 75_000;
    p.stage("attempt 1 accepted");
    p.close();
    expect(out).toBe(
      "moss evolve [0.0 s]: diagnosing the failure…\n" +
        "moss evolve [3.2 s]: attempt 1: scope and gate (typecheck + agent tests)…\n" +
        "moss evolve [1 m 15 s]: attempt 1 accepted\n",
    );
    expect(preview({ path: "a.txt", content: "line 1\nline 2" })).toBe("a.txt line 1 line 2");
  });
});
