import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { moss } from "./helpers/moss-cli.ts";
import { itSandboxed } from "./helpers/sandbox-gate.ts";

// One real demo run (real git, worktrees, vitest; replayed model) shared by the checks below.
let dir: string;
let home: string;
let summary: Record<string, unknown>;
let output: string;

beforeAll(async () => {
  dir = path.join(mkdtempSync(path.join(os.tmpdir(), "moss-demo-test-")), "demo");
  const r = await moss(["demo", "--dir", dir, "--json"]);
  output = r.stderr;
  expect(r.code, r.stderr).toBe(0);
  summary = JSON.parse(r.stdout);
  home = path.join(dir, "home");
}, 180_000);

const gitLog = () =>
  execFileSync("git", ["log", "--format=%s", "main"], { cwd: home, encoding: "utf8" }).trim().split("\n");

describe("moss demo", () => {
  it("runs the whole cycle: fail, a rejected patch, an accepted patch, a passing retry, a rollback", () => {
    expect(summary).toMatchObject({ before: 0, after: 1, rejected: 1, verified: true });
    expect(output).toMatch(
      /attempt 1 rejected: gate: \d+ passed, 1 failed: edit_file matches LF text in a CRLF file/,
    );
    expect(output).toMatch(/attempt 2 accepted: new head [0-9a-f]{10}/);
    expect(output).toMatch(/PASS score 1; applied to the workspace: true/);
    expect(readFileSync(path.join(dir, "workspace/src/greeting.js"), "utf8")).toContain(
      "`Hello, $" + "{name}!`",
    );
  });

  it("keeps a linear history: init, plant, the accepted patch, the rollback", () => {
    expect(gitLog()).toEqual([
      expect.stringMatching(/^moss: roll agent-src back to [0-9a-f]{10}$/),
      expect.stringMatching(/^moss: edit_file: match on LF-normalized text/),
      "demo: plant a weakness (edit_file ignores CRLF line endings)",
      "moss init: a pristine agent home",
    ]);
    const merges = execFileSync("git", ["rev-list", "--merges", "main"], { cwd: home, encoding: "utf8" });
    expect(merges).toBe("");
    const trailers = execFileSync("git", ["log", "-1", "--format=%(trailers)", "main~1"], {
      cwd: home,
      encoding: "utf8",
    });
    expect(trailers).toMatch(/Moss-Evolution-Id: ev-/);
    // The judgement: the head failed all 3 paired trials, the candidate passed all 3 (D = 3 >= 3).
    expect(trailers).toMatch(/Moss-Judgement: head 0\/3 candidate 3\/3 \(D=3 >= 3\)/);
    expect(trailers).toMatch(/Moss-Agent-Runs: 7/);
  });

  it("leaves no worktree or stray file behind", () => {
    const worktrees = execFileSync("git", ["worktree", "list"], { cwd: home, encoding: "utf8" })
      .trim()
      .split("\n");
    expect(worktrees).toHaveLength(1);
    expect(execFileSync("git", ["status", "--porcelain"], { cwd: home, encoding: "utf8" })).toBe("");
  });

  it("moss log lists every attempt and shows one with its diff", async () => {
    const list = await moss(["--home", home, "log"]);
    expect(list.code).toBe(0);
    const lines = list.stdout.trim().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/rejected\s+evolution/);
    expect(lines[1]).toMatch(/accepted\s+evolution\s+h 0\/3 c 3\/3/);
    expect(lines[2]).toMatch(/accepted\s+rollback/);
    const id = lines[1]!.trim().split(/\s+/)[1]!;
    const one = await moss(["--home", home, "log", id, "--diff"]);
    expect(one.stdout).toContain("Diagnosis");
    expect(one.stdout).toContain("Gate: passed");
    // The judgement table: the head re-run first, then 3 pairs on the failing task, decided at D = 3.
    expect(one.stdout).toContain("decision accept; 7 agent run(s); head re-run on the failing task first: ✗");
    expect(one.stdout).toMatch(/target\s+> 0\s+✗✗✗ 0\/3\s+✓✓✓ 3\/3\s+3\s+D=3\s+>=3 \/ <=-1\s+better/);
    expect(one.stdout).toContain("+++ b/agent-src/tools/edit-file-tool.ts");
    expect(one.stdout).toContain("agent-src/test/edit-line-endings.test.ts");
    const rejected = await moss(["--home", home, "log", lines[0]!.trim().split(/\s+/)[1]!]);
    expect(rejected.stdout).toMatch(/✗ edit_file matches LF text in a CRLF file .*: AssertionError/);
  });

  it("moss log --verify passes, and catches an edited record", async () => {
    expect((await moss(["--home", home, "log", "--verify"])).code).toBe(0);
    const logDir = path.join(home, "evolution-log");
    const first = readdirSync(logDir)
      .filter((f) => f.endsWith(".json"))
      .sort()[0]!;
    const file = path.join(logDir, first);
    const original = readFileSync(file, "utf8");
    writeFileSync(file, original.replace('"verdict": "rejected"', '"verdict": "declined"'));
    const tampered = await moss(["--home", home, "log", "--verify"]);
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toMatch(/000001-.*prevHash does not match/);
    writeFileSync(file, original);
  });

  itSandboxed("refuses rollbacks to unknown, rejected or never-good states", async () => {
    const unknown = await moss(["--home", home, "rollback", "deadbeef"]);
    expect(unknown).toMatchObject({ code: 2, stderr: expect.stringMatching(/unknown revision "deadbeef"/) });
    const list = (await moss(["--home", home, "log"])).stdout.trim().split("\n");
    const rejectedId = list[0]!.trim().split(/\s+/)[1]!;
    const rejected = await moss(["--home", home, "rollback", rejectedId]);
    expect(rejected).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/was rejected, so it is not a known-good state/),
    });
    const head = await moss(["--home", home, "rollback", "HEAD"]);
    expect(head.stderr).toMatch(/same as the head: nothing to roll back/);
  });
});

describe("moss init", () => {
  it("creates a home whose agent passes its own gate, and refuses a non-empty folder", async () => {
    const target = path.join(mkdtempSync(path.join(os.tmpdir(), "moss-init-")), "home");
    const r = await moss(["init", target]);
    expect(r.code).toBe(0);
    expect(readdirSync(target).sort()).toEqual(
      [
        ".git",
        ".gitignore",
        "agent-src",
        "evolution-log",
        "node_modules",
        "package.json",
        "src",
        "tsconfig.base.json",
        "vitest.config.ts",
      ].sort(),
    );
    expect(execFileSync("git", ["status", "--porcelain"], { cwd: target, encoding: "utf8" })).toBe("");
    const again = await moss(["init", target]);
    expect(again).toMatchObject({ code: 2, stderr: expect.stringMatching(/exists and is not empty/) });
    const log = await moss(["--home", target, "log"]);
    expect(log.stdout).toContain("no evolution attempts yet");
  });
});
