import type { ModelRegistry } from "../../models/model-registry.ts";
import { applyEdits } from "./apply-edits.ts";
import { type ExternalPatcherSetup, runExternalPatcher } from "./external-patcher.ts";
import { patch as askPatch, plan as askPlan, formatPlan, rejections, review } from "./patcher.ts";
import type { Diagnosis, Plan } from "./patcher-schemas.ts";

export interface ProposeInput {
  /** The candidate worktree the patch is written into. */
  dir: string;
  evidence: string;
  source: string;
  /** Null when an external patcher CLI makes the patch (it diagnoses for itself). */
  diagnosis: Diagnosis | null;
  /** Reasons earlier attempts of this cycle were rejected. */
  feedback: string[];
  reviewRounds: number;
  allowPaths: string[];
  models: ModelRegistry;
  patcherCmd?: string;
  /** With patcherCmd: how the CLI is confined (see runExternalPatcher). */
  external?: ExternalPatcherSetup;
  timeoutMs: number;
  /** Told the reviewed plan as soon as there is one, so a failed patch step still records it. */
  onPlan?: (plan: string) => void;
}

export interface Proposal {
  plan: string | null;
  rationale: string;
  timings: Record<string, number>;
}

/**
 * Writes one candidate patch into `dir`: plan, review and structured edits from the patcher
 * model, or the external patcher CLI run in the worktree. Throws an Error saying which step
 * failed (the cycle records it as the attempt's rejection).
 */
export async function proposeCandidate(input: ProposeInput): Promise<Proposal> {
  const t0 = Date.now();
  if (!input.diagnosis) {
    const ext = await runExternalPatcher(
      input.dir,
      input.patcherCmd!,
      externalPrompt(input.evidence, input.feedback),
      input.timeoutMs,
      input.external ?? missingSetup(),
    );
    if (ext.timedOut) throw new Error("the external patcher ran past its time limit");
    if (ext.killedBecause)
      throw new Error(`sandbox: the external patcher ${ext.killedBecause} and was killed`);
    const tail = ext.output.trim().split("\n").slice(-5).join(" ").slice(0, 500);
    return {
      plan: null,
      rationale: `external patcher (${input.patcherCmd}) exited ${ext.code}: ${tail}`,
      timings: { patchMs: Date.now() - t0 },
    };
  }
  const patcher = input.models.for("patcher");
  const { evidence, diagnosis, feedback } = input;
  let thePlan: Plan = await askPlan(patcher, evidence, diagnosis, feedback);
  for (let round = 0; round < input.reviewRounds; round++) {
    const verdict = await review(patcher, evidence, diagnosis, thePlan);
    if (verdict.approved) break;
    if (round === input.reviewRounds - 1)
      throw new Error(`plan review rejected the plan: ${verdict.concerns.join("; ")}`);
    thePlan = await askPlan(patcher, evidence, diagnosis, [...feedback, ...verdict.concerns]);
  }
  const planMs = Date.now() - t0;
  input.onPlan?.(formatPlan(thePlan));
  const p = await askPatch(patcher, input.source, diagnosis, thePlan, feedback);
  applyEdits(input.dir, p, input.allowPaths);
  return {
    plan: formatPlan(thePlan),
    rationale: p.rationale,
    timings: { planMs, patchMs: Date.now() - t0 - planMs },
  };
}

/** What an external patcher CLI reads: the evidence, earlier rejections, and its instructions. */
export function externalPrompt(evidence: string, feedback: string[]): string {
  const earlier = feedback.length ? `${rejections(feedback)}\n\n` : "";
  return `${evidence}\n\n${earlier}Fix the weakness in agent-src/ that made the agent fail. Change only files under agent-src/ and add a test.`;
}

function missingSetup(): never {
  throw new Error("the external patcher needs its setup (home, sandbox, env, network); none was given");
}
