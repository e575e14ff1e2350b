import { describe } from "vitest";
import { sandboxAvailable } from "../../src/sandbox/sandbox.ts";

const probe = sandboxAvailable();
const required = process.env.MOSS_REQUIRE_SANDBOX === "1";
if (!probe.ok && required) {
  throw new Error(`MOSS_REQUIRE_SANDBOX=1, but no sandbox can start here: ${probe.reason}`);
}

/** Why the sandbox tests cannot run here, or null when they can. */
export const noSandbox: string | null = probe.ok ? null : probe.reason;

/**
 * `describe` for tests that run agent code in the real sandbox. Where none can start (a fresh
 * machine without bubblewrap), the block is skipped and its title says so and why; with
 * MOSS_REQUIRE_SANDBOX=1 (CI) the missing sandbox fails the file instead.
 */
export function describeSandboxed(name: string, body: () => void): void {
  if (noSandbox) {
    describe.skip(
      `${name} [NOT RUN: no sandbox here (${noSandbox}); CI runs it with MOSS_REQUIRE_SANDBOX=1]`,
      body,
    );
  } else {
    describe(name, body);
  }
}
