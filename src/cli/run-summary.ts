import chalk from "chalk";
import { outputTail } from "../run/output-tail.ts";
import type { RunRecord } from "../run/run-record.ts";
import { colorDiff, fmtTokens, fmtUsd } from "./format.ts";
import { sanitize } from "./sanitize.ts";

/**
 * The human summary of one run: verdict, score before and after, exit reason, cost, diff, and for
 * a failed run why it failed: the agent's last message and the tail of the check's output.
 */
export function printSummary(record: RunRecord): void {
  const verdict = record.passed ? chalk.green.bold("PASS") : chalk.red.bold("FAIL");
  console.log(
    `${verdict} score ${record.score.toFixed(3)} (threshold ${record.threshold})  run ${record.runId}`,
  );
  if (record.scoreBefore !== null) {
    const already = record.baseline?.passed
      ? chalk.yellow(" — the task already passed before the agent started")
      : "";
    console.log(`  score before: ${record.scoreBefore.toFixed(3)}${already}`);
  }
  console.log(
    `  exit: ${record.exitReason}${record.detail ? ` (${sanitize(record.detail)})` : ""}; turns: ${record.turns}`,
  );
  console.log(`  tokens: ${fmtTokens(record.usage)}; cost: ${fmtUsd(record.costUsd)}`);
  for (const r of record.rationale) console.log(`  · ${sanitize(r)}`);
  if (record.diff) {
    console.log(colorDiff(record.diff.trimEnd()));
  } else {
    console.log(chalk.dim("  (no changes)"));
  }
  if (record.applied) {
    console.log(chalk.green(`  applied ${record.changedFiles.length} file(s) to ${record.workspace}`));
    if (record.madeExecutable.length)
      console.log(chalk.yellow(`  made executable: ${sanitize(record.madeExecutable.join(", "))}`));
  } else if (record.applyRefused[0]?.startsWith("not applied:")) {
    // A write error rolled back: the reason says it all.
    console.log(chalk.yellow(`  ${sanitize(record.applyRefused[0])}`));
  } else if (record.applyRefused.length) {
    console.log(chalk.yellow("  not applied: moss copies back only what is safe to write:"));
    for (const why of record.applyRefused) console.log(chalk.yellow(`    ${sanitize(why)}`));
  } else if (record.applyConflicts.length) {
    console.log(
      chalk.yellow(`  not applied: changed in the meantime: ${sanitize(record.applyConflicts.join(", "))}`),
    );
  } else if (!record.passed && record.diff) console.log(chalk.dim(`  not applied: the attempt did not pass`));
  if (!record.passed) printWhy(record);
}

function printWhy(record: RunRecord): void {
  if (record.exitReason === "check_unrunnable") return;
  const last = record.finalText.trim();
  if (last) {
    console.log(chalk.bold("  the agent's last message:"));
    console.log(indent(sanitize(outputTail(last, 12))));
  }
  const tail = outputTail(record.checkOutputTail);
  if (tail) {
    console.log(chalk.bold(`  the check's output (last lines of ${record.check}):`));
    console.log(chalk.dim(indent(sanitize(tail))));
  }
}

/** Why a run is not the agent's fault, for stderr; null when it had a fair try. */
export function blameMessage(record: RunRecord): string | null {
  if (record.exitReason === "check_unrunnable") {
    const tail = record.baseline?.outputTail ?? "";
    return [
      `the check "${record.check}" cannot run on the untouched workspace: ${record.baseline?.unrunnable ?? "unknown"}.`,
      ...(tail ? ["Its output ended with:", indent(sanitize(tail))] : []),
      "This is the environment, not the agent: nothing was evolved. Make the check run in the workspace " +
        "(install what it needs, fix the command), then run again.",
    ].join("\n");
  }
  if (record.modelFailure) {
    const f = record.modelFailure;
    return (
      `the ${f.role} model failed: ${sanitize(f.message)}\n` +
      "This is the model service, not the agent: nothing was evolved. " +
      (f.kind === "auth"
        ? "Check the API key."
        : f.kind === "model_not_found"
          ? "Check the model name and endpoint in moss.config.json."
          : f.kind === "connection"
            ? "Check that the endpoint is up and reachable."
            : "Try again later.")
    );
  }
  return null;
}

const indent = (text: string) =>
  text
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n");
