import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import { CHECK, TASK, WORKSPACE } from "../src/demo/demo-scenario.ts";
import { seededRandom } from "../src/eval/stats.ts";
import { readLog } from "../src/log/evolution-log.ts";
import type { FakeServer } from "./helpers/fake-model-server.ts";
import { makeHome } from "./helpers/homes.ts";
import {
  DEMO_FIX,
  DEMO_GREET_EDIT,
  type ModelScript,
  patcherAnswers,
  startModelScript,
} from "./helpers/model-script.ts";
import { moss } from "./helpers/moss-cli.ts";
import { describeSandboxed } from "./helpers/sandbox-gate.ts";
import { makeWorkspace, mathProject } from "./helpers/workspaces.ts";

// End to end through the built binary: a loopback model API whose executor and patcher follow a
// script, the real agent in its own process, real checks, real gate, real git.
const servers: FakeServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});
async function serve(script: ModelScript) {
  const server = await startModelScript(script);
  servers.push(server);
  return { ANTHROPIC_API_KEY: "sk-test", ANTHROPIC_BASE_URL: server.url };
}
const MATH_TASK = "make the failing test pass";
const RIGHT = { path: "src/math.js", old_string: "a - b", new_string: "a + b" };
const WRONG = { path: "src/math.js", old_string: "a - b", new_string: "a * b" };
const OLD_LF = DEMO_GREET_EDIT.old_string;
const NEW_LF = DEMO_GREET_EDIT.new_string;
const FIX = DEMO_FIX;
const LOOP = "export async function runAgentLoop(";
const comment = { path: "agent-src/loop.ts", old_string: LOOP, new_string: `// A note.\n${LOOP}` };

const runArgs = (home: string, task: string, ws: string, check: string, ...extra: string[]) => [
  "--home",
  home,
  "run",
  task,
  "-w",
  ws,
  "--check",
  check,
  "--json",
  "--depth",
  "shallow",
  ...extra,
];

const headOf = (home: string) => execFileSync("git", ["rev-parse", "main"], { cwd: home, encoding: "utf8" });

function setConfig(home: string, config: unknown) {
  writeFileSync(path.join(home, "moss.config.json"), JSON.stringify(config));
}

describeSandboxed("acceptance under noise, through the binary", () => {
  it("A/A: a comment-only candidate against an executor that passes half the time is rarely accepted", async () => {
    // Each lane: one home, one seeded model. The run that starts each cycle fails (it is the
    // failure evolution was picked for); every later run passes with p = 0.5 whatever agent-src
    // says, and every candidate only adds a comment. The reproduction filter is off, so every
    // cycle is judged: the strictest case for false accepts.
    const lane = async (seed: number) => {
      const rand = seededRandom(seed);
      let trigger = false;
      const env = await serve({
        edit: () => {
          const right = !trigger && rand() < 0.5;
          trigger = false;
          return right ? RIGHT : WRONG;
        },
        patcher: patcherAnswers("add a note", [comment]),
      });
      const home = await makeHome();
      setConfig(home, { evolve: { reproduceTrials: 0, regressionLimit: 0 } });
      const ws = makeWorkspace(mathProject);
      let judged = 0;
      let accepted = 0;
      for (let i = 0; i < 3; i++) {
        trigger = true;
        const r = await moss(runArgs(home, MATH_TASK, ws, "node --test", "--yes", "--no-apply"), env);
        const last = JSON.parse(r.stdout).evolution?.attempts.at(-1);
        if (!last || !/failing task/.test(last.reason)) continue;
        judged++;
        if (last.verdict === "accepted") accepted++;
      }
      return { judged, accepted, log: readLog(home).map((e) => e.record) };
    };
    const lanes = await Promise.all([11, 12].map(lane));
    const judged = lanes.reduce((n, l) => n + l.judged, 0);
    const accepted = lanes.reduce((n, l) => n + l.accepted, 0);
    console.log(
      `A/A through the binary at p = 0.5: ${accepted} of ${judged} comment-only candidates accepted`,
    );
    expect(judged).toBe(6);
    // The rule's bound is 4% per judged candidate: P(2 or more of 6) = 2.2%. The old rule
    // (one replay beats the trigger's 0) accepted about half of them.
    expect(accepted).toBeLessThanOrEqual(1);
    for (const l of lanes)
      for (const r of l.log.filter((x) => x.judgement?.comparisons.length)) {
        const target = r.judgement!.comparisons[0]!;
        expect(target.head.length).toBe(target.candidate.length);
        expect(target.pairs).toBeGreaterThanOrEqual(3);
      }
  }, 600_000);

  it("rejects a real fix for the failing task that breaks a task of the regression panel", async () => {
    const env = await serve({
      edit: (task) =>
        task.includes("greet") ? { path: "src/greeting.js", old_string: OLD_LF, new_string: NEW_LF } : RIGHT,
      // Fixes CRLF edits, and refuses every edit of math.js: a task that passed before now fails.
      patcher: patcherAnswers("edit_file: match LF text in CRLF files", [
        ...FIX,
        {
          path: "agent-src/tools/edit-file-tool.ts",
          old_string: "    const file = resolveInside(root, input.path);",
          new_string:
            '    const file = resolveInside(root, input.path);\n    if (input.path.endsWith("math.js")) return fail("math.js is read-only");',
        },
      ]),
    });
    const home = await makeHome({ planted: true });
    const panelRun = await moss(
      runArgs(home, MATH_TASK, makeWorkspace(mathProject), "node --test", "--no-evolve"),
      env,
    );
    expect(JSON.parse(panelRun.stdout).passed).toBe(true);
    const head = headOf(home);
    const r = await moss(runArgs(home, TASK, makeWorkspace(WORKSPACE), CHECK, "--yes"), env);
    const evolution = JSON.parse(r.stdout).evolution;
    expect(evolution.accepted).toBeNull();
    expect(evolution.attempts.at(-1).reason).toMatch(
      /^regression on (a sealed panel task|"make the failing test pass"): head 3\/3, candidate 0\/3 passes/,
    );
    expect(headOf(home)).toBe(head);
    const record = readLog(home).at(-1)!.record;
    expect(record.judgement?.comparisons.map((c) => c.call)).toEqual(["better", "regressed"]);
    const shown = await moss(["--home", home, "log", record.id]);
    expect(shown.stdout).toMatch(/(panel|sealed)\s+>= 1\s+✓✓✓ 3\/3\s+✗✗✗ 0\/3\s+3\s+h-c=3\s+>=3\s+regressed/);
  }, 300_000);

  it("leaves a candidate undecided, not rejected, when its trials hit model errors", async () => {
    const env = await serve({
      // The failing run and the head's re-run work; then the service is overloaded for good (529,
      // retried at once by the client, then a model-service failure: not the agent's fault).
      edit: (_task, run) =>
        run < 2
          ? { path: "src/greeting.js", old_string: OLD_LF, new_string: NEW_LF }
          : { status: 529, headers: { "retry-after-ms": "1" } },
      patcher: patcherAnswers("edit_file: match LF text in CRLF files", FIX),
    });
    const home = await makeHome({ planted: true });
    const head = headOf(home);
    const r = await moss(runArgs(home, TASK, makeWorkspace(WORKSPACE), CHECK, "--yes"), env);
    const evolution = JSON.parse(r.stdout).evolution;
    expect(evolution.accepted).toBeNull();
    expect(evolution.attempts.at(-1), JSON.stringify(evolution.attempts)).toMatchObject({
      verdict: "undecided",
    });
    expect(evolution.attempts.at(-1).reason).toMatch(
      /^undecided: 3 pair\(s\) on the failing task were left out for errors \(the executor model failed: model API error 529/,
    );
    expect(headOf(home)).toBe(head);
    const record = readLog(home).at(-1)!.record;
    const target = record.judgement!.comparisons[0]!;
    expect(target).toMatchObject({ pairs: 0, invalidPairs: 3, call: "undecided" });
    expect(target.head.every((t) => t.error)).toBe(true);
  }, 300_000);
});
