import chalk from "chalk";
import type { Command } from "commander";
import { UsageError } from "../errors.ts";
import { fmtUsd } from "./format.ts";
import { resolveHome } from "./home.ts";
import { safeJson, sanitize } from "./sanitize.ts";

interface RunsFlags {
  json?: boolean;
  prune?: boolean;
  olderThan?: string;
  keep?: string;
}

export function registerRuns(program: Command): void {
  program
    .command("runs")
    .description("list the recorded runs of this home")
    .option("--json", "print JSON")
    .option("--prune", "remove old runs and the stored snapshots no remaining run needs")
    .option("--older-than <age>", "with --prune: runs older than this (30d, 12h, 2w; default from config)")
    .option("--keep <n>", "with --prune: keep only the newest n runs")
    .action(async (flags: RunsFlags, cmd: Command) => {
      const home = await resolveHome(cmd.optsWithGlobals().home);
      if (flags.prune || flags.olderThan !== undefined || flags.keep !== undefined) {
        await prune(home, flags);
        return;
      }
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

async function prune(home: string, flags: RunsFlags): Promise<void> {
  if (!flags.prune) throw new UsageError("--older-than and --keep go with --prune");
  const [{ parseAge, pruneRuns }, { loadConfig }] = await Promise.all([
    import("../run/prune-runs.ts"),
    import("../config/load-config.ts"),
  ]);
  const olderThanMs = flags.olderThan !== undefined ? parseAge(flags.olderThan) : undefined;
  if (olderThanMs === null)
    throw new UsageError(`--older-than must be an age such as 30d, 12h or 2w, got "${flags.olderThan}"`);
  const keep = flags.keep !== undefined ? Number(flags.keep) : undefined;
  if (keep !== undefined && !(Number.isInteger(keep) && keep >= 0))
    throw new UsageError(`--keep must be a whole number, got "${flags.keep}"`);
  const policy =
    olderThanMs === undefined && keep === undefined
      ? configPolicy(loadConfig({ home }).config.runs)
      : { ...(olderThanMs !== undefined ? { olderThanMs } : {}), ...(keep !== undefined ? { keep } : {}) };
  const result = await pruneRuns(home, policy);
  if (flags.json) {
    console.log(JSON.stringify(result));
    return;
  }
  console.log(
    `removed ${result.removed.length} run(s), kept ${result.kept}; freed ${(result.freedBytes / 1024 / 1024).toFixed(1)} MB`,
  );
  for (const id of result.removed) console.log(chalk.dim(`  ${id}`));
}

/** The config's prune policy (runs.maxAgeDays, runs.keep). */
export function configPolicy(runs: { maxAgeDays: number; keep?: number | undefined }) {
  return {
    olderThanMs: runs.maxAgeDays * 86_400_000,
    ...(runs.keep !== undefined ? { keep: runs.keep } : {}),
  };
}
