import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { anthropicMessage } from "./helpers/fake-model-server.ts";
import { makeHome } from "./helpers/homes.ts";
import { hostileRun } from "./helpers/hostile-runs.ts";
import { describeSandboxed } from "./helpers/sandbox-gate.ts";
import { makeWorkspace, repoRoot } from "./helpers/workspaces.ts";

// The case issue 8 was found on: a JS library whose tests run with vitest installed in the
// project's own ignored node_modules, checked with `npx vitest run`. The node_modules here is a
// real install (this checkout's, copied by hard links), not a stub runner.

const FILES = {
  "package.json": JSON.stringify({ name: "urlkit", type: "module", scripts: { test: "vitest run" } }),
  ".gitignore": "node_modules\n",
  "src/join.js":
    "export function joinURL(base, path) {\n  if (!path) return base;\n  return base + path;\n}\nexport const trim = (s) => s.trim();\n",
  "test/join.test.js": [
    'import { describe, expect, it } from "vitest";',
    'import { joinURL, trim } from "../src/join.js";',
    'describe("joinURL", () => {',
    '  it("joins with a slash", () => expect(joinURL("a", "b")).toBe("a/b"));',
    '  it("keeps one slash", () => expect(joinURL("a/", "/b")).toBe("a/b"));',
    '  it("keeps the base alone", () => expect(joinURL("a", "")).toBe("a"));',
    "});",
    'it("trims", () => expect(trim(" x ")).toBe("x"));',
    "",
  ].join("\n"),
};

const FIX = {
  path: "src/join.js",
  old_string: "  return base + path;",
  new_string: '  return `${base.replace(/\\/+$/, "")}/${path.replace(/^\\/+/, "")}`;',
};

let home = "";
beforeAll(async () => {
  home = await makeHome();
});

/** A fresh copy of the project with vitest installed in its ignored node_modules. */
function project(): string {
  const ws = makeWorkspace(FILES);
  const from = path.join(repoRoot, "node_modules");
  try {
    execFileSync("cp", ["-al", from, path.join(ws, "node_modules")]);
  } catch {
    // Another file system than the checkout's: a real copy.
    execFileSync("cp", ["-a", from, path.join(ws, "node_modules")]);
  }
  return ws;
}

const table: Array<[string, string]> = [];
afterAll(() => console.table(table.map(([run, outcome]) => ({ run, outcome }))));

describeSandboxed("a real project: vitest installed in the workspace's ignored node_modules", () => {
  it("an unchanged run scores the true 2 of 4; the summary shows the failing assertion, without colour codes", async () => {
    const run = await hostileRun({ home, ws: project(), check: "npx vitest run", json: false });
    expect(run.r.code).toBe(1);
    expect(run.r.stderr).toMatch(/baseline check: score 0\.500 before the agent/);
    expect(run.r.stdout).toMatch(/vitest: 2 passed, 2 failed/);
    expect(run.r.stdout).toMatch(/expected 'a\/\/b' to be 'a\/b'/);
    expect(run.r.stdout + run.r.stderr).not.toMatch(/\^\[\[|command not found|Cannot find/);
    expect(run.record).toMatchObject({ scoreBefore: 0.5 });
    table.push(["unchanged", "score 0.5 = 2/4, before 0.5"]);
  }, 180_000);

  it("a right fix passes and is applied; the agent's writes into node_modules fail and nothing of it comes back", async () => {
    const ws = project();
    const pkg = path.join(ws, "node_modules", "vitest", "package.json");
    const before = readFileSync(pkg, "utf8");
    const run = await hostileRun({
      home,
      ws,
      check: "npx vitest run",
      replies: [
        {
          body: anthropicMessage([
            {
              type: "tool_use",
              name: "run_command",
              input: {
                command:
                  "echo '{}' > node_modules/vitest/package.json; rm -rf node_modules/vitest; touch node_modules/planted; echo rc=$?",
              },
            },
          ]),
        },
        { body: anthropicMessage([{ type: "tool_use", name: "edit_file", input: FIX }]) },
        { body: anthropicMessage([{ type: "text", text: "joinURL fixed" }]) },
      ],
    });
    expect(run.out).toMatchObject({ passed: true, applied: true, score: 1, scoreBefore: 0.5 });
    expect((run.out!.changedFiles as Array<{ path: string }>).map((c) => c.path)).toEqual(["src/join.js"]);
    expect(readFileSync(pkg, "utf8")).toBe(before);
    expect(readFileSync(path.join(ws, "src/join.js"), "utf8")).toContain('replace(/\\/+$/, "")');
    // What the agent's command was told, in the tool result sent to the model.
    expect(JSON.stringify(run.requests)).toMatch(/Read-only file system/);
    table.push(["agent writes into node_modules, then fixes", "read-only; fix applied, 4/4"]);
  }, 180_000);
});
