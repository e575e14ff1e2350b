import os from "node:os";
import chalk from "chalk";
import type { Command } from "commander";
import { UsageError } from "../errors.ts";
import { positiveInt, usdFlag } from "./flag-values.ts";
import { fmtUsd } from "./format.ts";
import { resolveHome } from "./home.ts";
import { openQueue, QUEUE_IN_FLIGHT, QUEUE_OPTION } from "./queue-option.ts";

export interface EvalFlags {
  trials: string;
  parallel?: string;
  budgetUsd?: string;
  seed?: string;
  against?: string;
  tasks?: string;
  split?: string;
  dryRun?: boolean;
  resume?: string;
  list?: boolean;
  json?: boolean;
  replay?: string;
  config?: string;
  sandbox: boolean;
  queue?: string;
}

export function registerEval(program: Command): void {
  program
    .command("eval")
    .description("measure the agent on a suite: every task x trials on a pool of workers, resumable")
    .argument("[suite]", "the suite folder (or its suite.json)")
    .option("--trials <n>", "trials per task", "1")
    .option("--parallel <n>", "trials at once (default: the number of cores)")
    .option("--budget-usd <usd>", "start no trial once the spend plus in-flight estimates would pass this")
    .option("--seed <n>", "the seed of the trial order (printed; the same seed gives the same order)")
    .option("--against <rev>", "also run another agent revision of this home on the same trials, paired")
    .option("--tasks <ids>", "only these task ids (comma-separated)")
    .option("--split <split>", "only the train or the holdout tasks")
    .option("--dry-run", "print the plan and the cost estimate, run nothing")
    .option("--resume <evalId>", "finish an interrupted eval: runs only the trials without a result")
    .option("--list", "list this home's evals")
    .option("--json", "print the summary as one JSON object on stdout")
    .option("--replay <file>", "serve model calls from a cassette (each trial replays it from the start)")
    .option("--config <file>", "config file (default: moss.config.json in the home)")
    .option("--no-sandbox", "run agent code without the bubblewrap sandbox (not recommended)")
    .option(...QUEUE_OPTION)
    .action(async (suiteRef: string | undefined, flags: EvalFlags, cmd: Command) => {
      const home = await resolveHome(cmd.optsWithGlobals().home);
      const store = await import("../eval/eval-store.ts");
      if (flags.list) {
        const { summarize } = await import("../eval/eval-summary.ts");
        for (const id of store.listEvals(home)) {
          const plan = store.loadPlan(home, id);
          const s = summarize(plan, store.readResults(home, id));
          const head = s.agents[0]?.all;
          console.log(
            `${id}  ${plan.suite.name.padEnd(20)} ${String(s.done).padStart(4)}/${s.planned}  pass@1 ${head?.pass1 === null || !head ? "–" : `${(head.pass1 * 100).toFixed(0)}%`}  ${fmtUsd(head?.costUsd ?? 0)}${plan.purpose ? chalk.dim(`  (${plan.purpose})`) : ""}`,
          );
        }
        return;
      }
      const say = (line: string) => process.stderr.write(`${line}\n`);
      const [{ loadConfig }, { prepareHome }, { resolveSandbox }, { makePlan, estimateCost }, { runEval }] =
        await Promise.all([
          import("../config/load-config.ts"),
          import("./prepare-home.ts"),
          import("../sandbox/resolve-sandbox.ts"),
          import("../eval/eval-plan.ts"),
          import("../eval/run-eval.ts"),
        ]);
      const { config } = loadConfig({ home, ...(flags.config ? { file: flags.config } : {}) });
      const parallel = flags.parallel
        ? positiveInt("--parallel", flags.parallel)
        : flags.queue
          ? QUEUE_IN_FLIGHT
          : os.availableParallelism();
      const budget = flags.budgetUsd !== undefined ? usdFlag("--budget-usd", flags.budgetUsd) : undefined;

      let plan: import("../eval/eval-store.ts").EvalPlan;
      if (flags.resume) {
        if (suiteRef) throw new UsageError("give either a suite or --resume <evalId>, not both");
        plan = store.loadPlan(home, flags.resume);
      } else {
        if (!suiteRef) throw new UsageError("name a suite folder (moss eval my-suite), or --resume <evalId>");
        const { loadSuite } = await import("../suite/load-suite.ts");
        const suite = loadSuite(suiteRef);
        const taskIds = selectTasks(suite.tasks, flags);
        const agents = await pinAgents(home, flags.against);
        plan = makePlan({
          suite,
          config,
          trials: positiveInt("--trials", flags.trials),
          seed:
            flags.seed !== undefined ? intFlag("--seed", flags.seed) : Math.floor(Math.random() * 2 ** 31),
          agents,
          taskIds,
        });
      }
      const before = store.readResults(home, plan.evalId).filter((r) => r.status === "scored");
      const doneKeys = new Set(before.map((r) => r.key));
      const open = plan.order.filter((k) => !doneKeys.has(k));
      const estimate = estimateCost(home, plan, config, open);
      say(
        `${flags.resume ? `resuming eval ${plan.evalId}: ${before.length} of ${plan.order.length} trials done; ` : ""}` +
          `${plan.tasks.length} task(s) x ${plan.trials} trial(s)${plan.agents.length > 1 ? ` x ${plan.agents.length} agents` : ""} = ${open.length} trial(s) to run ${flags.queue ? `through the queue, ${parallel} queued at once` : `on ${parallel} worker(s)`}, seed ${plan.seed}`,
      );
      say(
        `estimated cost ${fmtUsd(estimate.totalUsd)} (${fmtUsd(estimate.perTrialUsd)} a trial, ${estimate.basis})`,
      );
      if (budget !== undefined && estimate.totalUsd > budget) {
        say(chalk.yellow(`the estimate is over --budget-usd ${fmtUsd(budget)}: the eval will stop early`));
      }
      if (flags.dryRun) {
        for (const t of plan.tasks) say(`  ${t.id.padEnd(30)} ${t.split.padEnd(8)} ${t.check ?? "(rubric)"}`);
        return;
      }
      await prepareHome(home, (l) => say(`moss: ${l}`));
      if (flags.queue && flags.replay)
        throw new UsageError(
          "--replay serves this machine's model calls; queue workers use their own models",
        );
      // Through a queue no agent code runs here: the workers' sandboxes are the ones that count.
      const sandbox = flags.queue
        ? null
        : resolveSandbox(config, !flags.sandbox, (l) => say(`moss: ${l}`), home);
      const queued = flags.queue
        ? await openQueue(
            flags.queue,
            plan.tasks,
            say,
            (url) => `moss eval --resume ${plan.evalId} --queue ${url}`,
          )
        : null;
      if (!flags.resume) store.savePlan(home, plan);
      say(
        `eval ${plan.evalId} (resume with: moss eval --resume ${plan.evalId}${flags.queue ? " --queue URL" : ""})`,
      );

      const { createEvalView, formatSummary } = await import("./eval-view.ts");
      const view = createEvalView(plan, {
        tty: Boolean(process.stderr.isTTY),
        out: (s) => process.stderr.write(s),
        alreadyDone: before.length,
      });
      const abort = new AbortController();
      const onSigint = () => {
        if (abort.signal.aborted) process.exit(130);
        say("\nmoss: interrupted; stopping the trials in flight (Ctrl-C again to force)");
        abort.abort();
      };
      process.on("SIGINT", onSigint);
      let out: Awaited<ReturnType<typeof runEval>>;
      try {
        out = await runEval({
          home,
          plan,
          config,
          models: flags.replay ? { replay: flags.replay } : {},
          sandbox,
          parallel,
          ...(budget !== undefined ? { budgetUsd: budget } : {}),
          estimatePerTrialUsd: estimate.perTrialUsd,
          signal: abort.signal,
          onEvent: (e) => view.onEvent(e),
          ...(queued ? { executor: queued.execute } : {}),
        });
      } finally {
        process.off("SIGINT", onSigint);
        view.close();
        await queued?.close();
      }
      const { summarize } = await import("../eval/eval-summary.ts");
      const summary = summarize(plan, out.results);
      const comparison =
        plan.agents.length > 1
          ? (await import("../eval/compare-agents.ts")).compareAgents(plan, out.results)
          : null;
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ ...summary, stoppedBy: out.stoppedBy, comparison })}\n`);
      } else {
        console.log(formatSummary(summary));
        if (comparison) console.log((await import("./eval-view.ts")).formatComparison(comparison));
      }
      if (out.stoppedBy !== "done") {
        say(
          chalk.yellow(
            `${out.stoppedBy === "budget" ? "stopped by the budget" : "interrupted"}: ${summary.done} of ${summary.planned} trials done; finish with: moss eval --resume ${plan.evalId}${budget !== undefined ? " --budget-usd <more>" : ""}`,
          ),
        );
      }
      process.exitCode = out.stoppedBy === "interrupted" ? 130 : summary.complete ? 0 : 1;
    });
}

function intFlag(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new UsageError(`${flag} must be a whole number, got "${value}"`);
  return n;
}

function selectTasks(tasks: Array<{ id: string; split: string }>, flags: EvalFlags): string[] | undefined {
  if (flags.split !== undefined && !["train", "holdout"].includes(flags.split)) {
    throw new UsageError(`--split must be train or holdout, got "${flags.split}"`);
  }
  let ids = tasks.filter((t) => !flags.split || t.split === flags.split).map((t) => t.id);
  if (flags.tasks) {
    const wanted = flags.tasks.split(",").map((s) => s.trim());
    const unknown = wanted.filter((w) => !tasks.some((t) => t.id === w));
    if (unknown.length) throw new UsageError(`--tasks: no task ${unknown.join(", ")} in the suite`);
    ids = ids.filter((id) => wanted.includes(id));
  }
  if (!ids.length) throw new UsageError("no task of the suite matches --tasks and --split");
  return ids.length === tasks.length ? undefined : ids;
}

/** The head's commit, and with --against the other revision's, resolved in the home. */
async function pinAgents(home: string, against?: string) {
  const { headCommit, git } = await import("../git/repo.ts");
  const head = await headCommit(home);
  const agents: Array<{ label: "head" | "against"; rev: string; commit: string | null }> = [
    { label: "head", rev: "HEAD", commit: head },
  ];
  if (against !== undefined) {
    if (!head) throw new UsageError(`--against needs the home ${home} to be a git repository`);
    let commit: string;
    try {
      commit = (await git(home).revparse([`${against}^{commit}`])).trim();
    } catch {
      throw new UsageError(
        `--against: "${against}" is not a revision of ${home} (try a commit from \`git log\` there)`,
      );
    }
    agents.push({ label: "against", rev: against, commit });
  }
  return agents;
}
