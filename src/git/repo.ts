import { existsSync } from "node:fs";
import path from "node:path";
import { type SimpleGit, simpleGit } from "simple-git";

/**
 * Settings every harness git command runs with, over any repository config: no hooks (a
 * candidate or an external patcher may have planted one; `--no-verify` does not skip
 * post-commit or post-checkout) and no fsmonitor command.
 */
export const HARNESS_GIT_CONFIG = ["core.hooksPath=/dev/null", "core.fsmonitor=false"];

/** simple-git refuses these overrides unless told they are meant (they disable, not enable). */
export const HARNESS_GIT_UNSAFE = { allowUnsafeHooksPath: true, allowUnsafeFsMonitor: true };

export const git = (dir: string): SimpleGit =>
  simpleGit({ baseDir: dir, config: HARNESS_GIT_CONFIG, unsafe: HARNESS_GIT_UNSAFE });

/** The commit checked out in `dir`, or null when it is not a git repository with commits. */
export async function headCommit(dir: string): Promise<string | null> {
  if (!existsSync(path.join(dir, ".git"))) return null;
  try {
    return (await git(dir).revparse(["HEAD"])).trim();
  } catch {
    return null;
  }
}
