import { existsSync, readFileSync, realpathSync, rmSync } from "node:fs";
import path from "node:path";
import { makeTempDir } from "../../git/temp-dirs.ts";
import type { GateResult, TestResult } from "../../log/evolution-record.ts";
import { faultPoint } from "../../log/fault-point.ts";
import type { SandboxLimits } from "../../sandbox/limits.ts";
import { runSandboxed } from "../../sandbox/run-sandboxed.ts";
import { makeReadableForSandbox } from "../../sandbox/sandbox.ts";
import { normalize } from "../propose/evidence.ts";

/**
 * The gate: typecheck agent-src and run the agent's vitest tests in `dir` (a worktree with
 * node_modules linked). Passes only when the typecheck is clean and every test passes.
 */
export async function runGate(
  dir: string,
  timeoutMs: number,
  sandbox: SandboxLimits | null = null,
): Promise<GateResult> {
  const t0 = Date.now();
  const tsc = path.join(dir, "node_modules", "typescript", "bin", "tsc");
  const vitest = path.join(dir, "node_modules", "vitest", "vitest.mjs");
  const out = makeTempDir("gate");
  const report = path.join(out, "report.json");
  // In the sandbox the worktree is read-only and only the report folder is writable.
  if (sandbox) makeReadableForSandbox(dir);
  const run = (args: string[]) =>
    runSandboxed(
      {
        command: process.execPath,
        args,
        cwd: dir,
        env: { kind: "gate" },
        readOnly: [dir, realpathSync(path.join(dir, "node_modules"))],
        writable: [out],
        limits: sandbox,
      },
      { timeoutMs, maxOutputChars: 100_000 },
    );
  try {
    // Typecheck and tests run side by side; the verdict needs both.
    const [typecheck, vt] = await Promise.all([
      run([tsc, "-p", "agent-src/tsconfig.json", "--noEmit"]),
      run([
        vitest,
        "run",
        "agent-src",
        "--root",
        dir,
        "--configLoader=runner",
        "--pool=threads",
        "--reporter=json",
        `--outputFile=${report}`,
      ]),
    ]);
    faultPoint("gate:tested");
    const typecheckResult = {
      passed: typecheck.code === 0,
      output: normalize(typecheck.output).slice(-4000),
    };
    const tests = existsSync(report) ? readReport(report, dir) : [];
    const failed = tests.filter((t) => t.status === "failed");
    const passedCount = tests.filter((t) => t.status === "passed").length;
    const passed = typecheckResult.passed && vt.code === 0 && tests.length > 0 && failed.length === 0;
    const testSummary = vt.killedBecause
      ? `sandbox: the tests ${vt.killedBecause} and were killed`
      : vt.timedOut
        ? `the agent's tests ran past ${timeoutMs} ms`
        : tests.length === 0
          ? `no test results (vitest exited ${vt.code}): ${normalize(vt.output).slice(-600)}`
          : `${passedCount} passed, ${failed.length} failed${failed.length ? `: ${failed.map((f) => f.name).join("; ")}` : ""}`;
    const summary = typecheckResult.passed ? testSummary : `typecheck failed; tests: ${testSummary}`;
    return { passed, typecheck: typecheckResult, tests, summary, ms: Date.now() - t0 };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

interface VitestJson {
  testResults: Array<{
    name: string;
    assertionResults: Array<{ fullName: string; status: string; failureMessages?: string[] }>;
  }>;
}

function readReport(file: string, dir: string): TestResult[] {
  const json = JSON.parse(readFileSync(file, "utf8")) as VitestJson;
  return json.testResults.flatMap((suite) =>
    suite.assertionResults.map((a) => {
      const status = (
        ["passed", "failed", "skipped", "todo"].includes(a.status) ? a.status : "skipped"
      ) as TestResult["status"];
      const message = a.failureMessages?.[0]?.split("\n")[0];
      return {
        name: a.fullName,
        file: path.relative(dir, suite.name),
        status: a.status === "pending" ? "skipped" : status,
        ...(message ? { message: normalize(message).slice(0, 500) } : {}),
      };
    }),
  );
}
