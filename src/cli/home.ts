import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { UsageError } from "../errors.ts";

/** The moss package folder (holds the pristine agent-src and src/contract). */
export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The agent home: --home, then MOSS_HOME, then the moss checkout itself. */
export function resolveHome(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const home = path.resolve(flag ?? env.MOSS_HOME ?? packageRoot);
  if (!existsSync(path.join(home, "agent-src", "main.ts"))) {
    throw new UsageError(
      `${home} is not an agent home (no agent-src/main.ts). Create one with \`moss init ${home}\` or pass --home.`,
    );
  }
  return home;
}
