import type { Config } from "../../config/config-schema.ts";
import type { GateResult, ScopeResult } from "../../log/evolution-record.ts";
import type { SandboxLimits } from "../../sandbox/limits.ts";
import { runGate } from "./gate.ts";
import { checkScope, type ScopeOptions } from "./scope-check.ts";

/** How every candidate is checked, whoever made it: built once from config, then passed along. */
export interface CandidatePolicy {
  scope: ScopeOptions;
  gateTimeoutMs: number;
  sandbox: SandboxLimits | null;
}

/**
 * The policy for a home's config; `taskFileNames` are the triggering workspace's specific names.
 * `consent.testChanges`: a person will see and decide on changes to existing tests (a consent
 * prompt, `moss apply`, a rollback they asked for); otherwise only `evolve.allowTestChanges`
 * (`--allow-test-changes`) lets such a candidate through.
 */
export function candidatePolicy(
  config: Config,
  sandbox: SandboxLimits | null,
  taskFileNames: string[] = [],
  consent: { testChanges?: boolean } = {},
): CandidatePolicy {
  return {
    scope: {
      allowPaths: config.evolve.allowPaths,
      maxPatchBytes: config.evolve.maxPatchBytes,
      taskFileNames,
      allowEscalation: config.evolve.allowEscalation,
      allowTestChanges: config.evolve.allowTestChanges || Boolean(consent.testChanges),
      reviewedByPerson: Boolean(consent.testChanges),
    },
    gateTimeoutMs: config.evolve.gateTimeoutMs,
    sandbox,
  };
}

export interface CandidateCheck {
  scope: ScopeResult;
  diff: string;
  /** Null when the scope check failed and the gate was not run. */
  gate: GateResult | null;
  /** Why the candidate failed, as one line for the record and the patcher's feedback; null if it passed. */
  failure: string | null;
}

/** Stages the worktree's changes, checks their scope, then gates them (only when the scope passes). */
export async function checkCandidate(dir: string, policy: CandidatePolicy): Promise<CandidateCheck> {
  const scoped = await checkScope(dir, policy.scope);
  if (!scoped.result.passed)
    return { scope: scoped.result, diff: scoped.diff, gate: null, failure: scopeFailure(scoped.result) };
  const gate = await runGate(dir, policy.gateTimeoutMs, policy.sandbox, {
    allowTestChanges: Boolean(policy.scope.allowTestChanges),
  });
  return { scope: scoped.result, diff: scoped.diff, gate, failure: gate.passed ? null : gateFailure(gate) };
}

export const scopeFailure = (scope: ScopeResult) => `scope: ${scope.violations.join("; ")}`;

/** The gate's failure with the failing tests and the typecheck output, for the patcher to act on. */
export function gateFailure(gate: GateResult): string {
  const failures = gate.tests
    .filter((x) => x.status === "failed")
    .map((x) => `${x.name}: ${x.message ?? ""}`);
  return `gate: ${gate.summary}${failures.length ? ` — ${failures.join(" | ")}` : ""}${gate.typecheck.passed ? "" : ` — ${gate.typecheck.output.slice(0, 800)}`}`;
}
