import chalk from "chalk";
import type { Command } from "commander";
import { UsageError } from "../errors.ts";
import type { EvolutionRecord, TaskComparison } from "../log/evolution-record.ts";
import { loadRunRecord } from "../run/run-record.ts";
import { colorDiff, fmtTokens, fmtUsd } from "./format.ts";
import { resolveHome } from "./home.ts";
import { judgementBrief, judgementTable } from "./judgement-table.ts";
import { formatReviewNotes } from "./review-notes.ts";
import { safeJson, sanitize } from "./sanitize.ts";

const VERDICT_COLOR: Record<EvolutionRecord["verdict"], (s: string) => string> = {
  accepted: chalk.green,
  rejected: chalk.red,
  pending: chalk.yellow,
  declined: chalk.gray,
  interrupted: chalk.magenta,
  undecided: chalk.cyan,
};

export function registerLog(program: Command): void {
  program
    .command("log")
    .description("show the evolution history of the agent: every attempt, accepted or not")
    .argument("[id]", "one evolution id (a prefix is enough)")
    .option("--diff", "with an id: show the colored diff")
    .option("--verify", "check the hash chain and that each accepted diff is what its commit changed")
    .option("--json", "print JSON")
    .action(
      async (
        id: string | undefined,
        flags: { diff?: boolean; verify?: boolean; json?: boolean },
        cmd: Command,
      ) => {
        const home = await resolveHome(cmd.optsWithGlobals().home);
        const [{ prepareHome }, { findRecord, readLog }, { mossCommits, verifyLog }] = await Promise.all([
          import("./prepare-home.ts"),
          import("../log/evolution-log.ts"),
          import("../log/verify-log.ts"),
        ]);
        await prepareHome(home);
        if (flags.verify) {
          const result = await verifyLog(home);
          if (flags.json) console.log(safeJson(result));
          else if (result.ok)
            console.log(
              chalk.green(
                `log verified: ${result.checked} record(s), chain intact, accepted diffs match their commits`,
              ),
            );
          else for (const p of result.problems) console.log(chalk.red(`✗ ${sanitize(p)}`));
          process.exitCode = result.ok ? 0 : 1;
          return;
        }
        const commits = await mossCommits(home).catch(() => []);
        const commitOf = (rid: string) =>
          commits.find((c) => c.trailers["Moss-Evolution-Id"] === rid)?.commit ?? null;
        if (id) {
          const entry = findRecord(home, id);
          if (!entry)
            throw new UsageError(
              `no evolution record "${id}" in ${home}/evolution-log; run \`moss log\` to list them`,
            );
          if (flags.json) console.log(safeJson({ ...entry.record, commit: commitOf(entry.record.id) }));
          else printRecord(entry.record, commitOf(entry.record.id), Boolean(flags.diff), home);
          return;
        }
        const records = readLog(home).map((e) => e.record);
        if (flags.json) {
          console.log(
            safeJson(records.map(({ diff: _d, gate: _g, ...r }) => ({ ...r, commit: commitOf(r.id) }))),
          );
          return;
        }
        if (records.length === 0) console.log("no evolution attempts yet");
        for (const r of records) {
          const color = VERDICT_COLOR[r.verdict];
          const scores = r.judgement
            ? judgementBrief(r.judgement)
            : r.replay
              ? `${r.replay.before} → ${r.replay.after.join(",")}`
              : r.kind === "rollback" || r.kind === "revert"
                ? r.kind
                : "-";
          const commit = commitOf(r.id)?.slice(0, 10) ?? "";
          console.log(
            `${String(r.seq).padStart(3)}  ${r.id}  ${color(r.verdict.padEnd(8))}  ${r.kind.padEnd(9)}  ${scores.padEnd(14)}  ${commit.padEnd(10)}  ${sanitize(r.reason.slice(0, 90))}`,
          );
        }
      },
    );
}

function printRecord(r: EvolutionRecord, commit: string | null, withDiff: boolean, home: string): void {
  const color = VERDICT_COLOR[r.verdict];
  console.log(`${chalk.bold(r.id)}  ${color(r.verdict)}  (${r.kind}, attempt ${r.attempt}, ${r.time})`);
  console.log(`  reason: ${sanitize(r.reason)}`);
  if (r.task) console.log(`  task: ${sanitize(r.task)}  (run ${r.runId}, score ${r.triggerScore})`);
  console.log(
    `  parent: ${r.parentCommit.slice(0, 10)}${commit ? `  commit: ${commit.slice(0, 10)}` : ""}${r.target ? `  target: ${r.target.slice(0, 10)}` : ""}`,
  );
  if (r.diagnosis) console.log(`\n${chalk.bold("Diagnosis")}\n${sanitize(r.diagnosis)}`);
  if (r.plan) console.log(`\n${chalk.bold("Plan")}\n${sanitize(r.plan)}`);
  console.log(`\n${chalk.bold("Rationale")}\n${sanitize(r.rationale)}`);
  if (r.scope)
    console.log(
      `\n${chalk.bold("Scope")}: ${sanitize(`${r.scope.passed ? "ok" : r.scope.violations.join("; ")} (${r.scope.files.join(", ")})`)}`,
    );
  const notes = formatReviewNotes(r.scope, r.gate, r.diff);
  if (notes) console.log(`\n${notes}`);
  if (r.gate) {
    console.log(
      `\n${chalk.bold("Gate")}: ${r.gate.passed ? chalk.green("passed") : chalk.red("failed")} — ${sanitize(r.gate.summary)} (${r.gate.ms} ms)`,
    );
    if (!r.gate.typecheck.passed) console.log(sanitize(r.gate.typecheck.output));
    for (const t of r.gate.tests.filter((x) => x.status !== "passed"))
      console.log(`  ${chalk.red("✗")} ${sanitize(`${t.name}: ${t.message ?? t.status}`)}`);
  }
  if (r.judgement) {
    console.log(`\n${chalk.bold("Judgement")}`);
    const taskText = (c: TaskComparison) => {
      if (c.role !== "sealed") return c.task;
      try {
        return `(sealed) ${loadRunRecord(home, c.runId).task}`;
      } catch {
        return `(sealed) run ${c.runId}`;
      }
    };
    for (const line of judgementTable(r.judgement, taskText)) console.log(sanitize(line));
  }
  if (r.replay) console.log(`\n${chalk.bold("Replay")}: ${r.replay.before} → ${r.replay.after.join(", ")}`);
  for (const g of r.regression)
    console.log(`  regression "${sanitize(g.task)}": ${g.before} → ${g.after.join(", ")}`);
  console.log(
    `\n${chalk.bold("Models")}: ${
      Object.entries(r.models)
        .map(([k, v]) => `${k}=${v}`)
        .join(" ") || "-"
    }`,
  );
  console.log(`${chalk.bold("Tokens")}: ${fmtTokens(r.usage)}; cost ${fmtUsd(r.costUsd)}`);
  console.log(
    `${chalk.bold("Timings")}: ${Object.entries(r.timings)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}`,
  );
  if (withDiff) console.log(`\n${r.diff ? colorDiff(r.diff.trimEnd()) : "(no diff)"}`);
}
