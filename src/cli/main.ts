import { readFileSync } from "node:fs";
import path from "node:path";
import { Command, CommanderError } from "commander";
import { UsageError } from "../errors.ts";
import { registerDemo } from "./demo-command.ts";
import { registerEval } from "./eval-command.ts";
import { packageRoot } from "./home.ts";
import { registerHomeCommands } from "./home-commands.ts";
import { registerLog } from "./log-command.ts";
import { registerReport } from "./report-command.ts";
import { registerRun } from "./run-command.ts";
import { registerRuns } from "./runs-command.ts";
import { registerSuite } from "./suite-command.ts";

/** Exit codes: 0 pass/ok, 1 a failed run or check, 2 usage or config error, 130 interrupted. */
export async function main(argv: string[]): Promise<number> {
  const program = new Command("moss")
    .description("a coding agent that improves itself under a ratchet that never lets it get worse")
    .version(packageVersion(), "-V, --version", "print the moss version")
    .option("--home <dir>", "the agent home (default: $MOSS_HOME, else ~/.local/share/moss)")
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
  registerReport(program);
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
      process.stderr.write(`moss: ${err.message}\n`);
      return 2;
    }
    const detail =
      err instanceof Error
        ? process.env.MOSS_DEBUG
          ? (err.stack ?? err.message)
          : err.message
        : String(err);
    process.stderr.write(`moss: ${detail}\n`);
    return 1;
  }
}

function packageVersion(): string {
  return (JSON.parse(readFileSync(path.join(packageRoot, "package.json"), "utf8")) as { version: string })
    .version;
}

const code = await main(process.argv);
process.exitCode = code;
