import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { makeTempDir } from "../git/temp-dirs.ts";

/**
 * Files of `dir` that are not ignored by its .gitignore files, relative and sorted. Works for
 * any folder, a git repository or not, through a private throwaway git dir; .git is never listed.
 */
export function listWorkspaceFiles(dir: string): string[] {
  const gitDir = makeTempDir("ls");
  try {
    execFileSync("git", ["init", "-q", "--bare", gitDir], { stdio: "ignore" });
    const out = execFileSync(
      "git",
      [`--git-dir=${gitDir}`, `--work-tree=${dir}`, "ls-files", "-z", "--others", "--exclude-standard"],
      { cwd: dir, maxBuffer: 256 * 1024 * 1024 },
    ).toString("utf8");
    return out
      .split("\0")
      .filter((f) => f && !f.endsWith("/") && !f.split("/").includes(".git"))
      .sort();
  } finally {
    rmSync(gitDir, { recursive: true, force: true });
  }
}
