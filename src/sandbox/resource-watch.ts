import { execFileSync } from "node:child_process";
import {
  existsSync,
  lstatSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statfsSync,
  statSync,
} from "node:fs";
import { SHM_MB } from "./sandbox.ts";

export interface TreeUsage {
  processes: number;
  rssMb: number;
  pids: number[];
}

/**
 * Processes and resident memory of `rootPid` and all its descendants: read from /proc on Linux,
 * from `ps -A -o pid=,ppid=,rss=` where there is no /proc (macOS).
 */
export function treeUsage(rootPid: number): TreeUsage {
  return usageOfTree(existsSync("/proc/self/stat") ? procTable() : psTable(psOutput()), rootPid);
}

/** One row per process: its parent and its resident memory in bytes. */
export type ProcessTable = Map<number, { ppid: number; rssBytes: number }>;

function procTable(): ProcessTable {
  const table: ProcessTable = new Map();
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (!pid) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      table.set(pid, { ppid: Number(fields[1]), rssBytes: Number(fields[21]) * 4096 });
    } catch {
      // The process ended while we looked.
    }
  }
  return table;
}

function psOutput(): string {
  try {
    return execFileSync("ps", ["-A", "-o", "pid=,ppid=,rss="], { encoding: "utf8", timeout: 5000 });
  } catch {
    return "";
  }
}

/** Parses `ps -A -o pid=,ppid=,rss=` (rss in KiB, as on macOS and Linux); skips malformed lines. */
export function psTable(text: string): ProcessTable {
  const table: ProcessTable = new Map();
  for (const line of text.split("\n")) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\d+)\s*$/.exec(line);
    if (m) table.set(Number(m[1]), { ppid: Number(m[2]), rssBytes: Number(m[3]) * 1024 });
  }
  return table;
}

/** The usage of `rootPid` and its descendants in `table`. */
export function usageOfTree(table: ProcessTable, rootPid: number): TreeUsage {
  const inTree = new Set([rootPid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, row] of table) {
      if (!inTree.has(pid) && inTree.has(row.ppid)) {
        inTree.add(pid);
        grew = true;
      }
    }
  }
  let bytes = 0;
  for (const pid of inTree) bytes += table.get(pid)?.rssBytes ?? 0;
  return { processes: inTree.size, rssMb: bytes / 1024 / 1024, pids: [...inTree] };
}

/**
 * What the sandbox holds in its private /tmp (a tmpfs of `tmpMb`) and /dev/shm (SHM_MB), read
 * through the mount namespace of one of its processes; 0 when none can be read.
 */
export function tmpfsUsedMb(pids: number[], tmpMb: number): number {
  return usedOfTmpfs(pids, "/tmp", tmpMb) + usedOfTmpfs(pids, "/dev/shm", SHM_MB);
}

function usedOfTmpfs(pids: number[], mount: string, sizeMb: number): number {
  for (const pid of pids) {
    const used = tmpfsOf(pid, mount, sizeMb);
    if (used !== null) return used;
  }
  return 0;
}

/**
 * MB used on `mount` as process `pid` sees it, when that is the sandbox's own tmpfs (it has
 * exactly `sizeMb`; the host's, seen through bwrap's outer process, has another); else null.
 */
function tmpfsOf(pid: number, mount: string, sizeMb: number): number | null {
  try {
    const s = statfsSync(`/proc/${pid}/root${mount}`);
    if (s.blocks * s.bsize !== sizeMb * 1024 * 1024) return null;
    return ((s.blocks - s.bfree) * s.bsize) / 1024 / 1024;
  } catch {
    return null;
  }
}

/**
 * Storage the sandbox holds through open file descriptors that no folder walk or RSS shows:
 * memfds (memory) and files deleted while kept open (disk), each inode counted once, by the
 * blocks it really uses. Files in the sandbox's /tmp and /dev/shm are left to tmpfsUsedMb.
 */
export function hiddenFileMb(pids: number[], tmpMb: number): { memoryMb: number; diskMb: number } {
  const seen = new Set<string>();
  // Files on the sandbox's own tmpfs mounts (whatever their path) are already counted there.
  const tmpfsDevs = new Set<number>();
  for (const [mount, sizeMb] of [
    ["/tmp", tmpMb],
    ["/dev/shm", SHM_MB],
  ] as const) {
    const pid = pids.find((p) => tmpfsOf(p, mount, sizeMb) !== null);
    if (pid !== undefined)
      tmpfsDevs.add(statSync(`/proc/${pid}/root${mount}`, { throwIfNoEntry: false })?.dev ?? -1);
  }
  let memory = 0;
  let disk = 0;
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        if (!target.endsWith(" (deleted)")) continue;
        const memfd = target.startsWith("/memfd:");
        const st = statSync(`/proc/${pid}/fd/${fd}`);
        if (!st.isFile() || seen.has(`${st.dev}:${st.ino}`)) continue;
        if (!memfd && tmpfsDevs.has(st.dev)) continue;
        seen.add(`${st.dev}:${st.ino}`);
        if (memfd) memory += st.blocks * 512;
        else disk += st.blocks * 512;
      } catch {
        // Closed or gone while we looked.
      }
    }
  }
  return { memoryMb: memory / 1024 / 1024, diskMb: disk / 1024 / 1024 };
}

/**
 * Total apparent size of the files under `dir` (symlinks not followed), stopping past `stopAt`.
 * Names are read as bytes: a file whose name is not UTF-8 counts like any other.
 */
export function treeBytes(dir: string, stopAt = Number.POSITIVE_INFINITY): number {
  let total = 0;
  const stack = [Buffer.from(dir)];
  while (stack.length && total <= stopAt) {
    const d = stack.pop()!;
    let names: Buffer[];
    try {
      names = readdirSync(d, { encoding: "buffer" });
    } catch {
      continue;
    }
    for (const name of names) {
      const p = Buffer.concat([d, SLASH, name]);
      try {
        const st = lstatSync(p);
        if (st.isDirectory()) stack.push(p);
        else total += st.size;
      } catch {
        // Removed while we looked.
      }
    }
  }
  return total;
}

const SLASH = Buffer.from("/");

export interface WatchLimits {
  maxRssMb: number;
  maxProcs: number;
  /** Size of the sandbox's /tmp tmpfs: its use is added to the memory. */
  tmpMb?: number;
  /** Folders whose total size may not pass maxDiskMb. */
  disk?: { dirs: string[]; maxDiskMb: number };
}

/**
 * Polls a process tree and calls `onExceeded` once when it holds more than `maxRssMb` of memory
 * (its /tmp included), runs more than `maxProcs` processes, or its writable folders add up to
 * more than the disk cap. Returns a function that stops watching.
 */
export function watchTree(
  rootPid: number,
  limits: WatchLimits,
  onExceeded: (why: string) => void,
  everyMs = 100,
): () => void {
  let ticks = 0;
  let hidden = { memoryMb: 0, diskMb: 0 };
  const timer = setInterval(() => {
    const u = treeUsage(rootPid);
    const tmp = limits.tmpMb ? tmpfsUsedMb(u.pids.slice(1), limits.tmpMb) : 0;
    // Reading every descriptor costs more than /proc stat: twice a second.
    if (ticks % 5 === 0) hidden = hiddenFileMb(u.pids, limits.tmpMb ?? 0);
    const stop = (why: string) => {
      clearInterval(timer);
      onExceeded(why);
    };
    const memory = u.rssMb + tmp + hidden.memoryMb;
    if (memory > limits.maxRssMb) {
      const parts = [
        tmp >= 1 ? `${tmp.toFixed(0)} MB of it in /tmp and /dev/shm` : "",
        hidden.memoryMb >= 1 ? `${hidden.memoryMb.toFixed(0)} MB in memory files (memfd)` : "",
      ].filter(Boolean);
      return stop(
        `used ${memory.toFixed(0)} MB of memory, over the ${limits.maxRssMb} MB limit${parts.length ? ` (${parts.join(", ")})` : ""}`,
      );
    }
    if (u.processes > limits.maxProcs)
      return stop(`ran ${u.processes} processes, over the limit of ${limits.maxProcs}`);
    // Walking the folders costs more: once a second.
    if (limits.disk && ticks % 10 === 0) {
      const cap = limits.disk.maxDiskMb * 1024 * 1024;
      let bytes = hidden.diskMb * 1024 * 1024;
      for (const d of limits.disk.dirs) bytes += treeBytes(d, cap - bytes);
      if (bytes > cap) {
        const unlinked =
          hidden.diskMb >= 1 ? ` (${hidden.diskMb.toFixed(0)} MB of it in deleted files kept open)` : "";
        return stop(
          `wrote more than its disk cap of ${limits.disk.maxDiskMb} MB in ${limits.disk.dirs.join(", ")}${unlinked}`,
        );
      }
    }
    ticks++;
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
