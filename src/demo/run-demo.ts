import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import chalk from "chalk";
import { ConfigSchema } from "../config/config-schema.ts";
import { evolve } from "../evolve/cycle.ts";
import { rollback } from "../evolve/land/rollback.ts";
import { commitIn } from "../git/ratchet.ts";
import { initHome } from "../home/init-home.ts";
import { readLog } from "../log/evolution-log.ts";
import { verifyLog } from "../log/verify-log.ts";
import { ModelRegistry, type ModelSource } from "../models/model-registry.ts";
import { runTask } from "../run/run-task.ts";
import type { SandboxLimits } from "../sandbox/limits.ts";
import { CHECK, PLANT, plantStep, TASK, WORKSPACE } from "./demo-scenario.ts";

export const DEMO_CASSETTE = new URL("./demo.cassette.json", import.meta.url).pathname;

export interface DemoResult {
  dir: string;
  home: string;
  workspace: string;
  before: number;
  after: number;
  acceptedCommit: string;
  rejected: number;
  verified: boolean;
  /** Wall time from the first run to the verified log; with a cassette, all of it is non-model time. */
  cycleMs: number;
}

/**
 * The whole self-improvement cycle, offline: only the model is replayed (or scripted while
 * recording); git, worktrees, vitest, scores and the log are real.
 */
export async function runDemo(opts: {
  packageRoot: string;
  dir?: string;
  source: ModelSource;
  out?: (line: string) => void;
  /** Sandbox limits, or null to run the (replayed, moss-written) demo agent without one. */
  sandbox: SandboxLimits | null;
}): Promise<DemoResult> {
  const sandbox = opts.sandbox;
  const out = opts.out ?? ((l: string) => console.log(l));
  const step = (n: number, text: string) => out(`\n${chalk.bold.cyan(`${n}.`)} ${chalk.bold(text)}`);
  const dir = opts.dir ? path.resolve(opts.dir) : mkdtempSync(path.join(os.tmpdir(), "moss-demo-"));
  mkdirSync(dir, { recursive: true });
  const home = path.join(dir, "home");
  const workspace = path.join(dir, "workspace");
  out(chalk.bold("moss demo: an agent that fixes its own weakness, offline"));
  out(
    chalk.dim(
      "model replies are replayed from a cassette; git, worktrees, vitest, scores and the log are real",
    ),
  );
  out(`home:      ${home}\nworkspace: ${workspace}`);

  step(1, "an agent home with a planted weakness");
  await initHome(home, opts.packageRoot);
  for (const p of PLANT) {
    const file = path.join(home, p.file);
    const text = readFileSync(file, "utf8");
    const planted = plantStep(text, p);
    if (planted === null) {
      throw new Error(
        `${p.file} in ${opts.packageRoot} differs from the pristine agent the demo was recorded against ` +
          "(it has evolved?). Run the demo from a pristine moss package.",
      );
    }
    writeFileSync(file, planted);
  }
  await commitIn(home, ["agent-src"], "demo: plant a weakness (edit_file ignores CRLF line endings)");
  out("edit_file now matches text byte for byte, so multi-line edits of CRLF (Windows) files fail;");
  out("the test that covered it is gone, so the agent's own tests still pass.");
  for (const [rel, content] of Object.entries(WORKSPACE)) {
    mkdirSync(path.dirname(path.join(workspace, rel)), { recursive: true });
    writeFileSync(path.join(workspace, rel), content);
  }

  const config = ConfigSchema.parse({ evolve: { regressionLimit: 5 } });
  const models = new ModelRegistry(config, opts.source, {});
  const t0 = Date.now();
  const runDemoTask = () =>
    runTask({
      home,
      task: TASK,
      workspace,
      check: CHECK,
      rubric: null,
      config,
      models,
      apply: true,
      sandbox,
    });

  step(2, `moss run "${TASK}" --check "${CHECK}"`);
  const first = await runDemoTask();
  const r1 = first.record;
  out(
    `${chalk.red.bold("FAIL")} score ${r1.score} after ${r1.turns} turns (${r1.exitReason}); workspace left untouched`,
  );
  for (const line of r1.checkOutputTail.trim().split("\n")) out(chalk.dim(`  check: ${line}`));

  step(3, "the agent improves itself");
  const outcome = await evolve({
    home,
    run: r1,
    config,
    models,
    depth: "standard",
    consent: async () => true,
    say: (l) => out(chalk.magenta(`  ${l}`)),
    sandbox,
  });
  if (!outcome.accepted)
    throw new Error(`the demo's evolution did not land a candidate: ${outcome.records.at(-1)?.reason}`);

  step(4, "retry the task with the improved agent");
  const second = await runDemoTask();
  const r2 = second.record;
  out(
    `${r2.passed ? chalk.green.bold("PASS") : chalk.red.bold("FAIL")} score ${r2.score}; applied to the workspace: ${r2.applied}`,
  );
  out(chalk.dim(r2.diff.trimEnd()));

  step(5, "moss log");
  for (const { record: r } of readLog(home)) {
    const v = r.verdict === "accepted" ? chalk.green(r.verdict) : chalk.red(r.verdict);
    out(`  ${r.seq}  ${r.id}  ${v.padEnd(18)} ${r.reason.slice(0, 110)}`);
  }

  step(6, `moss rollback ${r1.agentCommit?.slice(0, 10)}   (back to the weak agent, as a new gated commit)`);
  const rb = await rollback(sandbox, home, r1.agentCommit!, config);
  out(`rolled back: new head ${rb.commit.slice(0, 10)}; history kept (${readLog(home).length} log records)`);
  const verified = await verifyLog(home);
  out(
    verified.ok
      ? chalk.green("moss log --verify: chain intact, every accepted diff matches its commit")
      : chalk.red(verified.problems.join("\n")),
  );
  const cycleMs = Date.now() - t0;
  out(`\nscore before ${r1.score} -> after ${r2.score}.`);
  out(
    opts.dir
      ? `Inspect it all: cd ${home} && git log --stat; npx moss --home ${home} log`
      : "The demo folder is removed now; run `npx moss demo --dir DIR` to keep it for inspection.",
  );
  return {
    dir,
    home,
    workspace,
    before: r1.score,
    after: r2.score,
    acceptedCommit: outcome.accepted.commit,
    rejected: outcome.records.filter((r) => r.verdict === "rejected").length,
    verified: verified.ok,
    cycleMs,
  };
}
