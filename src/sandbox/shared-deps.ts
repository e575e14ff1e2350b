import { existsSync, lstatSync, mkdirSync, rmSync, symlinkSync } from "node:fs";
import path from "node:path";
import { entryWithin } from "../workspace/entry.ts";
import { ignoredBy, withThrowawayGit } from "../workspace/file-list.ts";
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
  const ignoredDirs = withThrowawayGit(workspace, (git) =>
    git(["ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory"]),
  )
    .toString("utf8")
    .split("\0")
    .filter((f) => f.endsWith("/"))
    .map((f) => f.slice(0, -1));
  const found = new Set(ignoredDirs.filter((d) => DEPENDENCY_DIRS.includes(path.posix.basename(d))));
  const named = extra
    .map((e) => path.posix.normalize(e).replace(/\/+$/, ""))
    .filter(
      (rel) => rel && !rel.startsWith("..") && !path.isAbsolute(rel) && !rel.split("/").includes(".git"),
    )
    .filter((rel) => realFolderInside(workspace, rel));
  // A named folder that is not ignored is copied with the workspace like any file: never shared.
  for (const rel of ignoredBy(workspace, named)) found.add(rel);
  // A folder inside another shared one is already visible through it; only real folders whose
  // path has no symlink are shared (a `build -> ~/.ssh` link would mount what it points at).
  const sorted = [...found].filter((rel) => realFolderInside(workspace, rel)).sort();
  return { workspace, paths: sorted.filter((p) => !sorted.some((q) => q !== p && p.startsWith(`${q}/`))) };
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
const realFolderInside = (workspace: string, rel: string) => entryWithin(workspace, rel)?.kind === "dir";

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
