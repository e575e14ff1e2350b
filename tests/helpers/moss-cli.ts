import { execFile } from "node:child_process";
import path from "node:path";
import { repoRoot } from "./workspaces.ts";

export const mossBin = path.join(repoRoot, "bin", "moss.js");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built `moss` binary (async, so loopback servers in the test keep serving), with `stdin` piped in when given. The home is
 * this checkout unless `env` names another (MOSS_HOME: undefined leaves it unset, for tests of the
 * default home; give them their own HOME or XDG_DATA_HOME).
 */
export function moss(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  cwd = repoRoot,
  stdin?: string,
): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [mossBin, ...args],
      {
        cwd,
        env: definedOnly({
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          FORCE_COLOR: "0",
          MOSS_HOME: repoRoot,
          ...env,
        }),
        maxBuffer: 64 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
    if (stdin !== undefined) child.stdin?.end(stdin);
  });
}

function definedOnly(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined));
}
