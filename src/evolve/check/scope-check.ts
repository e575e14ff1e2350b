import { git } from "../../git/repo.ts";
import type { ScopeResult } from "../../log/evolution-record.ts";
import { checkEscalation } from "./escalation-check.ts";
import { countMatches, isTestFile, readStagedSources, type StagedSource } from "./staged-sources.ts";

export interface ScopeOptions {
  allowPaths: string[];
  maxPatchBytes: number;
  /** File names from the task's workspace: a patch that writes them in is hard-coding the task. */
  taskFileNames: string[];
  /** The user consented to capability escalation (new env, network, process or limit use). */
  allowEscalation?: boolean;
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
  const sources = await readStagedSources(dir, files);
  violations.push(...testIntegrity(sources));
  const escalations = checkEscalation(sources);
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

const CASE = /\b(?:it|test)(?:\.each\([^)]*\))?\s*\(/g;
const SKIPPED = /\b(?:it|test|describe)\.(?:skip|todo|only)\b|\bx(?:it|describe)\s*\(/g;

/** Test cases may not shrink and none may be skipped: HEAD against the staged text. */
function testIntegrity(sources: StagedSource[]): string[] {
  const problems: string[] = [];
  for (const { path: file, before, after } of sources.filter((s) => isTestFile(s.path))) {
    const [was, now] = [countMatches(before, CASE), countMatches(after, CASE)];
    if (now < was) problems.push(`${file}: test cases drop from ${was} to ${now}`);
    if (countMatches(after, SKIPPED) > countMatches(before, SKIPPED)) {
      problems.push(`${file}: a test is newly skipped, todo or only`);
    }
  }
  return problems;
}
