import { execFileSync } from "node:child_process";
import { symlinkSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCheck } from "../src/evaluate/check-command.ts";
import { scoreAttempt } from "../src/evaluate/score.ts";
import { parseTestCounts } from "../src/evaluate/test-counts.ts";
import { makeWorkspace, mathProject, repoRoot } from "./helpers/workspaces.ts";

describe("test output parsing", () => {
  it("reads real node:test output", async () => {
    const ws = makeWorkspace({
      ...mathProject,
      "test/more.test.js":
        'import { test } from "node:test";\ntest("ok1", () => {});\ntest("ok2", () => {});\n',
    });
    const result = await runCheck("node --test", ws, 30_000);
    expect(result.exitCode).toBe(1);
    expect(result.counts).toEqual({ framework: "node:test", passed: 2, failed: 1 });
  });

  it("reads real vitest output", () => {
    const ws = makeWorkspace({
      "a.test.js":
        'import { test, expect } from "vitest";\ntest("a", () => expect(1).toBe(1));\ntest("b", () => expect(1).toBe(2));\n',
    });
    symlinkSync(path.join(repoRoot, "node_modules"), path.join(ws, "node_modules"));
    let out = "";
    try {
      execFileSync(
        process.execPath,
        [path.join(repoRoot, "node_modules/vitest/vitest.mjs"), "run", "--root", ws],
        { encoding: "utf8", stdio: "pipe" },
      );
    } catch (err) {
      out = String((err as { stdout: string }).stdout);
    }
    expect(parseTestCounts(out)).toEqual({ framework: "vitest", passed: 1, failed: 1 });
  });

  it.each([
    [
      "jest",
      "Tests:       1 failed, 4 passed, 5 total\nTime: 1s",
      { framework: "jest", passed: 4, failed: 1 },
    ],
    ["pytest", "==== 2 failed, 3 passed in 0.12s ====", { framework: "pytest", passed: 3, failed: 2 }],
    [
      "pytest all green",
      "============ 7 passed in 1.02s ============",
      { framework: "pytest", passed: 7, failed: 0 },
    ],
    [
      "go test",
      "=== RUN   TestA\n--- PASS: TestA (0.00s)\n=== RUN   TestB\n--- FAIL: TestB (0.00s)\nFAIL",
      { framework: "go", passed: 1, failed: 1 },
    ],
    ["mocha", "  3 passing (12ms)\n  1 failing\n", { framework: "mocha", passed: 3, failed: 1 }],
    [
      "vitest all green",
      " Test Files  2 passed (2)\n      Tests  9 passed (9)\n",
      { framework: "vitest", passed: 9, failed: 0 },
    ],
  ])("reads %s summaries", (_name, output, expected) => {
    expect(parseTestCounts(output)).toEqual(expected);
  });

  it("returns null for output from no known runner", () => {
    expect(parseTestCounts("all good\n")).toBeNull();
  });
});

describe("scoring", () => {
  const check = (exitCode: number, counts: { passed: number; failed: number } | null) => ({
    command: "t",
    exitCode,
    timedOut: false,
    output: "",
    counts: counts ? { framework: "jest" as const, ...counts } : null,
    ms: 1,
  });
  it("scores test counts as a fraction", () => {
    expect(
      scoreAttempt({ check: check(1, { passed: 3, failed: 1 }), exitReason: "completed", threshold: 1 }),
    ).toMatchObject({
      score: 0.75,
      passed: false,
    });
  });
  it("falls back to the exit code", () => {
    expect(scoreAttempt({ check: check(0, null), exitReason: "completed", threshold: 1 }).passed).toBe(true);
    expect(scoreAttempt({ check: check(2, null), exitReason: "completed", threshold: 1 }).score).toBe(0);
  });
  it("never passes a check that exited non-zero, whatever its counts say", () => {
    const s = scoreAttempt({
      check: check(1, { passed: 7, failed: 0 }),
      exitReason: "completed",
      threshold: 0.5,
    });
    expect(s).toMatchObject({ score: 0.875, passed: false });
    const fails = scoreAttempt({
      check: check(1, { passed: 3, failed: 1 }),
      exitReason: "completed",
      threshold: 0.5,
    });
    expect(fails).toMatchObject({ score: 0.75, passed: false });
    expect(
      scoreAttempt({ check: check(0, { passed: 7, failed: 0 }), exitReason: "completed", threshold: 1 })
        .passed,
    ).toBe(true);
  });
  it("caps the score of a run that ran out of turns or crashed", () => {
    const turns = scoreAttempt({ check: check(0, null), exitReason: "max_turns", threshold: 0.5 });
    expect(turns).toMatchObject({ score: 0.5, cap: { limit: 0.5, reason: "max_turns" } });
    expect(scoreAttempt({ check: check(0, null), exitReason: "agent_crash", threshold: 0.5 }).score).toBe(0);
  });
  it("averages the check with the judge's verdict", () => {
    const s = scoreAttempt({
      check: check(0, null),
      verdict: { score: 0.5, rationale: "half the rubric" },
      exitReason: "completed",
      threshold: 0.8,
    });
    expect(s).toMatchObject({ score: 0.75, passed: false });
    expect(s.rationale.join(" ")).toContain("half the rubric");
  });
});
