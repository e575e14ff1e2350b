import chalk from "chalk";
import type { Command } from "commander";
import { UsageError } from "../errors.ts";
import type { ModelRegistry } from "../models/model-registry.ts";
import { colorDiff, fmtTokens, fmtUsd } from "./format.ts";
import { resolveHome } from "./home.ts";

export interface RunFlags {
  workspace: string;
  check?: string;
  rubric?: string;
  threshold?: string;
  json?: boolean;
  replay?: string;
  record?: string;
  config?: string;
  home?: string;
  apply: boolean;
  evolve: boolean;
  sandbox: boolean;
  maxTurns?: string;
  depth: string;
  patcherCmd?: string;
  yes?: boolean;
  allowEscalation?: boolean;
  trials?: string;
}

export function registerRun(program: Command, makeHook: (flags: RunFlags) => EvolveHook): void {
  program
    .command("run")
    .description("run the agent on a task in a scratch copy of the workspace; apply the result if it passes")
    .argument("<task>", "what the agent should do")
    .option("-w, --workspace <dir>", "the folder to work on", ".")
    .option("-c, --check <command>", "a command whose tests or exit code score the result")
    .option("--rubric <text>", "a rubric for the judge model")
    .option("--threshold <n>", "the score (0..1) needed to pass")
    .option("--max-turns <n>", "the agent's turn limit")
    .option("--json", "print one JSON object instead of a summary")
    .option("--replay <file>", "serve model calls from a cassette instead of a provider")
    .option("--record <file>", "record every model exchange to a cassette")
    .option("--config <file>", "config file (default: moss.config.json in the home)")
    .option("--no-apply", "never change the workspace, even when the attempt passes")
    .option("--no-evolve", "do not improve the agent when the run fails")
    .option("--no-sandbox", "run agent code without the bubblewrap sandbox (not recommended)")
    .option("--depth <depth>", "evolution depth: shallow, standard or deep", "standard")
    .option("--trials <n>", "replays of the failed task per candidate (default: set by --depth)")
    .option("--patcher-cmd <cli>", 'an external coding-agent CLI that writes the patch (e.g. "claude -p")')
    .option("-y, --yes", "promote an improvement that passes every check without asking")
    .option(
      "--allow-escalation",
      "consent to patches that add env, network or process access or raise the agent's limits",
    )
    .action(async (task: string, flags: RunFlags, cmd: Command) => {
      const home = await resolveHome(cmd.optsWithGlobals().home);
      if (!["shallow", "standard", "deep"].includes(flags.depth)) {
        throw new UsageError(`--depth must be shallow, standard or deep, got "${flags.depth}"`);
      }
      const [{ loadConfig }, { ModelRegistry }, { runTask }, { prepareHome }] = await Promise.all([
        import("../config/load-config.ts"),
        import("../models/model-registry.ts"),
        import("../run/run-task.ts"),
        import("./prepare-home.ts"),
      ]);
      if (
        flags.trials !== undefined &&
        !(Number.isInteger(Number(flags.trials)) && Number(flags.trials) >= 1)
      ) {
        throw new UsageError(`--trials must be a whole number of at least 1, got "${flags.trials}"`);
      }
      await prepareHome(home, (l) => process.stderr.write(`moss: ${l}\n`));
      const { config } = loadConfig({
        home,
        ...(flags.config ? { file: flags.config } : {}),
        overrides: (raw) => {
          if (flags.threshold !== undefined) raw.threshold = numberFlag("--threshold", flags.threshold);
          if (flags.allowEscalation) raw.evolve = { ...(raw.evolve as object), allowEscalation: true };
          if (flags.maxTurns !== undefined) {
            raw.limits = { ...(raw.limits as object), maxTurns: numberFlag("--max-turns", flags.maxTurns) };
          }
        },
      });
      const models = new ModelRegistry(config, {
        ...(flags.replay ? { replay: flags.replay } : {}),
        ...(flags.record ? { record: flags.record } : {}),
      });
      const { resolveSandbox } = await import("../sandbox/resolve-sandbox.ts");
      const sandbox = resolveSandbox(config, !flags.sandbox, (l) => process.stderr.write(`moss: ${l}\n`));
      const abort = new AbortController();
      const onSigint = () => {
        if (abort.signal.aborted) process.exit(130);
        process.stderr.write(
          "\nmoss: interrupted; stopping the agent and cleaning up (Ctrl-C again to force)\n",
        );
        abort.abort();
      };
      process.on("SIGINT", onSigint);
      try {
        const { record } = await runTask({
          home,
          task,
          workspace: flags.workspace,
          check: flags.check ?? null,
          rubric: flags.rubric ?? null,
          config,
          models,
          apply: flags.apply,
          sandbox,
          signal: abort.signal,
          ...(flags.json ? {} : { onEvent: progress }),
        });
        let evolution: EvolutionSummary | undefined;
        if (!record.passed && flags.evolve && config.evolve.enabled && !abort.signal.aborted) {
          evolution = await makeHook(flags)({
            home,
            record,
            config,
            models,
            json: Boolean(flags.json),
            signal: abort.signal,
            sandbox,
          });
        }
        if (flags.json) {
          const { snapshot: _s, ...rest } = record;
          process.stdout.write(`${JSON.stringify({ ...rest, costUsd: models.totalCost(), evolution })}\n`);
        } else if (!evolution) {
          printSummary(record);
        }
        const passed = evolution?.retry?.passed ?? record.passed;
        process.exitCode = abort.signal.aborted ? 130 : passed ? 0 : 1;
      } finally {
        process.off("SIGINT", onSigint);
      }
    });
}

export type EvolveHook = (input: {
  home: string;
  record: import("../run/run-record.ts").RunRecord;
  config: import("../config/config-schema.ts").Config;
  models: ModelRegistry;
  json: boolean;
  signal: AbortSignal;
  sandbox: import("../sandbox/limits.ts").SandboxLimits | null;
}) => Promise<EvolutionSummary>;

export interface EvolutionSummary {
  attempts: Array<{ id: string; verdict: string; reason: string }>;
  accepted: { id: string; commit: string } | null;
  pending: string | null;
  retry: { runId: string; score: number; passed: boolean } | null;
}

function numberFlag(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new UsageError(`${flag} must be a number, got "${value}"`);
  return n;
}

function progress(line: Record<string, unknown>): void {
  if (line.type === "tool_call") {
    const input = JSON.stringify(line.input) ?? "";
    process.stderr.write(chalk.dim(`  → ${line.name} ${input.slice(0, 100)}\n`));
  } else if (line.type === "tool_result" && line.isError) {
    process.stderr.write(chalk.dim.yellow(`    ✗ ${String(line.content).split("\n")[0]?.slice(0, 120)}\n`));
  }
}

export function printSummary(record: import("../run/run-record.ts").RunRecord): void {
  const verdict = record.passed ? chalk.green.bold("PASS") : chalk.red.bold("FAIL");
  console.log(
    `${verdict} score ${record.score.toFixed(3)} (threshold ${record.threshold})  run ${record.runId}`,
  );
  console.log(
    `  exit: ${record.exitReason}${record.detail ? ` (${record.detail})` : ""}; turns: ${record.turns}`,
  );
  console.log(`  tokens: ${fmtTokens(record.usage)}; cost: ${fmtUsd(record.costUsd)}`);
  for (const r of record.rationale) console.log(`  · ${r}`);
  if (record.diff) {
    console.log(colorDiff(record.diff.trimEnd()));
  } else {
    console.log(chalk.dim("  (no changes)"));
  }
  if (record.applied)
    console.log(chalk.green(`  applied ${record.changedFiles.length} file(s) to ${record.workspace}`));
  else if (record.applyConflicts.length) {
    console.log(chalk.yellow(`  not applied: changed in the meantime: ${record.applyConflicts.join(", ")}`));
  } else if (!record.passed && record.diff) console.log(chalk.dim(`  not applied: the attempt did not pass`));
}
