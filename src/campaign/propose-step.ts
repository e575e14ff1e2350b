import { loadPlan, readResults } from "../eval/eval-store.ts";
import { candidatePolicy, checkCandidate } from "../evolve/check/candidate-policy.ts";
import { taskFileNames } from "../evolve/check/task-file-names.ts";
import { agentSourceListing } from "../evolve/propose/evidence.ts";
import { diagnose, formatDiagnosis } from "../evolve/propose/patcher.ts";
import { DEPTHS } from "../evolve/propose/patcher-schemas.ts";
import { proposeCandidate } from "../evolve/propose/propose-candidate.ts";
import { meterUsage } from "../evolve/usage-meter.ts";
import { commitIn } from "../git/ratchet.ts";
import { createWorktree, type Worktree } from "../git/worktree.ts";
import { newEvolutionId } from "../log/evolution-log.ts";
import type { CampaignContext } from "./campaign-context.ts";
import type { Generation } from "./campaign-state.ts";
import { batchEvidence } from "./failure-batch.ts";

/**
 * propose -> check: one candidate from the generation's failure batch (the existing patcher
 * stages: diagnosis, plan, review, patch, or an external patcher CLI), then scope and gate. A
 * candidate that passes is committed (unreferenced, on top of the head) so the cascade can run it
 * from a worktree, and a resumed campaign finds it again. One that fails is logged as rejected.
 * `feedback` holds why earlier candidates of this head were rejected.
 */
export async function proposeStep(ctx: CampaignContext, gen: Generation, feedback: string[]): Promise<void> {
  const { home, state, config, models } = ctx;
  const plan = loadPlan(home, gen.evalId);
  const evidence = batchEvidence(home, plan, readResults(home, gen.evalId), gen.batch);
  const names = plan.tasks
    .filter((t) => gen.batch.includes(t.id))
    .flatMap((t) => taskFileNames(t.workspaceDir));
  const policy = candidatePolicy(config, ctx.sandbox, [...new Set(names)]);
  const meter = meterUsage(models);
  const t0 = Date.now();
  let wt: Worktree | undefined;
  let diagnosis: string | null = null;
  let planText: string | null = null;
  try {
    const source = agentSourceListing(home);
    const found = state.patcherCmd ? null : await diagnose(models.for("patcher"), evidence, source);
    diagnosis = found ? formatDiagnosis(found) : null;
    if (found) ctx.say(`generation ${gen.n}: diagnosis: ${found.rootCause}`);
    wt = await createWorktree(home, gen.headCommit);
    const proposal = await proposeCandidate({
      dir: wt.dir,
      evidence,
      source,
      diagnosis: found,
      feedback,
      reviewRounds: DEPTHS[state.depth].reviewRounds,
      allowPaths: config.evolve.allowPaths,
      models,
      ...(state.patcherCmd ? { patcherCmd: state.patcherCmd } : {}),
      timeoutMs: config.evolve.gateTimeoutMs,
      onPlan: (p) => {
        planText = p;
      },
    });
    planText = proposal.plan;
    ctx.say(`generation ${gen.n}: scope and gate (typecheck + the agent's tests)…`);
    const checked = await checkCandidate(wt.dir, policy);
    const usage = meter();
    state.patcherCostUsd += usage.costUsd;
    if (checked.failure) {
      ctx.say(`generation ${gen.n}: rejected: ${checked.failure}`);
      await ctx.logAttempt(gen, {
        verdict: "rejected",
        reason: checked.failure,
        rationale: proposal.rationale,
        diagnosis,
        plan: planText,
        diff: checked.diff,
        scope: checked.scope,
        gate: checked.gate,
        ...usage,
        timings: { totalMs: Date.now() - t0 },
      });
      return;
    }
    const commit = await commitIn(
      wt.dir,
      ["agent-src"],
      `moss candidate: campaign ${state.campaignId}, generation ${gen.n}`,
    );
    gen.candidate = {
      evolutionId: newEvolutionId(),
      commit,
      diff: checked.diff,
      rationale: proposal.rationale,
      plan: planText,
      diagnosis,
      scope: checked.scope,
      gate: checked.gate,
      cascadeEvalId: null,
    };
    gen.phase = "judge";
    ctx.save();
  } catch (err) {
    const usage = meter();
    state.patcherCostUsd += usage.costUsd;
    const reason = (err as Error).message;
    ctx.say(`generation ${gen.n}: rejected: ${reason}`);
    await ctx.logAttempt(gen, { verdict: "rejected", reason, diagnosis, plan: planText, ...usage });
  } finally {
    await wt?.remove();
  }
}
