import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatReviewNotes } from "../src/cli/review-notes.ts";
import { checkScope } from "../src/evolve/check/scope-check.ts";
import { applyEdits } from "../src/evolve/propose/apply-edits.ts";
import { git } from "../src/git/repo.ts";
import { createWorktree, type Worktree } from "../src/git/worktree.ts";
import { makeHome } from "./helpers/homes.ts";

let home: string;
beforeAll(async () => {
  home = await makeHome();
});

const opts = { allowPaths: ["agent-src/"], maxPatchBytes: 64 * 1024, taskFileNames: ["greeting.js"] };

/** Runs `change` in a fresh worktree of the home and returns the scope verdict. */
async function scopeOf(change: (dir: string) => void) {
  const wt: Worktree = await createWorktree(home, "HEAD");
  try {
    change(wt.dir);
    return (await checkScope(wt.dir, opts)).result;
  } finally {
    await wt.remove();
  }
}
const edit = (dir: string, rel: string, fn: (s: string) => string) =>
  writeFileSync(path.join(dir, rel), fn(readFileSync(path.join(dir, rel), "utf8")));

describe("scope and integrity of a candidate", () => {
  it("accepts a change under agent-src", async () => {
    const r = await scopeOf((d) => edit(d, "agent-src/prompts/system.md", (s) => `${s}\n- Be concise.\n`));
    expect(r).toMatchObject({ passed: true, violations: [], files: ["agent-src/prompts/system.md"] });
  });

  it("accepts a new tool that imports the contract and its siblings", async () => {
    const r = await scopeOf((d) =>
      writeFileSync(
        path.join(d, "agent-src/tools/echo-tool.ts"),
        'import type { ToolSpec } from "../../src/contract/index.ts";\nimport { ok } from "./tool.ts";\nexport const spec: ToolSpec | null = null;\nexport const echo = (s: string) => ok(s);\n',
      ),
    );
    expect(r).toMatchObject({ passed: true, violations: [] });
  });

  // The capability check is a review aid: it must not stand in the way of ordinary agent work.
  it.concurrent.each([
    [
      "a new tool with zod, node:path, node:fs/promises and its siblings",
      (d: string) =>
        writeFileSync(
          path.join(d, "agent-src/tools/count-tool.ts"),
          'import { readFile } from "node:fs/promises";\nimport path from "node:path";\nimport { z } from "zod";\nimport { ok } from "./tool.ts";\nimport { resolveInside } from "./workspace-path.ts";\nconst Input = z.object({ path: z.string() });\nconst MAX_LINES = 500;\nexport async function count(root: string, raw: unknown) {\n  const input = Input.parse(raw);\n  const text = await readFile(resolveInside(root, input.path), "utf8");\n  return ok(`${path.basename(input.path)}: ${Math.min(MAX_LINES, text.split("\\n").length)} lines`);\n}\n',
        ),
    ],
    [
      "a lowered limit and the usual process members",
      (d: string) => {
        edit(d, "agent-src/tools/read-file-tool.ts", (s) =>
          s.replace("DEFAULT_LIMIT = 2000;", "DEFAULT_LIMIT = 1500;"),
        );
        edit(
          d,
          "agent-src/loop.ts",
          (s) =>
            `${s}\nexport const where = () => [process.cwd(), process.platform, typeof process];\nexport const kind = (e: Error) => e.constructor.name;\n`,
        );
      },
    ],
    [
      "a new test with its own snapshot",
      (d: string) => {
        writeFileSync(
          path.join(d, "agent-src/test/prompt-size.test.ts"),
          'import { expect, it } from "vitest";\nimport { systemPrompt } from "../prompts/index.ts";\nit("is short", () => { expect(systemPrompt().length).toMatchSnapshot(); });\n',
        );
        writeFileSync(
          path.join(d, "agent-src/test/__snapshots__/prompt-size.test.ts.snap"),
          "// Vitest Snapshot v1\n\nexports[`is short 1`] = `600`;\n",
        );
      },
    ],
    [
      "a prompt change that mentions the system prompt and the model",
      (d: string) =>
        edit(
          d,
          "agent-src/prompts/system.md",
          (s) =>
            `${s}\n- The model should read the system prompt's rules before editing; never print secrets.\n`,
        ),
    ],
  ])("accepts %s", async (_name, change) => {
    const r = await scopeOf(change);
    expect(r.violations).toEqual([]);
    expect(r.testChanges).toEqual([]);
  });

  it("with a person consenting, a changed test passes scope and is listed as a test change", async () => {
    const wt: Worktree = await createWorktree(home, "HEAD");
    try {
      edit(wt.dir, "agent-src/test/loop.test.ts", (s) =>
        s.replace("expect(result.turns).toBe(2);", "expect(result.turns).toBeGreaterThan(0);"),
      );
      const { result } = await checkScope(wt.dir, {
        ...opts,
        allowTestChanges: true,
        reviewedByPerson: true,
      });
      expect(result.violations).toEqual([]);
      expect(result.testChanges).toEqual(["modifies agent-src/test/loop.test.ts (an existing test)"]);
      expect(formatReviewNotes(result, null)).toMatch(
        /CHANGES EXISTING TESTS[\s\S]*modifies agent-src\/test\/loop\.test\.ts/,
      );
    } finally {
      await wt.remove();
    }
  });

  it.each([
    [
      "touches the harness",
      (d: string) => edit(d, "src/contract/messages.ts", (s) => `${s}\n// x\n`),
      /touches src\/contract\/messages\.ts, outside agent-src\//,
    ],
    [
      "touches package.json",
      (d: string) => edit(d, "package.json", (s) => s.replace("moss-agent-home", "x")),
      /touches package\.json/,
    ],
    [
      "adds a symlink",
      (d: string) => symlinkSync("../src", path.join(d, "agent-src", "escape")),
      /adds a symlink: agent-src\/escape/,
    ],
    [
      "deletes a test file",
      (d: string) => rmSync(path.join(d, "agent-src/test/loop.test.ts")),
      /changes existing tests: deletes agent-src\/test\/loop\.test\.ts/,
    ],
    [
      "skips a test",
      (d: string) =>
        edit(d, "agent-src/test/loop.test.ts", (s) =>
          s.replace('it("stops at the turn limit"', `${["it", "skip"].join(".")}("stops at the turn limit"`),
        ),
      /changes existing tests: modifies agent-src\/test\/loop\.test\.ts/,
    ],
    [
      "drops test cases",
      (d: string) =>
        edit(d, "agent-src/test/schema.test.ts", (s) =>
          s.replace(/ {2}it\("system prompt"[\s\S]*?\n {2}\}\);\n/, ""),
        ),
      /changes existing tests: modifies agent-src\/test\/schema\.test\.ts/,
    ],
    [
      "adds a binary file",
      (d: string) => writeFileSync(path.join(d, "agent-src/blob.bin"), Buffer.from([0, 1, 2, 0, 255])),
      /binary change: agent-src\/blob\.bin/,
    ],
    ["is empty", (_d: string) => {}, /the patch is empty/],
    [
      "hard-codes a task file name",
      (d: string) => edit(d, "agent-src/prompts/system.md", (s) => `${s}\nAlways edit greeting.js first.\n`),
      /hard-codes the task.*greeting\.js/,
    ],
    [
      "is over the size cap",
      (d: string) => writeFileSync(path.join(d, "agent-src/big.md"), "x\n".repeat(40_000)),
      /over the 65536-byte cap/,
    ],
  ])("rejects a patch that %s", async (_name, change, reason) => {
    const r = await scopeOf(change);
    expect(r.passed).toBe(false);
    expect(r.violations.join("\n")).toMatch(reason);
  });
});

describe("the built-in patcher's edits", () => {
  let wt: Worktree;
  beforeAll(async () => {
    wt = await createWorktree(home, "HEAD");
  });
  afterAll(async () => wt.remove());

  it("refuses paths outside agent-src, through .. or a symlink, and ambiguous edits", () => {
    const patch = (p: string, old = "x") => ({
      rationale: "r",
      edits: [{ path: p, old_string: old, new_string: "y" }],
      new_files: [],
    });
    expect(() => applyEdits(wt.dir, patch("src/contract/messages.ts"), ["agent-src/"])).toThrow(
      /outside agent-src\//,
    );
    expect(() => applyEdits(wt.dir, patch("agent-src/../src/contract/messages.ts"), ["agent-src/"])).toThrow(
      /outside/,
    );
    mkdirSync(path.join(wt.dir, "agent-src", "sub"));
    symlinkSync(path.join(wt.dir, "src"), path.join(wt.dir, "agent-src", "sub", "link"));
    expect(() =>
      applyEdits(wt.dir, patch("agent-src/sub/link/contract/messages.ts"), ["agent-src/"]),
    ).toThrow(/symlink/);
    expect(() => applyEdits(wt.dir, patch("agent-src/loop.ts", "turns"), ["agent-src/"])).toThrow(
      /matches \d+ times, not exactly once/,
    );
    expect(() =>
      applyEdits(wt.dir, patch("agent-src/loop.ts", "no such text anywhere"), ["agent-src/"]),
    ).toThrow(/matches 0 times/);
  });

  it("keeps the head untouched whatever happens in a worktree", async () => {
    const status = await git(home).raw(["status", "--porcelain"]);
    expect(status).toBe("");
  });
});
