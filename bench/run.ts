/**
 * moss benchmarks: each figure is printed beside a baseline measured in the same run, with the
 * ratio and the goal. Timings are never asserted in tests; this is where they are watched.
 *   npm run bench            (builds first)
 *   npm run bench -- --quick (skips the slow naive clone + npm ci path and the 100k-file workspace)
 *   npm run bench -- --size  (only the workspace set-up time and disk figures)
 *   npm run bench -- --eval  (only the eval pool figures)
 *   npm run bench -- --queue (only the queue figures: 1 vs 2 `moss worker` processes over Redis)
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { runAgentLoop } from "../agent-src/loop.ts";
import { createTools } from "../agent-src/tools/index.ts";
import { runAgentProcess } from "../src/agent-host/agent-process.ts";
import { packageRoot } from "../src/cli/home.ts";
import type { AgentLimits, ModelTurn } from "../src/contract/index.ts";
import { DEMO_CASSETTE, runDemo } from "../src/demo/run-demo.ts";
import { runGate } from "../src/evolve/check/gate.ts";
import { checkScope } from "../src/evolve/check/scope-check.ts";
import { createWorktree } from "../src/git/worktree.ts";
import { initHome } from "../src/home/init-home.ts";
import { readLog } from "../src/log/evolution-log.ts";
import type { Provider } from "../src/models/provider.ts";
import { sandboxAvailable } from "../src/sandbox/sandbox.ts";
import { meetsGoal, SCENARIOS, simulate, simulateOldRule } from "./acceptance-sim.ts";
import { benchEvalParallel } from "./eval-parallel.ts";
import { benchQueueWorkers } from "./queue-workers.ts";
import { benchWorkspaceSize } from "./workspace-size.ts";

const quick = process.argv.includes("--quick");
/** The real path sandboxes the agent and the gate; without bubblewrap the bench says so and runs bare. */
const SANDBOX = sandboxAvailable().ok ? { maxProcs: 512, memoryMb: 4096 } : null;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
const ms = (n: number) => `${n.toFixed(n < 10 ? 2 : 0)} ms`;
const rows: string[][] = [];
function report(name: string, value: string, baseline: string, ratio: string, goal: string, ok: boolean) {
  rows.push([name, value, baseline, ratio, goal, ok ? "ok" : "MISSED"]);
  console.error(
    `  ${name}: ${value} (baseline ${baseline}, ${ratio}) goal ${goal} -> ${ok ? "ok" : "MISSED"}`,
  );
}
function timeCommand(cmd: string, args: string[], runs: number, cwd = packageRoot): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const r = spawnSync(cmd, args, { cwd, stdio: "ignore" });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}`);
    times.push(performance.now() - t);
  }
  return median(times);
}

const limits: AgentLimits = {
  maxTurns: 1000,
  wallClockMs: 600_000,
  tokenBudget: 1e9,
  commandTimeoutMs: 10_000,
  maxOutputTokens: 1024,
};
const noopCall = (i: number): ModelTurn => ({
  content: [{ type: "tool_use", id: `t${i}`, name: "list_dir", input: {} }],
  stopReason: "tool_use",
  usage: { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 },
});
const done: ModelTurn = {
  content: [{ type: "text", text: "done" }],
  stopReason: "end_turn",
  usage: { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 },
};

/** A provider that answers `turns` no-op tool calls, then ends, timing the gap between calls. */
function timingProvider(turns: number) {
  const gaps: number[] = [];
  let last = 0;
  let first = 0;
  let i = 0;
  const provider: Provider = {
    name: "bench",
    model: "bench",
    async complete() {
      const now = performance.now();
      if (i === 0) first = now;
      else gaps.push(now - last);
      last = now;
      return i++ < turns ? noopCall(i) : done;
    },
  };
  return { provider, gaps, firstCallAt: () => first };
}

async function main() {
  console.error(`moss bench (sandbox: ${SANDBOX ? "bubblewrap" : "none, bubblewrap is not available"})\n`);
  if (process.argv.includes("--eval")) {
    await benchEvalParallel(report, packageRoot, SANDBOX);
    printTable();
    return;
  }
  if (process.argv.includes("--queue")) {
    await benchQueueWorkers(report, packageRoot);
    printTable();
    return;
  }
  if (process.argv.includes("--size")) {
    await benchWorkspaceSize(report, packageRoot, SANDBOX, quick);
    printTable();
    return;
  }
  // 1. moss --help against a bare node start.
  const node = timeCommand(process.execPath, ["-e", ""], 10);
  const help = timeCommand(process.execPath, [path.join(packageRoot, "bin/moss.js"), "--help"], 10);
  report(
    "moss --help wall time",
    ms(help),
    `node -e '' ${ms(node)}`,
    `${(help / node).toFixed(1)}x`,
    "<= 200 ms",
    help <= 200,
  );

  // 2. Agent child start: spawn to first model request.
  const ws = mkdtempSync(path.join(os.tmpdir(), "moss-bench-ws-"));
  const starts: number[] = [];
  for (let k = 0; k < 5; k++) {
    const t = timingProvider(0);
    const t0 = performance.now();
    await runAgentProcess({
      agentDir: packageRoot,
      workspace: ws,
      task: "bench",
      limits,
      provider: t.provider,
      sandbox: SANDBOX,
    });
    starts.push(t.firstCallAt() - t0);
  }
  const childStart = median(starts);
  report(
    "agent child start (spawn -> first model call)",
    ms(childStart),
    `node -e '' ${ms(node)}`,
    `${(childStart / node).toFixed(1)}x`,
    "reported",
    true,
  );

  // 3. Harness overhead per tool call: child over stdio vs. the same loop in-process.
  const N = 300;
  const child = timingProvider(N);
  await runAgentProcess({
    agentDir: packageRoot,
    workspace: ws,
    task: "bench",
    limits,
    provider: child.provider,
    onEvent: () => {},
    sandbox: SANDBOX,
  });
  const inproc = timingProvider(N);
  await runAgentLoop({
    task: "bench",
    systemPrompt: "bench",
    channel: { complete: (r) => inproc.provider.complete(r) },
    tools: createTools(ws, limits),
    limits,
  });
  const overhead = median(child.gaps) - median(inproc.gaps);
  report(
    "harness overhead per tool call (IPC round trip + logging, no-op tool)",
    ms(overhead),
    `in-process loop ${ms(median(inproc.gaps))}/call`,
    `child ${ms(median(child.gaps))}/call`,
    "<= 2 ms median",
    overhead <= 2,
  );

  // 4. Gate: patch -> verdict on the default agent-src, against a bare vitest run of the same tests.
  const home = path.join(mkdtempSync(path.join(os.tmpdir(), "moss-bench-home-")), "home");
  await initHome(home, packageRoot);
  const vitest = path.join(home, "node_modules", "vitest", "vitest.mjs");
  const bare = timeCommand(
    process.execPath,
    [vitest, "run", "agent-src", "--root", home, "--pool=threads"],
    3,
    home,
  );
  const gateTimes: number[] = [];
  for (let k = 0; k < 3; k++) {
    const t = performance.now();
    const wt = await createWorktree(home, "HEAD");
    writeFileSync(path.join(wt.dir, "agent-src", "NOTES.md"), `note ${k}\n`);
    const scope = await checkScope(wt.dir, {
      allowPaths: ["agent-src/"],
      maxPatchBytes: 65536,
      taskFileNames: [],
    });
    const gate = await runGate(wt.dir, 300_000, SANDBOX);
    if (!scope.result.passed || !gate.passed) throw new Error(`bench gate failed: ${gate.summary}`);
    await wt.remove();
    gateTimes.push(performance.now() - t);
  }
  const gate = median(gateTimes);
  report(
    "gate: patch -> verdict (worktree, scope, typecheck, vitest)",
    ms(gate),
    `bare vitest ${ms(bare)}`,
    `${(gate / bare).toFixed(2)}x`,
    "<= 1.5x bare vitest",
    gate <= 1.5 * bare,
  );

  if (!quick) {
    const dir = mkdtempSync(path.join(os.tmpdir(), "moss-bench-naive-"));
    const t = performance.now();
    execFileSync("git", ["clone", "--quiet", packageRoot, path.join(dir, "moss")]);
    execFileSync(
      "npm",
      ["ci", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
      { cwd: path.join(dir, "moss"), stdio: "ignore" },
    );
    spawnSync(process.execPath, [path.join(dir, "moss/node_modules/vitest/vitest.mjs"), "run", "agent-src"], {
      cwd: path.join(dir, "moss"),
      stdio: "ignore",
    });
    const naive = performance.now() - t;
    rmSync(dir, { recursive: true, force: true });
    report(
      "naive path (fresh clone + npm ci + vitest)",
      ms(naive),
      `gate ${ms(gate)}`,
      `gate is ${(naive / gate).toFixed(1)}x faster`,
      "gate >= 10x faster",
      naive / gate >= 10,
    );
  }

  // 5. The demo's whole cycle with replayed models: all of it is non-model time.
  const demoDir = path.join(mkdtempSync(path.join(os.tmpdir(), "moss-bench-demo-")), "d");
  mkdirSync(demoDir);
  const demo = await runDemo({
    packageRoot,
    dir: demoDir,
    source: { replay: DEMO_CASSETTE },
    out: () => {},
    sandbox: SANDBOX,
  });
  const attempts = demo.rejected + 1 + 1; // rejected + accepted evolution attempts + the rollback
  const perRecord = readLog(demo.home).map((e) => e.record.timings.totalMs ?? 0);
  report(
    "demo: non-model time per evolution attempt (median of log records)",
    ms(median(perRecord)),
    `records ${perRecord.map((x) => ms(x)).join(", ")}`,
    "-",
    "<= 3000 ms",
    median(perRecord) <= 3000,
  );
  report(
    "demo: whole cycle / attempts (with the runs, retry and rollback)",
    ms(demo.cycleMs / attempts),
    `whole cycle ${ms(demo.cycleMs)}`,
    `${attempts} attempts`,
    "<= 3000 ms",
    demo.cycleMs / attempts <= 3000,
  );

  // 6. Acceptance under noise: the real judge on 10,000 simulated cycles per scenario, against
  // the old rule (one replay beats the trigger's score, one trial per panel task).
  const cycles = quick ? 2000 : 10_000;
  for (const [i, s] of SCENARIOS.entries()) {
    const f = await simulate(s, cycles, 1000 + i);
    const rate = f[s.measure] / Math.max(1, f.judged);
    report(
      `acceptance: ${s.name} (${s.measure} of ${f.judged} judged; agent runs mean ${f.meanRuns.toFixed(1)}, p95 ${f.p95Runs})`,
      `${(100 * rate).toFixed(1)}%`,
      `old rule ${(100 * simulateOldRule(s, cycles, 2000 + i)).toFixed(1)}% accepted`,
      `${(100 * (f.undecided / Math.max(1, f.judged))).toFixed(1)}% undecided`,
      s.goal,
      meetsGoal(s, f),
    );
  }

  // 7. Peak RSS of this harness process across all of the above.
  const rssMb = process.resourceUsage().maxRSS / 1024;
  report("harness peak RSS", `${rssMb.toFixed(0)} MB`, "-", "-", "<= 200 MB", rssMb <= 200);

  // 7. moss eval: the worker pool's speed-up and its per-trial overhead against a bare run.
  await benchEvalParallel(report, packageRoot, SANDBOX);

  // 8. Per-run set-up time and disk on big workspaces, against cp -r and git worktree add.
  await benchWorkspaceSize(report, packageRoot, SANDBOX, quick);

  // 9. moss eval --queue: 1 vs 2 worker processes over Redis, and the queue's per-trial overhead.
  if (!quick) await benchQueueWorkers(report, packageRoot);
  printTable();
  rmSync(ws, { recursive: true, force: true });
}

function printTable(): void {
  console.log(`\n| figure | value | baseline (same run) | ratio | goal | |\n|---|---|---|---|---|---|`);
  for (const r of rows) console.log(`| ${r.join(" | ")} |`);
}

await main();
