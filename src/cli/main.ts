import { readFileSync } from "node:fs";
import path from "node:path";
import { Command, CommanderError } from "commander";
import { UsageError } from "../errors.ts";
import { killAllGroups } from "../process/run-in-group.ts";
import { setupColor } from "./color.ts";
import { registerCompletion } from "./completion-command.ts";
import { registerConfig } from "./config-command.ts";
import { registerDemo } from "./demo-command.ts";
import { registerEval } from "./eval-command.ts";
import { registerEvolve } from "./evolve-command.ts";
import { EXIT_CODES_HELP } from "./exit-codes.ts";
import { packageRoot } from "./home.ts";
import { registerHomeCommands } from "./home-commands.ts";
import { registerLog } from "./log-command.ts";
import { registerReport } from "./report-command.ts";
import { registerRun } from "./run-command.ts";
import { registerRuns } from "./runs-command.ts";
import { sanitize } from "./sanitize.ts";
import { registerSuite } from "./suite-command.ts";
import { registerWorker } from "./worker-command.ts";
import { registerWorkers } from "./workers-command.ts";

const HELP_AFTER = `
Examples:
  moss demo                                       the whole self-improvement cycle, offline, no key
  moss run "make the failing test pass" -w ~/proj --check "npm test"
  echo "fix the flaky test" | moss run - -w . --check "npm test"
  moss run --task-file task.md -m claude-sonnet-5-5 --check-timeout 2m
  moss log --verify                               check the evolution log's hash chain
  moss config                                     the merged config and where each value came from
  eval "$(moss completion bash)"                  shell completion (bash, zsh, fish)

Environment:
  MOSS_HOME                  the agent home (default: $XDG_DATA_HOME/moss, else ~/.local/share/moss)
  MOSS_EXECUTOR_MODEL, MOSS_PATCHER_MODEL, MOSS_JUDGE_MODEL         a role's model
  MOSS_EXECUTOR_PROVIDER, MOSS_PATCHER_PROVIDER, MOSS_JUDGE_PROVIDER  anthropic or openai
  MOSS_THRESHOLD             the score needed to pass (0..1)
  ANTHROPIC_API_KEY, OPENAI_API_KEY   keys (only the harness sees them); ANTHROPIC_BASE_URL
  XDG_CONFIG_HOME            user config in $XDG_CONFIG_HOME/moss/config.json (else ~/.config/moss)
  NO_COLOR, FORCE_COLOR      turn colors off / on (--color wins)
  MOSS_DEBUG                 print stack traces of unexpected errors

${EXIT_CODES_HELP}
`;

/** Exit codes: see exit-codes.ts (0 ok, 1 failed, 2 usage, 3 passed but not applied, 130 interrupted). */
export async function main(argv: string[]): Promise<number> {
  const program = new Command("moss")
    .description("a coding agent that improves itself under a ratchet that never lets it get worse")
    .version(packageVersion(), "-V, --version", "print the moss version")
    .option("--home <dir>", "the agent home (default: $MOSS_HOME, else ~/.local/share/moss)")
    .option("--color <when>", "color output: auto, always or never (default: auto)")
    .addHelpText("after", HELP_AFTER)
    .hook("preAction", (cmd) => setupColor(cmd.opts().color))
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  // Commands load their heavy modules (SDKs, zod, git) only when they run: `moss --help` stays fast.
  registerRun(program, (flags) => async (input) => {
    const { makeEvolveHook } = await import("./evolve-hook.ts");
    return makeEvolveHook({
      depth: flags.depth as "shallow" | "standard" | "deep",
      yes: Boolean(flags.yes),
      ...(flags.patcherCmd ? { patcherCmd: flags.patcherCmd } : {}),
      ...(flags.trials ? { trials: Number(flags.trials) } : {}),
    })(input);
  });
  registerRuns(program);
  registerLog(program);
  registerHomeCommands(program);
  registerDemo(program);
  registerSuite(program);
  registerEval(program);
  registerEvolve(program);
  registerWorker(program);
  registerWorkers(program);
  registerReport(program);
  registerConfig(program);
  registerCompletion(program);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.code === "commander.helpDisplayed" || err.code === "commander.version" || err.exitCode === 0
        ? 0
        : 2;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`moss: ${sanitize(err.message)}\n`);
      return 2;
    }
    const detail =
      err instanceof Error
        ? process.env.MOSS_DEBUG
          ? (err.stack ?? err.message)
          : err.message
        : String(err);
    process.stderr.write(`moss: ${sanitize(detail)}\n`);
    return 1;
  }
}

function packageVersion(): string {
  return (JSON.parse(readFileSync(path.join(packageRoot, "package.json"), "utf8")) as { version: string })
    .version;
}

// No child outlives moss: a forced exit (a second Ctrl-C) kills every process group it started.
// Commands without their own interrupt handling (apply, rollback, eval, ...) end on a signal with
// their children killed and the exit code 128 + the signal number.
process.on("exit", () => killAllGroups());
for (const [sig, code] of [
  ["SIGINT", 130],
  ["SIGTERM", 143],
  ["SIGHUP", 129],
] as const) {
  process.on(sig, () => {
    if (process.listenerCount(sig) > 1) return; // the command handles it (moss run)
    killAllGroups();
    process.exit(code);
  });
}

// `moss ... | head` closes the pipe early: that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw err;
  });
}

const code = await main(process.argv);
process.exitCode = code;
