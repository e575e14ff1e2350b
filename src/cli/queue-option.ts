import { UsageError } from "../errors.ts";
import type { QueueExecutor } from "../queue/queue-executor.ts";

export const QUEUE_OPTION = [
  "--queue <url>",
  "run the trials on `moss worker`s of this Redis (redis://[:password@]host:port, rediss:// for TLS)",
] as const;

/** Trials queued at once through --queue when --parallel is not given (the workers set the pace). */
export const QUEUE_IN_FLIGHT = 32;

/**
 * The executor for `--queue URL`: checks what the workers cannot run, then connects (a clear
 * UsageError when Redis is unreachable or refuses the password).
 */
export async function openQueue(
  flag: string,
  tasks: Array<{ id: string; setup?: string }>,
  say: (line: string) => void,
  resumeCommand: (url: string) => string,
): Promise<QueueExecutor> {
  const { parseQueueUrl, redactUrl } = await import("../queue/connection.ts");
  const url = parseQueueUrl(flag);
  const withSetup = tasks.filter((t) => t.setup);
  if (withSetup.length) {
    throw new UsageError(
      `task(s) ${withSetup.map((t) => t.id).join(", ")} have a setup command, which queue workers do not run ` +
        "(it would run outside their sandbox). Run those tasks without --queue (--tasks picks the others).",
    );
  }
  const { createQueueExecutor } = await import("../queue/queue-executor.ts");
  const executor = await createQueueExecutor({
    url,
    say,
    resumeHint: resumeCommand(redactUrl(url.toString())),
  });
  say(
    `trials go to the queue at ${redactUrl(url.toString())} (\`moss workers --queue URL\` shows who runs them)`,
  );
  return executor;
}
