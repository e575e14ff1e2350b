import { existsSync } from "node:fs";
import path from "node:path";
import { recoverHome } from "../git/ratchet.ts";
import { cleanStaleTempDirs } from "../git/temp-dirs.ts";
import { cleanStaleWorktrees } from "../git/worktree.ts";
import { removeTempFiles } from "../log/evolution-log.ts";
import { withHomeLock } from "../log/home-lock.ts";

/**
 * Start-up housekeeping for a home: finish an interrupted promotion, drop half-written log files,
 * and remove worktrees and temp folders of moss processes that are gone.
 */
export async function prepareHome(home: string, say: (line: string) => void = () => {}): Promise<void> {
  if (!existsSync(path.join(home, ".git"))) return;
  // Under the home lock: a promotion in progress in another process is not a crashed one.
  const note = await withHomeLock(home, () => recoverHome(home));
  if (note) say(note);
  removeTempFiles(home);
  const worktrees = await cleanStaleWorktrees(home);
  cleanStaleTempDirs();
  if (worktrees > 0) say(`removed ${worktrees} stale worktree(s) left by an interrupted moss`);
}
