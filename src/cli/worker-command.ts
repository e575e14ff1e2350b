import os from "node:os";
import path from "node:path";
import type { Command } from "commander";
import { durationFlag, positiveInt } from "./flag-values.ts";
import { resolveHome } from "./home.ts";
import { sanitize } from "./sanitize.ts";

interface WorkerFlags {
  queue: string;
  concurrency: string;
  cacheDir?: string;
  lockTimeout: string;
  grace: string;
  config?: string;
  sandbox: boolean;
}

/** Where a worker keeps fetched trees: $XDG_CACHE_HOME/moss/queue, else ~/.cache/moss/queue. */
function defaultCacheDir(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(process.env.HOME || os.homedir(), ".cache");
  return path.join(base, "moss", "queue");
}

export function registerWorker(program: Command): void {
  program
    .command("worker")
    .description("run trials from a queue (moss eval/evolve --queue) on this machine, with its own keys")
    .requiredOption(
      "--queue <url>",
      "the Redis of the queue: redis://[:password@]host:port or rediss:// (TLS)",
    )
    .option("--concurrency <n>", "trials at once", "1")
    .option(
      "--cache-dir <dir>",
      "where fetched agent revisions and workspaces are kept (default ~/.cache/moss/queue)",
    )
    .option(
      "--lock-timeout <duration>",
      "a trial of a killed worker goes back to the queue after about this",
      "30s",
    )
    .option(
      "--grace <duration>",
      "on SIGTERM, how long running trials may finish before they are handed back",
      "60s",
    )
    .option("--config <file>", "config file (default: moss.config.json in the home)")
    .option("--no-sandbox", "run agent code without the bubblewrap sandbox (not recommended)")
    .addHelpText(
      "after",
      "\nKeys come from this machine's environment (ANTHROPIC_API_KEY, ...), never from the queue.\n" +
        "SIGTERM or Ctrl-C: take no new trial, finish the running ones within --grace, then hand them back;\n" +
        "a second signal hands them back at once.",
    )
    .action(async (flags: WorkerFlags, cmd: Command) => {
      const home = await resolveHome(cmd.optsWithGlobals().home);
      const say = (line: string) => process.stdout.write(`${sanitize(line)}\n`);
      const [{ loadConfig }, { resolveSandbox }, { parseQueueUrl, redactUrl }, { startTrialWorker }] =
        await Promise.all([
          import("../config/load-config.ts"),
          import("../sandbox/resolve-sandbox.ts"),
          import("../queue/connection.ts"),
          import("../queue/trial-worker.ts"),
        ]);
      const url = parseQueueUrl(flags.queue);
      const concurrency = positiveInt("--concurrency", flags.concurrency);
      const lockMs = durationFlag("--lock-timeout", flags.lockTimeout);
      const graceMs = /^0+(ms|s|m)?$/.test(flags.grace.trim()) ? 0 : durationFlag("--grace", flags.grace);
      const { config } = loadConfig({ home, ...(flags.config ? { file: flags.config } : {}) });
      const sandbox = resolveSandbox(config, !flags.sandbox, (l) => say(`moss worker: ${l}`), home);
      const worker = await startTrialWorker({
        url,
        home,
        config,
        models: {},
        sandbox,
        concurrency,
        cacheDir: flags.cacheDir ?? defaultCacheDir(),
        lockMs,
        log: (l) => say(`moss worker: ${l}`),
      });
      say(
        `moss worker: ${worker.name} takes trials from ${redactUrl(url.toString())}, ${concurrency} at once (executor ${config.models.executor.model}, home ${home})`,
      );
      await new Promise<void>((resolve) => {
        let stopping: Promise<void> | null = null;
        const onSignal = (signal: string) => {
          if (stopping) {
            say(`moss worker: ${signal} again: handing the running trials back`);
            void worker.stop(0);
            return;
          }
          say(`moss worker: ${signal}: taking no new trial; running ones get ${graceMs / 1000} s to finish`);
          stopping = worker.stop(graceMs).then(resolve, resolve);
        };
        process.on("SIGTERM", () => onSignal("SIGTERM"));
        process.on("SIGINT", () => onSignal("SIGINT"));
      });
      say("moss worker: stopped");
    });
}
