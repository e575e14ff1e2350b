import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { UsageError } from "../errors.ts";
import type { SandboxLimits } from "../sandbox/limits.ts";
import { runSandboxed } from "../sandbox/run-sandboxed.ts";
import type { SharedMount } from "../sandbox/sandbox.ts";
import { parseTestCounts, type TestCounts } from "./test-counts.ts";

export interface CheckResult {
  command: string;
  exitCode: number | null;
  timedOut: boolean;
  output: string;
  counts: TestCounts | null;
  ms: number;
  /** Why the sandbox's watchdog killed it (memory, processes, disk), when it did. */
  killedBecause?: string;
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
 * what the agent wrote, so the check runs as agent code: the check env policy (no keys) and, with
 * a sandbox, inside it: no network, the toolchains on PATH, the workspace writable, its installed
 * dependencies (`shared`) read-only.
 */
export async function runCheck(
  command: string,
  cwd: string,
  timeoutMs: number,
  sandbox: SandboxLimits | null = null,
  shared: SharedMount[] = [],
  signal?: AbortSignal,
): Promise<CheckResult> {
  const r = await runSandboxed(
    {
      command: "bash",
      args: ["-c", command],
      cwd,
      env: { kind: "check" },
      writable: [cwd],
      shared,
      limits: sandbox,
    },
    { timeoutMs, ...(signal ? { signal } : {}) },
  );
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
    ...(r.killedBecause ? { killedBecause: r.killedBecause } : {}),
  };
}
