import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { isSandboxUid } from "../sandbox/sandbox.ts";

const PATTERN = /^moss-(wt|scratch|agent-home|gate|ls|etc)-(\d+)-/;

/** A temp folder whose name carries this process's pid, so a later start can clean it up. */
export function makeTempDir(kind: "wt" | "scratch" | "agent-home" | "gate" | "ls" | "etc"): string {
  return mkdtempSync(path.join(os.tmpdir(), `moss-${kind}-${process.pid}-`));
}

/**
 * Removes a folder agent code may have filled (a scratch copy, a worktree): never throws. Node's
 * rmSync works by whole paths and fails on a tree deeper than PATH_MAX (an agent can make one);
 * `rm -rf` walks by file descriptors and gets through, so it is the fallback.
 */
export function removeTree(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    try {
      execFileSync("rm", ["-rf", "--", dir], { stdio: "ignore" });
    } catch {
      // Left for cleanStaleTempDirs at a later start.
    }
  }
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes this user's moss temp folders left by processes that are gone. Returns how many it
 * removed. Another user's folders (a shared /tmp) are left alone, except, as root, those moss gave
 * to a sandbox uid; a folder that cannot be removed
 * is skipped, never an error.
 */
export function cleanStaleTempDirs(): number {
  let removed = 0;
  const uid = process.getuid?.();
  for (const name of readdirSync(os.tmpdir())) {
    const m = PATTERN.exec(name);
    if (!m || pidAlive(Number(m[2]))) continue;
    const dir = path.join(os.tmpdir(), name);
    try {
      const owner = statSync(dir).uid;
      // As root, moss hands scratch and gate folders to a sandbox uid (see sandboxUid).
      if (uid !== undefined && owner !== uid && !(uid === 0 && isSandboxUid(owner))) continue;
      removeTree(dir);
      removed++;
    } catch {
      // Removed by another moss meanwhile, or not ours to remove.
    }
  }
  return removed;
}
