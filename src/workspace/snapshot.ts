import { copyFileSync, lstatSync, mkdirSync, readlinkSync, symlinkSync } from "node:fs";
import path from "node:path";
import { UsageError } from "../errors.ts";
import { listWorkspaceFiles } from "./file-list.ts";

/**
 * Copies the workspace's non-ignored files into `dest` (symlinks stay symlinks, modes kept).
 * Refuses, before copying anything, when the files add up to more than `maxBytes`.
 */
export function snapshotWorkspace(
  workspace: string,
  dest: string,
  maxBytes: number,
): { files: number; bytes: number } {
  const files = listWorkspaceFiles(workspace);
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
  copyFiles(workspace, dest, files, stats);
  return { files: files.length, bytes };
}

/** Where a run's starting state is kept: for now the folder snapshotWorkspace filled. */
export type SnapshotRef = string;

/** Writes the snapshot's files into `dir` (created if missing): a scratch copy to work in. */
export function materializeSnapshot(ref: SnapshotRef, dir: string): void {
  copyTree(ref, dir, listWorkspaceFiles(ref));
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
