import { randomBytes } from "node:crypto";
import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  renameSync,
  rmdirSync,
  rmSync,
  symlinkSync,
  writeSync,
} from "node:fs";
import path from "node:path";
import { nameProblem, showName } from "./apply-names.ts";
import { entryAt, openRegular, readFull, sameEntry } from "./entry.ts";
import type { FileChange } from "./tree-diff.ts";

export interface ApplyCaps {
  /** Most files one attempt may change in the user's folder. */
  maxFiles: number;
  /** Most bytes of changed files one attempt may write there. */
  maxBytes: number;
}

export interface ApplyResult {
  applied: number;
  /** Paths the user changed since the snapshot: nothing was written. */
  conflicts: string[];
  /** Why nothing was written, when the attempt's files break the rules below. */
  refused: string[];
  /** Files that were not executable before (or are new) and are now. */
  madeExecutable: string[];
}

/**
 * Applies an attempt's changes to the user's folder as a narrow, checked copy. Nothing is written
 * unless every change passes: only regular files and symlinks whose target stays inside the
 * folder; no path through a symlink (each parent is checked with lstat, in the folder and in the
 * scratch); within `caps`; and every touched path still as it was in the snapshot (else the
 * conflicting paths are reported). A file's mode is rw for the owner (read for others) plus
 * execute only where the scratch file is executable; set-uid, set-gid and sticky bits are never
 * written. New files are created exclusively, under random names, in a private folder of the
 * target made for this call, then renamed into place; no write follows a symlink.
 */
export function applyChanges(
  changes: FileChange[],
  snapshot: string,
  scratch: string,
  target: string,
  caps: ApplyCaps,
): ApplyResult {
  const result: ApplyResult = { applied: 0, conflicts: [], refused: [], madeExecutable: [] };
  result.refused = refusals(changes, scratch, target, caps);
  if (result.refused.length) return result;
  result.conflicts = changes
    .filter((c) => !unchanged(path.join(target, c.path), path.join(snapshot, c.path)))
    .map((c) => c.path);
  if (result.conflicts.length) return result;

  try {
    result.madeExecutable = transact(changes, scratch, target);
    result.applied = changes.length;
  } catch (err) {
    result.refused = [`not applied: ${writeError(err, target)}; the folder was left as it was`];
  }
  return result;
}

/** One undo step of an apply in progress. */
type Undo = () => void;

/**
 * Writes every change or none. First stages every new content in a private folder of the target
 * (same filesystem, so each rename is atomic); then moves each replaced or deleted entry into that
 * folder as a backup and renames the staged one into place, journaling an undo for each step. On
 * any error the journal is played backwards (backups restored, created files and folders
 * removed) and the error is rethrown. Returns the paths newly made executable.
 */
function transact(changes: FileChange[], scratch: string, target: string): string[] {
  const privateDir = mkdtempSync(path.join(target, ".moss-apply-"));
  const fresh = () => path.join(privateDir, randomBytes(12).toString("hex"));
  const undo: Undo[] = [];
  const madeExecutable: string[] = [];
  let keepBackups = false;
  try {
    const staged = new Map<string, string>();
    for (const change of changes.filter((c) => c.kind !== "deleted")) {
      const tmp = fresh();
      const src = path.join(scratch, change.path);
      const entry = entryAt(src);
      if (entry?.kind === "link") symlinkSync(entry.target, tmp);
      else if (copyFile(src, tmp, path.join(target, change.path))) madeExecutable.push(change.path);
      staged.set(change.path, tmp);
    }
    for (const change of changes.filter((c) => c.kind === "deleted")) {
      const dest = path.join(target, change.path);
      if (entryAt(dest)) moveAside(dest, fresh(), undo);
    }
    for (const [rel, tmp] of staged) {
      const dest = path.join(target, rel);
      makeParents(target, rel, undo);
      const before = entryAt(dest);
      if (before?.kind === "dir" && readdirSync(dest).length)
        throw new Error(`${rel} is a folder that is not empty in the workspace; the attempt made it a file`);
      if (before) moveAside(dest, fresh(), undo);
      renameSync(tmp, dest);
      undo.push(() => renameSync(dest, tmp));
    }
    return madeExecutable;
  } catch (err) {
    const failed: string[] = [];
    for (const step of undo.reverse()) {
      try {
        step();
      } catch (e) {
        failed.push((e as Error).message);
      }
    }
    if (failed.length) {
      keepBackups = true;
      // The backups stay in the private folder so nothing is lost; say where.
      throw new Error(
        `${(err as Error).message}; rolling back failed too (${failed.join("; ")}), backups in ${privateDir}`,
      );
    }
    throw err;
  } finally {
    if (!keepBackups) rmSync(privateDir, { recursive: true, force: true });
  }
}

/** Renames `dest` to the backup path `aside`, journaling the rename back. */
function moveAside(dest: string, aside: string, undo: Undo[]): void {
  renameSync(dest, aside);
  undo.push(() => renameSync(aside, dest));
}

/** A write error as one line for the user: what failed and where, without a stack. */
function writeError(err: unknown, target: string): string {
  const e = err as NodeJS.ErrnoException;
  const where = e.path ? ` (${showName(path.relative(target, e.path) || ".")})` : "";
  const what: Record<string, string> = {
    ENOSPC: "the disk is full",
    EDQUOT: "the disk quota is exceeded",
    EACCES: "permission denied",
    EPERM: "operation not permitted",
    EROFS: "the folder is on a read-only filesystem",
    ENAMETOOLONG: "a path is too long for the folder",
    EISDIR: "a folder is in the way of a file",
  };
  return e.code && what[e.code] ? `${what[e.code]}${where}` : showName(e.message ?? String(err));
}

/** Whether `now` is as `then` was: the same entry, or both folders (their files are changes of their own). */
function unchanged(now: string, then: string): boolean {
  return sameEntry(now, then) || (entryAt(now)?.kind === "dir" && entryAt(then)?.kind === "dir");
}

/** Every reason to write nothing, checked before anything is written. */
function refusals(changes: FileChange[], scratch: string, target: string, caps: ApplyCaps): string[] {
  const out: string[] = [];
  if (changes.length > caps.maxFiles)
    out.push(
      `the attempt changed ${changes.length} files, over the cap of ${caps.maxFiles} (workspace.maxApplyFiles in moss.config.json)`,
    );
  let bytes = 0;
  const deleted = new Set(changes.filter((c) => c.kind === "deleted").map((c) => c.path));
  for (const change of changes) {
    const rel = change.path;
    if (path.isAbsolute(rel) || rel.split("/").some((p) => p === ".." || p === "." || p === "")) {
      out.push(`${showName(rel)}: not a plain relative path`);
      continue;
    }
    const bad = nameProblem(target, rel);
    if (bad) {
      out.push(bad);
      continue;
    }
    // A deleted path is gone from the scratch: only its way in the target matters.
    const through =
      blockedParent(target, rel, deleted) ??
      (change.kind === "deleted" ? null : blockedParent(scratch, rel, deleted));
    if (through) out.push(`${rel}: ${through}`);
    if (change.kind === "deleted") continue;
    const entry = entryAt(path.join(scratch, rel));
    if (entry?.kind === "file") bytes += entry.size;
    else if (entry?.kind === "link") {
      const resolved = path.resolve(path.dirname(path.join(target, rel)), entry.target);
      if (resolved !== target && !resolved.startsWith(target + path.sep))
        out.push(`${rel}: a symlink to ${entry.target}, outside the workspace`);
    } else
      out.push(
        `${rel}: ${entry === null ? "missing" : entry.kind === "special" ? entry.what : "a folder"}; only regular files and symlinks are applied`,
      );
  }
  if (bytes > caps.maxBytes)
    out.push(
      `the attempt's changed files hold ${bytes} bytes, over the cap of ${caps.maxBytes} (workspace.maxApplyBytes in moss.config.json)`,
    );
  return out;
}

/**
 * Why the way to `rel` under `root` is blocked: a folder on it is a symlink, or a file that this
 * change set does not delete; null when every existing folder on it is a real folder.
 */
function blockedParent(root: string, rel: string, deleted: Set<string>): string | null {
  const parts = rel.split("/").slice(0, -1);
  for (let i = 1; i <= parts.length; i++) {
    const dir = parts.slice(0, i).join("/");
    const entry = entryAt(path.join(root, dir));
    if (entry === null || (entry.kind === "file" && deleted.has(dir))) return null;
    if (entry.kind === "link") return `its folder ${dir} is a symlink; moss never writes through one`;
    if (entry.kind !== "dir") return `${dir} on its path is not a folder`;
  }
  return null;
}

/** Creates the missing folders above `rel`, one at a time, never through a symlink; journals each. */
function makeParents(root: string, rel: string, undo: Undo[]): void {
  const parts = rel.split("/").slice(0, -1);
  for (let i = 1; i <= parts.length; i++) {
    const dir = path.join(root, ...parts.slice(0, i));
    const entry = entryAt(dir);
    if (entry === null) {
      mkdirSync(dir);
      undo.push(() => rmdirSync(dir));
    } else if (entry.kind !== "dir") throw new Error(`${dir} is not a folder; nothing more was applied`);
  }
}

/**
 * Copies the regular file `src` to the new file `tmp` (created exclusively), with the reduced
 * mode, and the owner of what it replaces when moss runs as root. Returns whether it newly
 * became executable.
 */
function copyFile(src: string, tmp: string, dest: string): boolean {
  const before = entryAt(dest);
  const oldMode = before?.kind === "file" ? before.mode : null;
  const input = openRegular(src);
  try {
    const srcMode = fstatSync(input).mode;
    const output = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      const buf = Buffer.alloc(1 << 20);
      for (let n = readFull(input, buf); n > 0; n = readFull(input, buf)) writeSync(output, buf, 0, n);
      const rw = oldMode === null ? 0o644 : oldMode & 0o666;
      const wasExec = oldMode !== null && (oldMode & 0o100) !== 0;
      const exec = (srcMode & 0o100) === 0 ? 0 : wasExec ? oldMode & 0o111 : (rw & 0o444) >> 2;
      fchmodSync(output, rw | exec);
      if (process.getuid?.() === 0) {
        const owner = lstatSync(before ? dest : nearestExisting(path.dirname(dest)));
        fchownSync(output, owner.uid, owner.gid);
      }
      return exec !== 0 && !wasExec;
    } finally {
      closeSync(output);
    }
  } finally {
    closeSync(input);
  }
}

/** `dir` or its closest ancestor that exists (new folders are made only when the change is renamed in). */
function nearestExisting(dir: string): string {
  while (entryAt(dir) === null && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}
