import { spawn } from "node:child_process";
import { z } from "zod";
import { defineTool, description, fail, ok, type Tool, truncateMiddle } from "./tool.ts";

export interface RunCommandOptions {
  root: string;
  timeoutMs: number;
  maxOutputChars?: number;
}

export function createRunCommandTool({ root, timeoutMs, maxOutputChars = 20_000 }: RunCommandOptions): Tool {
  const schema = z.object({
    command: z.string().min(1).describe("The bash command line to run"),
    timeout_ms: z.number().int().positive().optional().describe(`Timeout in ms (at most ${timeoutMs})`),
  });
  return defineTool("run_command", description("run-command.md"), schema, async (input, signal) => {
    const limit = Math.min(input.timeout_ms ?? timeoutMs, timeoutMs);
    const result = await runInGroup(input.command, root, limit, signal);
    const output = truncateMiddle(result.output, maxOutputChars);
    const head = result.timedOut
      ? `Command timed out after ${limit} ms and was killed.`
      : `Exit code: ${result.code ?? `signal ${result.signal}`}`;
    const text = `${head}\n${output}`;
    return result.timedOut || result.code !== 0 ? fail(text) : ok(text);
  });
}

interface GroupResult {
  code: number | null;
  signal: string | null;
  output: string;
  timedOut: boolean;
}

/** Runs the command in its own process group so a timeout kills its children too. */
function runInGroup(
  command: string,
  cwd: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<GroupResult> {
  return new Promise((resolve) => {
    const child = spawn("bash", ["-c", command], { cwd, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    const chunks: Buffer[] = [];
    let size = 0;
    const collect = (chunk: Buffer) => {
      // Bound memory: beyond 4 MB only the tail matters for the truncated view.
      chunks.push(chunk);
      size += chunk.length;
      while (size > 4_000_000 && chunks.length > 1) size -= chunks.shift()!.length;
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    let timedOut = false;
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {
        // The group has already exited.
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timeoutMs);
    signal.addEventListener("abort", killGroup, { once: true });
    child.on("error", (err) => {
      clearTimeout(timer);
      resolve({ code: 127, signal: null, output: err.message, timedOut: false });
    });
    child.on("close", (code, sig) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", killGroup);
      killGroup();
      resolve({ code, signal: sig, output: Buffer.concat(chunks).toString("utf8"), timedOut });
    });
  });
}
