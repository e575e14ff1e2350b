import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { makeTempDir } from "../git/temp-dirs.ts";

/**
 * Runs an external coding-agent CLI (`claude -p`, `codex exec`, `opencode run`, ...) in the
 * candidate worktree with the evidence as its prompt on stdin and in $MOSS_PROMPT_FILE. Its
 * changes to the worktree are the patch. Resolves with its exit code and output tail.
 */
export function runExternalPatcher(
  dir: string,
  command: string,
  promptText: string,
  timeoutMs: number,
): Promise<{ code: number | null; output: string; timedOut: boolean }> {
  const promptFile = path.join(makeTempDir("gate"), "prompt.md");
  writeFileSync(promptFile, promptText);
  return new Promise((resolve) => {
    const child = spawn("bash", ["-c", command], {
      cwd: dir,
      detached: true,
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, MOSS_PROMPT_FILE: promptFile },
    });
    let output = "";
    const add = (b: Buffer) => {
      output = (output + b.toString("utf8")).slice(-20_000);
    };
    child.stdout.on("data", add);
    child.stderr.on("data", add);
    child.stdin.on("error", () => {});
    child.stdin.end(promptText);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // Gone.
      }
    }, timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      resolve({ code: 127, output: err.message, timedOut: false });
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output, timedOut });
    });
  });
}
