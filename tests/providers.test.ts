import { afterEach, describe, expect, it } from "vitest";
import type { ModelRequest } from "../src/contract/index.ts";
import { createAnthropicProvider } from "../src/models/anthropic-provider.ts";
import { createOpenAIProvider } from "../src/models/openai-provider.ts";
import {
  anthropicMessage,
  type FakeServer,
  openaiCompletion,
  startFakeModelServer,
} from "./helpers/fake-model-server.ts";

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const request: ModelRequest = {
  system: "be brief",
  tools: [
    {
      name: "read_file",
      description: "read",
      input_schema: { type: "object", properties: { path: { type: "string" } } },
    },
  ],
  messages: [
    { role: "user", content: [{ type: "text", text: "read a.txt" }] },
    {
      role: "assistant",
      content: [{ type: "tool_use", id: "t1", name: "read_file", input: { path: "a.txt" } }],
    },
    { role: "user", content: [{ type: "tool_result", tool_use_id: "t1", content: "1→hi", is_error: false }] },
  ],
  maxTokens: 256,
};

const anthropic = (url: string, extra: { timeoutMs?: number; maxRetries?: number } = {}) =>
  createAnthropicProvider({
    model: "claude-haiku-5-5",
    apiKey: "sk-test",
    baseUrl: url,
    maxRetries: 2,
    timeoutMs: 5000,
    ...extra,
  });

describe("Anthropic provider against a loopback Messages API", () => {
  it("maps a tool_use turn and usage, and marks cache breakpoints", async () => {
    server = await startFakeModelServer([
      {
        body: anthropicMessage(
          [{ type: "tool_use", id: "toolu_9", name: "read_file", input: { path: "b.txt" } }],
          {
            input_tokens: 50,
            output_tokens: 7,
          },
        ),
      },
    ]);
    const turn = await anthropic(server.url).complete(request);
    expect(turn.stopReason).toBe("tool_use");
    expect(turn.content).toEqual([
      { type: "tool_use", id: "toolu_9", name: "read_file", input: { path: "b.txt" } },
    ]);
    expect(turn.usage).toMatchObject({ inputTokens: 50, outputTokens: 7 });
    const sent = server.requests[0]!;
    expect(sent.path).toBe("/v1/messages");
    expect(sent.headers.authorization).toBe("Bearer sk-test");
    expect(sent.body.system).toEqual([
      { type: "text", text: "be brief", cache_control: { type: "ephemeral" } },
    ]);
    expect((sent.body.tools as Array<Record<string, unknown>>)[0]!.cache_control).toEqual({
      type: "ephemeral",
    });
    expect((sent.body.messages as unknown[])[2]).toEqual({
      role: "user",
      content: [{ type: "tool_result", tool_use_id: "t1", content: "1→hi", is_error: false }],
    });
  });

  it("retries a 529 and then succeeds", async () => {
    server = await startFakeModelServer([
      { status: 529, headers: { "retry-after-ms": "10" } },
      { body: anthropicMessage([{ type: "text", text: "hello" }]) },
    ]);
    const turn = await anthropic(server.url).complete(request);
    expect(turn).toMatchObject({ stopReason: "end_turn", content: [{ type: "text", text: "hello" }] });
    expect(server.requests).toHaveLength(2);
  });

  it("gives up after retries with a clear error turn", async () => {
    server = await startFakeModelServer([
      { status: 500, headers: { "retry-after-ms": "10" } },
      { status: 500, headers: { "retry-after-ms": "10" } },
      { status: 500, headers: { "retry-after-ms": "10" } },
    ]);
    const turn = await anthropic(server.url).complete(request);
    expect(turn.stopReason).toBe("error");
    expect(turn.error).toMatch(/model API error 500 \(still failing after retries\)/);
  });

  it("turns a timeout into an error turn", async () => {
    server = await startFakeModelServer([
      { hangMs: 3000, body: anthropicMessage([{ type: "text", text: "late" }]) },
    ]);
    const turn = await anthropic(server.url, { timeoutMs: 200, maxRetries: 0 }).complete(request);
    expect(turn.stopReason).toBe("error");
    expect(turn.error).toMatch(/timed out/);
  });

  it("says to check the key on 401", async () => {
    server = await startFakeModelServer([
      {
        status: 401,
        body: { type: "error", error: { type: "authentication_error", message: "invalid x-api-key" } },
      },
    ]);
    const turn = await anthropic(server.url).complete(request);
    expect(turn.error).toMatch(/401 \(check the API key\)/);
  });
});

describe("OpenAI-compatible provider against a loopback chat API", () => {
  const openai = (url: string) =>
    createOpenAIProvider({
      model: "qwen3-coder",
      apiKey: "no-key",
      baseUrl: `${url}/v1`,
      maxRetries: 1,
      timeoutMs: 5000,
    });

  it("maps tool calls both ways", async () => {
    server = await startFakeModelServer([
      { body: openaiCompletion(null, [{ name: "read_file", args: '{"path":"c.txt"}' }]) },
    ]);
    const turn = await openai(server.url).complete(request);
    expect(turn.stopReason).toBe("tool_use");
    expect(turn.content[0]).toMatchObject({ type: "tool_use", name: "read_file", input: { path: "c.txt" } });
    const sent = server.requests[0]!;
    expect(sent.path).toBe("/v1/chat/completions");
    expect(sent.body.messages).toEqual([
      { role: "system", content: "be brief" },
      { role: "user", content: "read a.txt" },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: "t1", type: "function", function: { name: "read_file", arguments: '{"path":"a.txt"}' } },
        ],
      },
      { role: "tool", tool_call_id: "t1", content: "1→hi" },
    ]);
    expect((sent.body.tools as unknown[])[0]).toMatchObject({
      type: "function",
      function: { name: "read_file" },
    });
  });

  it("passes invalid JSON arguments on so the tool can report them", async () => {
    server = await startFakeModelServer([
      { body: openaiCompletion(null, [{ name: "read_file", args: "{path: oops" }]) },
    ]);
    const turn = await openai(server.url).complete(request);
    expect(turn.content[0]).toMatchObject({ input: { invalid_json_arguments: "{path: oops" } });
  });

  it("retries a 429 and then succeeds", async () => {
    server = await startFakeModelServer([
      { status: 429, headers: { "retry-after-ms": "10" }, body: { error: { message: "slow down" } } },
      { body: openaiCompletion("done") },
    ]);
    const turn = await openai(server.url).complete(request);
    expect(turn).toMatchObject({ stopReason: "end_turn", content: [{ type: "text", text: "done" }] });
  });
});
