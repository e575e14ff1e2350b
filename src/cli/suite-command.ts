import chalk from "chalk";
import type { Command } from "commander";
import { UsageError } from "../errors.ts";
import { resolveHome } from "./home.ts";

type Imported = { file: string; added: string[]; skipped: string[] };

function printImported(result: Imported, note?: string): void {
  console.log(
    `wrote ${result.file}: ${result.added.length} task(s) added${result.skipped.length ? `, ${result.skipped.length} already there` : ""}`,
  );
  for (const id of result.added) console.log(chalk.dim(`  + ${id}`));
  if (note) console.log(chalk.yellow(note));
  console.log(`measure the agent on it with: moss eval ${result.file.replace(/\/suite\.json$/, "")}`);
}

/** `moss suite init|harvest|import|show`: make and inspect suites (folders with a suite.json). */
export function registerSuite(program: Command): void {
  const suite = program
    .command("suite")
    .description("make and inspect task suites (folders with a suite.json)");

  suite
    .command("init")
    .description("create a suite folder with one example task")
    .argument("<dir>", "the suite folder to create")
    .action(async (dir: string) => {
      const { initSuite } = await import("../suite/suite-init.ts");
      const { file } = initSuite(dir);
      console.log(`wrote ${file} with one example task (fix-add)`);
      console.log(`add tasks to it, then: moss eval ${dir} --trials 3`);
    });

  suite
    .command("harvest")
    .description("a suite from this home's past runs: each task's latest run, from its starting snapshot")
    .requiredOption("--out <dir>", "the suite folder to write (tasks are added to an existing suite)")
    .option("--holdout-every <n>", "put every n-th task in the holdout split", "0")
    .action(async (flags: { out: string; holdoutEvery: string }, cmd: Command) => {
      const home = await resolveHome(cmd.optsWithGlobals().home);
      const every = Number(flags.holdoutEvery);
      if (!Number.isInteger(every) || every < 0) {
        throw new UsageError(`--holdout-every must be a whole number, got "${flags.holdoutEvery}"`);
      }
      const { harvestSuite } = await import("../suite/harvest.ts");
      const result = harvestSuite(home, flags.out, { holdoutEvery: every });
      for (const line of result.ignored) console.log(chalk.dim(`  left out ${line}`));
      printImported(result);
    });

  suite
    .command("import")
    .description(
      "import a public benchmark layout: exercism (Exercism / polyglot benchmark) or harbor (Harbor / Terminal-Bench)",
    )
    .argument("<kind>", "exercism or harbor")
    .argument("<src>", "the folder to import (one task, or a folder of them)")
    .option("--out <dir>", "the suite folder to write (default: <src>-suite)")
    .action(async (kind: string, src: string, flags: { out?: string }) => {
      const out = flags.out ?? `${src.replace(/\/+$/, "")}-suite`;
      if (kind === "exercism") {
        const { importExercism } = await import("../suite/import-exercism.ts");
        printImported(importExercism(src, out));
      } else if (kind === "harbor") {
        const { importHarbor } = await import("../suite/import-harbor.ts");
        printImported(
          importHarbor(src, out),
          "note: moss runs these checks locally, without the tasks' containers: tests that need the image's tools or its absolute paths (/app, /logs) fail until the workspace provides them.",
        );
      } else {
        throw new UsageError(`moss suite import: unknown layout "${kind}"; use exercism or harbor`);
      }
    });

  suite
    .command("show")
    .description("check a suite and list its tasks")
    .argument("<suite>", "the suite folder or its suite.json")
    .option("--json", "print the checked suite as JSON")
    .action(async (ref: string, flags: { json?: boolean }) => {
      const { loadSuite } = await import("../suite/load-suite.ts");
      const loaded = loadSuite(ref);
      if (flags.json) {
        console.log(JSON.stringify({ ...loaded.suite, tasks: loaded.tasks }));
        return;
      }
      console.log(`${loaded.suite.name}: ${loaded.tasks.length} task(s) (${loaded.file})`);
      for (const t of loaded.tasks) {
        console.log(
          `  ${t.id.padEnd(30)} ${t.split.padEnd(8)} ${t.check ?? `rubric`}${t.tags.length ? chalk.dim(`  [${t.tags.join(", ")}]`) : ""}`,
        );
      }
    });

  suite
    .command("plant")
    .description(
      "plant the suite's weaknesses (its plant.json) into this home's agent-src, as one commit: for measuring self-improvement, e.g. builtin:seeded",
    )
    .argument("<suite>", "the suite folder, or builtin:NAME")
    .option("--only <ids>", "plant only these weaknesses (comma-separated ids)")
    .action(async (ref: string, flags: { only?: string }, cmd: Command) => {
      const home = await resolveHome(cmd.optsWithGlobals().home);
      const { resolveSuiteRef } = await import("../suite/load-suite.ts");
      const { plantSuite } = await import("../suite/plant-suite.ts");
      const only = flags.only
        ?.split(",")
        .map((s) => s.trim())
        .filter(Boolean);
      const { commit, planted } = await plantSuite(home, resolveSuiteRef(ref), only);
      console.log(`planted ${planted.length} weakness(es) in ${home} (commit ${commit.slice(0, 10)}):`);
      for (const w of planted) console.log(`  ${w.id.padEnd(30)} fails ${w.task}: ${chalk.dim(w.what)}`);
      console.log(`measure it: moss eval ${ref}   improve it: moss evolve ${ref}`);
    });
}
