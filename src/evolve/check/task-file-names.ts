import { listWorkspaceFiles } from "../../workspace/file-list.ts";

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
export function taskFileNames(snapshot: string): string[] {
  return [...new Set(listWorkspaceFiles(snapshot).map((f) => f.split("/").pop()!))].filter(
    (n) => n.length >= 6 && !COMMON.has(n),
  );
}
