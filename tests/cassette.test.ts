import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { ModelRequest } from "../src/contract/index.ts";
import { CassettePlayer, CassetteRecorder, readCassette } from "../src/models/cassette.ts";
import { createScriptedProvider, turn } from "../src/models/scripted-provider.ts";

const req = (text: string): ModelRequest => ({
  system: "s",
  tools: [],
  messages: [{ role: "user", content: [{ type: "text", text }] }],
  maxTokens: 100,
});

describe("cassettes", () => {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), "moss-cassette-")), "c.json");

  it("records every exchange and replays it strictly", async () => {
    const recorder = new CassetteRecorder(file);
    const scripted = createScriptedProvider([
      turn([{ type: "text", text: "one" }]),
      turn([{ type: "text", text: "two" }]),
    ]);
    const provider = recorder.wrap("executor", scripted);
    await provider.complete(req("a"));
    await provider.complete(req("b"));
    expect(readCassette(file).exchanges).toHaveLength(2);

    const player = new CassettePlayer(readCassette(file), file).provider("executor");
    expect((await player.complete(req("a"))).content).toEqual([{ type: "text", text: "one" }]);
    expect((await player.complete(req("b"))).content).toEqual([{ type: "text", text: "two" }]);
    const exhausted = await player.complete(req("c"));
    expect(exhausted).toMatchObject({
      stopReason: "error",
      error: expect.stringMatching(/exhausted: request 3/),
    });
  });

  it("refuses a request that differs from the recording, naming the request and field", async () => {
    const player = new CassettePlayer(readCassette(file), file).provider("executor");
    const turn1 = await player.complete(req("different"));
    expect(turn1.stopReason).toBe("error");
    expect(turn1.error).toMatch(
      /request 1 \(executor\) differs from the recording at request\.messages\.0\.content\.0\.text/,
    );
  });

  it("refuses a request from another role", async () => {
    const player = new CassettePlayer(readCassette(file), file).provider("patcher");
    expect((await player.complete(req("a"))).error).toMatch(
      /came from the patcher but the recording has the executor/,
    );
  });

  it("rejects a malformed cassette file with its path", () => {
    expect(() => readCassette("/nonexistent/c.json")).toThrow(/cassette not found/);
  });
});
