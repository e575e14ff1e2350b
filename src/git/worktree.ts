import { existsSync, realpathSync, symlinkSync } from "node:fs";
import path from "node:path";
import { git } from "./repo.ts";
import { makeTempDir, pidAlive, removeTree } from "./temp-dirs.ts";

export interface Worktree {
  dir: string;
  remove(): Promise<void>;
}

/**
 * A detached worktree of `commit`, outside the home folder (so vitest never collects it twice),
 * with the home's node_modules linked in before any test run.
 */
export async function createWorktree(
  home: string,
  commit: string,
  opts: { checkout?: boolean } = {},
): Promise<Worktree> {
  const noCheckout = opts.checkout === false ? ["--no-checkout"] : [];
  const dir = await addWorktree(home, [...noCheckout, commit]);
  const modules = path.join(home, "node_modules");
  if (existsSync(modules)) symlinkSync(realpathSync(modules), path.join(dir, "node_modules"));
  return {
    dir,
    // Prunes only when the folder had to be removed by hand: a prune while another moss (or a
    // concurrent check) is adding a worktree can delete that worktree's admin files mid-creation.
    async remove() {
      await git(home)
        .raw(["worktree", "remove", "--force", dir])
        .catch(async () => {
          removeTree(dir);
          await git(home)
            .raw(["worktree", "prune"])
            .catch(() => {});
        });
    },
  };
}

/**
 * A fresh worktree holding exactly `tree` (a tree object of the repository `repoDir` belongs to),
 * its HEAD at `repoDir`'s HEAD: what a commit of that tree would hold, and nothing else on disk
 * (no ignored or untracked files), with the home's node_modules linked in.
 */
export async function createTreeWorktree(repoDir: string, tree: string): Promise<Worktree> {
  const common = (await git(repoDir).raw(["rev-parse", "--path-format=absolute", "--git-common-dir"])).trim();
  const home = path.dirname(common);
  const head = (await git(repoDir).revparse(["HEAD"])).trim();
  const wt = await createWorktree(home, head, { checkout: false });
  await git(wt.dir).raw(["read-tree", tree]);
  await git(wt.dir).raw(["checkout-index", "--all", "--force"]);
  return wt;
}

let adding: Promise<unknown> = Promise.resolve();

/**
 * `git worktree add --detach` into a fresh temp folder. Concurrent adds to one repository race in
 * git itself ("failed to read .git/worktrees/<x>/commondir"): adds are serialized within this
 * process, and an add that loses a race with another process is retried in a new folder.
 */
function addWorktree(home: string, args: string[]): Promise<string> {
  const run = async () => {
    for (let attempt = 1; ; attempt++) {
      const dir = makeTempDir("wt");
      removeTree(dir);
      try {
        await git(home).raw(["worktree", "add", "--detach", "--quiet", dir, ...args]);
        return dir;
      } catch (err) {
        removeTree(dir);
        if (attempt >= 5 || !/worktrees|lock/i.test((err as Error).message)) throw err;
        await new Promise((r) => setTimeout(r, 50 + Math.random() * 200));
      }
    }
  };
  const next = adding.then(run, run);
  adding = next.catch(() => {});
  return next;
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
        .catch(() => removeTree(dir));
      removed++;
    }
  }
  await git(home).raw(["worktree", "prune"]);
  return removed;
}
