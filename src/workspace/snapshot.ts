import { copyFileSync, existsSync, lstatSync, mkdirSync, readlinkSync, rmSync, symlinkSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { UsageError } from "../errors.ts";
import { makeTempDir } from "../git/temp-dirs.ts";
import { showName } from "./apply-names.ts";
import { entryWithin } from "./entry.ts";
import { listWorkspaceFiles, listWorkspaceFilesChecked } from "./file-list.ts";
import {
  changedPaths,
  checkoutTree,
  checkoutTreeAsync,
  hasTree,
  openStore,
  storeTree,
  treeFiles,
} from "./snapshot-store.ts";
import { diffTrees, type TreeDiff } from "./tree-diff.ts";

/**
 * Where a run's starting state is kept: a tree in the home's content-addressed store (see
 * snapshot-store.ts), or a plain folder (run records from before the store, and eval tasks).
 * Everything that reads a snapshot goes through the functions below.
 */
export const SnapshotRefSchema = z.union([
  z.string().min(1),
  z.object({ store: z.string().min(1), tree: z.string().regex(/^[0-9a-f]{40}$/) }),
]);
export type SnapshotRef = z.infer<typeof SnapshotRefSchema>;

/**
 * Snapshots the workspace's non-ignored files into the home's store and returns the reference.
 * Refuses, before storing anything, when the files add up to more than `maxBytes`. An unchanged
 * workspace adds nothing to the store and reads no file (only stats them).
 */
export function takeSnapshot(
  home: string,
  workspace: string,
  maxBytes: number,
): { ref: SnapshotRef & object; files: number; bytes: number } {
  const { files, bytes } = listWithinCap(workspace, maxBytes);
  const store = openStore(home);
  const tree = storeTree(store, workspace, files);
  // git's index skips names it holds unsafe (git~1, ".git.", ".git ", a symlinked .gitmodules)
  // with only a warning: the run would start without those files, so it does not start.
  const stored = new Set(treeFiles(store, tree));
  const refused = files.filter((f) => !stored.has(f));
  if (refused.length) {
    throw new UsageError(
      `workspace ${workspace} holds ${refused.length} file(s) whose names git refuses to store, so the run would start without them: ${refused.slice(0, 3).map(showName).join(", ")}${refused.length > 3 ? ", ..." : ""}. Rename them, or add them to .gitignore.`,
    );
  }
  return { ref: { store, tree }, files: files.length, bytes };
}

/** Writes the snapshot's files into `dir` (created if missing): a scratch copy to work in. */
export function materializeSnapshot(ref: SnapshotRef, dir: string): void {
  if (typeof ref === "string") copyTree(ref, dir, listWorkspaceFiles(ref));
  else checkoutTree(ref.store, ref.tree, dir);
}

/** materializeSnapshot for work beside a running agent: does not block the event loop. */
export async function materializeSnapshotAsync(ref: SnapshotRef, dir: string): Promise<void> {
  if (typeof ref === "string") copyTree(ref, dir, listWorkspaceFiles(ref));
  else await checkoutTreeAsync(ref.store, ref.tree, dir);
}

/** The snapshot's file paths, relative and sorted. */
export function snapshotFiles(ref: SnapshotRef): string[] {
  return typeof ref === "string" ? listWorkspaceFiles(ref) : treeFiles(ref.store, ref.tree);
}

/** Whether the snapshot can still be read (its folder or tree was not pruned). */
export function snapshotExists(ref: SnapshotRef): boolean {
  return typeof ref === "string" ? existsSync(ref) : hasTree(ref.store, ref.tree);
}

/**
 * What `dir` (a scratch copy made from the snapshot) changed, and `before`: a folder holding the
 * snapshot's version of every changed path, for the apply-back conflict check. Call `dispose`
 * when done with `before` (it is the snapshot folder itself for a folder snapshot).
 */
export function diffAgainstSnapshot(
  ref: SnapshotRef,
  dir: string,
): { diff: TreeDiff; before: string; dispose: () => void } {
  if (typeof ref === "string") return { diff: diffTrees(ref, dir), before: ref, dispose: () => {} };
  const before = makeTempDir("scratch");
  try {
    const paths = changedPaths(
      ref.store,
      ref.tree,
      dir,
      scratchFiles(dir, treeFiles(ref.store, ref.tree)),
      before,
    );
    return {
      diff: diffTrees(before, dir, paths),
      before,
      dispose: () => rmSync(before, { recursive: true, force: true }),
    };
  } catch (err) {
    rmSync(before, { recursive: true, force: true });
    throw err;
  }
}

/**
 * The files of a scratch copy to compare with its snapshot: those its own ignore rules list, and
 * every snapshot file still there (reached without a symlink), even if the agent's .gitignore now
 * hides it: a file is deleted only when it is gone, never because it became ignored.
 */
function scratchFiles(dir: string, snapshotFiles: string[]): string[] {
  const listed = new Set(listWorkspaceFiles(dir));
  for (const rel of snapshotFiles) {
    const kind = entryWithin(dir, rel)?.kind;
    if (kind === "file" || kind === "link") listed.add(rel);
  }
  return [...listed].sort();
}

/**
 * Copies the workspace's non-ignored files into the folder `dest` (symlinks stay symlinks, modes
 * kept): a folder snapshot, for eval tasks prepared once and reused. Refuses over `maxBytes`.
 */
export function snapshotWorkspace(
  workspace: string,
  dest: string,
  maxBytes: number,
): { files: number; bytes: number } {
  const { files, bytes, stats } = listWithinCap(workspace, maxBytes);
  copyFiles(workspace, dest, files, stats);
  return { files: files.length, bytes };
}

function listWithinCap(workspace: string, maxBytes: number) {
  const { files, badNames } = listWorkspaceFilesChecked(workspace);
  if (badNames.length) {
    throw new UsageError(
      `workspace ${workspace} holds ${badNames.length} file name(s) that are not valid UTF-8, which moss cannot store or apply back unchanged: ${badNames.slice(0, 3).join(", ")}${badNames.length > 3 ? ", ..." : ""}. Rename them, or add them to .gitignore.`,
    );
  }
  let bytes = 0;
  const stats = files.map((rel) => {
    const st = lstatSync(path.join(workspace, rel));
    bytes += st.isFile() ? st.size : 0;
    return st;
  });
  if (bytes > maxBytes) {
    throw new UsageError(
      `workspace ${workspace} holds ${mb(bytes)} of files not ignored by .gitignore, over the ${mb(maxBytes)} cap. ` +
        "Add build output and data to .gitignore, or raise workspace.maxSnapshotBytes in moss.config.json.",
    );
  }
  return { files, bytes, stats };
}

/** Copies a whole tree made by snapshotWorkspace (no ignore rules: the snapshot is exact). */
export function copyTree(src: string, dest: string, files: string[]): void {
  copyFiles(
    src,
    dest,
    files,
    files.map((rel) => lstatSync(path.join(src, rel))),
  );
}

function copyFiles(src: string, dest: string, files: string[], stats: ReturnType<typeof lstatSync>[]): void {
  mkdirSync(dest, { recursive: true });
  files.forEach((rel, i) => {
    const to = path.join(dest, rel);
    mkdirSync(path.dirname(to), { recursive: true });
    if (stats[i]?.isSymbolicLink()) symlinkSync(readlinkSync(path.join(src, rel)), to);
    else copyFileSync(path.join(src, rel), to);
  });
}

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
