import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * The node binary the agent process runs as: a copy of this node that its user may execute but
 * not read (mode 0111). Linux makes a process that executes an unreadable file non-dumpable, and
 * a non-dumpable process cannot be ptraced, have its memory read or written through /proc, or
 * have its file descriptors taken with pidfd_getfd by processes of the same uid without
 * CAP_SYS_PTRACE. So a command the agent runs (a tool, a test) cannot take over the agent's
 * stdio channel to the harness.
 *
 * The copy is made once per node build in the user's cache folder (~/.cache/moss), atomically;
 * the sandbox mounts it read-only. Returns null when it cannot be made or run (a read-only or
 * noexec cache): the caller then runs the ordinary binary, without this hardening.
 */
export function execOnlyNode(nodePath = process.execPath): string | null {
  try {
    const real = realpathSync(nodePath);
    const st = statSync(real);
    const dir = path.join(cacheDir(), `node-${st.size}-${Math.floor(st.mtimeMs)}-${st.ino}`);
    const bin = path.join(dir, "node");
    if (existsSync(bin) && (statSync(bin).mode & 0o7777) === 0o111) return bin;
    makeDirs(dir);
    const tmp = path.join(dir, `.node-${randomBytes(8).toString("hex")}`);
    try {
      copyFileSync(real, tmp);
      chmodSync(tmp, 0o111);
      // A cache on a noexec file system would make every agent fail to start.
      if (spawnSync(tmp, ["-e", "0"], { stdio: "ignore", timeout: 20_000 }).status !== 0) return null;
      renameSync(tmp, bin);
    } finally {
      rmSync(tmp, { force: true });
    }
    return bin;
  } catch {
    return null;
  }
}

/**
 * mkdir -p, one level at a time: Node's recursive mkdirSync never returns for a path under /proc
 * (ENOENT forever), which a stray XDG_CACHE_HOME could name.
 */
function makeDirs(dir: string): void {
  const parent = path.dirname(dir);
  if (parent !== dir && !existsSync(parent)) makeDirs(parent);
  try {
    mkdirSync(dir, { mode: 0o755 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
}

function cacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
  return path.join(base, "moss");
}
