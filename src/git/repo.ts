import { existsSync } from "node:fs";
import path from "node:path";
import { type SimpleGit, simpleGit } from "simple-git";

export const git = (dir: string): SimpleGit => simpleGit({ baseDir: dir });

/** The commit checked out in `dir`, or null when it is not a git repository with commits. */
export async function headCommit(dir: string): Promise<string | null> {
  if (!existsSync(path.join(dir, ".git"))) return null;
  try {
    return (await git(dir).revparse(["HEAD"])).trim();
  } catch {
    return null;
  }
}
