import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { UsageError } from "../errors.ts";
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
export function runCheck(
  command: string,
  cwd: string,
  timeoutMs: number,
  env?: NodeJS.ProcessEnv,
): Promise<CheckResult> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn("bash", ["-c", command], {
      cwd,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env,
    });
    let output = "";
    const add = (b: Buffer) => {
      output = (output + b.toString("utf8")).slice(-200_000);
    };
    child.stdout.on("data", add);
    child.stderr.on("data", add);
    let timedOut = false;
    const kill = () => {
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {
        // Gone already.
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      kill();
      resolve({
        command,
        exitCode: code,
        timedOut,
        output,
        counts: parseTestCounts(output),
        ms: Date.now() - t0,
      });
    });
  });
}
