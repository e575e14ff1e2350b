import { chmodSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { makeTempDir } from "../git/temp-dirs.ts";
import { type GroupRunResult, runInGroup } from "../process/run-in-group.ts";
import { childEnv, type EnvPolicy } from "./child-env.ts";
import { sandboxCommandLine } from "./command-line.ts";
import { DEFAULT_DISK_MB, DEFAULT_TMP_MB, type SandboxLimits } from "./limits.ts";
import { etcFiles, toolchainMounts } from "./mounts.ts";
import { watchTree } from "./resource-watch.ts";
import { makeWritableForSandbox, type SharedMount, sandboxUid, wrapInSandbox } from "./sandbox.ts";

/** One process to run as agent code: what it runs, what it may see, who it is, its limits. */
export interface SandboxedRun {
  command: string;
  args: string[];
  cwd: string;
  /** Decides its environment (an allowlist; see childEnv). */
  env: EnvPolicy;
  /** Set by the harness on top of the policy (e.g. MOSS_PROMPT_FILE). */
  extraEnv?: Record<string, string>;
  /** Mounted read-only besides the system folders, a minimal /etc and the toolchains on PATH. */
  readOnly?: string[];
  /** Mounted read-write; the disk cap counts them. */
  writable?: string[];
  /** Installed dependency folders, read-only at their place in a writable folder. */
  shared?: SharedMount[];
  /** Keep the network (only the external patcher, when config allows it). */
  network?: boolean;
  /** null: no sandbox (--no-sandbox): the same environment policy, nothing else holds. */
  limits: SandboxLimits | null;
}

/** A process ready to spawn (detached, in its own group), with its watchdogs and clean-up. */
export interface WrappedProcess {
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Starts the watchdogs on the spawned process; `onExceeded` is called once. Returns stop. */
  watch(pid: number, onExceeded: (why: string) => void): () => void;
  /** Removes what prepareSandboxed made (private home, generated /etc files). Idempotent. */
  dispose(): void;
}

/**
 * The one way moss starts agent code (the agent, the check, the gate, the external patcher).
 * With limits on darwin: sandbox-exec (prepareMacos). With limits elsewhere: bubblewrap with only the listed mounts, the toolchains on PATH and a minimal /etc;
 * /tmp a tmpfs of limits.tmpMb counted as memory; files and writable folders capped at
 * limits.diskMb; processes and memory watched. Without: the same env policy and a private HOME.
 */
export function prepareSandboxed(
  run: SandboxedRun,
  platform: NodeJS.Platform = process.platform,
): WrappedProcess {
  const limits = run.limits;
  if (limits && platform === "darwin") return prepareMacos(run, limits);
  if (!limits) {
    const home = makeTempDir("agent-home");
    return {
      command: run.command,
      args: run.args,
      cwd: run.cwd,
      env: { ...childEnv(run.env, process.env, home), ...run.extraEnv },
      watch: () => () => {},
      dispose: () => rmSync(home, { recursive: true, force: true }),
    };
  }
  const uid = sandboxUid();
  const writable = run.writable ?? [];
  for (const dir of writable) makeWritableForSandbox(dir, uid);
  const etcDir = makeTempDir("etc");
  chmodSync(etcDir, 0o755);
  const etc: Record<string, string> = {};
  // As root the sandbox runs as `uid`; otherwise as the user, under the same id.
  const insideUid = process.getuid?.() === 0 ? uid : (process.getuid?.() ?? uid);
  for (const [name, text] of Object.entries(etcFiles(insideUid))) {
    writeFileSync(path.join(etcDir, name), text, { mode: 0o644 });
    etc[`/etc/${name}`] = path.join(etcDir, name);
  }
  const env = { ...childEnv(run.env, process.env, "/tmp/home", "/tmp"), ...run.extraEnv };
  const tmpMb = limits.tmpMb ?? DEFAULT_TMP_MB;
  const diskMb = limits.diskMb ?? DEFAULT_DISK_MB;
  const wrapped = wrapInSandbox(run.command, run.args, {
    readOnly: [...toolchainMounts(env.PATH, run.cwd), ...(run.readOnly ?? [])],
    writable,
    shared: run.shared ?? [],
    etc,
    cwd: run.cwd,
    maxProcs: limits.maxProcs,
    tmpMb,
    maxFileMb: diskMb,
    network: run.network ?? false,
    uid,
  });
  return {
    ...wrapped,
    cwd: run.cwd,
    env,
    watch: (pid, onExceeded) =>
      watchTree(
        pid,
        {
          maxRssMb: limits.memoryMb,
          maxProcs: limits.maxProcs,
          tmpMb,
          ...(writable.length ? { disk: { dirs: writable, maxDiskMb: diskMb } } : {}),
        },
        onExceeded,
      ),
    dispose: () => rmSync(etcDir, { recursive: true, force: true }),
  };
}

/**
 * macOS: sandbox-exec (see sandboxCommandLine), HOME and TMPDIR a private temp folder, the
 * writable folders by their real paths (Seatbelt matches /private/var, not /var). The watchdog
 * counts processes and memory (from ps) and the writable folders plus the private temp on disk.
 */
function prepareMacos(run: SandboxedRun, limits: SandboxLimits): WrappedProcess {
  const home = realpathSync(makeTempDir("agent-home"));
  const writable = (run.writable ?? []).map((d) => realpathSync(d));
  const diskMb = limits.diskMb ?? DEFAULT_DISK_MB;
  const line = sandboxCommandLine(
    "darwin",
    run.command,
    run.args,
    {
      readOnly: [],
      writable,
      cwd: run.cwd,
      maxProcs: limits.maxProcs,
      maxFileMb: diskMb,
      network: run.network ?? false,
      uid: 0,
    },
    { privateTmp: home, deniedReads: limits.deniedReads ?? { files: [], folders: [] } },
  );
  return {
    ...line,
    cwd: run.cwd,
    env: { ...childEnv(run.env, process.env, home), ...run.extraEnv },
    watch: (pid, onExceeded) =>
      watchTree(
        pid,
        {
          maxRssMb: limits.memoryMb,
          maxProcs: limits.maxProcs,
          disk: { dirs: [...writable, home], maxDiskMb: diskMb },
        },
        onExceeded,
      ),
    dispose: () => rmSync(home, { recursive: true, force: true }),
  };
}

/**
 * Runs a SandboxedRun to its end in its own process group (see runInGroup): killed whole on
 * timeout or when a watchdog fires (`killedBecause` says why). Never rejects.
 */
export async function runSandboxed(
  run: SandboxedRun,
  opts: { timeoutMs: number; input?: string; maxOutputChars?: number; signal?: AbortSignal },
): Promise<GroupRunResult> {
  const p = prepareSandboxed(run);
  try {
    return await runInGroup(p.command, p.args, { ...opts, cwd: p.cwd, env: p.env, watch: p.watch });
  } finally {
    p.dispose();
  }
}
