import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { startFakeModelServer } from "./helpers/fake-model-server.ts";
import { makeHome } from "./helpers/homes.ts";
import { moss } from "./helpers/moss-cli.ts";
import { suiteResponder } from "./helpers/suite-agent.ts";
import { makeWorkspace, mathProject, repoRoot } from "./helpers/workspaces.ts";

const fixtures = path.join(repoRoot, "tests", "fixtures");
const tmp = () => mkdtempSync(path.join(os.tmpdir(), "moss-suite-"));

/** Every file under `dir`, relative, with its text. */
function files(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = readFileSync(p, "utf8");
    }
  };
  walk(dir);
  return out;
}

async function show(dir: string) {
  const r = await moss(["suite", "show", dir, "--json"]);
  expect(r.stderr).toBe("");
  return JSON.parse(r.stdout) as { name: string; tasks: Array<Record<string, unknown>> };
}

describe("suite format", () => {
  it("suite init writes a valid suite with one example task whose workspace exists", async () => {
    const dir = path.join(tmp(), "my-suite");
    const r = await moss(["suite", "init", dir]);
    expect(r.code).toBe(0);
    const suite = await show(dir);
    expect(suite.name).toBe("my-suite");
    expect(suite.tasks).toHaveLength(1);
    expect(suite.tasks[0]).toMatchObject({ id: "fix-add", split: "train", check: "node --test" });
    expect(readFileSync(path.join(String(suite.tasks[0]?.workspaceDir), "src/math.js"), "utf8")).toContain(
      "a - b",
    );
    const again = await moss(["suite", "init", dir]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("already exists");
  });

  it("schema errors name the file, the task and the field, and exit 2", async () => {
    const dir = tmp();
    mkdirSync(path.join(dir, "ws"));
    writeFileSync(
      path.join(dir, "suite.json"),
      JSON.stringify({
        name: "bad",
        tasks: [
          { id: "a", prompt: "do a", workspace: "ws", check: "true", split: "test" },
          { id: "b", workspace: "ws", check: "true", limits: { maxTurns: -1 } },
          { id: "a", prompt: "again", workspace: "ws", rubric: "r", colour: "red" },
          { id: "d", prompt: "no check", workspace: "ws" },
        ],
      }),
    );
    const r = await moss(["suite", "show", dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(path.join(dir, "suite.json"));
    expect(r.stderr).toContain('tasks[0] ("a").split');
    expect(r.stderr).toContain('tasks[1] ("b").prompt');
    expect(r.stderr).toContain('tasks[1] ("b").limits.maxTurns');
    expect(r.stderr).toMatch(/tasks\[2\] \("a"\).*colour/);
    expect(r.stderr).toContain('tasks[3] ("d").check: a task needs a check command or a rubric');

    const task = { prompt: "p", workspace: "ws", check: "true" };
    writeFileSync(
      path.join(dir, "suite.json"),
      JSON.stringify({
        name: "dup",
        tasks: [
          { id: "a", ...task },
          { id: "b", ...task },
          { id: "a", ...task },
        ],
      }),
    );
    const dup = await moss(["suite", "show", dir]);
    expect(dup.code).toBe(2);
    expect(dup.stderr).toContain('tasks[2] ("a").id: "a" is already the id of tasks[0]');

    writeFileSync(
      path.join(dir, "suite.json"),
      JSON.stringify({ name: "bad", tasks: [{ id: "x", prompt: "p", workspace: "nope", check: "true" }] }),
    );
    const missing = await moss(["suite", "show", dir]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('tasks[0] ("x").workspace: the folder');
    expect(missing.stderr).toContain(path.join(dir, "nope"));
  });

  it("imports the Exercism / polyglot-benchmark layout without the reference solutions", async () => {
    const out = path.join(tmp(), "ex");
    const r = await moss(["suite", "import", "exercism", path.join(fixtures, "exercism"), "--out", out]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const suite = await show(out);
    const byId = Object.fromEntries(suite.tasks.map((t) => [t.id, t]));
    expect(Object.keys(byId).sort()).toEqual(["javascript-count-vowels", "python-shout"]);
    expect(byId["python-shout"]).toMatchObject({
      check: "python3 -m pytest -q shout_test.py",
      tags: ["exercism", "python"],
    });
    expect(byId["python-shout"]?.prompt).toContain("upper case followed by an exclamation mark");
    expect(byId["python-shout"]?.prompt).toContain("Change only these files: shout.py");
    expect(byId["javascript-count-vowels"]).toMatchObject({
      check: "npm test",
      setup: expect.stringContaining("npm install"),
    });
    expect(byId["javascript-count-vowels"]?.prompt).toContain("Export the function as `countVowels`");
    const all = files(out);
    expect(Object.values(all).join("\n")).not.toContain("REFERENCE-SOLUTION");
    expect(Object.keys(all).some((f) => f.includes(".meta"))).toBe(false);
    expect(all["tasks/python-shout/workspace/shout_test.py"]).toContain('shout("moss")');
    const spec = all["tasks/javascript-count-vowels/workspace/count-vowels.spec.js"];
    expect(spec).toContain('test("mixed case"');
    expect(spec).not.toContain("xtest(");

    const again = await moss(["suite", "import", "exercism", path.join(fixtures, "exercism"), "--out", out]);
    expect(again.stdout).toContain("0 task(s) added, 2 already there");
    expect((await show(out)).tasks).toHaveLength(2);
  });

  it("imports Harbor and Terminal-Bench task folders with local checks, limits and tags", async () => {
    const out = path.join(tmp(), "hb");
    const r = await moss(["suite", "import", "harbor", fixtures, "--out", out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("without the tasks' containers");
    const suite = await show(out);
    const byId = Object.fromEntries(suite.tasks.map((t) => [t.id, t]));
    expect(byId["write-greeting"]).toMatchObject({
      prompt: "Write the line `hello from moss` into a file named greeting.txt next to names.txt.",
      check: "bash tests/test.sh",
      limits: { wallClockMs: 300_000, checkTimeoutMs: 60_000 },
      tags: ["harbor", "easy", "file-operations", "bash", "files"],
    });
    expect(byId["sum-numbers"]).toMatchObject({
      prompt: "numbers.txt holds one integer per line. Write their sum to total.txt.",
      check: "bash run-tests.sh",
      limits: { wallClockMs: 240_000, checkTimeoutMs: 30_000 },
      tags: ["terminal-bench", "medium", "data-processing", "bash", "arithmetic"],
    });
    const all = files(out);
    expect(Object.keys(all).sort()).toEqual([
      "suite.json",
      "tasks/sum-numbers/workspace/numbers.txt",
      "tasks/sum-numbers/workspace/run-tests.sh",
      "tasks/sum-numbers/workspace/tests/test_outputs.py",
      "tasks/write-greeting/workspace/names.txt",
      "tasks/write-greeting/workspace/tests/test.sh",
    ]);
    expect(Object.values(all).join("\n")).not.toContain("REFERENCE-SOLUTION");
  });

  it("an import with nothing to import says what it looked for", async () => {
    const r = await moss([
      "suite",
      "import",
      "harbor",
      path.join(fixtures, "exercism"),
      "--out",
      path.join(tmp(), "x"),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("task.toml or task.yaml");
    const bad = await moss(["suite", "import", "swebench", fixtures]);
    expect(bad.code).toBe(2);
    expect(existsSync(`${fixtures}-suite`)).toBe(false);
  });

  it("suite harvest makes a suite from this home's runs: each task's latest run, from its starting snapshot", async () => {
    const server = await startFakeModelServer(suiteResponder());
    try {
      const home = await makeHome();
      const ws = makeWorkspace(mathProject, { git: true });
      const env = { ANTHROPIC_API_KEY: "sk-test", ANTHROPIC_BASE_URL: server.url };
      const run = await moss(
        [
          "--home",
          home,
          "run",
          "fix add() in src/math.js",
          "-w",
          ws,
          "--check",
          "node --test",
          "--no-evolve",
          "--json",
        ],
        env,
      );
      expect(run.code, run.stderr).toBe(0);
      const out = path.join(tmp(), "harvested");
      const r = await moss(["--home", home, "suite", "harvest", "--out", out]);
      expect(r.code, r.stderr).toBe(0);
      const suite = await show(out);
      expect(suite.tasks).toHaveLength(1);
      expect(suite.tasks[0]).toMatchObject({
        prompt: "fix add() in src/math.js",
        check: "node --test",
        split: "train",
        tags: ["harvested", "passed-before"],
      });
      // The workspace is the run's starting state (before the fix was applied to the user's folder).
      expect(readFileSync(path.join(String(suite.tasks[0]?.workspaceDir), "src/math.js"), "utf8")).toContain(
        "a - b",
      );
      expect(readFileSync(path.join(ws, "src/math.js"), "utf8")).toContain("a + b");
    } finally {
      await server.close();
    }
  });
});
