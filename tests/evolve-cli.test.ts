import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";
import { demoRunArgs, demoWorkspace, makeHome } from "./helpers/homes.ts";
import { moss } from "./helpers/moss-cli.ts";
import { describeSandboxed } from "./helpers/sandbox-gate.ts";

const head = (home: string) =>
  execFileSync("git", ["rev-parse", "main"], { cwd: home, encoding: "utf8" }).trim();

describeSandboxed("moss run evolves the agent when a run fails", () => {
  // The cycle re-runs the head once, then judges the candidate on 3 paired trials: 7 agent runs.
  it("with --yes: improves the agent, promotes it and retries the task, which then passes", async () => {
    const home = await makeHome({ planted: true });
    const ws = demoWorkspace();
    const before = head(home);
    const r = await moss(demoRunArgs(home, ws, "--yes"));
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ score: 0, passed: false });
    expect(out.evolution.attempts.map((a: { verdict: string }) => a.verdict)).toEqual([
      "rejected",
      "accepted",
    ]);
    expect(out.evolution.retry).toMatchObject({ score: 1, passed: true });
    expect(head(home)).toBe(out.evolution.accepted.commit);
    expect(execFileSync("git", ["rev-parse", "main~1"], { cwd: home, encoding: "utf8" }).trim()).toBe(before);
    expect(readFileSync(path.join(ws, "src/greeting.js"), "utf8")).toContain("Hello, $" + "{name}!");
    expect(readFileSync(path.join(home, "agent-src/tools/edit-file-tool.ts"), "utf8")).toContain(
      'raw.includes("\\r\\n")',
    );
    expect((await moss(["--home", home, "log", "--verify"])).code).toBe(0);
  }, 300_000);

  it("without a terminal or --yes: keeps the candidate pending; moss apply re-gates and promotes it", async () => {
    const home = await makeHome({ planted: true });
    const ws = demoWorkspace();
    const before = head(home);
    const r = await moss(demoRunArgs(home, ws));
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.evolution.pending).toMatch(/^ev-/);
    expect(out.evolution.retry).toBeNull();
    expect(head(home)).toBe(before);
    expect(readFileSync(path.join(ws, "src/greeting.js"), "utf8")).toContain('"Hi " + name');

    const applied = await moss(["--home", home, "apply", out.evolution.pending]);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    expect(applied.stdout).toMatch(/promoted ev-.*: new head [0-9a-f]{10}/);
    expect(head(home)).not.toBe(before);
    const subjects = execFileSync(
      "git",
      ["log", "--format=%(trailers:key=Moss-Applied-Candidate,valueonly)", "-1", "main"],
      { cwd: home, encoding: "utf8" },
    );
    expect(subjects.trim()).toBe(out.evolution.pending);
    const log = await moss(["--home", home, "log"]);
    expect(log.stdout).toMatch(/pending\s+evolution/);
    expect(log.stdout).toMatch(/accepted\s+apply/);
    expect((await moss(["--home", home, "log", "--verify"])).code).toBe(0);
    const again = await moss(["--home", home, "apply", out.evolution.pending]);
    expect(again.stderr).toMatch(/no pending candidate/);
  }, 300_000);

  it("refuses to evolve a home whose agent-src has uncommitted changes", async () => {
    const home = await makeHome({ planted: true });
    writeFileSync(path.join(home, "agent-src/prompts/system.md"), "local edit\n");
    const r = await moss(demoRunArgs(home, demoWorkspace(), "--yes"));
    expect(r.stderr).toMatch(/agent-src in .* has uncommitted changes; commit or stash them first/);
    expect(readFileSync(path.join(home, "agent-src/prompts/system.md"), "utf8")).toBe("local edit\n");
  });
});
