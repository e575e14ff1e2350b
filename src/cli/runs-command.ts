import chalk from "chalk";
import type { Command } from "commander";
import { fmtUsd } from "./format.ts";
import { resolveHome } from "./home.ts";
import { safeJson, sanitize } from "./sanitize.ts";

export function registerRuns(program: Command): void {
  program
    .command("runs")
    .description("list the recorded runs of this home")
    .option("--json", "print JSON")
    .action(async (flags: { json?: boolean }, cmd: Command) => {
      const home = await resolveHome(cmd.optsWithGlobals().home);
      const { listRunRecords } = await import("../run/run-record.ts");
      const { records, broken, incomplete } = listRunRecords(home);
      if (flags.json) {
        console.log(
          safeJson([
            ...records.map(({ diff: _d, checkOutputTail: _c, ...r }) => r),
            ...incomplete.map((r) => ({ ...r, incomplete: true })),
          ]),
        );
        return;
      }
      if (records.length + incomplete.length === 0) console.log("no runs yet");
      for (const r of records) {
        const mark = r.passed ? chalk.green("pass") : chalk.red("fail");
        console.log(
          `${r.runId}  ${mark}  ${r.score.toFixed(2)}  ${r.exitReason.padEnd(16)} ${String(r.turns).padStart(3)} turns  ${fmtUsd(r.costUsd)}  ${sanitize(r.task.slice(0, 60))}`,
        );
      }
      for (const r of incomplete) {
        console.log(
          `${r.runId}  ${chalk.yellow("incomplete")} (no record: still running, or killed)  ${sanitize((r.task ?? "").slice(0, 60))}`,
        );
      }
      for (const b of broken) console.error(chalk.yellow(`unreadable run record: ${b}`));
    });
}
