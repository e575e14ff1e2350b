import { existsSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { UsageError } from "../errors.ts";
import { packageRoot } from "./home.ts";

export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description("the whole self-improvement cycle, offline and without a key (models replayed)")
    .option(
      "--dir <dir>",
      "build the demo here and keep it for inspection (default: a temp folder, removed after)",
    )
    .option("--json", "print a JSON summary at the end")
    .action(async (flags: { dir?: string; json?: boolean }) => {
      if (flags.dir && existsSync(flags.dir) && readdirSync(flags.dir).length > 0) {
        throw new UsageError(`--dir ${path.resolve(flags.dir)} is not empty; give a new or empty folder`);
      }
      const { DEMO_CASSETTE, runDemo } = await import("../demo/run-demo.ts");
      const result = await runDemo({
        packageRoot,
        ...(flags.dir ? { dir: flags.dir } : {}),
        source: { replay: DEMO_CASSETTE },
        ...(flags.json ? { out: (l: string) => process.stderr.write(`${l}\n`) } : {}),
      });
      if (flags.json) console.log(JSON.stringify(result));
      if (!flags.dir) rmSync(result.dir, { recursive: true, force: true });
      process.exitCode = result.after > result.before && result.verified ? 0 : 1;
    });
}
