import { execFile, execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, expect, it } from "vitest";
import {
  anthropicMessage,
  type FakeReply,
  type FakeServer,
  startFakeModelServer,
} from "./helpers/fake-model-server.ts";
import { makeHome } from "./helpers/homes.ts";
import { moss, mossBin } from "./helpers/moss-cli.ts";
import { describeSandboxed } from "./helpers/sandbox-gate.ts";
import { makeWorkspace, mathProject } from "./helpers/workspaces.ts";

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const HANG: FakeReply = { hangMs: 120_000, body: anthropicMessage([{ type: "text", text: "late" }]) };
const giveUp: FakeReply = { body: anthropicMessage([{ type: "text", text: "I could not do it." }]) };
const submit = (name: string, input: unknown): FakeReply => ({
  body: anthropicMessage([{ type: "tool_use", name, input }]),
});
const diagnosis = submit("submit_diagnosis", {
  rootCause: "the agent gave up without editing",
  evidence: [{ file: "agent-src/loop.ts", line: 1, note: "stops early" }],
  confidence: "low",
});
const plan = submit("submit_plan", { summary: "add a test", steps: ["add it"], test: "the new test" });
const patchAdding = (file: string, content: string) =>
  submit("submit_patch", { rationale: `add ${file}`, edits: [], new_files: [{ path: file, content }] });

/** Processes whose command line contains `marker`, other than ps and moss itself (its flags hold the marker). */
function processesWith(marker: string): string[] {
  return execFileSync("ps", ["-eo", "pid,args"], { encoding: "utf8" })
    .split("\n")
    .filter((l) => l.includes(marker) && !l.includes("ps -eo") && !l.includes(mossBin));
}

async function until(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * Starts an evolving `moss run` in `home`, sends `signal` once `ready(pid)` holds, and returns
 * its exit code, its JSON output and the moss pid.
 */
async function interruptRun(opts: {
  home: string;
  extra?: string[];
  check?: string;
  ready: (pid: number) => boolean;
  signal?: NodeJS.Signals;
}): Promise<{ code: number | null; out: Record<string, unknown> | null; pid: number; stderr: string }> {
  const ws = makeWorkspace(mathProject);
  const args = [
    mossBin,
    "--home",
    opts.home,
    "run",
    "fix add",
    "-w",
    ws,
    "--check",
    opts.check ?? "node --test",
    "--depth",
    "shallow",
    "--yes",
    "--json",
    ...(opts.extra ?? []),
  ];
  let stderr = "";
  const child = execFile(process.execPath, args, {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ANTHROPIC_API_KEY: "sk-test",
      ANTHROPIC_BASE_URL: server!.url,
    },
  });
  let stdout = "";
  child.stdout?.on("data", (d) => (stdout += d));
  child.stderr?.on("data", (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const pid = child.pid!;
  await until("the stage to start", () => opts.ready(pid));
  child.kill(opts.signal ?? "SIGINT");
  const code = await exited;
  await new Promise((r) => setTimeout(r, 200)); // let stdout drain
  return { code, out: stdout.trim() ? JSON.parse(stdout) : null, pid, stderr };
}

function lastRecord(home: string): { verdict: string; reason: string } {
  const dir = path.join(home, "evolution-log");
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort();
  return JSON.parse(readFileSync(path.join(dir, files.at(-1)!), "utf8"));
}

describeSandboxed(
  "Ctrl-C and SIGTERM stop every child at any stage and leave an `interrupted` record",
  () => {
    // Each script: the failing run, the head's re-run (the failure reproduces), then the stage.
    it("during the diagnosis (a patcher model call in flight)", async () => {
      server = await startFakeModelServer([giveUp, giveUp, HANG]);
      const home = await makeHome();
      const r = await interruptRun({ home, ready: () => server!.requests.length >= 3 });
      expect(r.code, r.stderr).toBe(130);
      expect(lastRecord(home)).toMatchObject({ verdict: "interrupted" });
      expect(lastRecord(home).reason).toMatch(/interrupted \(SIGINT\) while diagnosing the failure/);
      expect((await moss(["--home", home, "log", "--verify"])).code).toBe(0);
    });

    it("during an external patcher (SIGTERM): the patcher process is gone", async () => {
      server = await startFakeModelServer([giveUp, giveUp]);
      const home = await makeHome();
      const marker = "314159";
      const r = await interruptRun({
        home,
        extra: ["--patcher-cmd", `sleep ${marker}`],
        ready: () => processesWith(`sleep ${marker}`).length > 0,
        signal: "SIGTERM",
      });
      expect(r.code, r.stderr).toBe(143);
      expect(processesWith(`sleep ${marker}`)).toEqual([]);
      expect(lastRecord(home)).toMatchObject({ verdict: "interrupted" });
      expect(lastRecord(home).reason).toMatch(/interrupted \(SIGTERM\) while proposing a patch/);
      expect((r.out as { evolution: { attempts: unknown[] } }).evolution.attempts).toEqual([
        expect.objectContaining({ verdict: "interrupted" }),
      ]);
      expect((await moss(["--home", home, "log", "--verify"])).code).toBe(0);
    });

    it("during the gate: its vitest and typecheck are gone, the candidate is not rejected", async () => {
      const hanging = 'import { it } from "vitest";\n\nit("waits", () => new Promise(() => {}));\n';
      server = await startFakeModelServer([
        giveUp,
        giveUp,
        diagnosis,
        plan,
        patchAdding("agent-src/test/wait.test.ts", hanging),
      ]);
      const home = await makeHome();
      let gatePid = 0;
      const r = await interruptRun({
        home,
        ready: (pid) => {
          gatePid = pid;
          // The gate's vitest (its JSON report), not an agent run in the head's worktree.
          return processesWith(`moss-wt-${pid}-`).some(
            (l) => l.includes("vitest") && l.includes("--outputFile="),
          );
        },
      });
      expect(r.code, r.stderr).toBe(130);
      expect(processesWith(`moss-wt-${gatePid}-`)).toEqual([]);
      expect(lastRecord(home)).toMatchObject({ verdict: "interrupted" });
      expect(lastRecord(home).reason).toMatch(/while checking scope and running the gate/);
      expect((await moss(["--home", home, "log", "--verify"])).code).toBe(0);
    });

    it("during the replay (the candidate's agent waiting on the model): never promoted", async () => {
      const fine = 'import { expect, it } from "vitest";\n\nit("adds", () => expect(1 + 1).toBe(2));\n';
      server = await startFakeModelServer([
        giveUp,
        giveUp,
        diagnosis,
        plan,
        patchAdding("agent-src/test/adds.test.ts", fine),
        HANG,
        HANG,
        HANG,
      ]);
      const home = await makeHome();
      const head = () => execFileSync("git", ["rev-parse", "main"], { cwd: home, encoding: "utf8" }).trim();
      const before = head();
      const r = await interruptRun({ home, ready: () => server!.requests.length >= 6 });
      expect(r.code, r.stderr).toBe(130);
      expect(head()).toBe(before);
      expect(lastRecord(home)).toMatchObject({ verdict: "interrupted" });
      expect((await moss(["--home", home, "log", "--verify"])).code).toBe(0);
    });

    it("during the run's check: the check's processes are gone", async () => {
      server = await startFakeModelServer([giveUp]);
      const home = await makeHome();
      const marker = "271828";
      const r = await interruptRun({
        home,
        check: `sleep ${marker}; node --test`,
        ready: () => processesWith(`sleep ${marker}`).length > 0,
      });
      expect(r.code, r.stderr).toBe(130);
      expect(processesWith(`sleep ${marker}`)).toEqual([]);
      expect(readdirSync(path.join(home, "evolution-log")).filter((f) => f.endsWith(".json"))).toEqual([]);
      expect((await moss(["--home", home, "log", "--verify"])).code).toBe(0);
    });
  },
);
