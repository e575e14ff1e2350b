import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { UsageError } from "../errors.ts";
import { runInGroup } from "../process/run-in-group.ts";
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

/** Runs the check in `cwd` (bash, own process group, killed whole on timeout). */
export async function runCheck(
  command: string,
  cwd: string,
  timeoutMs: number,
  env?: NodeJS.ProcessEnv,
): Promise<CheckResult> {
  const r = await runInGroup("bash", ["-c", command], { cwd, timeoutMs, ...(env ? { env } : {}) });
  return {
    command,
    exitCode: r.code,
    timedOut: r.timedOut,
    output: r.output,
    counts: parseTestCounts(r.output),
    ms: r.ms,
  };
}
