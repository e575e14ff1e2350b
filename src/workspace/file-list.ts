import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { makeTempDir } from "../git/temp-dirs.ts";

/**
 * Files of `dir` that are not ignored by its .gitignore files, relative and sorted. Works for
 * any folder, a git repository or not, through a private throwaway git dir; .git is never listed.
 * A name that is not valid UTF-8 is left out (see listWorkspaceFilesChecked).
 */
export function listWorkspaceFiles(dir: string): string[] {
  return listWorkspaceFilesChecked(dir).files;
}

/**
 * listWorkspaceFiles, and the names it left out because they are not valid UTF-8 (shown with the
 * bad bytes as \xNN): such a name cannot be stored, diffed or applied back without changing it.
 */
export function listWorkspaceFilesChecked(dir: string): { files: string[]; badNames: string[] } {
  const gitDir = makeTempDir("ls");
  try {
    execFileSync("git", ["init", "-q", "--bare", gitDir], { stdio: "ignore" });
    const out = execFileSync(
      "git",
      [`--git-dir=${gitDir}`, `--work-tree=${dir}`, "ls-files", "-z", "--others", "--exclude-standard"],
      { cwd: dir, maxBuffer: 256 * 1024 * 1024 },
    );
    const files: string[] = [];
    const badNames: string[] = [];
    let start = 0;
    for (let end = out.indexOf(0); end >= 0; start = end + 1, end = out.indexOf(0, start)) {
      const raw = out.subarray(start, end);
      const name = raw.toString("utf8");
      if (!name || name.endsWith("/") || name.split("/").includes(".git")) continue;
      if (Buffer.from(name, "utf8").equals(raw)) files.push(name);
      else badNames.push(escapeBytes(raw));
    }
    return { files: files.sort(), badNames };
  } finally {
    rmSync(gitDir, { recursive: true, force: true });
  }
}

/** A name with bytes outside printable ASCII written as \xNN. */
function escapeBytes(raw: Buffer): string {
  return [...raw]
    .map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, "0")}`))
    .join("");
}
