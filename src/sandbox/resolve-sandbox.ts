import { realpathSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Config } from "../config/config-schema.ts";
import { userConfigFile } from "../config/load-config.ts";
import { UsageError } from "../errors.ts";
import type { SandboxLimits } from "./limits.ts";
import { homeSecrets, userSecrets } from "./macos-profile.ts";
import { sandboxAvailable } from "./sandbox.ts";

/**
 * The sandbox agent code and the gate will run in. Refuses (UsageError) when it cannot start,
 * unless the user turned it off, and then says so every time.
 */
export function resolveSandbox(
  config: Config,
  noSandbox: boolean,
  warn: (line: string) => void,
  home: string,
): SandboxLimits | null {
  if (noSandbox || !config.sandbox.enabled) {
    warn(
      "WARNING: running agent code WITHOUT a sandbox (--no-sandbox): it can read and write what you can, " +
        "and your installed dependency folders (node_modules, .venv, venv, vendor, workspace.shareIgnored) " +
        "are linked into its copy of the workspace, not mounted read-only: it can change them",
    );
    return null;
  }
  const probe = sandboxAvailable();
  if (!probe.ok) {
    throw new UsageError(
      `no sandbox can start here: ${probe.reason}. moss will not run agent code unsandboxed unless you pass --no-sandbox.`,
    );
  }
  return {
    maxProcs: config.sandbox.maxProcs,
    memoryMb: config.sandbox.memoryMb,
    tmpMb: config.sandbox.tmpMb,
    diskMb: config.sandbox.diskMb,
    deniedReads: deniedReadsOf(home),
  };
}

/** The agent home's secrets and the user's credential folders, as real paths where they exist. */
function deniedReadsOf(home: string): NonNullable<SandboxLimits["deniedReads"]> {
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return p;
    }
  };
  const own = homeSecrets(real(home), real(path.dirname(userConfigFile())));
  const user = userSecrets(real(os.homedir()));
  return { files: [...own.files, ...user.files], folders: [...own.folders, ...user.folders] };
}
