import { DEFAULT_DISK_MB } from "./limits.ts";
import { type MacosProfileSpec, macosSandboxCommand } from "./macos-profile.ts";
import { type SandboxSpec, wrapInSandbox } from "./sandbox.ts";

/** What only the macOS sandbox needs: its private temp folder and the reads it denies by name. */
export type MacosExtras = Pick<MacosProfileSpec, "privateTmp" | "deniedReads">;

/**
 * The command line that runs `command args` in the sandbox of `platform` (passed in, never read
 * from process.platform here, so each platform's line is unit-tested anywhere):
 * - linux: bubblewrap (wrapInSandbox): only the listed mounts are visible at all.
 * - darwin: sandbox-exec with the profile of macos-profile.ts: reads allowed except
 *   `deniedReads`, writes only in spec.writable and `privateTmp`, no network unless spec.network,
 *   RLIMIT_FSIZE at spec.maxFileMb. spec.readOnly, spec.shared, spec.etc and the tmpfs sizes have
 *   no macOS counterpart (dependencies are shared as symlinks, which the profile keeps read-only).
 * Throws for any other platform (resolveSandbox refuses there first).
 */
export function sandboxCommandLine(
  platform: NodeJS.Platform,
  command: string,
  args: string[],
  spec: SandboxSpec,
  macos: MacosExtras,
): { command: string; args: string[] } {
  if (platform === "linux") return wrapInSandbox(command, args, spec);
  if (platform === "darwin") {
    return macosSandboxCommand(command, args, {
      writable: spec.writable,
      privateTmp: macos.privateTmp,
      deniedReads: macos.deniedReads,
      network: spec.network ?? false,
      maxFileMb: spec.maxFileMb ?? DEFAULT_DISK_MB,
    });
  }
  throw new Error(`moss has no sandbox for ${platform}`);
}
