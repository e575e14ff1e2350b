import { readdirSync, readFileSync } from "node:fs";

export interface TreeUsage {
  processes: number;
  rssMb: number;
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
  return { processes: inTree.size, rssMb: bytes / 1024 / 1024 };
}

/**
 * Polls a process tree and calls `onExceeded` once when it holds more than `maxRssMb` of memory
 * or more than `maxProcs` processes. Returns a function that stops watching.
 */
export function watchTree(
  rootPid: number,
  limits: { maxRssMb: number; maxProcs: number },
  onExceeded: (why: string) => void,
  everyMs = 100,
): () => void {
  const timer = setInterval(() => {
    const u = treeUsage(rootPid);
    if (u.rssMb > limits.maxRssMb) {
      clearInterval(timer);
      onExceeded(`used ${u.rssMb.toFixed(0)} MB of memory, over the ${limits.maxRssMb} MB limit`);
    } else if (u.processes > limits.maxProcs) {
      clearInterval(timer);
      onExceeded(`ran ${u.processes} processes, over the limit of ${limits.maxProcs}`);
    }
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
