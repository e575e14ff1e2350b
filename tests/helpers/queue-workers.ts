import path from "node:path";
import { makeTempDir } from "../../src/git/temp-dirs.ts";
import { spawnMoss } from "./suite-agent.ts";

/** A `moss worker` process of the real binary, its output collected line by line. */
export interface WorkerProc {
  child: ReturnType<typeof spawnMoss>;
  output(): string;
  /** Resolves with the first output line matching `re` (rejects after `ms` or at exit). */
  waitFor(re: RegExp, ms?: number): Promise<string>;
  exited: Promise<number | null>;
}

export function spawnWorker(
  home: string,
  queueUrl: string,
  env: NodeJS.ProcessEnv,
  extra: string[] = [],
): WorkerProc {
  const cache = path.join(makeTempDir("scratch"), "cache");
  const child = spawnMoss(
    ["--home", home, "worker", "--queue", queueUrl, "--cache-dir", cache, "--lock-timeout", "4s", ...extra],
    env,
  );
  let out = "";
  const waiters: Array<{ re: RegExp; resolve: (l: string) => void }> = [];
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const w of [...waiters]) {
      const line = out.split("\n").find((l) => w.re.test(l));
      if (line !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return {
    child,
    output: () => out,
    exited,
    waitFor(re, ms = 120_000) {
      const line = out.split("\n").find((l) => re.test(l));
      if (line !== undefined) return Promise.resolve(line);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no line ${re} within ${ms} ms; output:\n${out}`)), ms);
        waiters.push({
          re,
          resolve: (l) => {
            clearTimeout(t);
            resolve(l);
          },
        });
        void exited.then(() => {
          clearTimeout(t);
          reject(new Error(`worker exited before ${re}; output:\n${out}`));
        });
      });
    },
  };
}

/** Stops workers still running (SIGKILL: tests that check shutdown do it themselves first). */
export async function killAll(workers: WorkerProc[]): Promise<void> {
  for (const w of workers) if (w.child.exitCode === null) w.child.kill("SIGKILL");
  await Promise.all(workers.map((w) => w.exited));
}
