import { readFileSync } from "node:fs";
import { UsageError } from "../errors.ts";

/**
 * The task text from exactly one of: the argument, `-` (standard input) or --task-file FILE.
 * Files and stdin have no size limit of their own (an argument is capped near 128 KB by the OS).
 */
export function readTask(arg: string | undefined, taskFile: string | undefined): string {
  if (arg !== undefined && taskFile !== undefined) {
    throw new UsageError("give the task once: as an argument, as `-` (standard input), or with --task-file");
  }
  if (taskFile !== undefined) {
    try {
      return readFileSync(taskFile, "utf8");
    } catch (err) {
      throw new UsageError(`--task-file: cannot read ${taskFile} (${(err as NodeJS.ErrnoException).code})`);
    }
  }
  if (arg === "-") {
    if (process.stdin.isTTY) {
      throw new UsageError(
        "`moss run -` reads the task from standard input; pipe it in (echo task | moss run -)",
      );
    }
    return readFileSync(0, "utf8");
  }
  if (arg === undefined) {
    throw new UsageError(
      'say what the agent should do: moss run "<task>", moss run - (stdin), or --task-file FILE',
    );
  }
  return arg;
}
