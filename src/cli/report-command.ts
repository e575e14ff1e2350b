import type { Command } from "commander";
import { resolveHome } from "./home.ts";

export function registerReport(program: Command): void {
  program
    .command("report")
    .description(
      "write one self-contained HTML file: evals over time, per-task pass rates, evolution history, cost",
    )
    .option("--out <file>", "the HTML file to write", "moss-report.html")
    .action(async (flags: { out: string }, cmd: Command) => {
      const home = await resolveHome(cmd.optsWithGlobals().home);
      const [{ collectReportData }, { renderReport }, { writeFileAtomic }, path] = await Promise.all([
        import("../report/report-data.ts"),
        import("../report/render-report.ts"),
        import("../log/atomic-write.ts"),
        import("node:path"),
      ]);
      const data = collectReportData(home);
      const out = path.resolve(flags.out);
      writeFileAtomic(out, renderReport(data));
      console.log(`wrote ${out}: ${data.evals.length} eval(s), ${data.evolution.length} evolution record(s)`);
    });
}
