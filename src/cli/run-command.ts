import type { Command } from "commander";
import { UsageError } from "../errors.ts";
import type { ModelRegistry } from "../models/model-registry.ts";
import { killAllGroups } from "../process/run-in-group.ts";
import { errChalk, stderrIsTerminal } from "./color.ts";
import { runExitCode } from "./exit-codes.ts";
import { durationFlag, numberFlag } from "./flag-values.ts";
import { resolveHome } from "./home.ts";
import { createProgress } from "./progress.ts";
import { blameMessage, printSummary } from "./run-summary.ts";
import { safeJson } from "./sanitize.ts";
import { readTask } from "./task-input.ts";

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
  allowTestChanges?: boolean;
  trials?: string;
  taskFile?: string;
  model?: string;
  patcherModel?: string;
  checkTimeout?: string;
  modelTimeout?: string;
  jsonStream?: boolean;
}

export function registerRun(program: Command, makeHook: (flags: RunFlags) => EvolveHook): void {
  program
    .command("run")
    .description("run the agent on a task in a scratch copy of the workspace; apply the result if it passes")
    .argument("[task]", "what the agent should do; - reads it from standard input")
    .option("--task-file <file>", "read the task from FILE (any size)")
    .option("-w, --workspace <dir>", "the folder to work on", ".")
    .option("-c, --check <command>", "a command whose tests or exit code score the result")
    .option("--rubric <text>", "a rubric for the judge model")
    .option("--threshold <n>", "the score (0..1) needed to pass")
    .option("-m, --model <model>", "the executor model (config models.executor.model)")
    .option("--patcher-model <model>", "the patcher model used to evolve the agent")
    .option("--max-turns <n>", "the agent's turn limit")
    .option("--check-timeout <duration>", "kill the check after this long (30s, 5m; config check.timeoutMs)")
    .option("--model-timeout <duration>", "time allowed per model request (config providers.*.timeoutMs)")
    .option("--json", "print one JSON object instead of a summary (and no progress)")
    .option("--json-stream", "print one JSON object per line: each event as it happens, the result last")
    .option("--replay <file>", "serve model calls from a cassette instead of a provider")
    .option("--record <file>", "record every model exchange to a cassette")
    .option("--config <file>", "a config file on top of ~/.config/moss/config.json and the home's")
    .option("--no-apply", "never change the workspace, even when the attempt passes")
    .option("--no-evolve", "do not improve the agent when the run fails")
    .option("--no-sandbox", "run agent code without the bubblewrap sandbox (not recommended)")
    .option("--depth <depth>", "evolution depth: shallow, standard or deep", "standard")
    .option(
      "--trials <n>",
      "cap on paired head/candidate trials per task (default: the rule's 10; lower is cheaper, never more false accepts)",
    )
    .option("--patcher-cmd <cli>", 'an external coding-agent CLI that writes the patch (e.g. "claude -p")')
    .option("-y, --yes", "promote an improvement that passes every check without asking")
    .option(
      "--allow-escalation",
      "consent to patches that add env, network or process access or raise the agent's limits",
    )
    .option(
      "--allow-test-changes",
      "with --yes: consent to patches that change existing tests, snapshots or test/type config",
    )
    .action(async (taskArg: string | undefined, flags: RunFlags, cmd: Command) => {
      const task = readTask(taskArg, flags.taskFile);
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
          if (flags.allowTestChanges) raw.evolve = { ...(raw.evolve as object), allowTestChanges: true };
          if (flags.maxTurns !== undefined) {
            raw.limits = { ...(raw.limits as object), maxTurns: numberFlag("--max-turns", flags.maxTurns) };
          }
          const models: Record<string, object> = {};
          if (flags.model) models.executor = { model: flags.model };
          if (flags.patcherModel) models.patcher = { model: flags.patcherModel };
          if (Object.keys(models).length) raw.models = models;
          if (flags.checkTimeout !== undefined) {
            raw.check = { timeoutMs: durationFlag("--check-timeout", flags.checkTimeout) };
          }
          if (flags.modelTimeout !== undefined) {
            const timeoutMs = durationFlag("--model-timeout", flags.modelTimeout);
            raw.providers = { anthropic: { timeoutMs }, openai: { timeoutMs } };
          }
        },
      });
      const abort = new AbortController();
      const progress = createProgress({
        mode: flags.json
          ? "silent"
          : flags.jsonStream
            ? "json-stream"
            : stderrIsTerminal
              ? "terminal"
              : "plain",
        color: errChalk,
        hasCheck: Boolean(flags.check),
        write: (text) => (flags.jsonStream ? process.stdout : process.stderr).write(text),
      });
      const models = new ModelRegistry(config, {
        ...(flags.replay ? { replay: flags.replay } : {}),
        ...(flags.record ? { record: flags.record } : {}),
        // An interrupt aborts every model call; after it, aborted attempts are not news.
        signal: abort.signal,
        observer: (e) => abort.signal.aborted || progress.model(e),
      });
      const { resolveSandbox } = await import("../sandbox/resolve-sandbox.ts");
      const sandbox = resolveSandbox(
        config,
        !flags.sandbox,
        (l) => process.stderr.write(`moss: ${l}\n`),
        home,
      );
      const stopSignals = endOnSignals(abort);
      // Every child in its own process group (check, gate, external patcher, replay checks) stops
      // at once; the agent stops through the signal. What they were doing is then `interrupted`.
      abort.signal.addEventListener("abort", () => killAllGroups(), { once: true });
      try {
        const { record, attempt } = await runTask({
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
          onEvent: (line) => progress.event(line),
        });
        const { unfairReason } = await import("../run/fairness.ts");
        const blame = blameMessage(record);
        let evolution: EvolutionSummary | undefined;
        if (
          !record.passed &&
          flags.evolve &&
          config.evolve.enabled &&
          !abort.signal.aborted &&
          unfairReason(attempt) === null
        ) {
          evolution = await makeHook(flags)({
            home,
            record,
            config,
            models,
            json: Boolean(flags.json || flags.jsonStream),
            signal: abort.signal,
            sandbox,
            apply: flags.apply,
            say: (line) => progress.stage(line),
            onEvent: (line) => progress.event(line),
            idle: () => progress.close(),
          });
        }
        progress.close();
        const unpriced = models.unpricedModels();
        if (flags.json || flags.jsonStream) {
          const { snapshot: _s, ...rest } = record;
          const totalCostUsd = unpriced.length ? null : models.totalCost();
          const result = { ...rest, totalCostUsd, unpricedModels: unpriced, evolution };
          if (flags.jsonStream) progress.result(result);
          else process.stdout.write(`${safeJson(result)}\n`);
        } else if (!evolution) {
          printSummary(record);
        }
        if (blame) process.stderr.write(`moss: ${blame}\n`);
        if (!flags.json && !flags.jsonStream && unpriced.length) {
          process.stderr.write(
            `moss: cost unknown: no price for ${unpriced.join(", ")}; add it under "prices" in moss.config.json\n`,
          );
        }
        if (config.runs.autoPrune) {
          const [{ pruneRuns }, { configPolicy }] = await Promise.all([
            import("../run/prune-runs.ts"),
            import("./runs-command.ts"),
          ]);
          await pruneRuns(home, configPolicy(config.runs));
        }
        process.exitCode = abort.signal.aborted
          ? signalExitCode(abort.signal.reason)
          : runExitCode({
              unrunnable: record.exitReason === "check_unrunnable",
              passed: evolution?.retry?.passed ?? record.passed,
              conflicts: evolution?.retry
                ? evolution.retry.conflicts
                : record.applyConflicts.length + record.applyRefused.length,
            });
      } finally {
        progress.close();
        stopSignals();
      }
    });
}

/**
 * Ctrl-C (SIGINT), SIGTERM and SIGHUP end a run the same way: the agent is stopped, its scratch
 * copy removed and the record written, then moss exits 128 + the signal number (130, 143, 129).
 * A second signal exits at once.
 */
function endOnSignals(abort: AbortController): () => void {
  const handlers = (["SIGINT", "SIGTERM", "SIGHUP"] as const).map((sig) => {
    const handler = () => {
      if (abort.signal.aborted) process.exit(signalExitCode(sig));
      process.stderr.write(
        `\nmoss: ${sig === "SIGINT" ? "interrupted" : `got ${sig}`}; stopping the agent and cleaning up (Ctrl-C again to force)\n`,
      );
      abort.abort(sig);
    };
    process.on(sig, handler);
    return () => process.off(sig, handler);
  });
  return () => {
    for (const off of handlers) off();
  };
}

const SIGNAL_CODES: Record<string, number> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };
const signalExitCode = (reason: unknown) => SIGNAL_CODES[String(reason)] ?? 130;

export type EvolveHook = (input: {
  home: string;
  record: import("../run/run-record.ts").RunRecord;
  config: import("../config/config-schema.ts").Config;
  models: ModelRegistry;
  json: boolean;
  signal: AbortSignal;
  sandbox: import("../sandbox/limits.ts").SandboxLimits | null;
  /** --no-apply: the retry after an accepted evolution must not change the workspace either. */
  apply: boolean;
  /** Live progress: each evolution stage, and the retry's events. */
  say?: (line: string) => void;
  onEvent?: (line: Record<string, unknown>) => void;
  /** Called before the hook prints a summary: live status lines stop. */
  idle?: () => void;
}) => Promise<EvolutionSummary>;

export interface EvolutionSummary {
  attempts: Array<{ id: string; verdict: string; reason: string }>;
  accepted: { id: string; commit: string } | null;
  pending: string | null;
  /** The retry with the improved agent; `conflicts`: files it could not apply (changed meanwhile). */
  retry: { runId: string; score: number; passed: boolean; conflicts: number } | null;
}
