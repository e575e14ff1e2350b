import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/** A temp folder holding `files`; a git repo with one commit when `git` is set. */
export function makeWorkspace(files: Record<string, string>, opts: { git?: boolean } = {}): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "moss-test-ws-"));
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), content);
  }
  if (opts.git) {
    const run = (...args: string[]) => execFileSync("git", args, { cwd: dir, stdio: "ignore" });
    run("init", "-q", "-b", "main");
    run("add", "-A");
    run("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "init");
  }
  return dir;
}

/** A small node project whose `npm test`-like check (node --test) fails until add() is fixed. */
export const mathProject = {
  "package.json": JSON.stringify({ name: "proj", type: "module", scripts: { test: "node --test" } }),
  "src/math.js": "export function add(a, b) {\n  return a - b;\n}\n",
  "test/math.test.js":
    'import { test } from "node:test";\nimport assert from "node:assert";\nimport { add } from "../src/math.js";\n\ntest("adds", () => {\n  assert.equal(add(2, 3), 5);\n});\n',
  ".gitignore": "node_modules\n",
};

export const repoRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..", "..");
