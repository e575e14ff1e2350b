import { afterEach, describe, expect, it } from "vitest";
import type { CheckResult } from "../src/evaluate/check-command.ts";
import { createAnthropicProvider } from "../src/models/anthropic-provider.ts";
import { isServiceFailure } from "../src/models/model-failure.ts";
import { createOpenAIProvider } from "../src/models/openai-provider.ts";
import { unrunnableReason } from "../src/run/baseline.ts";
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

const request = {
  system: "s",
  tools: [],
  messages: [{ role: "user" as const, content: [{ type: "text" as const, text: "hi" }] }],
  maxTokens: 16,
};

describe("model failures are classified the same way for both providers", () => {
  const table: Array<[number, string, boolean]> = [
    [401, "auth", true],
    [403, "auth", true],
    [404, "model_not_found", true],
    [429, "rate_limited", true],
    [529, "overloaded", true],
    [503, "server_error", true],
    // A gateway's "out of credits", a transient conflict the SDK retries, a retired model: the service's.
    [402, "auth", true],
    [409, "server_error", true],
    [410, "model_not_found", true],
    [400, "bad_request", false],
  ];
  for (const flavor of ["anthropic", "openai"] as const) {
    it(`${flavor}: HTTP statuses and a refused connection`, async () => {
      server = await startFakeModelServer(table.map(([status]) => ({ status })));
      const make = (baseUrl: string) =>
        flavor === "anthropic"
          ? createAnthropicProvider({ model: "m", apiKey: "k", baseUrl, maxRetries: 0, timeoutMs: 5000 })
          : createOpenAIProvider({
              model: "m",
              apiKey: "k",
              baseUrl: `${baseUrl}/v1`,
              maxRetries: 0,
              timeoutMs: 5000,
            });
      const provider = make(server.url);
      for (const [status, kind, service] of table) {
        const turn = await provider.complete(request);
        expect(turn.stopReason).toBe("error");
        expect(turn.failure).toEqual({ kind, status });
        expect(isServiceFailure(turn.failure)).toBe(service);
        expect(turn.error).toContain(String(status));
      }
      const refused = await make("http://127.0.0.1:9").complete(request);
      expect(refused.failure).toEqual({ kind: "connection" });
      expect(isServiceFailure(refused.failure)).toBe(true);
    });

    it(`${flavor}: a 200 that is not JSON, JSON that is not a reply, a body cut half-way or a bad token count is the service's failure`, async () => {
      server = await startFakeModelServer([
        { garbage: "<html>502 Bad Gateway</html>" },
        { body: { ok: true } },
        { cut: true },
        { body: { content: "Service Unavailable", stop_reason: "end_turn", usage: {} } },
        {
          body:
            flavor === "anthropic"
              ? {
                  ...anthropicMessage([]),
                  content: [{ type: "tool_use", name: "write_file" }, { type: "text" }],
                }
              : { choices: [{ index: 0, finish_reason: "stop", message: null }] },
        },
        {
          body:
            flavor === "anthropic"
              ? { type: "message", role: "assistant", content: [], usage: {} }
              : { choices: [] },
        },
        {
          body:
            flavor === "anthropic"
              ? anthropicMessage([{ type: "text", text: "hi" }], {
                  input_tokens: -100000000,
                  output_tokens: 1.5,
                })
              : { ...openaiCompletion("hi"), usage: { prompt_tokens: -100000000, completion_tokens: 1 } },
        },
      ]);
      const provider =
        flavor === "anthropic"
          ? createAnthropicProvider({
              model: "m",
              apiKey: "k",
              baseUrl: server.url,
              maxRetries: 0,
              timeoutMs: 5000,
            })
          : createOpenAIProvider({
              model: "m",
              apiKey: "k",
              baseUrl: `${server.url}/v1`,
              maxRetries: 0,
              timeoutMs: 5000,
            });
      const cases: Array<[RegExp, string]> = [
        [/not valid JSON|not an API reply/, "server_error"],
        [/not an API reply/, "server_error"],
        [/terminated|other side closed|socket|ECONNRESET/i, "connection"],
        [/not a Messages API reply|not a chat completion/, "server_error"],
        [/without an id, a name or an input|not a chat completion/, "server_error"],
        [/not a Messages API reply|no choices/, "server_error"],
        [/not an API reply.*not a token count/, "server_error"],
      ];
      for (const [why, kind] of cases) {
        const turn = await provider.complete(request);
        expect(turn.stopReason).toBe("error");
        expect(turn.failure).toEqual({ kind });
        expect(isServiceFailure(turn.failure)).toBe(true);
        expect(turn.error).toMatch(why);
      }
    });
  }

  it("a time-out is a service failure", async () => {
    server = await startFakeModelServer([{ hangMs: 5000, body: {} }]);
    const provider = createAnthropicProvider({
      model: "m",
      apiKey: "k",
      baseUrl: server.url,
      maxRetries: 0,
      timeoutMs: 200,
    });
    const turn = await provider.complete(request);
    expect(turn.failure).toEqual({ kind: "timeout" });
    expect(isServiceFailure(turn.failure)).toBe(true);
  });
});

describe("a baseline check that cannot run is told apart from a failing one", () => {
  const check = (over: Partial<CheckResult>): CheckResult => ({
    command: "c",
    exitCode: 1,
    timedOut: false,
    output: "",
    counts: null,
    ms: 10,
    ...over,
  });
  it("classifies", () => {
    expect(unrunnableReason(check({ exitCode: 127, output: "bash: vitest: command not found" }))).toMatch(
      /not found/,
    );
    expect(unrunnableReason(check({ exitCode: 126 }))).toMatch(/not executable/);
    expect(unrunnableReason(check({ exitCode: null }))).toMatch(/crashed/);
    expect(unrunnableReason(check({ exitCode: 139 }))).toMatch(/crashed .*exit 139/);
    expect(unrunnableReason(check({ timedOut: true, exitCode: null }))).toMatch(/timed out/);
    expect(unrunnableReason(check({ output: 'npm error Missing script: "test"' }))).toMatch(/npm script/);
    expect(unrunnableReason(check({ output: "npm error code EAI_AGAIN" }))).toMatch(/npx/);
    // A failing test run, or one that broke on the planted bug, is a score, not the environment.
    expect(unrunnableReason(check({ exitCode: 1, output: "SyntaxError: Unexpected token" }))).toBeNull();
    expect(
      unrunnableReason(check({ exitCode: 127, counts: { framework: "vitest", passed: 3, failed: 1 } })),
    ).toBeNull();
    expect(unrunnableReason(check({ exitCode: 0 }))).toBeNull();
  });
});
