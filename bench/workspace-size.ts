/**
 * Per-run set-up time and disk on generated workspaces (10,000 files / ~100 MB, and 100,000 files
 * / ~100 MB), against `cp -r` and `git worktree add` of the same tree in the same run.
 * "Set-up" is what a run does before the agent can work: snapshot + scratch copy, and, end to end
 * through runTask, until the agent's first model call (which includes the agent's start).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import type { SandboxLimits } from "../src/agent-host/agent-process.ts";
import { ConfigSchema } from "../src/config/config-schema.ts";
import { initHome } from "../src/home/init-home.ts";
import { ModelRegistry } from "../src/models/model-registry.ts";
import type { Provider } from "../src/models/provider.ts";
import { runTask } from "../src/run/run-task.ts";
import { materializeSnapshot, takeSnapshot } from "../src/workspace/snapshot.ts";
import { folderBytes } from "../src/workspace/snapshot-store.ts";
import type { Report } from "./report.ts";

const MB = 1024 * 1024;
const mb = (n: number) => `${(n / MB).toFixed(n < 10 * MB ? 2 : 0)} MB`;
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

const WORDS =
  "const let function return import export from await async if else for while class new this type interface string number boolean".split(
    " ",
  );

/** `files` text files of about `bytes` in all, 100 to a folder, as a committed git repository. */
function generate(files: number, bytes: number): string {
  const ws = mkdtempSync(path.join(os.tmpdir(), "moss-bench-size-"));
  let seed = 42;
  const next = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed;
  };
  const per = Math.floor(bytes / files);
  for (let i = 0; i < files; i++) {
    const dir = path.join(ws, "src", `d${Math.floor(i / 100)}`);
    if (i % 100 === 0) mkdirSync(dir, { recursive: true });
    const parts: string[] = [];
    let len = 0;
    while (len < per) {
      const line = `${WORDS[next() % WORDS.length]} v${next() % 100000} = ${next() % 1000000};\n`;
      parts.push(line);
      len += line.length;
    }
    writeFileSync(path.join(dir, `f${i}.ts`), parts.join(""));
  }
  writeFileSync(path.join(ws, ".gitignore"), "node_modules\n");
  const git = (...args: string[]) => execFileSync("git", args, { cwd: ws, stdio: "ignore" });
  git("init", "-q", "-b", "main");
  git("add", "-A");
  git("-c", "user.name=b", "-c", "user.email=b@b", "commit", "-q", "-m", "generated");
  return ws;
}

function timed<T>(fn: () => T): [T, number] {
  const t = performance.now();
  const r = fn();
  return [r, performance.now() - t];
}

/** A provider that notes when the first model call arrives, then ends the run. */
function firstCallClock(): { provider: Provider; at: () => number } {
  let at = 0;
  return {
    provider: {
      name: "bench",
      model: "bench",
      async complete() {
        at ||= performance.now();
        return {
          content: [{ type: "text", text: "done" }],
          stopReason: "end_turn",
          usage: { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 },
        };
      },
    },
    at: () => at,
  };
}

export async function benchWorkspaceSize(
  report: Report,
  packageRoot: string,
  sandbox: SandboxLimits | null,
  quick: boolean,
): Promise<void> {
  const sizes: Array<[number, number]> = quick
    ? [[10_000, 100 * MB]]
    : [
        [10_000, 100 * MB],
        [100_000, 100 * MB],
      ];
  for (const [files, bytes] of sizes) {
    const label = `${files / 1000}k files / ${mb(bytes)}`;
    console.error(`  generating a ${label} workspace…`);
    const ws = generate(files, bytes);
    const tree = folderBytes(path.join(ws, "src"));
    const scratchRoot = mkdtempSync(path.join(os.tmpdir(), "moss-bench-size-out-"));

    // Baselines on the same tree.
    const [, cpMs] = timed(() => execFileSync("cp", ["-r", ws, path.join(scratchRoot, "cp")]));
    const cpDisk = folderBytes(path.join(scratchRoot, "cp"));
    const gitBefore = folderBytes(path.join(ws, ".git"));
    const [, wtMs] = timed(() =>
      execFileSync("git", ["worktree", "add", "-q", "--detach", path.join(scratchRoot, "wt"), "HEAD"], {
        cwd: ws,
        stdio: "ignore",
      }),
    );
    const wtDisk = folderBytes(path.join(scratchRoot, "wt")) + folderBytes(path.join(ws, ".git")) - gitBefore;

    // moss: snapshot + scratch, first run (empty store) and an unchanged second run.
    const home = path.join(scratchRoot, "home");
    const [, firstSnapMs] = timed(() => takeSnapshot(home, ws, 1024 * MB));
    const storeFirst = folderBytes(path.join(home, "runs"));
    const [snap, secondSnapMs] = timed(() => takeSnapshot(home, ws, 1024 * MB));
    const storeGrowth = folderBytes(path.join(home, "runs")) - storeFirst;
    const [, scratchMs] = timed(() => materializeSnapshot(snap.ref, path.join(scratchRoot, "scratch")));
    const setup = secondSnapMs + scratchMs;
    report(
      `run set-up, unchanged workspace (${label}): snapshot + scratch`,
      `${s(setup)} (snapshot ${s(secondSnapMs)}, scratch ${s(scratchMs)})`,
      `cp -r ${s(cpMs)}; git worktree add ${s(wtMs)}`,
      `${(cpMs / setup).toFixed(1)}x / ${(wtMs / setup).toFixed(1)}x faster`,
      files <= 10_000 ? "<= 2 s" : "reported",
      files > 10_000 || setup <= 2000,
    );
    report(
      `first snapshot into an empty store (${label})`,
      `${s(firstSnapMs)}, ${mb(storeFirst)} stored`,
      `tree ${mb(tree)} on disk`,
      `${(storeFirst / tree).toFixed(2)}x the tree`,
      "reported (once per workspace)",
      true,
    );
    report(
      `kept snapshot, unchanged workspace (${label}): new disk per run`,
      mb(storeGrowth),
      `cp -r ${mb(cpDisk)}; git worktree add ${mb(wtDisk)}`,
      storeGrowth > 0 ? `${(cpDisk / storeGrowth).toFixed(0)}x less than cp -r` : "nothing new",
      "<= 1 MB",
      storeGrowth <= MB,
    );

    // End to end: runTask until the agent's first model call, and the home's growth per run.
    const agentHome = path.join(scratchRoot, "agent-home");
    await initHome(agentHome, packageRoot);
    const config = ConfigSchema.parse({ workspace: { maxSnapshotBytes: 1024 * MB } });
    const perRun: Array<{ ms: number; disk: number; snapshotMs: number; scratchMs: number }> = [];
    for (let k = 0; k < 2; k++) {
      const clock = firstCallClock();
      const models = new ModelRegistry(config, { providers: { executor: clock.provider } }, {});
      const before = folderBytes(path.join(agentHome, "runs"));
      const t0 = performance.now();
      const { record } = await runTask({
        home: agentHome,
        task: "bench",
        workspace: ws,
        // A trivial check: its baseline copy is made beside the agent, as in a real run.
        check: "true",
        rubric: null,
        config,
        models,
        apply: false,
        sandbox,
      });
      perRun.push({
        ms: clock.at() - t0,
        disk: folderBytes(path.join(agentHome, "runs")) - before,
        snapshotMs: record.timings.snapshotMs ?? 0,
        scratchMs: record.timings.scratchMs ?? 0,
      });
    }
    const second = perRun[1]!;
    report(
      `moss run to first model call, unchanged workspace (${label})`,
      `${s(second.ms)} (snapshot ${s(second.snapshotMs)}, scratch ${s(second.scratchMs)}, the rest ${s(second.ms - second.snapshotMs - second.scratchMs)})`,
      `first run ${s(perRun[0]!.ms)}; cp -r alone ${s(cpMs)}`,
      `${(cpMs / second.ms).toFixed(1)}x cp -r`,
      files <= 10_000 ? "<= 2 s (incl. agent start)" : "reported",
      files > 10_000 || second.ms <= 2000,
    );
    report(
      `moss run: home growth per unchanged run (${label})`,
      mb(second.disk),
      `first run ${mb(perRun[0]!.disk)}; cp -r ${mb(cpDisk)}`,
      "record + transcript + index",
      "<= 1 MB",
      second.disk <= MB,
    );
    execFileSync("git", ["worktree", "remove", "--force", path.join(scratchRoot, "wt")], { cwd: ws });
    rmSync(scratchRoot, { recursive: true, force: true });
    rmSync(ws, { recursive: true, force: true });
  }
}
