import { describe, expect, it } from "vitest";
import { systemPrompt } from "../prompts/index.ts";
import { createTools } from "../tools/index.ts";

// What the model sees must not change silently: a change here shows up as a snapshot diff.
describe("model-facing surface", () => {
  it("tool schemas", () => {
    const specs = createTools("/tmp", { commandTimeoutMs: 120_000 }).map((t) => t.spec);
    expect(specs).toMatchSnapshot();
  });
  it("system prompt", () => {
    expect(systemPrompt()).toMatchSnapshot();
  });
});
