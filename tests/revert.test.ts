import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import { CHECK, PLANT, TASK, WORKSPACE } from "../src/demo/demo-scenario.ts";
import { commitIn } from "../src/git/ratchet.ts";
import { readLog } from "../src/log/evolution-log.ts";
import type { FakeServer } from "./helpers/fake-model-server.ts";
import { makeHome } from "./helpers/homes.ts";
import { patcherAnswers, startModelScript } from "./helpers/model-script.ts";
import { moss } from "./helpers/moss-cli.ts";
import { describeSandboxed } from "./helpers/sandbox-gate.ts";
import { makeWorkspace } from "./helpers/workspaces.ts";

// Two real fixes land one after the other; `moss revert` then undoes the first one alone.
const OLD_LF = 'export function greet(name) {\n  return "Hi " + name;';
// biome-ignore lint/suspicious/noTemplateCurlyInString: the fix writes a template literal into greeting.js
const NEW_LF = "export function greet(name) {\n  return `Hello, ${name}!`;";
const CRLF_FIX = (PLANT.filter((p) => "from" in p) as Array<{ file: string; from: string; to: string }>).map(
  (p) => ({ path: p.file, old_string: p.to, new_string: p.from }),
);
const PATH_TOOL = "agent-src/tools/workspace-path.ts";
// biome-ignore lint/suspicious/noTemplateCurlyInString: agent source text, a template literal in it
const ANCHOR = '  if (!isWithin(realRoot, abs)) throw new Error(`path "${given}" is outside the workspace`);';
const LIB_PLANT = `${ANCHOR}\n  if (given.startsWith("lib/")) throw new Error(\`path "\${given}" is read-only\`);`;
const LIB_TASK = "fix add() in lib/math.js";
const libProject = {
  "package.json": JSON.stringify({ name: "lib", type: "module" }),
  "lib/math.js": "export function add(a, b) {\n  return a - b;\n}\n",
  "test/math.test.js":
    'import { test } from "node:test";\nimport assert from "node:assert";\nimport { add } from "../lib/math.js";\n\ntest("adds", () => {\n  assert.equal(add(2, 3), 5);\n});\n',
};

let server: FakeServer | undefined;
afterAll(async () => server?.close());
const sh = (cwd: string, ...args: string[]) => execFileSync("git", args, { cwd, encoding: "utf8" }).trim();

describeSandboxed("moss revert", () => {
  it("undoes one accepted patch from the middle of history, judged on the regression panel", async () => {
    server = await startModelScript({
      edit: (task) =>
        task.includes("greet")
          ? { path: "src/greeting.js", old_string: OLD_LF, new_string: NEW_LF }
          : { path: "lib/math.js", old_string: "a - b", new_string: "a + b" },
      // The lib/ cycle's prompts name its task or (at the patch step) its diagnosis; the rest is the CRLF cycle.
      patcher: (tool, prompt) =>
        /lib\/math\.js|let the agent edit lib/.test(prompt)
          ? patcherAnswers("let the agent edit lib/", [
              { path: PATH_TOOL, old_string: LIB_PLANT, new_string: ANCHOR },
            ])(tool)
          : patcherAnswers("edit_file: match LF text in CRLF files", CRLF_FIX)(tool),
    });
    const env = { ANTHROPIC_API_KEY: "sk-test", ANTHROPIC_BASE_URL: server.url };
    // Two weaknesses: CRLF edits fail (the demo's), and nothing under lib/ can be edited.
    const home = await makeHome({ planted: true });
    const file = path.join(home, PATH_TOOL);
    writeFileSync(
      file,
      readFileSync(file, "utf8").replace(ANCHOR, () => LIB_PLANT),
    );
    await commitIn(home, ["agent-src"], "plant: lib/ is read-only");
    const run = (task: string, ws: string, check: string) =>
      moss(
        ["--home", home, "run", task, "-w", ws, "--check", check, "--json", "--depth", "shallow", "--yes"],
        env,
      );

    const first = JSON.parse((await run(TASK, makeWorkspace(WORKSPACE), CHECK)).stdout).evolution;
    expect(first.accepted, JSON.stringify(first.attempts)).not.toBeNull();
    const second = JSON.parse(
      (await run(LIB_TASK, makeWorkspace(libProject), "node --test")).stdout,
    ).evolution;
    expect(second.accepted, JSON.stringify(second.attempts)).not.toBeNull();
    const headBefore = sh(home, "rev-parse", "main");

    // With the panel on, reverting the CRLF fix makes the CRLF task (which passes now) fail: refused.
    const refused = await moss(["--home", home, "revert", first.accepted.id, "--json"], env);
    expect(refused.code).toBe(1);
    const refusedRecord = JSON.parse(refused.stdout);
    expect(refusedRecord).toMatchObject({ kind: "revert", verdict: "rejected", target: first.accepted.id });
    expect(refusedRecord.reason).toMatch(/regression on (a sealed panel task|"Make greet\(\))/);
    expect(sh(home, "rev-parse", "main")).toBe(headBefore);

    // Without a panel, the same revert lands after its gate: one new commit that reverses only the
    // first patch's agent-src diff; the second fix stays, and history is kept.
    writeFileSync(path.join(home, "moss.config.json"), JSON.stringify({ evolve: { regressionLimit: 0 } }));
    const done = await moss(["--home", home, "revert", first.accepted.id], env);
    expect(done.stderr).not.toMatch(/Error/);
    expect(done.code).toBe(0);
    expect(sh(home, "rev-parse", "main~1")).toBe(headBefore);
    expect(sh(home, "diff", "--name-only", "main~1", "main", "--", "agent-src")).toBe(
      "agent-src/tools/edit-file-tool.ts",
    );
    const tool = sh(home, "show", "main:agent-src/tools/edit-file-tool.ts");
    for (const p of CRLF_FIX) expect(tool).toContain(p.old_string);
    expect(sh(home, "show", `main:${PATH_TOOL}`)).not.toContain('startsWith("lib/")');
    expect(sh(home, "log", "-1", "--format=%(trailers)", "main")).toMatch(
      new RegExp(`Moss-Revert: ${first.accepted.id}`),
    );
    expect(sh(home, "rev-list", "--count", "main")).toBe(
      String(Number(sh(home, "rev-list", "--count", headBefore)) + 1),
    );
    const kinds = readLog(home).map((e) => `${e.record.kind}:${e.record.verdict}`);
    expect(kinds.slice(-2)).toEqual(["revert:rejected", "revert:accepted"]);
    expect((await moss(["--home", home, "log", "--verify"])).code).toBe(0);
    // Only accepted patches can be reverted.
    const bad = await moss(["--home", home, "revert", readLog(home).at(-2)!.record.id]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/was rejected: only an accepted patch can be reverted/);
  }, 600_000);
});
