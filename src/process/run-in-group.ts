import { spawn } from "node:child_process";

export interface GroupRunOptions {
  cwd: string;
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
  /** Written to the command's stdin, which is then closed. */
  input?: string;
  /** Starts watchdogs on the started process; the whole group is killed when one fires. */
  watch?: (pid: number, onExceeded: (why: string) => void) => () => void;
  /** How much of the output (the tail) is kept. */
  maxOutputChars?: number;
  /** Kills the whole group when aborted (the run was interrupted). */
  signal?: AbortSignal;
}

export interface GroupRunResult {
  code: number | null;
  /** stdout and stderr interleaved, the tail when long. */
  output: string;
  timedOut: boolean;
  /** Why the watchdog killed it, when it did. */
  killedBecause: string | null;
  ms: number;
}

/** The kill of every group still running, so an interrupted moss can stop them all at once. */
const live = new Set<() => void>();

/**
 * Kills every process group runInGroup started that is still running (the check, the gate, the
 * external patcher, a replay's check), each with SIGKILL. Synchronous, so it is safe in an
 * `exit` handler. Returns how many groups it killed.
 */
export function killAllGroups(): number {
  const n = live.size;
  for (const kill of [...live]) kill();
  return n;
}

/**
 * Runs a command in its own process group, so a timeout or the watchdog kills everything it
 * started. Never rejects: a command that cannot start resolves with code 127 and the reason.
 */
export function runInGroup(command: string, args: string[], opts: GroupRunOptions): Promise<GroupRunResult> {
  const t0 = Date.now();
  const max = opts.maxOutputChars ?? 200_000;
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: opts.cwd,
      detached: true,
      stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      ...(opts.env ? { env: opts.env } : {}),
    });
    let output = "";
    const add = (b: Buffer) => {
      output = (output + b.toString("utf8")).slice(-max);
    };
    child.stdout?.on("data", add);
    child.stderr?.on("data", add);
    if (opts.input !== undefined) {
      child.stdin?.on("error", () => {});
      child.stdin?.end(opts.input);
    }
    let timedOut = false;
    let killedBecause: string | null = null;
    const kill = () => {
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {
        // The group is gone already.
      }
    };
    live.add(kill);
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, opts.timeoutMs);
    const stopWatch =
      opts.watch && child.pid
        ? opts.watch(child.pid, (why) => {
            killedBecause = why;
            kill();
          })
        : () => {};
    opts.signal?.addEventListener("abort", kill, { once: true });
    if (opts.signal?.aborted) kill();
    let settled = false;
    const done = (code: number | null, extra = "") => {
      if (settled) return;
      settled = true;
      live.delete(kill);
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", kill);
      stopWatch();
      kill();
      resolve({ code, output: output + extra, timedOut, killedBecause, ms: Date.now() - t0 });
    };
    child.on("error", (err) => done(127, err.message));
    child.on("close", (code) => done(code));
  });
}
