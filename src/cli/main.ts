import { Command, CommanderError } from "commander";
import { UsageError } from "../config/load-config.ts";
import { registerRun } from "./run-command.ts";
import { registerRuns } from "./runs-command.ts";

/** Exit codes: 0 pass/ok, 1 a failed run or check, 2 usage or config error, 130 interrupted. */
export async function main(argv: string[]): Promise<number> {
  const program = new Command("moss")
    .description("a coding agent that improves itself under a ratchet that never lets it get worse")
    .option("--home <dir>", "the agent home (default: $MOSS_HOME, else the moss checkout)")
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  registerRun(program, async () => undefined);
  registerRuns(program);
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
    process.stderr.write(`moss: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}

const code = await main(process.argv);
process.exitCode = code;
