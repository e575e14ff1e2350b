import chalk from "chalk";
import type { Command } from "commander";
import { packageRoot, resolveHome } from "./home.ts";
import { sanitize } from "./sanitize.ts";

export function registerHomeCommands(program: Command): void {
  program
    .command("init")
    .description("create a fresh agent home (a git repo with a pristine agent-src) in DIR")
    .argument("<dir>", "the folder to create")
    .action(async (dir: string) => {
      const { initHome } = await import("../home/init-home.ts");
      const home = await initHome(dir, packageRoot);
      console.log(`created an agent home in ${home}`);
      console.log(`use it with: moss --home ${home} run "<task>"   (or export MOSS_HOME=${home})`);
    });

  program
    .command("rollback")
    .description("restore agent-src to a known-good state as a new, gated commit")
    .argument("<rev>", "an evolution id from `moss log`, or a commit of the head branch")
    .option("--no-sandbox", "run the gate without the bubblewrap sandbox (not recommended)")
    .action(async (rev: string, flags: { sandbox: boolean }, cmd: Command) => {
      const { home, config, sandbox } = await openHome(cmd, flags);
      const { rollback } = await import("../evolve/land/rollback.ts");
      const result = await rollback(sandbox, home, rev, config);
      console.log(
        chalk.green(
          `rolled agent-src back to ${result.target.slice(0, 10)}: new head ${result.commit.slice(0, 10)} (${result.record.id})`,
        ),
      );
    });

  program
    .command("revert")
    .description(
      "undo one accepted patch from anywhere in history, as a new commit that reverses only its agent-src diff (checked, gated and judged on the regression panel)",
    )
    .argument("<id>", "the evolution id of an accepted patch, from `moss log`")
    .option("--replay <file>", "serve the panel's model calls from a cassette instead of a provider")
    .option("--no-sandbox", "run the gate and trials without the bubblewrap sandbox (not recommended)")
    .option("--json", "print the record as JSON")
    .action(
      async (id: string, flags: { sandbox: boolean; replay?: string; json?: boolean }, cmd: Command) => {
        const { home, config, sandbox } = await openHome(cmd, flags);
        const [{ revertPatch }, { ModelRegistry }] = await Promise.all([
          import("../evolve/land/revert.ts"),
          import("../models/model-registry.ts"),
        ]);
        const models = new ModelRegistry(config, flags.replay ? { replay: flags.replay } : {});
        const say = flags.json
          ? () => {}
          : (l: string) => process.stderr.write(chalk.magenta(`moss revert: ${l}\n`));
        const { record, commit } = await revertPatch({ home, id, config, models, sandbox, say });
        if (flags.json) console.log(JSON.stringify({ ...record, commit }));
        else if (commit)
          console.log(
            chalk.green(`reverted ${record.target}: new head ${commit.slice(0, 10)} (${record.id})`),
          );
        else console.log(chalk.red(`not reverted (${record.verdict}): ${record.reason}`));
        process.exitCode = commit ? 0 : 1;
      },
    );

  program
    .command("apply")
    .description("promote a pending candidate, after re-running its checks against the current head")
    .argument("<id>", "the pending evolution id")
    .option("--no-sandbox", "run the gate without the bubblewrap sandbox (not recommended)")
    .action(async (id: string, flags: { sandbox: boolean }, cmd: Command) => {
      const { home, config, sandbox } = await openHome(cmd, flags);
      const { applyPending } = await import("../evolve/land/apply-pending.ts");
      const result = await applyPending(sandbox, home, id, config);
      if (result.ok)
        console.log(
          chalk.green(`promoted ${id}: new head ${result.commit?.slice(0, 10)} (${result.record.id})`),
        );
      else console.log(chalk.red(`not promoted: ${sanitize(result.record.reason)}`));
      process.exitCode = result.ok ? 0 : 1;
    });
}

/**
 * What rollback, revert and apply share: the home (from --home, MOSS_HOME or the default, made
 * ready), its layered config and the sandbox its gate runs in (--no-sandbox warns).
 */
async function openHome(cmd: Command, flags: { sandbox: boolean }) {
  const home = await resolveHome(cmd.optsWithGlobals().home);
  const [{ prepareHome }, { loadConfig }, { resolveSandbox }] = await Promise.all([
    import("./prepare-home.ts"),
    import("../config/load-config.ts"),
    import("../sandbox/resolve-sandbox.ts"),
  ]);
  await prepareHome(home);
  const { config } = loadConfig({ home });
  const sandbox = resolveSandbox(config, !flags.sandbox, (l) => process.stderr.write(`moss: ${l}\n`), home);
  return { home, config, sandbox };
}
