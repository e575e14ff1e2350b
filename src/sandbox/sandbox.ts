import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, realpathSync } from "node:fs";
import path from "node:path";
import { sandboxInstallHint } from "./install-hint.ts";
import { DEFAULT_DISK_MB, DEFAULT_TMP_MB } from "./limits.ts";
import { SANDBOX_EXEC } from "./macos-profile.ts";
import { etcEntries, SYSTEM_DIRS } from "./mounts.ts";

/** A read-only mount of `source` at `target` (an installed dependency folder in a scratch copy). */
export interface SharedMount {
  source: string;
  target: string;
}

/** What a sandboxed process may see and use. Everything not listed is invisible to it. */
export interface SandboxSpec {
  /** Paths mounted read-only at the same place (missing ones are skipped). */
  readOnly: string[];
  /** Paths mounted read-write at the same place. */
  writable: string[];
  /** Read-only mounts at another place, after the writable ones (they may lie inside them). */
  shared?: SharedMount[];
  /** Generated files mounted read-only at these /etc paths: { "/etc/passwd": hostFile }. */
  etc?: Record<string, string>;
  /** Working directory inside the sandbox. */
  cwd: string;
  /**
   * Process limit: the harness's watchdog kills the sandbox above it, and RLIMIT_NPROC at four times
   * that (for the unprivileged uid the sandbox runs as) keeps a fork bomb from outrunning it: its
   * population settles far above the watchdog's limit, so the watchdog always sees it.
   */
  maxProcs: number;
  /** Size of /tmp (a tmpfs) in MB. */
  tmpMb?: number;
  /** RLIMIT_FSIZE: the largest file any process in the sandbox may write, in MB. */
  maxFileMb?: number;
  /** Keep the host's network (only the external patcher, and only when config says so). */
  network?: boolean;
  /** The uid to run as when moss runs as root (see sandboxUid); ignored otherwise. */
  uid: number;
}

/**
 * The unprivileged uid a sandbox runs as when moss runs as root: a fresh one per sandbox, with
 * no account and no files of its own, so its process limit counts only its own processes.
 */
export function sandboxUid(): number {
  return SANDBOX_UID_MIN + Math.floor(Math.random() * (SANDBOX_UID_MAX - SANDBOX_UID_MIN));
}

const SANDBOX_UID_MIN = 200_000;
const SANDBOX_UID_MAX = 1_000_000;

/** Whether `uid` is one sandboxUid hands out: a folder it owns was made by moss running as root. */
export function isSandboxUid(uid: number): boolean {
  return uid >= SANDBOX_UID_MIN && uid < SANDBOX_UID_MAX;
}

let probed: { ok: boolean; reason: string } | undefined;

/**
 * Whether a sandbox can start here (checked once per process). Linux: bubblewrap with namespaces
 * for user, pid, net, ipc and uts, and, when moss runs as root, dropping to an unprivileged user
 * first. macOS: /usr/bin/sandbox-exec runs a trivial profile.
 */
export function sandboxAvailable(platform: NodeJS.Platform = process.platform): {
  ok: boolean;
  reason: string;
} {
  if (probed) return probed;
  if (platform === "darwin") {
    const r = spawnSync(SANDBOX_EXEC, ["-p", "(version 1)(allow default)", "/usr/bin/true"], {
      stdio: ["ignore", "ignore", "pipe"],
      timeout: 10_000,
    });
    probed =
      r.status === 0
        ? { ok: true, reason: "sandbox-exec" }
        : {
            ok: false,
            reason: r.error
              ? `${SANDBOX_EXEC} could not start (${(r.error as NodeJS.ErrnoException).code}): ${sandboxInstallHint(platform)}`
              : `sandbox-exec failed: ${r.stderr.toString().trim().slice(0, 300)}`,
          };
    return probed;
  }
  const wrapped = wrapInSandbox("true", [], {
    readOnly: [],
    writable: [],
    cwd: "/",
    maxProcs: 64,
    uid: sandboxUid(),
  });
  const r = spawnSync(wrapped.command, wrapped.args, {
    stdio: ["ignore", "ignore", "pipe"],
    timeout: 10_000,
  });
  probed =
    r.status === 0
      ? { ok: true, reason: "bubblewrap" }
      : {
          ok: false,
          reason: r.error
            ? `${wrapped.command} could not start (${(r.error as NodeJS.ErrnoException).code}): ${sandboxInstallHint()}`
            : `bubblewrap failed: ${r.stderr.toString().trim().slice(0, 300)}`,
        };
  return probed;
}

/** Size of the sandbox's /dev/shm (a tmpfs) in MB; resource-watch counts it as memory. */
export const SHM_MB = 64;

/**
 * The command line that runs `command args` inside a bubblewrap sandbox: no network (unless
 * spec.network), its own pid namespace (the parent's /proc is out of sight), a size-capped
 * private /tmp, the system folders and a short list of /etc read-only, only the listed paths
 * mounted besides, RLIMIT_FSIZE and RLIMIT_NPROC set, and, when moss runs as root, as a fresh
 * unprivileged uid (sandboxUid). HOME and TMPDIR come from the caller's environment (see
 * childEnv: /tmp/home and /tmp).
 */
export function wrapInSandbox(
  command: string,
  args: string[],
  spec: SandboxSpec,
): { command: string; args: string[] } {
  const root = process.getuid?.() === 0;
  const binds: string[] = [];
  const nodePrefix = path.dirname(path.dirname(realpathSync(process.execPath)));
  for (const dir of [...SYSTEM_DIRS, nodePrefix]) binds.push("--ro-bind-try", dir, dir);
  binds.push("--perms", "0755", "--dir", "/etc", "--perms", "0755", "--dir", "/etc/ssl");
  for (const p of etcEntries()) binds.push("--ro-bind-try", p, p);
  for (const [target, source] of Object.entries(spec.etc ?? {})) binds.push("--ro-bind", source, target);
  if (spec.network) for (const p of ["/etc/resolv.conf", "/etc/hosts"]) binds.push("--ro-bind-try", p, p);
  binds.push("--symlink", "/proc/self/mounts", "/etc/mtab");
  const tmpBytes = (spec.tmpMb ?? DEFAULT_TMP_MB) * 1024 * 1024;
  binds.push("--perms", "1777", "--size", String(tmpBytes), "--tmpfs", "/tmp");
  binds.push("--perms", "0777", "--dir", "/tmp/home");
  // Folders above a mount point are created by bubblewrap; make them traversable, not private.
  for (const dir of ancestors([...spec.readOnly, ...spec.writable]))
    binds.push("--perms", "0755", "--dir", dir);
  // Parents before children, so a read-only path inside a writable folder (a worktree's .git
  // link) stays read-only instead of being covered by the later mount of its folder.
  const depth = (p: string) => p.split("/").length;
  const mounts = [
    ...spec.readOnly.map((p) => ["--ro-bind-try", p] as const),
    ...spec.writable.map((p) => ["--bind-try", p] as const),
  ].sort((a, b) => depth(a[1]) - depth(b[1]));
  for (const [flag, p] of mounts) binds.push(flag, p, p);
  for (const m of spec.shared ?? []) binds.push("--ro-bind-try", m.source, m.target);
  // As root, bubblewrap sets up the namespaces itself and the command drops to an unprivileged uid,
  // so the process limit applies and root-only files stay closed; otherwise a user namespace.
  const namespaces = root
    ? ["--unshare-ipc", "--unshare-pid", "--unshare-uts", "--unshare-cgroup-try"]
    : ["--unshare-all"];
  if (spec.network) {
    if (!root) namespaces.push("--share-net");
  } else if (root) namespaces.push("--unshare-net");
  const drop = root
    ? [
        "setpriv",
        `--reuid=${spec.uid}`,
        `--regid=${spec.uid}`,
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--",
      ]
    : [];
  const maxFileKb = (spec.maxFileMb ?? DEFAULT_DISK_MB) * 1024;
  return {
    command: "bwrap",
    args: [
      ...namespaces,
      "--die-with-parent",
      "--new-session",
      ...binds,
      "--proc",
      "/proc",
      "--dev",
      "/dev",
      // bubblewrap's /dev is an uncapped tmpfs and /dev/shm in it is writable without root: give
      // shared memory a small tmpfs of its own, which the watchdog counts as memory like /tmp.
      "--perms",
      "1777",
      "--size",
      String(SHM_MB * 1024 * 1024),
      "--tmpfs",
      "/dev/shm",
      // The root bubblewrap builds is a tmpfs of its own, with no size cap: without root the
      // folders it creates there belong to the user, so close it; /tmp and the binds keep theirs.
      "--remount-ro",
      "/",
      "--chdir",
      spec.cwd,
      ...drop,
      "bash",
      "-c",
      `ulimit -u ${spec.maxProcs * 4} 2>/dev/null; ulimit -f ${maxFileKb} || exit 125; exec "$@"`,
      "moss-sandbox",
      command,
      ...args,
    ],
  };
}

/** Every folder above the given paths, parents first, except / and what is already mounted. */
function ancestors(paths: string[]): string[] {
  const out = new Set<string>();
  for (const p of paths) {
    let dir = path.dirname(p);
    const chain: string[] = [];
    while (dir !== "/" && dir !== "/tmp" && !SYSTEM_DIRS.includes(dir)) {
      chain.unshift(dir);
      dir = path.dirname(dir);
    }
    for (const d of chain) out.add(d);
  }
  return [...out].sort((a, b) => a.split("/").length - b.split("/").length);
}

/**
 * Lets the sandbox user write `dir`: when moss runs as root the sandbox runs as `uid`, so the
 * (scratch) tree is handed to it; otherwise it already belongs to the user.
 */
export function makeWritableForSandbox(dir: string, uid: number): void {
  if (process.getuid?.() !== 0) return;
  // chown -R walks with file descriptors, not whole paths: any depth and any name (an agent may make
  // a 3,000-level tree or names that are not UTF-8); -h changes links themselves, never their targets.
  execFileSync("chown", ["-R", "-h", `${uid}:${uid}`, "--", dir], { stdio: ["ignore", "ignore", "pipe"] });
}

/** Lets the sandbox user read `dir` (a folder made by mkdtemp is private to its owner). */
export function makeReadableForSandbox(dir: string): void {
  if (process.getuid?.() === 0) chmodSync(dir, 0o755);
}
