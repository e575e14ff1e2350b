import { type SnapshotRef, snapshotFiles } from "../../workspace/snapshot.ts";

const COMMON = new Set([
  "package.json",
  "package-lock.json",
  "README.md",
  "index.js",
  "index.ts",
  ".gitignore",
  "tsconfig.json",
]);

/** Workspace file names specific enough that a patch naming them hard-codes the task. */
export function taskFileNames(snapshot: SnapshotRef): string[] {
  return [...new Set(snapshotFiles(snapshot).map((f) => f.split("/").pop()!))].filter(
    (n) => n.length >= 6 && !COMMON.has(n),
  );
}
