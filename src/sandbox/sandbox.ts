import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, lchownSync, lstatSync, readdirSync, realpathSync } from "node:fs";
import path from "node:path";

/** What a sandboxed process may see and use. Everything not listed is invisible to it. */
export interface SandboxSpec {
  /** Paths mounted read-only at the same place (missing ones are skipped). */
  readOnly: string[];
  /** Paths mounted read-write at the same place. */
  writable: string[];
  /** Working directory inside the sandbox. */
  cwd: string;
  /**
   * Process limit: the harness's watchdog kills the sandbox above it, and RLIMIT_NPROC at four times
   * that (for the unprivileged uid the sandbox runs as) keeps a fork bomb from outrunning it: its
   * population settles far above the watchdog's limit, so the watchdog always sees it.
   */
  maxProcs: number;
  /** The uid to run as when moss is root (see sandboxUid); ignored otherwise. */
  uid: number;
}

/**
 * The unprivileged uid a sandbox runs as when moss runs as root: a fresh one per sandbox, with
 * no account and no files of its own, so its process limit counts only its own processes.
 */
export function sandboxUid(): number {
  return 200_000 + Math.floor(Math.random() * 800_000);
}
const SYSTEM_DIRS = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc"];

let probed: { ok: boolean; reason: string } | undefined;

/**
 * Whether bubblewrap can start a sandbox here (checked once per process): namespaces for user,
 * pid, net, ipc and uts, and, when moss runs as root, dropping to an unprivileged user first.
 */
export function sandboxAvailable(): { ok: boolean; reason: string } {
  if (probed) return probed;
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
            ? `${wrapped.command} could not start (${(r.error as NodeJS.ErrnoException).code}): install bubblewrap (apt-get install bubblewrap)`
            : `bubblewrap failed: ${r.stderr.toString().trim().slice(0, 300)}`,
        };
  return probed;
}

/**
 * The command line that runs `command args` inside a bubblewrap sandbox: no network, its own
 * pid namespace (the parent's /proc is out of sight), an empty private /tmp and HOME, only the
 * listed paths mounted, and, when moss runs as root, as a fresh unprivileged uid (sandboxUid).
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
  binds.push("--perms", "1777", "--tmpfs", "/tmp", "--perms", "0777", "--dir", "/tmp/home");
  // Folders above a mount point are created by bubblewrap; make them traversable, not private.
  for (const dir of ancestors([...spec.readOnly, ...spec.writable]))
    binds.push("--perms", "0755", "--dir", dir);
  for (const p of spec.readOnly) if (existsSync(p)) binds.push("--ro-bind", p, p);
  for (const p of spec.writable) if (existsSync(p)) binds.push("--bind", p, p);
  // As root, bubblewrap sets up the namespaces itself and the command drops to an unprivileged uid,
  // so the process limit applies and root-only files stay closed; otherwise a user namespace.
  const namespaces = root
    ? ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
    : ["--unshare-all"];
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
      "--chdir",
      spec.cwd,
      "--setenv",
      "HOME",
      "/tmp/home",
      "--setenv",
      "TMPDIR",
      "/tmp",
      ...drop,
      "bash",
      "-c",
      `ulimit -u ${spec.maxProcs * 4} 2>/dev/null; exec "$@"`,
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
  const walk = (p: string) => {
    const st = lstatSync(p);
    if (st.isSymbolicLink()) lchownSync(p, uid, uid);
    else chownSync(p, uid, uid);
    if (st.isDirectory()) for (const name of readdirSync(p)) walk(path.join(p, name));
  };
  walk(dir);
}

/** Lets the sandbox user read `dir` (a folder made by mkdtemp is private to its owner). */
export function makeReadableForSandbox(dir: string): void {
  if (process.getuid?.() === 0) chmodSync(dir, 0o755);
}
