import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import path from "node:path";

/**
 * An exclusive lock on the home for appending to the log and moving the head. A lock whose
 * holder process is gone is taken over. Waits up to `timeoutMs`.
 */
export async function withHomeLock<T>(
  home: string,
  fn: () => Promise<T>,
  timeoutMs = 10 * 60_000,
): Promise<T> {
  const dir = path.join(home, ".moss");
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, "home.lock");
  const started = Date.now();
  while (true) {
    try {
      const fd = openSync(file, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch {
      if (holderIsGone(file)) {
        rmSync(file, { force: true });
        continue;
      }
      if (Date.now() - started > timeoutMs)
        throw new Error(`the home ${home} is locked by another moss process (${file})`);
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 50));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(file, { force: true });
  }
}

function holderIsGone(file: string): boolean {
  try {
    const pid = Number(readFileSync(file, "utf8"));
    if (!pid) return false;
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
}
