import { lstatSync, readdirSync, readFileSync, statfsSync } from "node:fs";
import path from "node:path";

export interface TreeUsage {
  processes: number;
  rssMb: number;
  pids: number[];
}

/** Processes and resident memory of `rootPid` and all its descendants, read from /proc. */
export function treeUsage(rootPid: number): TreeUsage {
  const parent = new Map<number, number>();
  const rss = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (!pid) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      parent.set(pid, Number(fields[1]));
      rss.set(pid, Number(fields[21]) * 4096);
    } catch {
      // The process ended while we looked.
    }
  }
  const inTree = new Set([rootPid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, ppid] of parent) {
      if (!inTree.has(pid) && inTree.has(ppid)) {
        inTree.add(pid);
        grew = true;
      }
    }
  }
  let bytes = 0;
  for (const pid of inTree) bytes += rss.get(pid) ?? 0;
  return { processes: inTree.size, rssMb: bytes / 1024 / 1024, pids: [...inTree] };
}

/**
 * What the sandbox holds in its private /tmp (a tmpfs of `tmpMb`), read through the mount
 * namespace of one of its processes; 0 when none can be read (not started yet, or gone).
 */
export function tmpfsUsedMb(pids: number[], tmpMb: number): number {
  for (const pid of pids) {
    try {
      const s = statfsSync(`/proc/${pid}/root/tmp`);
      // The sandbox's own tmpfs has exactly its size; the host's /tmp (seen through bwrap's
      // outer process, still in the host namespace) has another.
      if (s.blocks * s.bsize !== tmpMb * 1024 * 1024) continue;
      return ((s.blocks - s.bfree) * s.bsize) / 1024 / 1024;
    } catch {
      // Not ours to read, or gone.
    }
  }
  return 0;
}

/** Total apparent size of the files under `dir` (symlinks not followed), stopping past `stopAt`. */
export function treeBytes(dir: string, stopAt = Number.POSITIVE_INFINITY): number {
  let total = 0;
  const stack = [dir];
  while (stack.length && total <= stopAt) {
    const d = stack.pop()!;
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      continue;
    }
    for (const name of names) {
      try {
        const st = lstatSync(path.join(d, name));
        if (st.isDirectory()) stack.push(path.join(d, name));
        else total += st.size;
      } catch {
        // Removed while we looked.
      }
    }
  }
  return total;
}

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
  const timer = setInterval(() => {
    const u = treeUsage(rootPid);
    const tmp = limits.tmpMb ? tmpfsUsedMb(u.pids.slice(1), limits.tmpMb) : 0;
    const stop = (why: string) => {
      clearInterval(timer);
      onExceeded(why);
    };
    if (u.rssMb + tmp > limits.maxRssMb) {
      const held = tmp >= 1 ? ` (${tmp.toFixed(0)} MB of it in /tmp)` : "";
      return stop(
        `used ${(u.rssMb + tmp).toFixed(0)} MB of memory, over the ${limits.maxRssMb} MB limit${held}`,
      );
    }
    if (u.processes > limits.maxProcs)
      return stop(`ran ${u.processes} processes, over the limit of ${limits.maxProcs}`);
    // Walking the folders costs more: once a second.
    if (limits.disk && ticks++ % 10 === 0) {
      const cap = limits.disk.maxDiskMb * 1024 * 1024;
      let bytes = 0;
      for (const d of limits.disk.dirs) bytes += treeBytes(d, cap - bytes);
      if (bytes > cap)
        stop(`wrote more than its disk cap of ${limits.disk.maxDiskMb} MB in ${limits.disk.dirs.join(", ")}`);
    }
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
