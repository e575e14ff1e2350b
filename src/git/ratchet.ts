import { existsSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { simpleGit } from "simple-git";
import { writeFileAtomic } from "../log/atomic-write.ts";
import { faultPoint } from "../log/fault-point.ts";
import { git, HARNESS_GIT_CONFIG, HARNESS_GIT_UNSAFE } from "./repo.ts";

/** moss commits as itself, so a home needs no git identity configured. */
export const MOSS_IDENTITY = ["user.name=moss", "user.email=moss@localhost"];

/** The branch the home has checked out: the ratchet head. */
export async function headBranch(home: string): Promise<string> {
  try {
    return (await git(home).raw(["symbolic-ref", "--short", "HEAD"])).trim();
  } catch {
    throw new Error(`the home ${home} is on a detached HEAD; check out the branch moss should evolve`);
  }
}

export async function readRef(home: string, branch: string): Promise<string> {
  return (await git(home).revparse([`refs/heads/${branch}`])).trim();
}

/** Commits everything staged under `paths` in `dir`; returns the new commit id. */
export async function commitIn(dir: string, paths: string[], message: string): Promise<string> {
  const repo = simpleGit({
    baseDir: dir,
    config: [...MOSS_IDENTITY, ...HARNESS_GIT_CONFIG],
    unsafe: HARNESS_GIT_UNSAFE,
  });
  await repo.raw(["add", "-A", "--", ...paths]);
  await repo.raw(["commit", "--quiet", "--no-verify", "-m", message]);
  return (await repo.revparse(["HEAD"])).trim();
}

const markerFile = (home: string) => path.join(home, ".moss", "promote.json");

/**
 * Moves the head branch from `oldCommit` to `newCommit` in one compare-and-swap ref update, then
 * brings the home's work tree along. Throws when the ref no longer holds `oldCommit`. A crash at
 * any point leaves the ref old or new; recoverHome finishes the work-tree update.
 */
export async function moveHead(
  home: string,
  branch: string,
  oldCommit: string,
  newCommit: string,
): Promise<void> {
  writeFileAtomic(markerFile(home), JSON.stringify({ branch, oldCommit, newCommit }));
  try {
    await git(home).raw(["update-ref", "-m", "moss: promote", `refs/heads/${branch}`, newCommit, oldCommit]);
  } catch (err) {
    rmSync(markerFile(home), { force: true });
    throw new Error(`the head moved while this candidate was checked (${(err as Error).message.trim()})`);
  }
  faultPoint("promote:ref-moved");
  await syncWorkTree(home, oldCommit, newCommit);
  rmSync(markerFile(home), { force: true });
}

/** Finishes an interrupted promotion: the ref is old (nothing to do) or new (update the tree). */
export async function recoverHome(home: string): Promise<string | null> {
  const file = markerFile(home);
  if (!existsSync(file)) return null;
  const { branch, oldCommit, newCommit } = JSON.parse(readFileSync(file, "utf8")) as Record<string, string>;
  const current = await readRef(home, branch!);
  let note: string | null = null;
  if (current === newCommit) {
    const staged = await git(home).raw([
      "diff",
      "--cached",
      "--name-only",
      newCommit!,
      "--",
      "agent-src",
      "evolution-log",
    ]);
    if (staged.trim()) await syncWorkTree(home, oldCommit!, newCommit!);
    note = `finished an interrupted promotion to ${newCommit!.slice(0, 10)}`;
  }
  rmSync(file, { force: true });
  return note;
}

async function syncWorkTree(home: string, oldCommit: string, newCommit: string): Promise<void> {
  // Rejected records sit untracked in the home until a commit takes them in; drop those copies.
  const untracked = (
    await git(home).raw(["ls-files", "--others", "--exclude-standard", "--", "evolution-log"])
  )
    .split("\n")
    .filter(Boolean);
  const inNew = new Set(
    (await git(home).raw(["ls-tree", "-r", "--name-only", newCommit, "--", "evolution-log"]))
      .split("\n")
      .filter(Boolean),
  );
  for (const f of untracked) if (inNew.has(f)) rmSync(path.join(home, f), { force: true });
  await retryOnIndexLock(() => git(home).raw(["read-tree", "-m", "-u", oldCommit, newCommit]));
}

/** Refuses to evolve a home whose agent-src has uncommitted changes (they would be lost or mixed in). */
export async function assertAgentSrcClean(home: string): Promise<void> {
  // No optional locks: a concurrent promotion in this home may be updating the index.
  const status = await git(home).raw(["--no-optional-locks", "status", "--porcelain", "--", "agent-src"]);
  if (status.trim()) {
    throw new Error(
      `agent-src in ${home} has uncommitted changes; commit or stash them first:\n${status.trimEnd()}`,
    );
  }
}

/**
 * Runs a git command that needs the home's index lock, retrying while another git process
 * (a status refresh of another moss, an editor) briefly holds it.
 */
async function retryOnIndexLock<T>(fn: () => Promise<T>, attempts = 50): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= attempts || !/index\.lock/.test((err as Error).message)) throw err;
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 80));
    }
  }
}
