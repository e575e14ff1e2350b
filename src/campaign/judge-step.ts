import { planFor } from "../eval/eval-plan.ts";
import { loadPlan, savePlan } from "../eval/eval-store.ts";
import { candidatePolicy } from "../evolve/check/candidate-policy.ts";
import { IMPROVEMENT, NON_INFERIORITY, type SequentialRule } from "../evolve/judge/sequential-rule.ts";
import { savePending } from "../evolve/land/candidates.ts";
import { promoteCandidate } from "../evolve/land/promote.ts";
import { recordDraft } from "../evolve/land/record-draft.ts";
import { modelsTrailer } from "../evolve/land/trailers.ts";
import { headBranch } from "../git/ratchet.ts";
import { git } from "../git/repo.ts";
import { createWorktree } from "../git/worktree.ts";
import { findRecord } from "../log/evolution-log.ts";
import type { EvolutionRecord } from "../log/evolution-record.ts";
import { batchLabel, type CampaignContext } from "./campaign-context.ts";
import type { Generation } from "./campaign-state.ts";
import { runStage, type StageOutcome } from "./cascade.ts";

type ScoreChange = NonNullable<EvolutionRecord["replay"]>;

const roundsFor = (rule: SequentialRule, tasks: number) => Math.ceil(rule.maxPairs / Math.max(1, tasks)) + 2;
const rate = (o: StageOutcome, side: "head" | "candidate") =>
  o.counts.pairs ? o.counts[side] / o.counts.pairs : 0;
const show = (o: StageOutcome) =>
  `head ${o.counts.head}/${o.counts.pairs}, candidate ${o.counts.candidate}/${o.counts.pairs}`;

/**
 * judge -> land: the evaluation cascade, head vs candidate paired on the same trials. First the
 * batch's failing tasks (is the candidate better? stops as soon as it is hopeless), then the other
 * train tasks (is it no worse?); holdout tasks never judge a candidate (they measure the head
 * each generation). A candidate that clears both lands by the ratchet's compare-and-swap (with
 * --yes), else waits as pending. Resumable: the cascade's eval keeps its results, and a record
 * already in the log for this candidate is not written twice.
 */
export async function judgeStep(ctx: CampaignContext, gen: Generation): Promise<void> {
  const { home, state, config } = ctx;
  const cand = gen.candidate;
  if (!cand) throw new Error(`generation ${gen.n} has no candidate to judge`);
  const logged = findRecord(home, cand.evolutionId);
  if (logged) {
    gen.verdict =
      logged.record.verdict === "accepted"
        ? "accepted"
        : logged.record.verdict === "pending"
          ? "pending"
          : "rejected";
    gen.reason = logged.record.reason;
    gen.phase = "done";
    ctx.save();
    return;
  }
  const base = loadPlan(home, gen.evalId);
  const train = base.tasks.filter((t) => t.split === "train");
  const panel = train.filter((t) => !gen.batch.includes(t.id)).map((t) => t.id);
  if (!cand.cascadeEvalId) {
    const plan = planFor(train, {
      suite: base.suite,
      trials: Math.max(roundsFor(IMPROVEMENT, gen.batch.length), roundsFor(NON_INFERIORITY, panel.length)),
      seed: state.seed + gen.n,
      agents: [
        { label: "head", rev: gen.headCommit, commit: gen.headCommit },
        { label: "against", rev: `candidate ${cand.evolutionId}`, commit: cand.commit },
      ],
      purpose: `campaign ${state.campaignId} generation ${gen.n}: cascade`,
    });
    savePlan(home, plan);
    cand.cascadeEvalId = plan.evalId;
    ctx.save();
  }
  const plan = loadPlan(home, cand.cascadeEvalId);
  const round = (keys: string[]) => ctx.runPlan(plan, new Set(keys));
  const common = {
    diagnosis: cand.diagnosis,
    plan: cand.plan,
    rationale: cand.rationale,
    diff: cand.diff,
    scope: cand.scope,
    gate: cand.gate,
    id: cand.evolutionId,
  };

  /** One cascade stage: its figures when it cleared the candidate, else "rejected" (logged) or "stopped" (budget, interrupt). */
  const stage = async (
    label: string,
    tasks: string[],
    rule: SequentialRule,
    failed: string,
  ): Promise<{ change: ScoreChange; outcome: StageOutcome } | "stopped" | "rejected"> => {
    ctx.say(`generation ${gen.n}: ${label} (${tasks.join(", ")}), head vs candidate…`);
    const outcome = await runStage(tasks, rule, roundsFor(rule, tasks.length), round);
    if (!outcome) return "stopped";
    const change = {
      task: `${label}: ${tasks.join(", ")}`,
      runId: plan.evalId,
      before: rate(outcome, "head"),
      after: [rate(outcome, "candidate")],
    };
    judged.push(change);
    if (outcome.call === "upper") return { change, outcome };
    const reason = `${label}: ${outcome.call === "lower" ? failed : "undecided (too many error trials)"}: ${show(outcome)} (${rule.name})`;
    ctx.say(`generation ${gen.n}: rejected: ${reason}`);
    const [replay, ...regression] = judged;
    await ctx.logAttempt(gen, {
      ...common,
      verdict: "rejected",
      reason,
      replay: replay ?? null,
      regression,
      triggerScore: replay?.before ?? null,
    });
    return "rejected";
  };
  const judged: ScoreChange[] = [];
  const first = await stage("cascade 1, the failing tasks", gen.batch, IMPROVEMENT, "not better");
  if (typeof first === "string") return;
  const replay = first.change;
  const regression: ScoreChange[] = [];
  if (panel.length) {
    const second = await stage("cascade 2, the other train tasks", panel, NON_INFERIORITY, "regressed");
    if (typeof second === "string") return;
    regression.push(second.change);
  }
  const summary = `cascade: failing tasks ${show(first.outcome)}${regression.length ? `; train panel no worse` : ""}`;
  if (!state.yes) {
    savePending(home, {
      id: cand.evolutionId,
      diff: cand.diff,
      parentCommit: gen.headCommit,
      task: batchLabel(state, gen),
      runId: plan.evalId,
      before: replay.before,
      after: replay.after,
    });
    const reason = `${summary}; awaiting consent: run \`moss apply ${cand.evolutionId}\`, then resume the campaign`;
    await ctx.logAttempt(gen, {
      ...common,
      verdict: "pending",
      reason,
      replay,
      regression,
      triggerScore: replay.before,
    });
    ctx.stop(
      "pending",
      `candidate ${cand.evolutionId} passed the cascade; promote it with moss apply ${cand.evolutionId} (or run with --yes)`,
    );
    return;
  }
  const wt = await createWorktree(home, gen.headCommit);
  try {
    // The candidate's tree, staged on top of the head it was built on: what promotion commits.
    await git(wt.dir).raw(["read-tree", "-u", "--reset", cand.commit]);
    const draft = recordDraft({
      ...common,
      kind: "evolution",
      task: batchLabel(state, gen),
      runId: plan.evalId,
      triggerScore: replay.before,
      attempt: gen.n,
      replay,
      regression,
      verdict: "accepted",
      reason: summary,
      parentCommit: gen.headCommit,
      models: ctx.modelNames,
    });
    const promoted = await promoteCandidate({
      home,
      branch: await headBranch(home),
      worktree: wt,
      draft,
      trailers: {
        "Moss-Verdict": "accepted",
        "Moss-Score-Before": replay.before.toFixed(3),
        "Moss-Score-After": replay.after.map((x) => x.toFixed(3)).join(","),
        "Moss-Models": modelsTrailer(ctx.modelNames),
        "Moss-Cost-Usd": draft.costUsd.toFixed(4),
      },
      policy: candidatePolicy(config, ctx.sandbox),
    });
    if (!promoted.ok) {
      await ctx.logAttempt(gen, {
        ...common,
        verdict: "rejected",
        reason: promoted.reason,
        replay,
        regression,
      });
      return;
    }
    gen.verdict = "accepted";
    gen.reason = summary;
    gen.phase = "done";
    ctx.save();
    ctx.say(`generation ${gen.n}: accepted: new head ${promoted.commit.slice(0, 10)} (${summary})`);
  } finally {
    await wt.remove();
  }
}
