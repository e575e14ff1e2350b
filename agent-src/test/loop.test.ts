import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type {
  AgentEvent,
  AgentLimits,
  ModelChannel,
  ModelRequest,
  ModelTurn,
} from "../../src/contract/index.ts";
import { runAgentLoop } from "../loop.ts";
import { systemPrompt } from "../prompts/index.ts";
import { createTools } from "../tools/index.ts";

const limits: AgentLimits = {
  maxTurns: 10,
  wallClockMs: 60_000,
  tokenBudget: 100_000,
  commandTimeoutMs: 5000,
  maxOutputTokens: 1024,
};
const usage = { inputTokens: 100, outputTokens: 10, cacheReadTokens: 0, cacheWriteTokens: 0 };
const toolTurn = (name: string, input: unknown, id = `t${Math.random()}`): ModelTurn => ({
  content: [{ type: "tool_use", id, name, input }],
  stopReason: "tool_use",
  usage,
});
const textTurn = (text: string): ModelTurn => ({
  content: [{ type: "text", text }],
  stopReason: "end_turn",
  usage,
});

function scripted(turns: ModelTurn[]): ModelChannel & { requests: ModelRequest[] } {
  const requests: ModelRequest[] = [];
  return {
    requests,
    async complete(request) {
      requests.push(structuredClone(request));
      return turns.shift() ?? toolTurn("list_dir", {});
    },
  };
}

function setup(turns: ModelTurn[], overrides: Partial<AgentLimits> = {}) {
  const root = mkdtempSync(path.join(os.tmpdir(), "agent-loop-"));
  writeFileSync(path.join(root, "f.txt"), "old\n");
  const channel = scripted(turns);
  const events: AgentEvent[] = [];
  const run = () =>
    runAgentLoop({
      task: "change old to new",
      systemPrompt: systemPrompt(),
      channel,
      tools: createTools(root, limits),
      limits: { ...limits, ...overrides },
      onEvent: (e) => events.push(e),
    });
  return { root, channel, events, run };
}

describe("agent loop", () => {
  it("runs tools, feeds results back and completes", async () => {
    const { root, channel, events, run } = setup([
      toolTurn("edit_file", { path: "f.txt", old_string: "old", new_string: "new" }, "e1"),
      textTurn("Done: replaced old with new."),
    ]);
    const result = await run();
    expect(result.exitReason).toBe("completed");
    expect(result.turns).toBe(2);
    expect(result.finalText).toBe("Done: replaced old with new.");
    expect(result.usage.inputTokens).toBe(200);
    expect(readFileSync(path.join(root, "f.txt"), "utf8")).toBe("new\n");
    const second = channel.requests[1]!;
    expect(second.messages.at(-1)!.content[0]).toMatchObject({
      type: "tool_result",
      tool_use_id: "e1",
      is_error: false,
    });
    expect(events.map((e) => e.type)).toEqual(["tool_call", "tool_result", "assistant_text"]);
  });

  it("answers an unknown tool or bad input with a tool error and goes on", async () => {
    const { channel, run } = setup([
      toolTurn("delete_everything", {}, "u1"),
      toolTurn("read_file", { path: 7 }, "u2"),
      textTurn("ok"),
    ]);
    const result = await run();
    expect(result.exitReason).toBe("completed");
    const results = channel.requests.slice(1).map((r) => r.messages.at(-1)!.content[0]);
    expect(results[0]).toMatchObject({
      is_error: true,
      content: expect.stringContaining('Unknown tool "delete_everything"'),
    });
    expect(results[1]).toMatchObject({
      is_error: true,
      content: expect.stringContaining("Invalid input for read_file"),
    });
  });

  it("stops at the turn limit", async () => {
    const { run } = setup([], { maxTurns: 3 });
    const result = await run();
    expect(result).toMatchObject({ exitReason: "max_turns", turns: 3 });
  });

  it("stops when the token budget is spent", async () => {
    const { run } = setup([], { tokenBudget: 250 });
    const result = await run();
    expect(result.exitReason).toBe("budget_exhausted");
    expect(result.turns).toBe(3);
  });

  it("stops at the wall clock", async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), "agent-loop-"));
    let clock = 0;
    const result = await runAgentLoop({
      task: "t",
      systemPrompt: "s",
      channel: scripted([]),
      tools: createTools(root, limits),
      limits: { ...limits, wallClockMs: 2500 },
      now: () => (clock += 1000),
    });
    expect(result.exitReason).toBe("timeout");
    expect(result.turns).toBe(1);
  });

  it("ends with model_error when the model call fails", async () => {
    const { run } = setup([{ content: [], stopReason: "error", usage, error: "API error 500" }]);
    expect(await run()).toMatchObject({ exitReason: "model_error", detail: "API error 500" });
  });
});
