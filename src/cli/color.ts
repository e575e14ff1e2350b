import chalk, { Chalk, type ChalkInstance } from "chalk";
import { UsageError } from "../errors.ts";

export type ColorMode = "auto" | "always" | "never";

/**
 * Whether to color a stream: --color always|never wins, then NO_COLOR (any non-empty value)
 * turns color off, then FORCE_COLOR (0 off, else on), else color only on a terminal.
 */
export function colorEnabled(mode: ColorMode, isTTY: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  if (mode === "always") return true;
  if (mode === "never") return false;
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "")
    return env.FORCE_COLOR !== "0" && env.FORCE_COLOR !== "false";
  return isTTY && env.TERM !== "dumb";
}

/** Colors for what moss writes on stderr (progress, notices); `chalk` itself is set for stdout. */
export let errChalk: ChalkInstance = new Chalk({ level: 0 });
/** Whether stderr shows live progress as a terminal (colors, a ticking status line). */
export let stderrIsTerminal = false;

/** Applies the color decision to stdout (the global chalk) and stderr (errChalk). Call once, before output. */
export function setupColor(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): void {
  const mode = (flag ?? "auto") as ColorMode;
  if (!["auto", "always", "never"].includes(mode)) {
    throw new UsageError(`--color must be auto, always or never, got "${flag}"`);
  }
  chalk.level = colorEnabled(mode, Boolean(process.stdout.isTTY), env) ? 3 : 0;
  errChalk = new Chalk({ level: colorEnabled(mode, Boolean(process.stderr.isTTY), env) ? 3 : 0 });
  stderrIsTerminal = Boolean(process.stderr.isTTY) && env.TERM !== "dumb";
}
