import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runAgentProcess } from "../src/agent-host/agent-process.ts";
import type { AgentLimits } from "../src/contract/index.ts";
import { createScriptedProvider, turn } from "../src/models/scripted-provider.ts";
import { repoRoot } from "./helpers/workspaces.ts";

const limits: AgentLimits = {
  maxTurns: 5,
  wallClockMs: 20_000,
  tokenBudget: 10_000,
  commandTimeoutMs: 5000,
  maxOutputTokens: 512,
};

/** An agent dir whose agent-src/main.ts is `code` (a broken or hostile agent). */
function fakeAgent(code: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "moss-fake-agent-"));
  mkdirSync(path.join(dir, "agent-src"));
  writeFileSync(path.join(dir, "package.json"), '{"type":"module"}');
  writeFileSync(path.join(dir, "agent-src", "main.ts"), code);
  return dir;
}
const workspace = () => mkdtempSync(path.join(os.tmpdir(), "moss-ws-"));
const idle = createScriptedProvider([]);

describe("the agent child process", () => {
  it("runs the real agent and serves its model calls over stdio", async () => {
    const ws = workspace();
    const provider = createScriptedProvider([
      turn([{ type: "tool_use", id: "w1", name: "write_file", input: { path: "hello.txt", content: "hi" } }]),
      turn([{ type: "text", text: "wrote it" }]),
    ]);
    const events: string[] = [];
    const result = await runAgentProcess({
      agentDir: repoRoot,
      workspace: ws,
      task: "write hello",
      limits,
      provider,
      onEvent: (e) => events.push(e.type),
    });
    expect(result).toMatchObject({ exitReason: "completed", turns: 2, finalText: "wrote it" });
    expect(result.usage.inputTokens).toBe(200);
    expect(readFileSync(path.join(ws, "hello.txt"), "utf8")).toBe("hi");
    expect(events).toEqual(["tool_call", "tool_result", "assistant_text"]);
  });

  it("reports a crash with the agent's stderr", async () => {
    const agent = fakeAgent('throw new Error("boom in agent");');
    const result = await runAgentProcess({
      agentDir: agent,
      workspace: workspace(),
      task: "t",
      limits,
      provider: idle,
    });
    expect(result.exitReason).toBe("agent_crash");
    expect(result.detail).toMatch(/exited \(code 1\)/);
    expect(result.stderrTail).toContain("boom in agent");
  });

  it("kills an agent that never starts", async () => {
    const agent = fakeAgent("setInterval(() => {}, 1000);");
    const result = await runAgentProcess({
      agentDir: agent,
      workspace: workspace(),
      task: "t",
      limits,
      provider: idle,
      startTimeoutMs: 500,
    });
    expect(result).toMatchObject({
      exitReason: "agent_hang",
      detail: expect.stringMatching(/did not start within 500 ms/),
    });
  });

  it("kills an agent that runs past its wall clock", async () => {
    const agent = fakeAgent(
      'process.stdout.write(JSON.stringify({ type: "ready" }) + "\\n"); setInterval(() => {}, 1000);',
    );
    const result = await runAgentProcess({
      agentDir: agent,
      workspace: workspace(),
      task: "t",
      limits: { ...limits, wallClockMs: 300 },
      provider: idle,
      graceMs: 200,
    });
    expect(result).toMatchObject({
      exitReason: "agent_hang",
      detail: expect.stringMatching(/past its wall clock \(300 ms\)/),
    });
  });

  it("fails an agent that writes garbage on the channel", async () => {
    const agent = fakeAgent('process.stdout.write("hello, I am not JSON\\n"); setInterval(() => {}, 1000);');
    const result = await runAgentProcess({
      agentDir: agent,
      workspace: workspace(),
      task: "t",
      limits,
      provider: idle,
    });
    expect(result).toMatchObject({
      exitReason: "protocol_error",
      detail: expect.stringContaining("hello, I am not JSON"),
    });
  });

  it("ends the run when the agent writes more than the channel's total cap", async () => {
    const agent = fakeAgent(`
      const line = JSON.stringify({ type: "event", event: { type: "assistant_text", turn: 1, text: "x".repeat(100000) } }) + "\\n";
      process.stdout.write(JSON.stringify({ type: "ready" }) + "\\n");
      for (let i = 0; i < 50; i++) process.stdout.write(line);
      setInterval(() => {}, 1000);`);
    let events = 0;
    const result = await runAgentProcess({
      agentDir: agent,
      workspace: workspace(),
      task: "t",
      limits,
      provider: idle,
      maxChannelBytes: 1024 * 1024,
      onEvent: () => events++,
    });
    expect(result).toMatchObject({
      exitReason: "protocol_error",
      detail: expect.stringContaining("more than 1048576 bytes on the channel"),
    });
    expect(events).toBeLessThanOrEqual(10);
  });

  it("gives the agent no API key, whatever the variable is called", async () => {
    process.env.ANTHROPIC_API_KEY = "sk-ant-secret-1";
    process.env.MY_OTHER_TOKEN = "secret-2";
    try {
      const ws = workspace();
      const agent = fakeAgent(
        'import { writeFileSync } from "node:fs"; writeFileSync("env.json", JSON.stringify(process.env)); process.exit(0);',
      );
      await runAgentProcess({ agentDir: agent, workspace: ws, task: "t", limits, provider: idle });
      const env = readFileSync(path.join(ws, "env.json"), "utf8");
      expect(env).not.toContain("sk-ant-secret-1");
      expect(env).not.toContain("secret-2");
      expect(JSON.parse(env).HOME).not.toBe(os.homedir());
    } finally {
      delete process.env.ANTHROPIC_API_KEY;
      delete process.env.MY_OTHER_TOKEN;
    }
  });

  it("refuses model calls past the token budget", async () => {
    const provider = createScriptedProvider(
      Array.from({ length: 10 }, () =>
        turn([{ type: "tool_use", id: "l", name: "list_dir", input: {} }], { inputTokens: 400 }),
      ),
    );
    const result = await runAgentProcess({
      agentDir: repoRoot,
      workspace: workspace(),
      task: "t",
      limits: { ...limits, tokenBudget: 1000, maxTurns: 10 },
      provider,
    });
    expect(result.exitReason).toBe("budget_exhausted");
    expect(result.usage.inputTokens).toBeLessThanOrEqual(1200);
  });

  it("stops the agent when aborted", async () => {
    const slow = { name: "slow", model: "slow", complete: () => new Promise<never>(() => {}) };
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 300);
    const result = await runAgentProcess({
      agentDir: repoRoot,
      workspace: workspace(),
      task: "t",
      limits,
      provider: slow,
      signal: abort.signal,
    });
    expect(result.exitReason).toBe("aborted");
  });
});
