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
    .option("--no-sandbox", "run the demo without the bubblewrap sandbox")
    .action(async (flags: { dir?: string; json?: boolean; sandbox: boolean }) => {
      if (flags.dir && existsSync(flags.dir) && readdirSync(flags.dir).length > 0) {
        throw new UsageError(`--dir ${path.resolve(flags.dir)} is not empty; give a new or empty folder`);
      }
      const { DEMO_CASSETTE, runDemo } = await import("../demo/run-demo.ts");
      const { sandboxAvailable } = await import("../sandbox/sandbox.ts");
      const probe = flags.sandbox ? sandboxAvailable() : { ok: false, reason: "--no-sandbox" };
      if (!probe.ok) {
        // The demo's agent is moss's own code driven by a recorded cassette, so it may run
        // unconfined; `moss run` refuses instead.
        process.stderr.write(
          `moss demo: no sandbox (${probe.reason}); the demo runs its replayed agent unsandboxed\n`,
        );
      }
      const result = await runDemo({
        packageRoot,
        ...(flags.dir ? { dir: flags.dir } : {}),
        source: { replay: DEMO_CASSETTE },
        sandbox: probe.ok ? { maxProcs: 512, memoryMb: 4096 } : null,
        ...(flags.json ? { out: (l: string) => process.stderr.write(`${l}\n`) } : {}),
      });
      if (flags.json) console.log(JSON.stringify(result));
      if (!flags.dir) rmSync(result.dir, { recursive: true, force: true });
      process.exitCode = result.after > result.before && result.verified ? 0 : 1;
    });
}
