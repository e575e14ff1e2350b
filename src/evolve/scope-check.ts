import { git } from "../git/repo.ts";
import type { ScopeResult } from "../log/evolution-record.ts";
import { checkEscalation } from "./escalation-check.ts";

export interface ScopeOptions {
  allowPaths: string[];
  maxPatchBytes: number;
  /** File names from the task's workspace: a patch that writes them in is hard-coding the task. */
  taskFileNames: string[];
  /** The user consented to capability escalation (new env, network, process or limit use). */
  allowEscalation?: boolean;
}

/** The candidate's diff against its base commit (staged in the worktree), in git's format. */
export async function stagedDiff(dir: string): Promise<string> {
  await git(dir).raw(["add", "-A", "--", "."]);
  return git(dir).raw(["diff", "--cached", "--no-color", "--no-ext-diff", "HEAD", "--", "agent-src"]);
}

/**
 * Checks a staged candidate: only allowed paths; no symlinks, binaries or oversize diffs; no
 * deleted test files, fewer test cases, or newly skipped tests; no task file names written in.
 */
export async function checkScope(
  dir: string,
  opts: ScopeOptions,
): Promise<{ result: ScopeResult; diff: string }> {
  const repo = git(dir);
  await repo.raw(["add", "-A", "--", "."]);
  const raw = await repo.raw(["diff", "--cached", "--raw", "--no-renames", "-z", "HEAD"]);
  const numstat = await repo.raw(["diff", "--cached", "--numstat", "--no-renames", "-z", "HEAD"]);
  const diff = await repo.raw(["diff", "--cached", "--no-color", "--no-ext-diff", "HEAD", "--", "agent-src"]);
  const violations: string[] = [];
  const files: string[] = [];
  const parts = raw.split("\0").filter(Boolean);
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const [, newMode, , , status] = parts[i]!.replace(/^:/, "").split(/\s+/);
    const file = parts[i + 1]!;
    files.push(file);
    if (!opts.allowPaths.some((p) => file.startsWith(p)))
      violations.push(`touches ${file}, outside ${opts.allowPaths.join(", ")}`);
    if (newMode === "120000") violations.push(`adds a symlink: ${file}`);
    if (status === "D" && isTestFile(file)) violations.push(`deletes the test file ${file}`);
  }
  for (const entry of numstat.split("\0").filter(Boolean)) {
    const [added, , file] = entry.split("\t");
    if (added === "-") violations.push(`binary change: ${file}`);
  }
  if (files.length === 0) violations.push("the patch is empty");
  const bytes = Buffer.byteLength(diff);
  if (bytes > opts.maxPatchBytes)
    violations.push(`the diff is ${bytes} bytes, over the ${opts.maxPatchBytes}-byte cap`);
  violations.push(...(await testIntegrity(dir, files)));
  const escalations = await checkEscalation(dir, files);
  violations.push(
    ...(opts.allowEscalation ? escalations.filter((e) => !e.startsWith("escalation:")) : escalations),
  );
  const added = diff
    .split("\n")
    .filter((l) => l.startsWith("+") && !l.startsWith("+++"))
    .join("\n");
  for (const name of opts.taskFileNames) {
    if (added.includes(name))
      violations.push(`hard-codes the task: the patch writes in the workspace file name "${name}"`);
  }
  return { result: { passed: violations.length === 0, files, violations, bytes }, diff };
}

export const isTestFile = (file: string) => /\.(test|spec)\.[cm]?[jt]sx?$/.test(file);

const CASE = /\b(?:it|test)(?:\.each\([^)]*\))?\s*\(/g;
const SKIPPED = /\b(?:it|test|describe)\.(?:skip|todo|only)\b|\bx(?:it|describe)\s*\(/g;

/** Test cases may not shrink and none may be skipped; compares HEAD with the staged tree. */
async function testIntegrity(dir: string, files: string[]): Promise<string[]> {
  const problems: string[] = [];
  for (const file of files.filter(isTestFile)) {
    const before = await git(dir)
      .raw(["show", `HEAD:${file}`])
      .catch(() => "");
    const after = await git(dir)
      .raw(["show", `:${file}`])
      .catch(() => "");
    const count = (s: string, re: RegExp) => s.match(re)?.length ?? 0;
    if (count(after, CASE) < count(before, CASE)) {
      problems.push(`${file}: test cases drop from ${count(before, CASE)} to ${count(after, CASE)}`);
    }
    if (count(after, SKIPPED) > count(before, SKIPPED))
      problems.push(`${file}: a test is newly skipped, todo or only`);
  }
  return problems;
}
