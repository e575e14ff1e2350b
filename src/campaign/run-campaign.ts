import { makePlan } from "../eval/eval-plan.ts";
import { loadPlan, readResults, savePlan } from "../eval/eval-store.ts";
import { summarize } from "../eval/eval-summary.ts";
import { headBranch, readRef } from "../git/ratchet.ts";
import { loadSuite } from "../suite/load-suite.ts";
import { type CampaignInput, campaignContext } from "./campaign-context.ts";
import type { CampaignState, Generation } from "./campaign-state.ts";
import { pickBatch } from "./failure-batch.ts";
import { judgeStep } from "./judge-step.ts";
import { proposeStep } from "./propose-step.ts";

/**
 * `moss evolve SUITE`: generations of measure the head on every task (train and holdout) ->
 * a failure batch from the train split -> one candidate (propose, check) -> the cascade (judge)
 * -> promotion. Stops after the generations, when the budget is spent, on a plateau (`patience`
 * generations without an accepted candidate), or when every train task passes; after the last
 * accepted candidate the final head is measured once more. Every step is saved in the campaign's
 * state in the home, so a killed campaign resumes where it stopped.
 */
export async function runCampaign(input: CampaignInput): Promise<CampaignState> {
  const ctx = campaignContext(input);
  const { home, state, config, say } = ctx;
  const branch = await headBranch(home);
  state.status = "running";
  ctx.save();
  while (state.status === "running") {
    if (input.signal?.aborted) {
      ctx.stop("interrupted", "interrupted; resume with moss evolve --resume");
      break;
    }
    let gen = state.history.at(-1);
    if (!gen || gen.phase === "done") {
      const next = await nextGeneration(state, gen, await readRef(home, branch));
      if (typeof next === "string") {
        ctx.stop(next === "plateau" ? "plateau" : "done", stopReason(state, next));
        break;
      }
      gen = next;
      state.history.push(gen);
      ctx.save();
    }
    if (gen.phase === "eval") {
      const plan = loadPlan(home, gen.evalId);
      say(
        `generation ${gen.n}${gen.final ? " (final)" : ""}: measuring the head on ${plan.tasks.length} task(s) x ${plan.trials} trial(s)…`,
      );
      const results = await ctx.runPlan(plan);
      if (!results) break;
      const head = summarize(plan, results).agents[0];
      if (head) {
        say(
          `generation ${gen.n}: head ${gen.headCommit.slice(0, 10)}: train ${head.train.passes}/${head.train.n}` +
            (head.holdout.n ? `, holdout ${head.holdout.passes}/${head.holdout.n}` : ""),
        );
      }
      if (gen.final) {
        gen.phase = "done";
        ctx.save();
        continue;
      }
      gen.batch = pickBatch(plan, results, state.batchSize, state.seed + gen.n);
      if (!gen.batch.length) {
        gen.phase = "done";
        gen.reason = "every train task passed on the head";
        ctx.stop("done", "every train task passes on the head: nothing left to learn from");
        break;
      }
      say(`generation ${gen.n}: failure batch: ${gen.batch.join(", ")}`);
      gen.phase = "propose";
      ctx.save();
    }
    if (state.budgetUsd !== null && ctx.spent() >= state.budgetUsd) {
      ctx.stop("budget", `the budget of $${state.budgetUsd.toFixed(2)} is spent`);
      break;
    }
    if (gen.phase === "propose") await proposeStep(ctx, gen, feedbackFor(state, gen));
    if (gen.phase === "judge") await judgeStep(ctx, gen);
  }
  ctx.save();
  return state;

  /** The next generation, or why there is none. A head that did not move keeps its measurement. */
  async function nextGeneration(
    s: CampaignState,
    last: Generation | undefined,
    head: string,
  ): Promise<Generation | "generations" | "plateau" | "final-done"> {
    if (last?.final) return "final-done";
    const evolving = s.history.filter((g) => !g.final);
    const stale = evolving.slice(-s.patience);
    const plateau = stale.length === s.patience && stale.every((g) => g.verdict !== "accepted");
    const over = evolving.length >= s.maxGenerations || plateau;
    if (over && (!last || last.headCommit === head)) return plateau ? "plateau" : "generations";
    const n = s.history.length + 1;
    let evalId = last && last.headCommit === head ? last.evalId : null;
    if (!evalId) {
      const plan = makePlan({
        suite: loadSuite(s.suite.file),
        config,
        trials: s.trials,
        seed: s.seed + n,
        agents: [{ label: "head", rev: head, commit: head }],
        purpose: `campaign ${s.campaignId} generation ${n}${over ? " (final)" : ""}: head`,
      });
      savePlan(home, plan);
      evalId = plan.evalId;
    }
    return {
      n,
      headCommit: head,
      evalId,
      phase: "eval",
      batch: [],
      candidate: null,
      verdict: null,
      reason: "",
      final: over,
    };
  }
}

/** Why the earlier candidates built on this generation's head were rejected: the patcher's feedback. */
function feedbackFor(state: CampaignState, gen: Generation): string[] {
  return state.history
    .filter((g) => g !== gen && g.headCommit === gen.headCommit && g.verdict === "rejected")
    .map((g) => `generation ${g.n}: ${g.reason}`);
}

function stopReason(state: CampaignState, why: string): string {
  const accepted = state.history.filter((g) => g.verdict === "accepted").length;
  if (why === "plateau") return `no candidate accepted in the last ${state.patience} generation(s)`;
  return `ran ${state.history.filter((g) => !g.final).length} generation(s); ${accepted} candidate(s) accepted`;
}

/** Train and holdout pass rates of the head per generation (for the summary and the report). */
export function generationFigures(home: string, state: CampaignState) {
  const counted = new Set<string>();
  return state.history.map((g) => {
    const fresh = !counted.has(g.evalId);
    counted.add(g.evalId);
    const plan = loadPlan(home, g.evalId);
    const head = summarize(plan, readResults(home, g.evalId)).agents[0];
    return {
      n: g.n,
      final: g.final,
      headCommit: g.headCommit,
      train: head?.train ?? null,
      holdout: head?.holdout ?? null,
      batch: g.batch,
      verdict: g.verdict,
      reason: g.reason,
      costUsd:
        (fresh ? (head?.all.costUsd ?? 0) : 0) +
        (g.candidate?.cascadeEvalId
          ? readResults(home, g.candidate.cascadeEvalId).reduce((a, r) => a + r.costUsd, 0)
          : 0),
    };
  });
}
