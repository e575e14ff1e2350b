import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { UsageError } from "../errors.ts";

/** The moss package folder (holds the pristine agent-src and src/contract). Never written to. */
export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The per-user agent home used without --home or MOSS_HOME: $XDG_DATA_HOME/moss, else ~/.local/share/moss. */
export function defaultHome(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_DATA_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(env.HOME || os.homedir(), ".local", "share");
  return path.join(base, "moss");
}

/** Why `dir` is not an agent home, or null when it is one. */
export function notAHomeReason(dir: string): string | null {
  if (!existsSync(dir)) return "it does not exist";
  if (!existsSync(path.join(dir, "agent-src", "main.ts"))) return "it has no agent-src/main.ts";
  if (!existsSync(path.join(dir, ".git"))) return "it is not a git repository (the ratchet needs one)";
  return null;
}

const WHAT_A_HOME_IS =
  "An agent home is a git repository holding the agent's own source (agent-src/), its evolution log and its runs.";

/**
 * The agent home: --home, then MOSS_HOME, then the per-user default home, which is created and
 * initialised on first use (with a one-line notice through `say`). A named home must already be
 * one: moss never turns an arbitrary folder (or its own package folder) into a home. Throws
 * UsageError saying what a home is and how to make one.
 */
export async function resolveHome(
  flag: string | undefined,
  say: (line: string) => void = (l) => process.stderr.write(`moss: ${l}\n`),
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const named = flag ?? (env.MOSS_HOME || undefined);
  if (named !== undefined) {
    const home = path.resolve(named);
    const why = notAHomeReason(home);
    if (why) {
      const source = flag !== undefined ? "--home" : "MOSS_HOME";
      const fix =
        !existsSync(home) || readdirSync(home).length === 0
          ? `create it with \`moss init ${home}\``
          : "create one with `moss init <new folder>`";
      throw new UsageError(
        `${home} (from ${source}) is not an agent home: ${why}. ${WHAT_A_HOME_IS} To use one, ${fix}, or leave out --home and MOSS_HOME to use your default home (${defaultHome(env)}).`,
      );
    }
    return home;
  }
  const home = defaultHome(env);
  if (existsSync(home) && readdirSync(home).length > 0) {
    const why = notAHomeReason(home);
    if (why) {
      throw new UsageError(
        `your default agent home ${home} is not an agent home: ${why}. ${WHAT_A_HOME_IS} Move that folder away so moss can create it, or pass --home DIR (make one with \`moss init DIR\`).`,
      );
    }
    return home;
  }
  await createDefaultHome(home);
  say(`created your agent home in ${home} (first use; pick another with --home or MOSS_HOME)`);
  return home;
}

/** Initialises in a sibling folder and renames it into place, so two first uses at once both end with one valid home. */
async function createDefaultHome(home: string): Promise<void> {
  const { initHome } = await import("../home/init-home.ts");
  mkdirSync(path.dirname(home), { recursive: true });
  const staging = `${home}.init-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  try {
    await initHome(staging, packageRoot);
    renameSync(staging, home); // over an empty folder too; fails if another process got there first
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    if (notAHomeReason(home) === null) return;
    throw err;
  }
}
