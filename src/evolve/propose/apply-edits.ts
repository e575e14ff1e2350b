import { existsSync, lstatSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Patch } from "./patcher-schemas.ts";

/**
 * Why git itself would act on a path (an embedded repository or git dir, git rules), or null.
 * Such files are refused before git ever sees them: `git add` of a `.git` inside the tree makes
 * a gitlink or fails, and a git dir's config (filters, textconv) would run commands.
 */
export function gitControlled(file: string): string | null {
  const parts = file.split("/").map((p) => p.toLowerCase().replace(/[. ]+$/, ""));
  if (parts.some((p) => p === ".git" || p === "git~1"))
    return "has a .git component: an embedded repository or git dir is never part of a candidate";
  if (/^\.git(ignore|attributes|modules)$/.test(parts[parts.length - 1] ?? ""))
    return "is a git rules file: it could hide files from the commit or the diff";
  return null;
}

/**
 * Applies the patcher's exact-replace edits and new files inside `root`. Every path must stay
 * under one of `allowPaths`; throws, naming the edit, on anything that does not apply cleanly.
 */
export function applyEdits(root: string, patch: Patch, allowPaths: string[]): void {
  const target = (given: string, what: string) => {
    const norm = path.posix.normalize(given.replace(/\\/g, "/"));
    if (path.posix.isAbsolute(norm) || norm.startsWith("..") || !allowPaths.some((p) => norm.startsWith(p))) {
      throw new Error(`${what}: path "${given}" is outside ${allowPaths.join(", ")}`);
    }
    const gitPart = gitControlled(norm);
    if (gitPart) throw new Error(`${what}: path "${given}" ${gitPart}`);
    const abs = path.join(root, norm);
    let probe = abs;
    while (probe.startsWith(root) && probe !== root) {
      if (existsSync(probe) && lstatSync(probe).isSymbolicLink())
        throw new Error(`${what}: "${given}" goes through a symlink`);
      probe = path.dirname(probe);
    }
    return abs;
  };
  patch.edits.forEach((edit, i) => {
    const what = `edit ${i + 1} (${edit.path})`;
    const file = target(edit.path, what);
    if (!existsSync(file)) throw new Error(`${what}: the file does not exist`);
    const text = readFileSync(file, "utf8");
    const count = text.split(edit.old_string).length - 1;
    if (count !== 1) throw new Error(`${what}: old_string matches ${count} times, not exactly once`);
    writeFileSync(
      file,
      text.replace(edit.old_string, () => edit.new_string),
    );
  });
  patch.new_files.forEach((nf, i) => {
    const what = `new file ${i + 1} (${nf.path})`;
    const file = target(nf.path, what);
    if (existsSync(file)) throw new Error(`${what}: the file already exists; use an edit`);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, nf.content);
  });
}
