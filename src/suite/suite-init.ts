import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { UsageError } from "../errors.ts";
import { writeSuite } from "./load-suite.ts";
import { SUITE_FILE } from "./suite-schema.ts";

/** The example task's workspace: a node project whose test fails until add() is fixed. */
export const EXAMPLE_WORKSPACE: Record<string, string> = {
  "package.json": `${JSON.stringify({ name: "example", private: true, type: "module", scripts: { test: "node --test" } }, null, 2)}\n`,
  "src/math.js": "export function add(a, b) {\n  return a - b;\n}\n",
  "test/math.test.js": [
    'import assert from "node:assert";',
    'import { test } from "node:test";',
    'import { add } from "../src/math.js";',
    "",
    'test("add adds", () => {',
    "  assert.equal(add(2, 3), 5);",
    "});",
    "",
  ].join("\n"),
};

export const EXAMPLE_TASK_ID = "fix-add";
export const EXAMPLE_PROMPT =
  "add() in src/math.js returns the wrong result. Fix it so that `node --test` passes.";

/**
 * Writes a new suite folder with one example task (a workspace folder and its check). Refuses to
 * touch a folder that already holds a suite.
 */
export function initSuite(dir: string): { file: string; name: string } {
  const abs = path.resolve(dir);
  if (existsSync(path.join(abs, SUITE_FILE))) {
    throw new UsageError(`${path.join(abs, SUITE_FILE)} already exists; edit it, or pick another folder`);
  }
  const name = suiteName(abs);
  const workspace = path.join("tasks", EXAMPLE_TASK_ID, "workspace");
  for (const [rel, content] of Object.entries(EXAMPLE_WORKSPACE)) {
    const file = path.join(abs, workspace, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
  const file = writeSuite(abs, {
    version: 1,
    name,
    description: "A moss suite: tasks the agent is measured (and evolved) on. One task per entry.",
    tasks: [
      {
        id: EXAMPLE_TASK_ID,
        prompt: EXAMPLE_PROMPT,
        workspace,
        check: "node --test",
        split: "train",
        limits: { maxTurns: 10 },
        tags: ["example"],
      },
    ],
  });
  return { file, name };
}

/** A valid suite name from a folder name. */
export function suiteName(dir: string): string {
  const base = path
    .basename(dir)
    .replace(/[^A-Za-z0-9._-]+/g, "-")
    .replace(/^[^A-Za-z0-9]+/, "");
  return (base || "suite").slice(0, 80);
}
