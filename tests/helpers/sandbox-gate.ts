import { describe, it } from "vitest";
import { sandboxAvailable } from "../../src/sandbox/sandbox.ts";

const probe = sandboxAvailable();
if (!probe.ok && process.env.MOSS_REQUIRE_SANDBOX === "1") {
  throw new Error(`MOSS_REQUIRE_SANDBOX=1, but no sandbox can start here: ${probe.reason}`);
}

/** Why the sandbox tests cannot run here, or null when they can. */
export const noSandbox: string | null = probe.ok ? null : probe.reason;

/** A skipped test's title that says it did not run, and why (also said once per file on stderr). */
export const notRun = (name: string) => {
  console.warn(`NOT RUN (no sandbox here: ${noSandbox}): ${name}`);
  return `${name} [NOT RUN: no sandbox here (${noSandbox}); CI runs it with MOSS_REQUIRE_SANDBOX=1]`;
};

/**
 * `describe` for tests that run agent code (or the check, or the gate) in the real sandbox. Where
 * none can start (a fresh machine without bubblewrap) the block is skipped and its title says so
 * and why; with MOSS_REQUIRE_SANDBOX=1 (CI) a missing sandbox fails instead.
 */
export function describeSandboxed(name: string, body: () => void): void {
  // Skipped only where no sandbox can start; the title says NOT RUN and why, and CI fails instead.
  if (noSandbox) describe.skip(notRun(name), body);
  else describe(name, body);
}

/** `it` for one test that needs the sandbox, in a block whose other tests do not. */
export function itSandboxed(name: string, fn: () => Promise<void> | void, timeout?: number): void {
  // Skipped only where no sandbox can start; the title says NOT RUN and why, and CI fails instead.
  if (noSandbox) it.skip(notRun(name), fn, timeout);
  else it(name, fn, timeout);
}
