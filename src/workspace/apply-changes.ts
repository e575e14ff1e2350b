import {
  chmodSync,
  lstatSync,
  mkdirSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { type FileChange, readEntry } from "./tree-diff.ts";

/**
 * Applies an attempt's changes to the user's folder. Every touched file must still be as it was
 * in the snapshot; otherwise nothing is written and the conflicting paths are reported.
 */
export function applyChanges(
  changes: FileChange[],
  snapshot: string,
  scratch: string,
  target: string,
): { applied: number; conflicts: string[] } {
  const conflicts = changes
    .filter((c) => {
      const now = readEntry(path.join(target, c.path));
      const was = readEntry(path.join(snapshot, c.path));
      return !(now === null ? was === null : was !== null && now.equals(was));
    })
    .map((c) => c.path);
  if (conflicts.length) return { applied: 0, conflicts };
  for (const change of changes) {
    const dest = path.join(target, change.path);
    if (change.kind === "deleted") {
      rmSync(dest, { force: true });
      continue;
    }
    const src = path.join(scratch, change.path);
    mkdirSync(path.dirname(dest), { recursive: true });
    const tmp = `${dest}.moss-${process.pid}.tmp`;
    if (lstatSync(src).isSymbolicLink()) {
      rmSync(tmp, { force: true });
      symlinkSync(
        readEntry(src)!
          .toString("utf8")
          .replace(/^symlink -> /, ""),
        tmp,
      );
    } else {
      writeFileSync(tmp, readEntry(src)!);
      chmodSync(tmp, statSync(src).mode);
    }
    renameSync(tmp, dest);
  }
  return { applied: changes.length, conflicts: [] };
}
