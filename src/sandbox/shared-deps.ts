import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, rmSync, statSync, symlinkSync } from "node:fs";
import path from "node:path";
import { makeTempDir } from "../git/temp-dirs.ts";
import type { SharedMount } from "./sandbox.ts";

/** Folder names that hold installed dependencies, shared at any depth when ignored. */
export const DEPENDENCY_DIRS = ["node_modules", ".venv", "venv", "vendor"];

/** The installed dependencies of a workspace: folders (relative paths) shown in every scratch copy. */
export interface SharedDeps {
  /** The user's workspace folder the dependencies live in. */
  workspace: string;
  paths: string[];
}

/**
 * The workspace's ignored dependency folders, relative and sorted: every ignored folder named
 * like DEPENDENCY_DIRS at any depth (not inside another ignored folder), plus each of `extra`
 * (config workspace.shareIgnored) that exists and is ignored. Folders that are not ignored are
 * copied with the workspace like any file, so they are never shared.
 */
export function findSharedDeps(workspace: string, extra: string[] = []): SharedDeps {
  const gitDir = makeTempDir("ls");
  const git = (args: string[]) =>
    execFileSync("git", [`--git-dir=${gitDir}`, `--work-tree=${workspace}`, ...args], {
      cwd: workspace,
      maxBuffer: 64 * 1024 * 1024,
    }).toString("utf8");
  try {
    execFileSync("git", ["init", "-q", "--bare", gitDir], { stdio: "ignore" });
    const ignoredDirs = git(["ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory"])
      .split("\0")
      .filter((f) => f.endsWith("/"))
      .map((f) => f.slice(0, -1));
    const found = new Set(ignoredDirs.filter((d) => DEPENDENCY_DIRS.includes(path.posix.basename(d))));
    for (const rel of extra.map((e) => path.posix.normalize(e).replace(/\/+$/, ""))) {
      if (!rel || rel.startsWith("..") || path.isAbsolute(rel) || rel.split("/").includes(".git")) continue;
      if (!isDir(path.join(workspace, rel))) continue;
      try {
        git(["check-ignore", "-q", "--", rel]);
        found.add(rel);
      } catch {
        // Not ignored: it is copied with the workspace.
      }
    }
    // A folder inside another shared one is already visible through it; only real folders whose
    // path has no symlink are shared (a `build -> ~/.ssh` link would mount what it points at).
    const sorted = [...found].filter((rel) => realFolderInside(workspace, rel)).sort();
    return { workspace, paths: sorted.filter((p) => !sorted.some((q) => q !== p && p.startsWith(`${q}/`))) };
  } finally {
    rmSync(gitDir, { recursive: true, force: true });
  }
}

/**
 * Makes the dependencies visible in `dir` (a scratch copy of the workspace) at their paths.
 * Sandboxed on Linux: creates the (empty) mount points and returns read-only mounts for bubblewrap.
 * Sandboxed on macOS: symlinks, read-only because the sandbox-exec profile allows writes only in
 * the scratch folder and its private temp. Without a sandbox: symlinks, which the agent CAN write
 * through (the --no-sandbox warning says so). Symlinks return no mounts. Either way detachSharedDeps undoes it.
 */
export function attachSharedDeps(
  dir: string,
  deps: SharedDeps | undefined,
  sandboxed: boolean,
  platform: NodeJS.Platform = process.platform,
): SharedMount[] {
  const mount = sandboxed && platform !== "darwin";
  const mounts: SharedMount[] = [];
  for (const rel of deps?.paths ?? []) {
    const source = path.join(deps!.workspace, rel);
    const target = path.join(dir, rel);
    if (!realFolderInside(deps!.workspace, rel) || !insideWithoutLinks(dir, target)) continue;
    if (existsSync(target) || isLink(target)) continue;
    if (mount) {
      mkdirSync(target, { recursive: true });
      mounts.push({ source, target });
    } else {
      mkdirSync(path.dirname(target), { recursive: true });
      symlinkSync(source, target);
    }
  }
  return mounts;
}

/**
 * Removes what sits at the dependency paths in `dir` (mount points, links, or whatever agent code
 * put there), so a diff of `dir` never sees them and nothing there is applied back. Never
 * follows a symlink: a path whose parent the agent replaced by a link is left alone.
 */
export function detachSharedDeps(dir: string, deps: SharedDeps | undefined): void {
  for (const rel of deps?.paths ?? []) {
    const target = path.join(dir, rel);
    if (insideWithoutLinks(dir, target)) rmSync(target, { recursive: true, force: true });
  }
}

/** Whether `target`'s parent folders, from `dir` down, are real folders (no symlink on the way). */
function insideWithoutLinks(dir: string, target: string): boolean {
  const rel = path.relative(dir, target);
  if (!rel || rel.startsWith("..") || path.isAbsolute(rel)) return false;
  let p = dir;
  for (const part of rel.split(path.sep).slice(0, -1)) {
    p = path.join(p, part);
    if (isLink(p)) return false;
  }
  return true;
}

/** Whether `rel` is a real folder of `workspace` with no symlink anywhere on its path. */
function realFolderInside(workspace: string, rel: string): boolean {
  const full = path.join(workspace, rel);
  if (!insideWithoutLinks(workspace, full)) return false;
  try {
    return lstatSync(full).isDirectory();
  } catch {
    return false;
  }
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
