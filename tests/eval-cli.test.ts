import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, expect, it } from "vitest";
import { campaignResponder, greetTask } from "./helpers/campaign-model.ts";
import { type FakeServer, startFakeModelServer } from "./helpers/fake-model-server.ts";
import { makeHome } from "./helpers/homes.ts";
import { moss } from "./helpers/moss-cli.ts";
import { describeSandboxed } from "./helpers/sandbox-gate.ts";
import { addTasks, answerTask, spawnMoss, suiteResponder } from "./helpers/suite-agent.ts";
import { makeWorkspace } from "./helpers/workspaces.ts";

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const env = (s: FakeServer) => ({ ANTHROPIC_API_KEY: "sk-test", ANTHROPIC_BASE_URL: s.url });

function resultLines(home: string, evalId: string): Array<Record<string, unknown>> {
  const file = path.join(home, "evals", evalId, "results.jsonl");
  return readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .flatMap((l) => {
      try {
        return [JSON.parse(l)];
      } catch {
        return [];
      }
    });
}

const perTask = (summary: {
  agents: Array<{ tasks: Array<{ taskId: string; n: number; passes: number }> }>;
}) => Object.fromEntries(summary.agents[0]!.tasks.map((t) => [t.taskId, `${t.passes}/${t.n}`]));

describeSandboxed("moss eval", () => {
  it("suite init -> eval on 2 workers: every trial once in results.jsonl, pass@1 with intervals, cost", async () => {
    server = await startFakeModelServer(suiteResponder());
    const home = await makeHome();
    const suite = path.join(makeWorkspace({}), "my-suite");
    expect((await moss(["suite", "init", suite])).code).toBe(0);
    addTasks(suite, [answerTask("stuck", "give-up", { split: "holdout" })]);
    const r = await moss(
      ["--home", home, "eval", suite, "--trials", "2", "--parallel", "2", "--seed", "7", "--json"],
      env(server),
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/estimated cost \$\d/);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ complete: true, planned: 4, done: 4, seed: 7, stoppedBy: "done" });
    expect(perTask(summary), JSON.stringify(resultLines(home, summary.evalId))).toEqual({
      "fix-add": "2/2",
      stuck: "0/2",
    });
    const head = summary.agents[0];
    expect(head.all.pass1).toBe(0.5);
    expect(head.all.interval.low).toBeCloseTo(0.15, 2);
    expect(head.all.interval.high).toBeCloseTo(0.85, 2);
    expect(head.train).toMatchObject({ n: 2, passes: 2, passK: 1 });
    expect(head.holdout).toMatchObject({ n: 2, passes: 0, passK: 0 });
    expect(head.all.costUsd).toBeGreaterThan(0);
    expect(head.all.tokens).toBeGreaterThan(0);

    const lines = resultLines(home, summary.evalId);
    expect(lines.map((l) => l.key).sort()).toEqual([
      "head:fix-add:0",
      "head:fix-add:1",
      "head:stuck:0",
      "head:stuck:1",
    ]);
    expect(lines.every((l) => l.status === "scored")).toBe(true);
    // The suite's own workspace is never written: trials run in scratch copies.
    expect(readFileSync(path.join(suite, "tasks/fix-add/workspace/src/math.js"), "utf8")).toContain("a - b");

    const list = await moss(["--home", home, "eval", "--list"]);
    expect(list.stdout).toContain(summary.evalId);
  });

  it("a SIGKILLed eval resumes where it stopped: same per-task results, no trial counted twice", async () => {
    server = await startFakeModelServer(suiteResponder({ delayMs: 150 }));
    const home = await makeHome();
    const suite = path.join(makeWorkspace({}), "s");
    expect((await moss(["suite", "init", suite])).code).toBe(0);
    addTasks(suite, [answerTask("solve-me", "solve"), answerTask("stuck", "give-up")]);
    const child = spawnMoss(["--home", home, "eval", suite, "--trials", "3", "--parallel", "1"], env(server));
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const evalsRoot = path.join(home, "evals");
    // Kill it once two trials are on disk (no timing assumptions: wait for the file).
    let evalId = "";
    for (let i = 0; i < 600; i++) {
      await new Promise((r) => setTimeout(r, 100));
      if (!existsSync(evalsRoot)) continue;
      evalId = readdirSync(evalsRoot)[0] ?? "";
      const file = path.join(evalsRoot, evalId, "results.jsonl");
      if (evalId && existsSync(file) && readFileSync(file, "utf8").split("\n").filter(Boolean).length >= 2)
        break;
    }
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    expect(stderr).toContain(`moss eval --resume ${evalId}`);
    const before = resultLines(home, evalId).length;
    expect(before).toBeGreaterThanOrEqual(2);
    expect(before).toBeLessThan(9);

    const r = await moss(
      ["--home", home, "eval", "--resume", evalId, "--json", "--parallel", "2"],
      env(server),
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`resuming eval ${evalId}: ${before} of 9 trials done`);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ evalId, complete: true, done: 9 });
    expect(perTask(summary)).toEqual({ "fix-add": "3/3", "solve-me": "3/3", stuck: "0/3" });
    const keys = resultLines(home, evalId).map((l) => l.key);
    expect(keys).toHaveLength(9);
    expect(new Set(keys).size).toBe(9);
  });

  it("--budget-usd stops cleanly: no trial starts once the spend would pass it", async () => {
    server = await startFakeModelServer(suiteResponder());
    const home = await makeHome();
    const suite = path.join(makeWorkspace({}), "b");
    expect((await moss(["suite", "init", suite])).code).toBe(0);
    // A first eval gives the suite a cost history (the estimate the budget uses).
    const first = await moss(["--home", home, "eval", suite, "--trials", "2", "--json"], env(server));
    const perTrial = JSON.parse(first.stdout).agents[0].all.costUsd / 2;
    expect(perTrial).toBeGreaterThan(0);

    const dry = await moss(["--home", home, "eval", suite, "--trials", "6", "--dry-run"], env(server));
    expect(dry.code).toBe(0);
    expect(dry.stderr).toContain("from 2 earlier trial(s) of this suite");
    expect(readdirSync(path.join(home, "evals"))).toHaveLength(1);

    const budget = perTrial * 2.5;
    const r = await moss(
      [
        "--home",
        home,
        "eval",
        suite,
        "--trials",
        "6",
        "--parallel",
        "1",
        "--budget-usd",
        String(budget),
        "--json",
      ],
      env(server),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("stopped by the budget");
    const summary = JSON.parse(r.stdout);
    expect(summary.stoppedBy).toBe("budget");
    expect(summary.done).toBe(2);
    expect(summary.agents[0].all.costUsd).toBeLessThanOrEqual(budget);
  });

  it("runs a task's setup once before its trials; what it installs is shared with every trial, never copied", async () => {
    server = await startFakeModelServer(suiteResponder());
    const home = await makeHome();
    const suite = path.join(makeWorkspace({}), "deps");
    expect((await moss(["suite", "init", suite])).code).toBe(0);
    const marks = path.join(makeWorkspace({}), "setup-runs.log");
    const ws = makeWorkspace({
      ".gitignore": "node_modules\n",
      "check.js":
        'const dep = require("dep");\nconst fs = require("node:fs");\nprocess.exit(dep === 42 && fs.readFileSync("answer.txt", "utf8").trim() === "42" ? 0 : 1);\n',
    });
    addTasks(suite, [
      {
        id: "with-deps",
        prompt: "[solve] Write 42 into answer.txt.",
        workspace: ws,
        setup: `mkdir -p node_modules/dep && echo 'module.exports = 42;' > node_modules/dep/index.js && echo ran >> ${marks}`,
        check: "node check.js",
      },
    ]);
    const r = await moss(
      ["--home", home, "eval", suite, "--tasks", "with-deps", "--trials", "2", "--parallel", "2", "--json"],
      { ANTHROPIC_API_KEY: "sk-test", ANTHROPIC_BASE_URL: server.url },
    );
    expect(r.code).toBe(0);
    expect(perTask(JSON.parse(r.stdout))).toEqual({ "with-deps": "2/2" });
    expect(readFileSync(marks, "utf8")).toBe("ran\n");
    expect(existsSync(path.join(ws, "node_modules"))).toBe(false);
  });

  it("a failing setup stops the eval before any model call, naming the task and the command", async () => {
    server = await startFakeModelServer(suiteResponder());
    const home = await makeHome();
    const suite = path.join(makeWorkspace({}), "broken");
    expect((await moss(["suite", "init", suite])).code).toBe(0);
    addTasks(suite, [answerTask("needs-setup", "solve", { setup: "echo cannot install; exit 3" })]);
    const r = await moss(["--home", home, "eval", suite], {
      ANTHROPIC_API_KEY: "sk-test",
      ANTHROPIC_BASE_URL: server.url,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('task "needs-setup": its setup `echo cannot install; exit 3` exited 3');
    expect(r.stderr).toContain("cannot install");
    expect(server.requests).toHaveLength(0);
  });

  it("trials that hit model-service errors are not scores: left out, counted as errors, rerun on resume", async () => {
    server = await startFakeModelServer(() => ({
      status: 401,
      body: { type: "error", error: { type: "authentication_error", message: "invalid x-api-key" } },
    }));
    const home = await makeHome();
    const suite = path.join(makeWorkspace({}), "e");
    expect((await moss(["suite", "init", suite])).code).toBe(0);
    const env = { ANTHROPIC_API_KEY: "sk-test", ANTHROPIC_BASE_URL: server.url };
    const r = await moss(["--home", home, "eval", suite, "--trials", "2", "--json"], env);
    expect(r.code).toBe(1);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ done: 0, planned: 2, complete: false });
    expect(summary.agents[0].all).toMatchObject({ n: 0, errors: 2, pass1: null });
    expect(r.stderr).toContain("ERROR");

    await server.close();
    server = await startFakeModelServer(suiteResponder());
    const again = await moss(["--home", home, "eval", "--resume", summary.evalId, "--json"], {
      ANTHROPIC_API_KEY: "sk-test",
      ANTHROPIC_BASE_URL: server.url,
    });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).agents[0].all).toMatchObject({ n: 2, passes: 2, errors: 0 });
  });

  it("a check that cannot run on the untouched workspace stops the eval before any model call", async () => {
    server = await startFakeModelServer(suiteResponder());
    const home = await makeHome();
    const suite = path.join(makeWorkspace({}), "nocheck");
    expect((await moss(["suite", "init", suite])).code).toBe(0);
    addTasks(suite, [{ ...answerTask("bad-check", "solve"), check: "./run-tests.sh" }]);
    const r = await moss(["--home", home, "eval", suite, "--tasks", "bad-check"], {
      ANTHROPIC_API_KEY: "sk-test",
      ANTHROPIC_BASE_URL: server.url,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'task "bad-check": its check `./run-tests.sh` cannot run on the untouched workspace',
    );
    expect(server.requests).toHaveLength(0);
  });

  it("--against runs another agent revision on the same trials, paired per task", async () => {
    server = await startFakeModelServer(campaignResponder());
    // The head has the demo's weakness (edit_file ignores CRLF); HEAD~1 is the pristine agent.
    const home = await makeHome({ planted: true });
    const suite = path.join(makeWorkspace({}), "pair");
    expect((await moss(["suite", "init", suite])).code).toBe(0);
    const file = path.join(suite, "suite.json");
    const json = JSON.parse(readFileSync(file, "utf8"));
    json.tasks = [greetTask("crlf", "greeting", true), greetTask("lf", "hello", false)];
    writeFileSync(file, JSON.stringify(json));
    const r = await moss(
      ["--home", home, "eval", suite, "--against", "HEAD~1", "--trials", "3", "--parallel", "2", "--json"],
      { ANTHROPIC_API_KEY: "sk-test", ANTHROPIC_BASE_URL: server.url },
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.planned).toBe(12);
    expect(out.agents.map((a: { label: string }) => a.label)).toEqual(["head", "against"]);
    const byTask = Object.fromEntries(
      out.comparison.tasks.map((t: Record<string, unknown>) => [
        t.taskId,
        [t.pairs, t.headPasses, t.againstPasses],
      ]),
    );
    expect(byTask).toEqual({ crlf: [3, 0, 3], lf: [3, 3, 3] });
    expect(out.comparison.all).toMatchObject({
      pairs: 6,
      headOnly: 0,
      againstOnly: 3,
      verdict: "more trials needed",
    });
    // 3 of 3 pairs for the other revision decide the task; pooled with the tied task they do not.
    expect(out.comparison.tasks[0]).toMatchObject({ taskId: "crlf", verdict: "against better" });
    expect(out.comparison.tasks[1]).toMatchObject({ taskId: "lf", verdict: "more trials needed" });
    expect(out.comparison.all.pValue).toBeCloseTo(0.25, 5);
  });
});
