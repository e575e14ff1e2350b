import { mkdirSync, mkdtempSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { createTools } from "../tools/index.ts";
import type { Tool } from "../tools/tool.ts";

let root: string;
let tools: Map<string, Tool>;
const signal = new AbortController().signal;
const call = (name: string, input: unknown) => tools.get(name)!.run(input, signal);

beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), "agent-tools-"));
  tools = new Map(createTools(root, { commandTimeoutMs: 5000 }).map((t) => [t.spec.name, t]));
});

describe("read_file", () => {
  it("numbers lines and honours offset and limit", async () => {
    writeFileSync(path.join(root, "a.txt"), "one\ntwo\nthree\nfour\n");
    const out = await call("read_file", { path: "a.txt", offset: 2, limit: 2 });
    expect(out.isError).toBe(false);
    expect(out.content).toContain("     2→two");
    expect(out.content).toContain("     3→three");
    expect(out.content).not.toContain("one");
    expect(out.content).toContain("use offset=4");
  });
  it("reports a missing file as a tool error", async () => {
    const out = await call("read_file", { path: "nope.txt" });
    expect(out).toEqual({ isError: true, content: expect.stringContaining("no such file: nope.txt") });
  });
  it("refuses paths outside the workspace, also through a symlink", async () => {
    expect((await call("read_file", { path: "../../etc/passwd" })).content).toMatch(/outside the workspace/);
    symlinkSync("/etc", path.join(root, "etc-link"));
    expect((await call("read_file", { path: "etc-link/passwd" })).content).toMatch(/through a symlink/);
  });
  it("turns invalid input into a readable error", async () => {
    const out = await call("read_file", { path: 42 });
    expect(out.isError).toBe(true);
    expect(out.content).toMatch(/Invalid input for read_file: path:/);
  });
});

describe("write_file", () => {
  it("creates parent folders", async () => {
    const out = await call("write_file", { path: "deep/er/x.txt", content: "hi" });
    expect(out.isError).toBe(false);
    expect(readFileSync(path.join(root, "deep/er/x.txt"), "utf8")).toBe("hi");
  });
});

describe("edit_file", () => {
  it("replaces a unique match and returns a diff", async () => {
    writeFileSync(path.join(root, "m.js"), "const a = 1;\nconst b = 2;\n");
    const out = await call("edit_file", {
      path: "m.js",
      old_string: "const b = 2;",
      new_string: "const b = 3;",
    });
    expect(out.isError).toBe(false);
    expect(out.content).toContain("-const b = 2;");
    expect(out.content).toContain("+const b = 3;");
    expect(readFileSync(path.join(root, "m.js"), "utf8")).toBe("const a = 1;\nconst b = 3;\n");
  });
  it("refuses an ambiguous match unless replace_all", async () => {
    writeFileSync(path.join(root, "m.js"), "x\nx\n");
    const out = await call("edit_file", { path: "m.js", old_string: "x", new_string: "y" });
    expect(out.content).toMatch(/occurs 2 times/);
    expect(readFileSync(path.join(root, "m.js"), "utf8")).toBe("x\nx\n");
    await call("edit_file", { path: "m.js", old_string: "x", new_string: "y", replace_all: true });
    expect(readFileSync(path.join(root, "m.js"), "utf8")).toBe("y\ny\n");
  });
  it("reports text that is not there", async () => {
    writeFileSync(path.join(root, "m.js"), "abc\n");
    expect((await call("edit_file", { path: "m.js", old_string: "zzz", new_string: "" })).content).toMatch(
      /not found/,
    );
  });
  it("keeps a byte-order mark", async () => {
    writeFileSync(path.join(root, "b.txt"), "\uFEFFalpha\nbeta\n");
    await call("edit_file", { path: "b.txt", old_string: "beta", new_string: "gamma" });
    expect(readFileSync(path.join(root, "b.txt"), "utf8")).toBe("\uFEFFalpha\ngamma\n");
  });
  it("keeps CRLF line endings, matching LF text from the model", async () => {
    writeFileSync(path.join(root, "w.txt"), "line one\r\nline two\r\nline three\r\n");
    const out = await call("edit_file", {
      path: "w.txt",
      old_string: "line one\nline two",
      new_string: "line 1\nline 2",
    });
    expect(out.isError).toBe(false);
    expect(readFileSync(path.join(root, "w.txt"), "utf8")).toBe("line 1\r\nline 2\r\nline three\r\n");
  });
  it("treats $ in the replacement literally", async () => {
    writeFileSync(path.join(root, "p.js"), "price\n");
    await call("edit_file", { path: "p.js", old_string: "price", new_string: "$& $1 $$" });
    expect(readFileSync(path.join(root, "p.js"), "utf8")).toBe("$& $1 $$\n");
  });
});

describe("run_command", () => {
  it("returns the exit code and output", async () => {
    const out = await call("run_command", { command: "echo hello; echo oops >&2; exit 3" });
    expect(out.isError).toBe(true);
    expect(out.content).toContain("Exit code: 3");
    expect(out.content).toContain("hello");
    expect(out.content).toContain("oops");
  });
  it("runs in the workspace root", async () => {
    const out = await call("run_command", { command: "pwd" });
    expect(out.content.trim().split("\n").pop()).toBe(realpath(root));
  });
  it("kills the whole process group on timeout", async () => {
    const marker = path.join(root, "survived");
    const out = await call("run_command", {
      command: `(sleep 0.4; touch ${marker}) & sleep 30`,
      timeout_ms: 100,
    });
    expect(out.content).toMatch(/timed out after 100 ms/);
    await new Promise((r) => setTimeout(r, 700));
    expect(() => readFileSync(marker)).toThrow();
  });
  it("keeps the head and tail of long output", async () => {
    const out = await call("run_command", { command: "echo FIRST; seq 1 100000; echo LAST" });
    expect(out.content).toContain("FIRST");
    expect(out.content).toContain("LAST");
    expect(out.content).toMatch(/characters truncated/);
  });
});

describe("grep, glob and list_dir", () => {
  beforeEach(() => {
    mkdirSync(path.join(root, "src"));
    mkdirSync(path.join(root, "node_modules/x"), { recursive: true });
    writeFileSync(path.join(root, "src/a.ts"), "export const needle = 1;\n");
    writeFileSync(path.join(root, "src/b.js"), "no match here\nneedle again\n");
    writeFileSync(path.join(root, "node_modules/x/i.ts"), "needle\n");
  });
  it("grep finds lines with path and line number, skipping node_modules", async () => {
    const out = await call("grep", { pattern: "needle" });
    expect(out.content.split("\n").sort()).toEqual([
      "src/a.ts:1: export const needle = 1;",
      "src/b.js:2: needle again",
    ]);
    expect((await call("grep", { pattern: "needle", glob: "*.ts" })).content).not.toContain("b.js");
    expect((await call("grep", { pattern: "(" })).isError).toBe(true);
  });
  it("glob matches recursive patterns", async () => {
    expect((await call("glob", { pattern: "**/*.ts" })).content).toBe("src/a.ts");
    expect((await call("glob", { pattern: "src/*.{js,ts}" })).content).toBe("src/a.ts\nsrc/b.js");
  });
  it("list_dir marks folders", async () => {
    expect((await call("list_dir", {})).content).toBe("node_modules/\nsrc/");
  });
});

function realpath(p: string): string {
  return realpathSync(p);
}
