import { lstatSync, readdirSync, realpathSync } from "node:fs";
import path from "node:path";
import { git } from "../../git/repo.ts";
import type { ScopeResult } from "../../log/evolution-record.ts";
import { gitControlled } from "../propose/apply-edits.ts";
import { checkCapabilities } from "./escalation-check.ts";
import { injectionFlags, instructionChanges } from "./instruction-changes.ts";
import { parseNameStatus, protectedDiff } from "./protected-files.ts";
import { readAgentSources } from "./staged-sources.ts";

export interface ScopeOptions {
  allowPaths: string[];
  maxPatchBytes: number;
  /** File names from the task's workspace: a patch that writes them in is hard-coding the task. */
  taskFileNames: string[];
  /** The user consented to capability escalation (new env, network, process or limit use). */
  allowEscalation?: boolean;
  /**
   * The user consents to changes of existing tests, snapshots or test/type configuration
   * (`--allow-test-changes`, or a person answering the consent prompt, or `moss apply`).
   * Without it such a candidate is rejected.
   */
  allowTestChanges?: boolean;
  /**
   * A person will read the review notes before promotion (a consent prompt or `moss apply`).
   * Without one (`--yes`), text addressed to a model ("ignore previous instructions") rejects.
   */
  reviewedByPerson?: boolean;
}

/**
 * Checks a staged candidate: only allowed paths; the tree on disk is exactly the tree that would
 * be committed (no ignored files); no symlinks, binaries or oversize diffs; the capability check
 * (AST, best effort); no task file names written in; test changes only with consent. Stages
 * everything in `dir` (`git add -A`) first. Also returns what the user must see at consent.
 */
export async function checkScope(
  dir: string,
  opts: ScopeOptions,
): Promise<{ result: ScopeResult; diff: string }> {
  const embedded = gitEntriesOnDisk(dir, opts.allowPaths);
  if (embedded.length > 0) return refused(embedded);
  try {
    return await checkStaged(dir, opts);
  } catch (err) {
    // Any git failure while staging or reading the candidate rejects it; it never ends the run.
    return refused([`git could not stage the candidate: ${(err as Error).message.split("\n")[0]}`]);
  }
}

/** A failed scope result with its reasons and nothing staged to show. */
function refused(violations: string[]): { result: ScopeResult; diff: string } {
  const result: ScopeResult = {
    passed: false,
    files: [],
    violations,
    bytes: 0,
    escalations: [],
    testChanges: [],
    instructionChanges: [],
    flags: [],
  };
  return { result, diff: "" };
}

/**
 * Entries under the allowed paths that git itself would act on (`.git` folders or files: an
 * embedded repository, a gitlink, a git dir with filters), found on disk BEFORE `git add` runs.
 */
function gitEntriesOnDisk(dir: string, allowPaths: string[]): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    let names: string[];
    try {
      names = readdirSync(path.join(dir, rel));
    } catch {
      return;
    }
    for (const name of names) {
      const child = path.posix.join(rel, name);
      const why = gitControlled(child);
      if (why && /\.git component/.test(why)) {
        out.push(`${child} ${why}`);
        continue;
      }
      const st = lstatSync(path.join(dir, child));
      if (st.isDirectory()) walk(child);
    }
  };
  for (const p of allowPaths) walk(p.replace(/\/+$/, ""));
  return out.slice(0, 10);
}

async function checkStaged(dir: string, opts: ScopeOptions): Promise<{ result: ScopeResult; diff: string }> {
  const repo = git(dir);
  await repo.raw(["add", "-A", "--", "."]);
  const raw = await repo.raw(["diff", "--cached", "--raw", "--no-renames", "-z", "HEAD"]);
  const numstat = await repo.raw(["diff", "--cached", "--numstat", "--no-renames", "-z", "HEAD"]);
  const nameStatus = await repo.raw(["diff", "--cached", "--name-status", "--no-renames", "-z", "HEAD"]);
  const diff = await repo.raw(["diff", "--cached", "--no-color", "--no-ext-diff", "HEAD", "--", "agent-src"]);
  const violations: string[] = [];
  const files: string[] = [];
  const parts = raw.split("\0").filter(Boolean);
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const [, newMode] = parts[i]!.replace(/^:/, "").split(/\s+/);
    const file = parts[i + 1]!;
    files.push(file);
    if (!opts.allowPaths.some((p) => file.startsWith(p)))
      violations.push(`touches ${file}, outside ${opts.allowPaths.join(", ")}`);
    if (newMode === "120000") violations.push(`adds a symlink: ${file}`);
    if (newMode === "160000") violations.push(`adds an embedded repository (gitlink): ${file}`);
    if (/^agent-src\/(.*\/)?\.git(ignore|attributes|modules)$/.test(file))
      violations.push(
        `changes ${file}: git rules inside agent-src could hide files from the commit or the diff`,
      );
  }
  violations.push(...(await notCommitted(dir)));
  for (const entry of numstat.split("\0").filter(Boolean)) {
    const [added, , file] = entry.split("\t");
    if (added === "-") violations.push(`binary change: ${file}`);
  }
  if (files.length === 0) violations.push("the patch is empty");
  const bytes = Buffer.byteLength(diff);
  if (bytes > opts.maxPatchBytes)
    violations.push(`the diff is ${bytes} bytes, over the ${opts.maxPatchBytes}-byte cap`);

  const testChanges = protectedDiff(parseNameStatus(nameStatus)).changes.filter((c) => /agent-src\//.test(c));
  if (testChanges.length > 0 && !opts.allowTestChanges)
    violations.push(
      `changes existing tests: ${testChanges.join("; ")} (the head's tests judge every candidate; give --allow-test-changes or answer the consent prompt to accept this)`,
    );
  const capabilities = await checkCapabilities(await readAgentSources(dir));
  violations.push(...capabilities.violations);
  if (!opts.allowEscalation) violations.push(...capabilities.escalations);
  violations.push(...hardCodedTaskNames(diff, capabilities.newStrings, opts.taskFileNames));
  const injected = injectionFlags(diff);
  if (injected.length > 0 && !opts.reviewedByPerson)
    violations.push(
      `adds text addressed to a model, which needs a person's review (run without --yes): ${injected.slice(0, 3).join("; ")}`,
    );
  const result: ScopeResult = {
    passed: violations.length === 0,
    files,
    violations,
    bytes,
    escalations: opts.allowEscalation ? capabilities.escalations : [],
    testChanges,
    instructionChanges: instructionChanges(diff),
    flags: [...capabilities.flags, ...injected],
  };
  return { result, diff };
}

/**
 * Files in the candidate's tree that `git add -A` leaves out (ignored): the gate and the replay
 * would run them, the commit would not hold them. The worktree's node_modules link to the home's
 * packages is the one expected exception.
 */
async function notCommitted(dir: string): Promise<string[]> {
  const repo = git(dir);
  const list = await repo.raw([
    "ls-files",
    "--others",
    "--ignored",
    "--exclude-standard",
    "--directory",
    "-z",
  ]);
  const common = (await repo.raw(["rev-parse", "--path-format=absolute", "--git-common-dir"])).trim();
  const homeModules = path.join(path.dirname(common), "node_modules");
  const strays = list
    .split("\0")
    .filter(Boolean)
    .filter((f) => !(f === "node_modules" && isLinkTo(path.join(dir, f), homeModules)));
  if (strays.length === 0) return [];
  return [
    `ignored files in the candidate's tree would run in the gate and replay but never be committed: ${strays.slice(0, 10).join(", ")}${strays.length > 10 ? ` and ${strays.length - 10} more` : ""}`,
  ];
}

function isLinkTo(link: string, target: string): boolean {
  try {
    return lstatSync(link).isSymbolicLink() && realpathSync(link) === realpathSync(target);
  } catch {
    return false;
  }
}

/** Task file names written into the patch: in added lines, split across string parts, or built by code. */
function hardCodedTaskNames(diff: string, built: string[], names: string[]): string[] {
  const added = diff
    .split("\n")
    .filter((l) => l.startsWith("+") && !l.startsWith("+++"))
    .join("\n");
  const squashed = added.replace(/["'`+\s]|\$\{|\}/g, "");
  return names
    .filter((n) => added.includes(n) || squashed.includes(n) || built.some((s) => s.includes(n)))
    .map((n) => `hard-codes the task: the patch writes in the workspace file name "${n}"`);
}
