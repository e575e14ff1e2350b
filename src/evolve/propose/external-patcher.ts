import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { makeTempDir } from "../../git/temp-dirs.ts";
import { type GroupRunResult, runInGroup } from "../../process/run-in-group.ts";

/**
 * Runs an external coding-agent CLI (`claude -p`, `codex exec`, `opencode run`, ...) in the
 * candidate worktree with the evidence as its prompt on stdin and in $MOSS_PROMPT_FILE. Its
 * changes to the worktree are the patch. Resolves with its exit code and output tail.
 */
export async function runExternalPatcher(
  dir: string,
  command: string,
  promptText: string,
  timeoutMs: number,
): Promise<GroupRunResult> {
  const promptDir = makeTempDir("gate");
  const promptFile = path.join(promptDir, "prompt.md");
  writeFileSync(promptFile, promptText);
  try {
    return await runInGroup("bash", ["-c", command], {
      cwd: dir,
      timeoutMs,
      env: { ...process.env, MOSS_PROMPT_FILE: promptFile },
      input: promptText,
      maxOutputChars: 20_000,
    });
  } finally {
    rmSync(promptDir, { recursive: true, force: true });
  }
}
