import chalk from "chalk";
import { sanitize } from "./sanitize.ts";

/** A unified diff for a terminal: sanitized (see sanitize.ts), then colored. */
export function colorDiff(patch: string): string {
  return sanitize(patch)
    .split("\n")
    .map((line) =>
      line.startsWith("+++") || line.startsWith("---")
        ? chalk.bold(line)
        : line.startsWith("+")
          ? chalk.green(line)
          : line.startsWith("-")
            ? chalk.red(line)
            : line.startsWith("@@")
              ? chalk.cyan(line)
              : line,
    )
    .join("\n");
}

/** A cost in USD; null is an unknown cost (a model without a price), never shown as $0. */
export const fmtUsd = (n: number | null) => (n === null ? "unknown" : `$${n.toFixed(4)}`);
export const fmtTokens = (u: {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}) =>
  `${u.inputTokens} in / ${u.outputTokens} out / ${u.cacheReadTokens} cache-read / ${u.cacheWriteTokens} cache-write`;
