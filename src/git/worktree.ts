import { existsSync, realpathSync, rmSync, symlinkSync } from "node:fs";
import path from "node:path";
import { git } from "./repo.ts";
import { makeTempDir, pidAlive } from "./temp-dirs.ts";

export interface Worktree {
  dir: string;
  remove(): Promise<void>;
}

/**
 * A detached worktree of `commit`, outside the home folder (so vitest never collects it twice),
 * with the home's node_modules linked in before any test run.
 */
export async function createWorktree(home: string, commit: string): Promise<Worktree> {
  const dir = makeTempDir("wt");
  rmSync(dir, { recursive: true, force: true });
  await git(home).raw(["worktree", "add", "--detach", "--quiet", dir, commit]);
  const modules = path.join(home, "node_modules");
  if (existsSync(modules)) symlinkSync(realpathSync(modules), path.join(dir, "node_modules"));
  return {
    dir,
    async remove() {
      await git(home)
        .raw(["worktree", "remove", "--force", dir])
        .catch(() => rmSync(dir, { recursive: true, force: true }));
      await git(home)
        .raw(["worktree", "prune"])
        .catch(() => {});
    },
  };
}

/** Removes worktrees of this home left by moss processes that are gone. */
export async function cleanStaleWorktrees(home: string): Promise<number> {
  const list = await git(home).raw(["worktree", "list", "--porcelain"]);
  let removed = 0;
  for (const line of list.split("\n")) {
    if (!line.startsWith("worktree ")) continue;
    const dir = line.slice("worktree ".length);
    const m = /moss-wt-(\d+)-/.exec(path.basename(dir));
    if (m && !pidAlive(Number(m[1]))) {
      await git(home)
        .raw(["worktree", "remove", "--force", dir])
        .catch(() => rmSync(dir, { recursive: true, force: true }));
      removed++;
    }
  }
  await git(home).raw(["worktree", "prune"]);
  return removed;
}
