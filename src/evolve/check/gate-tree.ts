import { rmSync } from "node:fs";
import path from "node:path";
import { git } from "../../git/repo.ts";
import { createTreeWorktree, type Worktree } from "../../git/worktree.ts";
import { type ProtectedDiff, parseNameStatus, protectedDiff } from "./protected-files.ts";

/**
 * The tree the gate judges: built from the candidate's staged tree (exactly what would be
 * committed; nothing on the candidate's disk that git leaves out), in a worktree of its own.
 * `useHeadFiles()` then puts back the head's tests, snapshots and test/type configuration and
 * leaves out what the candidate added to them, except new tests and their snapshots.
 */
export interface GateTree extends Worktree {
  protected: ProtectedDiff;
  useHeadFiles(): Promise<void>;
}

/** Stages everything in `dir` (`git add -A`, as the scope check and the commit do) and builds from that. */
export async function buildGateTree(dir: string): Promise<GateTree> {
  await git(dir).raw(["add", "-A", "--", "."]);
  const tree = (await git(dir).raw(["write-tree"])).trim();
  const entries = parseNameStatus(
    await git(dir).raw(["diff-tree", "-r", "--no-renames", "--name-status", "-z", "HEAD", tree]),
  );
  const diff = protectedDiff(entries);
  const wt = await createTreeWorktree(dir, tree);
  return {
    ...wt,
    protected: diff,
    async useHeadFiles() {
      if (diff.restore.length) await git(wt.dir).raw(["checkout", "HEAD", "--", ...diff.restore]);
      for (const f of diff.drop) rmSync(path.join(wt.dir, f), { force: true });
    },
  };
}
