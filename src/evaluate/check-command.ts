import { execFileSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { SandboxLimits } from "../agent-host/agent-process.ts";
import { childEnv } from "../agent-host/child-env.ts";
import { UsageError } from "../errors.ts";
import { makeTempDir } from "../git/temp-dirs.ts";
import { runInGroup } from "../process/run-in-group.ts";
import { makeWritableForSandbox, sandboxUid, wrapInSandbox } from "../sandbox/sandbox.ts";
import { parseTestCounts, type TestCounts } from "./test-counts.ts";

export interface CheckResult {
  command: string;
  exitCode: number | null;
  timedOut: boolean;
  output: string;
  counts: TestCounts | null;
  ms: number;
}

/** Fails fast, before any model call, when the check's program cannot be found. */
export function assertCheckRunnable(command: string, workspace: string): void {
  const first = command.trim().split(/\s+/)[0] ?? "";
  if (
    !first ||
    /[=$(`]/.test(first) ||
    ["cd", "env", "npx", "true", "false", "exit", "test", "["].includes(first)
  )
    return;
  if (first.includes("/")) {
    if (!existsSync(path.resolve(workspace, first))) {
      throw new UsageError(`--check: ${first} does not exist in the workspace ${workspace}`);
    }
    return;
  }
  try {
    execFileSync("bash", ["-c", `command -v -- ${JSON.stringify(first)}`], {
      cwd: workspace,
      stdio: "ignore",
    });
  } catch {
    throw new UsageError(`--check: the command "${first}" was not found on PATH`);
  }
}

/**
 * Runs the check in `cwd` (bash, own process group, killed whole on timeout). The workspace holds
 * what the agent wrote, so the check gets no keys (the agent's env allowlist) and, with a sandbox,
 * runs inside it: no network, only the toolchains on PATH visible, the workspace writable.
 */
export async function runCheck(
  command: string,
  cwd: string,
  timeoutMs: number,
  sandbox: SandboxLimits | null = null,
): Promise<CheckResult> {
  const home = makeTempDir("agent-home");
  try {
    const env = childEnv(process.env, home);
    let cmd = "bash";
    let args = ["-c", command];
    if (sandbox) {
      const uid = sandboxUid();
      makeWritableForSandbox(cwd, uid);
      const wrapped = wrapInSandbox(cmd, args, {
        readOnly: toolchainDirs(env.PATH),
        writable: [cwd],
        cwd,
        maxProcs: sandbox.maxProcs,
        uid,
      });
      cmd = wrapped.command;
      args = wrapped.args;
    }
    const r = await runInGroup(cmd, args, { cwd, timeoutMs, env, ...(sandbox ? { watch: sandbox } : {}) });
    const output = r.killedBecause
      ? `${r.output}\nmoss: the check ${r.killedBecause} and was killed\n`
      : r.output;
    return {
      command,
      exitCode: r.code,
      timedOut: r.timedOut,
      output,
      counts: parseTestCounts(output),
      ms: r.ms,
    };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/**
 * Folders a check may need read-only: each PATH entry outside the system folders, and for one
 * inside the user's home (~/.cargo/bin, ~/.pyenv/shims) the tool's own root (~/.cargo, ~/.pyenv).
 */
function toolchainDirs(pathVar: string | undefined): string[] {
  const home = os.homedir();
  const out = new Set<string>();
  for (const entry of (pathVar ?? "").split(":").filter((p) => path.isAbsolute(p) && existsSync(p))) {
    const rel = path.relative(home, entry);
    if (!rel.startsWith("..") && rel !== "" && !path.isAbsolute(rel))
      out.add(path.join(home, rel.split(path.sep)[0]!));
    else out.add(entry);
  }
  return [...out].filter((d) => ![".ssh", ".aws", ".config", ".gnupg", ".moss"].includes(path.basename(d)));
}
