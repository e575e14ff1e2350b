import { execFileSync, spawnSync } from "node:child_process";
import { lstatSync, rmSync } from "node:fs";
import path from "node:path";
import { makeTempDir } from "../git/temp-dirs.ts";

/**
 * Files of `dir` that are not ignored by its .gitignore files, relative and sorted. Works for
 * any folder, a git repository or not, through a private throwaway git dir; .git is never listed.
 * A name that is not valid UTF-8 is left out (see listWorkspaceFilesChecked).
 */
export function listWorkspaceFiles(dir: string): string[] {
  return listWorkspaceFilesChecked(dir).files;
}

/**
 * listWorkspaceFiles, and the names it left out because they are not valid UTF-8 (shown with the
 * bad bytes as \xNN): such a name cannot be stored, diffed or applied back without changing it.
 */
export function listWorkspaceFilesChecked(dir: string): { files: string[]; badNames: string[] } {
  const own = listOneRepo(dir);
  // A folder that is a git repository of its own (a submodule, a vendored clone) is listed by git
  // as "sub/" alone: its files are listed here too, by its own ignore rules.
  const innerFiles: string[] = [];
  for (const sub of own.nested) {
    const inner = listWorkspaceFilesChecked(path.join(dir, sub));
    innerFiles.push(...inner.files.map((f) => `${sub}/${f}`));
    own.badNames.push(...inner.badNames.map((f) => `${sub}/${f}`));
  }
  // The outer folder's ignore rules hold inside it too (an ignored node_modules at any depth).
  const ignored = ignoredBy(dir, innerFiles);
  own.files.push(...innerFiles.filter((f) => !ignored.has(f)));
  return { files: own.files.sort(), badNames: own.badNames };
}

/**
 * Runs `fn` with `git` bound to a private, throwaway git dir whose work tree is `dir`: how moss
 * asks git about any folder (its ignore rules, its files) without reading that folder's own .git.
 */
export function withThrowawayGit<T>(
  dir: string,
  fn: (git: (args: string[], input?: string) => Buffer) => T,
): T {
  const gitDir = makeTempDir("ls");
  try {
    execFileSync("git", ["init", "-q", "--bare", gitDir], { stdio: "ignore" });
    return fn((args, input) => {
      const r = spawnSync("git", [`--git-dir=${gitDir}`, `--work-tree=${dir}`, ...args], {
        cwd: dir,
        input: input ?? "",
        maxBuffer: 256 * 1024 * 1024,
      });
      if (r.error) throw r.error;
      // check-ignore exits 1 when nothing is ignored: an answer, not a failure.
      if (r.status !== 0 && !(args[0] === "check-ignore" && r.status === 1))
        throw new Error(`git ${args[0]} failed in ${dir}: ${r.stderr.toString("utf8").trim()}`);
      return r.stdout;
    });
  } finally {
    rmSync(gitDir, { recursive: true, force: true });
  }
}

/** Which of `paths` the ignore rules of `dir` (not of repositories inside it) ignore. */
export function ignoredBy(dir: string, paths: string[]): Set<string> {
  if (!paths.length) return new Set();
  return withThrowawayGit(dir, (git) => {
    const out = git(["check-ignore", "-z", "--no-index", "--stdin"], `${paths.join("\0")}\0`);
    return new Set(out.toString("utf8").split("\0").filter(Boolean));
  });
}

function listOneRepo(dir: string): { files: string[]; badNames: string[]; nested: string[] } {
  const out = withThrowawayGit(dir, (git) => git(["ls-files", "-z", "--others", "--exclude-standard"]));
  const files: string[] = [];
  const badNames: string[] = [];
  const nested: string[] = [];
  let start = 0;
  for (let end = out.indexOf(0); end >= 0; start = end + 1, end = out.indexOf(0, start)) {
    const raw = out.subarray(start, end);
    const name = raw.toString("utf8");
    if (!name || name.split("/").includes(".git")) continue;
    if (!Buffer.from(name, "utf8").equals(raw)) badNames.push(escapeBytes(raw));
    else if (name.endsWith("/")) {
      // git lists a real folder holding a .git this way; a link is never followed.
      if (lstatSync(path.join(dir, name)).isDirectory()) nested.push(name.slice(0, -1));
    } else files.push(name);
  }
  return { files, badNames, nested };
}

/** A name with bytes outside printable ASCII written as \xNN. */
function escapeBytes(raw: Buffer): string {
  return [...raw]
    .map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, "0")}`))
    .join("");
}
