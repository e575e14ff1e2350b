/**
 * The offline demo's scenario: a realistic weakness planted in a pristine agent-src, a small
 * workspace whose task trips it, and the model replies (recorded into the demo cassette).
 */
import type { ModelRequest, ModelTurn } from "../contract/index.ts";
import type { ScriptStep } from "../models/scripted-provider.ts";
import { turn } from "../models/scripted-provider.ts";
import type { PlantStep } from "../suite/plant-step.ts";

export { type PlantStep, plantStep } from "../suite/plant-step.ts";

export const TASK = 'Make greet() in src/greeting.js return "Hello, <name>!" instead of "Hi <name>".';
export const CHECK = "node check.js";

export const WORKSPACE: Record<string, string> = {
  "package.json": `${JSON.stringify({ name: "greeter", version: "1.0.0", type: "module" }, null, 2)}\n`,
  // Written on Windows: CRLF line endings. This is what trips the planted weakness.
  "src/greeting.js": 'export function greet(name) {\r\n  return "Hi " + name;\r\n}\r\n',
  "check.js": [
    'import { greet } from "./src/greeting.js";',
    'const got = greet("moss");',
    'if (got !== "Hello, moss!") {',
    '  console.log(`FAIL: greet("moss") returned ${JSON.stringify(got)}, expected "Hello, moss!"`);',
    "  process.exit(1);",
    "}",
    'console.log("ok: greet works");',
    "",
  ].join("\n"),
};

const EDIT_TOOL = "agent-src/tools/edit-file-tool.ts";
const TOOLS_TEST = "agent-src/test/tools.test.ts";

/** Exact replacements (and a removed test) that turn the pristine agent into the demo's weak one. */
export const PLANT: PlantStep[] = [
  {
    file: EDIT_TOOL,
    from: [
      '    const crlf = raw.includes("\\r\\n");',
      "    // Match on LF text so the model need not reproduce the file's line endings.",
      '    const text = (bom ? raw.slice(1) : raw).replace(/\\r\\n/g, "\\n");',
      '    const oldText = input.old_string.replace(/\\r\\n/g, "\\n");',
      '    const newText = input.new_string.replace(/\\r\\n/g, "\\n");',
    ].join("\n"),
    to: [
      "    const text = bom ? raw.slice(1) : raw;",
      "    const oldText = input.old_string;",
      "    const newText = input.new_string;",
    ].join("\n"),
  },
  {
    file: EDIT_TOOL,
    from: '    await writeFile(file, bom + (crlf ? updated.replace(/\\n/g, "\\r\\n") : updated));',
    to: "    await writeFile(file, bom + updated);",
  },
  { file: TOOLS_TEST, removeTest: "keeps CRLF line endings, matching LF text from the model" },
];

const NEW_TEST = {
  path: "agent-src/test/edit-line-endings.test.ts",
  content: [
    'import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";',
    'import os from "node:os";',
    'import path from "node:path";',
    'import { expect, it } from "vitest";',
    'import { createEditFileTool } from "../tools/edit-file-tool.ts";',
    "",
    'it("edit_file matches LF text in a CRLF file and keeps its CRLF line endings", async () => {',
    '  const root = mkdtempSync(path.join(os.tmpdir(), "edit-crlf-"));',
    '  writeFileSync(path.join(root, "crlf.txt"), "first line\\r\\nsecond line\\r\\nthird line\\r\\n");',
    "  const tool = createEditFileTool({ root });",
    '  const input = { path: "crlf.txt", old_string: "first line\\nsecond line", new_string: "line 1\\nline 2" };',
    "  const out = await tool.run(input, new AbortController().signal);",
    "  expect(out.isError).toBe(false);",
    '  expect(readFileSync(path.join(root, "crlf.txt"), "utf8")).toBe("line 1\\r\\nline 2\\r\\nthird line\\r\\n");',
    "});",
    "",
  ].join("\n"),
};

const OLD_LF = 'export function greet(name) {\n  return "Hi " + name;';
const NEW_LF = "export function greet(name) {\n  return `Hello, ${name}!`;";

const call = (id: string, name: string, input: unknown): ModelTurn =>
  turn([{ type: "tool_use", id, name, input }], { inputTokens: 2400, outputTokens: 90 });
const say = (text: string): ModelTurn =>
  turn([{ type: "text", text }], { inputTokens: 2700, outputTokens: 60 });

/**
 * The executor of every demo run: read the file, edit it, then report what the edit tool said.
 * It answers from the request (which turn it is, whether the edit failed), so one script serves
 * the failing run, the head's re-runs and the paired trials of head and candidate in any order.
 */
const executorTurn = (request: ModelRequest): ModelTurn => {
  const turns = request.messages.filter((m) => m.role === "assistant").length;
  if (turns === 0) return call(`toolu_demo_1`, "read_file", { path: "src/greeting.js" });
  if (turns === 1)
    return call(`toolu_demo_2`, "edit_file", {
      path: "src/greeting.js",
      old_string: OLD_LF,
      new_string: NEW_LF,
    });
  const last = request.messages.at(-1)?.content.find((b) => b.type === "tool_result");
  return last && last.type === "tool_result" && last.is_error
    ? say(
        "The edit did not apply: edit_file says old_string was not found, though I copied it from the file. I could not complete the task.",
      )
    : say("Done: greet() now returns `Hello, ${name}!`.");
};

/** Executor replies for as many demo runs as a cycle makes (three turns each). */
export const EXECUTOR_SCRIPT: ScriptStep[] = Array.from({ length: 3 * 40 }, () => executorTurn);

const submit = (name: string, input: unknown): ModelTurn =>
  turn([{ type: "tool_use", id: `toolu_${name}_${Math.abs(hash(JSON.stringify(input)))}`, name, input }], {
    inputTokens: 14_000,
    outputTokens: 900,
  });

function hash(s: string): number {
  let h = 0;
  for (const c of s) h = (h * 31 + c.charCodeAt(0)) | 0;
  return h;
}

const diagnosis = {
  rootCause:
    "edit_file matches old_string against the raw file text. In a file with CRLF line endings the model's multi-line old_string (LF, as read_file shows it) never matches, so every multi-line edit of a Windows-style file fails with 'not found'.",
  evidence: [
    { file: "agent-src/tools/edit-file-tool.ts", line: 20, note: "text keeps \\r\\n from the file" },
    { file: "agent-src/tools/edit-file-tool.ts", line: 21, note: "old_string is used as given, with \\n" },
    {
      file: "agent-src/tools/read-file-tool.ts",
      line: 23,
      note: "read_file splits on \\r?\\n, so the model never sees the \\r",
    },
  ],
  confidence: "high",
};
const plan1 = {
  summary: "Normalize CRLF to LF in the file text before matching, so LF text from the model matches.",
  steps: [
    "In edit-file-tool.ts, replace \\r\\n with \\n in the file text before counting matches.",
    "Add a regression test for a CRLF file.",
  ],
  test: "agent-src/test/edit-line-endings.test.ts: a multi-line LF edit of a CRLF file succeeds and keeps CRLF.",
};
const approve = { approved: true, concerns: [] };
const patch1 = {
  rationale: "edit_file: normalize CRLF to LF before matching, so multi-line edits of CRLF files apply.",
  edits: [
    {
      path: EDIT_TOOL,
      old_string: "    const text = bom ? raw.slice(1) : raw;",
      new_string: '    const text = (bom ? raw.slice(1) : raw).replace(/\\r\\n/g, "\\n");',
    },
  ],
  new_files: [NEW_TEST],
};
const plan2 = {
  summary: "Match on LF-normalized text and write the result back with the file's own line endings.",
  steps: [
    "Remember whether the file uses CRLF.",
    "Normalize the file text, old_string and new_string to LF before matching.",
    "Convert LF back to CRLF when writing a CRLF file.",
    "Add the regression test.",
  ],
  test: "agent-src/test/edit-line-endings.test.ts: a multi-line LF edit of a CRLF file succeeds and keeps CRLF.",
};
const patch2 = {
  rationale:
    "edit_file: match on LF-normalized text and write back with the file's own line endings, so multi-line edits of CRLF files apply and keep CRLF.",
  edits: [
    {
      path: EDIT_TOOL,
      old_string: [
        "    const text = bom ? raw.slice(1) : raw;",
        "    const oldText = input.old_string;",
        "    const newText = input.new_string;",
      ].join("\n"),
      new_string: replacement(0).from,
    },
    { path: EDIT_TOOL, old_string: replacement(1).to, new_string: replacement(1).from },
  ],
  new_files: [NEW_TEST],
};

function replacement(i: number): { from: string; to: string } {
  const step = PLANT[i];
  if (!step || !("from" in step)) throw new Error(`PLANT[${i}] is not a replacement`);
  return step;
}

/** Patcher replies, in call order: diagnose, plan, review, patch (rejected by the gate), plan, review, patch. */
export const PATCHER_SCRIPT: ScriptStep[] = [
  submit("submit_diagnosis", diagnosis),
  submit("submit_plan", plan1),
  submit("submit_review", approve),
  submit("submit_patch", patch1),
  submit("submit_plan", plan2),
  submit("submit_review", approve),
  submit("submit_patch", patch2),
];
