import { execFile, execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, it } from "vitest";
import { runGate } from "../src/evolve/check/gate.ts";
import { createWorktree } from "../src/git/worktree.ts";
import { demoRunArgs, demoWorkspace, makeHome } from "./helpers/homes.ts";
import { moss, mossBin } from "./helpers/moss-cli.ts";
import { describeSandboxed } from "./helpers/sandbox-gate.ts";

const sh = (cwd: string, ...args: string[]) => execFileSync("git", args, { cwd, encoding: "utf8" }).trim();

/** Runs an evolving `moss run` that SIGKILLs itself at `fault`; resolves with its pid and signal. */
function runUntilKilled(home: string, fault: string): Promise<{ pid: number; signal: string | null }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [mossBin, ...demoRunArgs(home, demoWorkspace(), "--yes")], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, MOSS_FAULT: fault },
    });
    child.on("exit", (_code, signal) => resolve({ pid: child.pid!, signal }));
  });
}

// Each fault point is a step of evolution, gating, logging or promotion where a power cut can land.
const FAULTS = [
  "write:evolution-log",
  "gate:tested",
  "promote:start",
  "promote:committed",
  "promote:ref-moved",
];

describeSandboxed("killed with SIGKILL at each step, moss leaves the home old or new, never between", () => {
  it.each(FAULTS)(
    "at %s",
    async (fault) => {
      const home = await makeHome({ planted: true });
      const before = sh(home, "rev-parse", "main");
      const { pid, signal } = await runUntilKilled(home, fault);
      expect(signal).toBe("SIGKILL");

      const after = sh(home, "rev-parse", "main");
      if (after !== before) {
        expect(sh(home, "rev-parse", "main~1")).toBe(before);
        expect(sh(home, "log", "-1", "--format=%(trailers:key=Moss-Evolution-Id,valueonly)", "main")).toMatch(
          /^ev-/,
        );
      }
      expect(fault === "promote:ref-moved" ? after !== before : after === before).toBe(true);

      // The next start recovers: the log verifies, no stale worktree or temp folder is left.
      const verify = await moss(["--home", home, "log", "--verify"]);
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);
      expect(sh(home, "worktree", "list").split("\n")).toHaveLength(1);
      expect(readdirSync(os.tmpdir()).filter((n) => n.includes(`-${pid}-`) && n.startsWith("moss-"))).toEqual(
        [],
      );
      expect(readdirSync(path.join(home, "evolution-log")).filter((f) => f.endsWith(".tmp"))).toEqual([]);
      expect(sh(home, "status", "--porcelain", "--untracked-files=no")).toBe("");

      // The agent's tests pass at the head.
      const wt = await createWorktree(home, "main");
      try {
        const gate = await runGate(wt.dir, 120_000);
        expect(gate.passed, gate.summary).toBe(true);
      } finally {
        await wt.remove();
      }
    },
    240_000,
  );
});
