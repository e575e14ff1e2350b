import os from "node:os";
import chalk from "chalk";
import type { Command } from "commander";
import { UsageError } from "../errors.ts";
import { positiveInt, usdFlag } from "./flag-values.ts";
import { fmtUsd } from "./format.ts";
import { resolveHome } from "./home.ts";
import { openQueue, QUEUE_IN_FLIGHT, QUEUE_OPTION } from "./queue-option.ts";
import { sanitize } from "./sanitize.ts";

interface EvolveFlags {
  generations: string;
  budgetUsd?: string;
  trials: string;
  batch: string;
  patience: string;
  parallel?: string;
  seed?: string;
  depth: string;
  patcherCmd?: string;
  yes?: boolean;
  resume?: string;
  list?: boolean;
  json?: boolean;
  config?: string;
  sandbox: boolean;
  queue?: string;
}

export function registerEvolve(program: Command): void {
  program
    .command("evolve")
    .description(
      "evolve the agent on a suite: generations of eval, a failure batch, a candidate, a cascade, promotion",
    )
    .argument("[suite]", "the suite folder (or its suite.json)")
    .option("--generations <n>", "generations to run (each proposes at most one candidate)", "3")
    .option("--budget-usd <usd>", "stop cleanly once the campaign's model spend would pass this")
    .option("--trials <n>", "trials per task when measuring the head", "2")
    .option("--batch <n>", "failing train tasks shown to the patcher per generation", "3")
    .option("--patience <n>", "stop after this many generations without an accepted candidate", "3")
    .option("--parallel <n>", "trials at once (default: the number of cores)")
    .option("--seed <n>", "the seed of trial orders and batch choice")
    .option("--depth <depth>", "plan review rounds: shallow, standard or deep", "standard")
    .option("--patcher-cmd <cli>", 'an external coding-agent CLI that writes the patch (e.g. "claude -p")')
    .option(
      "-y, --yes",
      "promote candidates that pass the cascade without asking (else they wait as pending)",
    )
    .option("--resume <campaignId>", "continue a stopped or killed campaign where it stopped")
    .option("--list", "list this home's campaigns")
    .option("--json", "print the final state and the figures per generation as JSON on stdout")
    .option("--config <file>", "config file (default: moss.config.json in the home)")
    .option("--no-sandbox", "run agent code without the bubblewrap sandbox (not recommended)")
    .option(...QUEUE_OPTION)
    .action(async (suiteRef: string | undefined, flags: EvolveFlags, cmd: Command) => {
      const home = await resolveHome(cmd.optsWithGlobals().home);
      const store = await import("../campaign/campaign-state.ts");
      if (flags.list) {
        for (const c of store.listCampaigns(home)) {
          const accepted = c.history.filter((g) => g.verdict === "accepted").length;
          console.log(
            `${c.campaignId}  ${c.suite.name.padEnd(20)} ${c.status.padEnd(11)} ${c.history.length} generation(s), ${accepted} accepted  ${chalk.dim(c.stopReason)}`,
          );
        }
        return;
      }
      if (!["shallow", "standard", "deep"].includes(flags.depth)) {
        throw new UsageError(`--depth must be shallow, standard or deep, got "${flags.depth}"`);
      }
      const say = (line: string) =>
        process.stderr.write(`${chalk.magenta("moss evolve:")} ${sanitize(line)}\n`);
      const [
        { loadConfig },
        { ModelRegistry },
        { prepareHome },
        { resolveSandbox },
        { runCampaign, generationFigures },
      ] = await Promise.all([
        import("../config/load-config.ts"),
        import("../models/model-registry.ts"),
        import("./prepare-home.ts"),
        import("../sandbox/resolve-sandbox.ts"),
        import("../campaign/run-campaign.ts"),
      ]);
      const { config } = loadConfig({ home, ...(flags.config ? { file: flags.config } : {}) });
      let state: import("../campaign/campaign-state.ts").CampaignState;
      if (flags.resume) {
        if (suiteRef) throw new UsageError("give either a suite or --resume <campaignId>, not both");
        state = store.loadCampaign(home, flags.resume);
        if (flags.yes) state.yes = true;
        if (flags.budgetUsd !== undefined) state.budgetUsd = usdFlag("--budget-usd", flags.budgetUsd);
        say(`resuming campaign ${state.campaignId} (${state.status}: ${state.stopReason || "in progress"})`);
      } else {
        if (!suiteRef)
          throw new UsageError("name a suite folder (moss evolve my-suite), or --resume <campaignId>");
        const { loadSuite } = await import("../suite/load-suite.ts");
        const suite = loadSuite(suiteRef);
        if (!suite.tasks.some((t) => t.split === "train")) {
          throw new UsageError(
            `${suite.file}: the suite has no train task to learn from (every task is holdout)`,
          );
        }
        const { newRunId } = await import("../run/run-record.ts");
        state = {
          campaignId: `c-${newRunId()}`,
          createdAt: new Date().toISOString(),
          suite: { name: suite.suite.name, file: suite.file },
          maxGenerations: positiveInt("--generations", flags.generations),
          trials: positiveInt("--trials", flags.trials),
          batchSize: positiveInt("--batch", flags.batch),
          patience: positiveInt("--patience", flags.patience),
          budgetUsd: flags.budgetUsd !== undefined ? usdFlag("--budget-usd", flags.budgetUsd) : null,
          seed:
            flags.seed !== undefined ? Number.parseInt(flags.seed, 10) : Math.floor(Math.random() * 2 ** 31),
          depth: flags.depth as "shallow" | "standard" | "deep",
          yes: Boolean(flags.yes),
          patcherCmd: flags.patcherCmd ?? null,
          status: "running",
          stopReason: "",
          patcherCostUsd: 0,
          history: [],
        };
        if (!Number.isInteger(state.seed))
          throw new UsageError(`--seed must be a whole number, got "${flags.seed}"`);
      }
      await prepareHome(home, (l) => say(l));
      const sandbox = resolveSandbox(config, !flags.sandbox, (l) => say(l), home);
      store.saveCampaign(home, state);
      say(`campaign ${state.campaignId} (resume with: moss evolve --resume ${state.campaignId})`);
      const abort = new AbortController();
      const onSigint = () => {
        if (abort.signal.aborted) process.exit(130);
        say("interrupted; stopping the trials in flight (Ctrl-C again to force)");
        abort.abort();
      };
      // Trials go to the queue's workers; the gate and the promotion stay here, in this home.
      const queued = flags.queue
        ? await openQueue(
            flags.queue,
            (await import("../suite/load-suite.ts")).loadSuite(state.suite.file).tasks,
            say,
            (url) => `moss evolve --resume ${state.campaignId} --queue ${url}`,
          )
        : null;
      process.on("SIGINT", onSigint);
      try {
        state = await runCampaign({
          home,
          state,
          config,
          models: new ModelRegistry(config),
          trialModels: {},
          sandbox,
          parallel: flags.parallel
            ? positiveInt("--parallel", flags.parallel)
            : queued
              ? QUEUE_IN_FLIGHT
              : os.availableParallelism(),
          ...(queued ? { executor: queued.execute } : {}),
          signal: abort.signal,
          say,
          onEvalEvent: (e) => {
            if (e.type === "finish" && !flags.json) {
              const r = e.result;
              process.stderr.write(
                chalk.dim(
                  `  ${r.agent === "against" ? "candidate" : "head"} ${r.taskId} #${r.trial + 1} ${r.status === "error" ? "ERROR" : r.passed ? "pass" : "fail"}\n`,
                ),
              );
            }
          },
        });
      } finally {
        process.off("SIGINT", onSigint);
        await queued?.close();
      }
      const figures = generationFigures(home, state);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ ...state, figures })}\n`);
      } else {
        const pct = (t: { passes: number; n: number } | null) =>
          t?.n ? `${t.passes}/${t.n} (${((t.passes / t.n) * 100).toFixed(0)}%)` : "–";
        console.log(chalk.bold(`\ncampaign ${state.campaignId}: ${state.status}: ${state.stopReason}`));
        console.log(
          chalk.dim(
            `${"gen".padEnd(4)} ${"head".padEnd(11)} ${"train".padEnd(13)} ${"holdout".padEnd(13)} ${"cost".padStart(9)}  verdict`,
          ),
        );
        for (const f of figures) {
          console.log(
            `${String(f.n).padEnd(4)} ${f.headCommit.slice(0, 10).padEnd(11)} ${pct(f.train).padEnd(13)} ${pct(f.holdout).padEnd(13)} ${fmtUsd(f.costUsd).padStart(9)}  ${f.final ? "final measurement" : sanitize(`${f.verdict ?? "–"}${f.reason ? `: ${f.reason}` : ""}`)}`,
          );
        }
      }
      process.exitCode = state.status === "interrupted" ? 130 : state.status === "budget" ? 1 : 0;
    });
}
