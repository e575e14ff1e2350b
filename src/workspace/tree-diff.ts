import { existsSync, lstatSync, readFileSync, readlinkSync } from "node:fs";
import path from "node:path";
import { createTwoFilesPatch } from "diff";
import { listWorkspaceFiles } from "./file-list.ts";

export interface FileChange {
  path: string;
  kind: "added" | "modified" | "deleted";
}

export interface TreeDiff {
  changes: FileChange[];
  /** A unified diff (git style paths a/ and b/), empty when nothing changed. */
  patch: string;
}

/**
 * What the attempt changed: the scratch copy against the snapshot it started from. With `only`,
 * just those paths are compared (`before` then holds just their old versions, when they had one).
 */
export function diffTrees(before: string, after: string, only?: string[]): TreeDiff {
  const present = (dir: string) => (p: string) => isFileOrLink(path.join(dir, p));
  const a = new Set(only ? only.filter(present(before)) : listWorkspaceFiles(before));
  const b = new Set(only ? only.filter(present(after)) : listWorkspaceFiles(after));
  const changes: FileChange[] = [];
  const patches: string[] = [];
  for (const rel of [...new Set([...a, ...b])].sort()) {
    const left = a.has(rel) ? readEntry(path.join(before, rel)) : null;
    const right = b.has(rel) ? readEntry(path.join(after, rel)) : null;
    if (left !== null && right !== null && left.equals(right)) continue;
    const kind = left === null ? "added" : right === null ? "deleted" : "modified";
    changes.push({ path: rel, kind });
    patches.push(unified(rel, left, right));
  }
  return { changes, patch: patches.join("") };
}

/** File bytes, or a symlink's target; null when missing. */
export function readEntry(file: string): Buffer | null {
  if (!existsSync(file) && !isLink(file)) return null;
  return isLink(file) ? Buffer.from(`symlink -> ${readlinkSync(file)}`) : readFileSync(file);
}

function isFileOrLink(file: string): boolean {
  try {
    const st = lstatSync(file);
    return st.isFile() || st.isSymbolicLink();
  } catch {
    return false;
  }
}

function isLink(file: string): boolean {
  try {
    return lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}

function unified(rel: string, left: Buffer | null, right: Buffer | null): string {
  const binary = (buf: Buffer | null) => buf?.includes(0) ?? false;
  const from = left === null ? "/dev/null" : `a/${rel}`;
  const to = right === null ? "/dev/null" : `b/${rel}`;
  if (binary(left) || binary(right))
    return `diff --git a/${rel} b/${rel}\nBinary files ${from} and ${to} differ\n`;
  const body = createTwoFilesPatch(
    from,
    to,
    left?.toString("utf8") ?? "",
    right?.toString("utf8") ?? "",
    undefined,
    undefined,
    {
      context: 3,
    },
  );
  // Drop the "====" line; keep ---/+++ and hunks.
  return `diff --git a/${rel} b/${rel}\n${body.split("\n").slice(1).join("\n")}`;
}
