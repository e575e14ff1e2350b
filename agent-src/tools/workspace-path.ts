import { existsSync, realpathSync } from "node:fs";
import path from "node:path";

/**
 * Resolves a model-given path inside the workspace root. Throws when the path, or the real
 * location behind a symlink, lies outside the root.
 */
export function resolveInside(root: string, given: string): string {
  const realRoot = realpathSync(root);
  const abs = path.resolve(realRoot, given);
  if (!isWithin(realRoot, abs)) throw new Error(`path "${given}" is outside the workspace`);
  let probe = abs;
  while (!existsSync(probe) && probe !== realRoot) probe = path.dirname(probe);
  const real = realpathSync(probe);
  if (!isWithin(realRoot, real))
    throw new Error(`path "${given}" leads outside the workspace through a symlink`);
  return abs;
}

function isWithin(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

/** Directories no listing or search descends into: git data and installed dependencies. */
export const SKIPPED_DIRS = new Set([".git", "node_modules", ".venv", "venv"]);
