import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { makeTempDir } from "../../git/temp-dirs.ts";
import type { GateResult, TestResult } from "../../log/evolution-record.ts";
import { faultPoint } from "../../log/fault-point.ts";
import type { SandboxLimits } from "../../sandbox/limits.ts";
import { runSandboxed } from "../../sandbox/run-sandboxed.ts";
import { makeReadableForSandbox } from "../../sandbox/sandbox.ts";
import { normalize } from "../propose/evidence.ts";
import { buildGateTree } from "./gate-tree.ts";

/**
 * The gate, structural: typecheck and the agent's vitest tests run on a fresh worktree of the
 * candidate's staged tree (exactly what would be committed), with the head's tests, snapshots
 * and test/type configuration put back unchanged; the candidate's new tests run too. When the
 * user allows test changes (`allowTestChanges`), the candidate's own versions decide and the
 * head's are run as well, for the user to see (`headTests`). Stages everything in `dir` first
 * (what a commit would take). Passes only when the typecheck is clean and every test passes.
 */
export async function runGate(
  dir: string,
  timeoutMs: number,
  sandbox: SandboxLimits | null = null,
  opts: { allowTestChanges?: boolean } = {},
): Promise<GateResult> {
  const t0 = Date.now();
  const tree = await buildGateTree(dir);
  try {
    if (tree.protected.changes.length === 0) return await runGateIn(tree.dir, timeoutMs, sandbox);
    if (!opts.allowTestChanges) {
      await tree.useHeadFiles();
      const r = await runGateIn(tree.dir, timeoutMs, sandbox);
      return { ...r, summary: `with the head's tests and configs: ${r.summary}`, ms: Date.now() - t0 };
    }
    const own = await runGateIn(tree.dir, timeoutMs, sandbox);
    await tree.useHeadFiles();
    const head = await runGateIn(tree.dir, timeoutMs, sandbox);
    return { ...own, headTests: { passed: head.passed, summary: head.summary }, ms: Date.now() - t0 };
  } finally {
    await tree.remove();
  }
}

/** Which files vitest collects in the gate: the same rule the scope check calls a test file. */
const GATE_VITEST_CONFIG = `export default { test: { include: ["agent-src/**/*.test.ts"], testTimeout: 60000, hookTimeout: 60000, isolate: true } };\n`;

/** Typecheck and tests in `dir` as it is on disk. */
async function runGateIn(dir: string, timeoutMs: number, sandbox: SandboxLimits | null): Promise<GateResult> {
  const t0 = Date.now();
  const tsc = path.join(dir, "node_modules", "typescript", "bin", "tsc");
  const vitest = path.join(dir, "node_modules", "vitest", "vitest.mjs");
  // The report folder is handed to the sandbox's uid; its parent stays ours, so a later start
  // can clean it up after a crash (stale temp folders of another uid are left alone).
  const base = makeTempDir("gate");
  const out = path.join(base, "out");
  mkdirSync(out);
  const report = path.join(out, "report.json");
  const vitestConfig = path.join(out, "vitest.gate.config.mjs");
  writeFileSync(vitestConfig, GATE_VITEST_CONFIG);
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
        "--config",
        vitestConfig,
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
    rmSync(base, { recursive: true, force: true });
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
