export interface TestCounts {
  framework: "vitest" | "jest" | "node:test" | "pytest" | "go" | "mocha";
  passed: number;
  failed: number;
}

const num = (s: string | undefined) => (s ? Number(s) : 0);

/**
 * Reads pass/fail counts from a test runner's summary. Returns null when the output is from no
 * runner it knows, so the caller falls back to the exit code.
 */
export function parseTestCounts(rawOutput: string): TestCounts | null {
  const out = rawOutput.replace(/\x1b\[[0-9;]*m/g, "");
  let m = out.match(/^\s*Tests\s+(?:(\d+) failed)?(?:\s*\|\s*)?(?:(\d+) passed)?.*\((\d+)\)\s*$/m);
  if (m && (m[1] || m[2])) return { framework: "vitest", passed: num(m[2]), failed: num(m[1]) };
  m = out.match(
    /^Tests:\s+(?:(\d+) failed, )?(?:\d+ skipped, )?(?:(\d+) passed, )?(?:\d+ skipped, )?\d+ total/m,
  );
  if (m) return { framework: "jest", passed: num(m[2]), failed: num(m[1]) };
  const nodePass = out.match(/^(?:# |ℹ )pass (\d+)$/m);
  const nodeFail = out.match(/^(?:# |ℹ )fail (\d+)$/m);
  if (nodePass && nodeFail)
    return { framework: "node:test", passed: num(nodePass[1]), failed: num(nodeFail[1]) };
  m = out.match(/^=+ (.*\b(?:passed|failed|error|errors)\b.*) in [\d.]+s.*=+$/m);
  if (m?.[1]) {
    const part = (word: string) => num(m![1]!.match(new RegExp(`(\\d+) ${word}`))?.[1]);
    return { framework: "pytest", passed: part("passed"), failed: part("failed") + part("errors?") };
  }
  const goPass = out.match(/^\s*--- PASS:/gm)?.length ?? 0;
  const goFail = out.match(/^\s*--- FAIL:/gm)?.length ?? 0;
  if (goPass + goFail > 0) return { framework: "go", passed: goPass, failed: goFail };
  const mochaPass = out.match(/^\s+(\d+) passing \(/m);
  if (mochaPass) {
    return {
      framework: "mocha",
      passed: num(mochaPass[1]),
      failed: num(out.match(/^\s+(\d+) failing$/m)?.[1]),
    };
  }
  return null;
}
