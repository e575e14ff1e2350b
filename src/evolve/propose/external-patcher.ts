import { existsSync, lstatSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { makeTempDir } from "../../git/temp-dirs.ts";
import type { GroupRunResult } from "../../process/run-in-group.ts";
import type { SandboxLimits } from "../../sandbox/limits.ts";
import { mountable } from "../../sandbox/mounts.ts";
import { runSandboxed } from "../../sandbox/run-sandboxed.ts";
import { makeReadableForSandbox, makeWritableForSandbox } from "../../sandbox/sandbox.ts";
import { changedParts, fingerprintHome } from "./home-fingerprint.ts";

/** How the external patcher runs: the home it must leave alone, its sandbox, env and network. */
export interface ExternalPatcherSetup {
  home: string;
  sandbox: SandboxLimits | null;
  /** Variables passed through besides the base allowlist (config evolve.patcherEnv: its API key). */
  env: string[];
  /** Keep the network (config evolve.patcherNetwork); denied by default. */
  network: boolean;
}

/**
 * Runs an external coding-agent CLI (`claude -p`, `codex exec`, `opencode run`, ...) in the
 * candidate worktree with the evidence as its prompt on stdin and in $MOSS_PROMPT_FILE. Its
 * changes to the worktree are the patch. It is agent code: sandboxed with only the worktree
 * writable (the home's .git and node_modules read-only, no home config, no user HOME), the
 * patcher env policy, and no network unless config allows it. Throws when it changed the home's
 * moss.config.json, .git/config, .git/hooks or node_modules (possible only without a sandbox),
 * naming what changed, and when it failed without network (saying how to allow it). Otherwise
 * resolves with its exit code and output tail.
 */
export async function runExternalPatcher(
  dir: string,
  command: string,
  promptText: string,
  timeoutMs: number,
  setup: ExternalPatcherSetup,
): Promise<GroupRunResult> {
  const promptDir = makeTempDir("gate");
  const promptFile = path.join(promptDir, "prompt.md");
  writeFileSync(promptFile, promptText, { mode: 0o644 });
  makeReadableForSandbox(promptDir);
  const before = fingerprintHome(setup.home);
  const modules = path.join(setup.home, "node_modules");
  // The worktree's `.git` file says where its git dir is: the harness runs git here right after
  // the patcher, so a patcher that repoints it at a git dir of its own (with filters, hooks,
  // fsmonitor in its config) would run code as the harness. It is mounted read-only and checked.
  const gitFile = path.join(dir, ".git");
  const gitLink = readGitFile(gitFile);
  try {
    const result = await runSandboxed(
      {
        command: "bash",
        args: ["-c", command],
        cwd: dir,
        env: { kind: "patcher", pass: setup.env },
        // The worktree belongs to the sandbox's uid and its git dir to the user: git's ownership
        // check would refuse every command; the git dir is read-only in the sandbox anyway.
        extraEnv: {
          MOSS_PROMPT_FILE: promptFile,
          GIT_CONFIG_COUNT: "1",
          GIT_CONFIG_KEY_0: "safe.directory",
          GIT_CONFIG_VALUE_0: "*",
        },
        readOnly: [
          gitFile,
          path.join(setup.home, ".git"),
          promptDir,
          ...pathsNamedIn(command),
          ...(existsSync(modules) ? [realpathSync(modules)] : []),
        ],
        writable: [dir],
        network: setup.network,
        limits: setup.sandbox,
      },
      { timeoutMs, input: promptText, maxOutputChars: 20_000 },
    );
    if (readGitFile(gitFile) !== gitLink)
      throw new Error(
        "the external patcher replaced the worktree's .git link (it would point moss's git at a repository of its own); the candidate is rejected",
      );
    // The sandbox wrote as its own uid (when moss is root); git refuses a tree owned by another.
    makeWritableForSandbox(dir, process.getuid?.() ?? 0);
    const changed = changedParts(before, fingerprintHome(setup.home));
    if (changed.length)
      throw new Error(
        `the external patcher changed the home's ${changed.join(", ")}; the candidate is rejected. ` +
          `Check ${setup.home} (git status, git -C ${setup.home} config --list, ls .git/hooks) before the next run.`,
      );
    if (result.code !== 0 && !setup.network && setup.sandbox && !result.timedOut && !result.killedBecause)
      throw new Error(
        `the external patcher exited ${result.code} in a sandbox without network. A CLI that calls a model API needs it: ` +
          'set "evolve": { "patcherNetwork": true, "patcherEnv": ["<ITS_KEY_VARIABLE>"] } in moss.config.json. ' +
          `Its output ended with: ${result.output.trim().split("\n").slice(-5).join(" ").slice(0, 500)}`,
      );
    return result;
  } finally {
    rmSync(promptDir, { recursive: true, force: true });
  }
}

/**
 * Absolute paths written in the command (`node /opt/tools/fix.mjs`), mounted read-only so the
 * command can run: the user named them. Never the home folder, a folder directly in it, or a
 * credential store.
 */
function pathsNamedIn(command: string): string[] {
  return command.split(/[\s'"=]+/).filter((w) => path.isAbsolute(w) && existsSync(w) && mountable(w));
}

/** A worktree's `.git` link file as text, or null when it is missing or not a regular file. */
function readGitFile(file: string): string | null {
  try {
    return lstatSync(file).isFile() ? readFileSync(file, "utf8") : null;
  } catch {
    return null;
  }
}
