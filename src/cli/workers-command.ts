import type { Command } from "commander";
import { sanitize } from "./sanitize.ts";

export function registerWorkers(program: Command): void {
  program
    .command("workers")
    .description("the queue's connected workers, the trials each runs, and the queue's depth")
    .requiredOption(
      "--queue <url>",
      "the Redis of the queue: redis://[:password@]host:port or rediss:// (TLS)",
    )
    .option("--json", "print one JSON object")
    .action(async (flags: { queue: string; json?: boolean }) => {
      const [
        { parseQueueUrl, connectRedis, ensureReachable, QUEUE_NAME, withDeadline },
        { readStatuses },
        { Queue },
      ] = await Promise.all([
        import("../queue/connection.ts"),
        import("../queue/worker-status.ts"),
        import("bullmq"),
      ]);
      const url = parseQueueUrl(flags.queue);
      const redis = connectRedis(url, "moss-workers");
      try {
        await ensureReachable(redis, url, 10_000);
        const queue = new Queue(QUEUE_NAME, { connection: redis });
        const [workers, counts] = await withDeadline(
          Promise.all([
            readStatuses(redis),
            queue.getJobCounts("waiting", "prioritized", "active", "delayed", "completed", "failed"),
          ]),
          10_000,
          () => new Error("the queue stopped answering"),
        );
        await queue.close();
        const depth: Record<string, number> = {
          ...counts,
          waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
        };
        if (flags.json) {
          process.stdout.write(`${JSON.stringify({ workers, queue: depth })}\n`);
          return;
        }
        console.log(
          `queue: ${depth.waiting} waiting, ${depth.active ?? 0} running, ${depth.delayed ?? 0} delayed, ${depth.completed ?? 0} finished not yet collected, ${depth.failed ?? 0} failed`,
        );
        if (!workers.length) console.log("no worker connected (start one with: moss worker --queue URL)");
        for (const w of workers) {
          console.log(
            sanitize(
              `${w.name}  ${w.running.length}/${w.concurrency} busy  ${w.done} done  ${w.refused} refused${w.stopping ? "  (stopping)" : ""}  up since ${w.startedAt}`,
            ),
          );
          for (const r of w.running)
            console.log(sanitize(`    ${r.key}  (eval ${r.evalId}, since ${r.since})`));
        }
      } finally {
        redis.disconnect();
      }
    });
}
