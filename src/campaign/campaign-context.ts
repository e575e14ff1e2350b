import type { SandboxLimits } from "../agent-host/agent-process.ts";
import type { Config } from "../config/config-schema.ts";
import { estimateCost } from "../eval/eval-plan.ts";
import { type EvalPlan, readResults, type TrialResult } from "../eval/eval-store.ts";
import type { TrialExecutor } from "../eval/local-trial.ts";
import { type EvalEvent, runEval } from "../eval/run-eval.ts";
import { type RecordDraft, recordDraft } from "../evolve/land/record-draft.ts";
import { appendRecord } from "../log/evolution-log.ts";
import type { EvolutionRecord } from "../log/evolution-record.ts";
import { withHomeLock } from "../log/home-lock.ts";
import type { ModelRegistry, ModelSource } from "../models/model-registry.ts";
import { type CampaignState, type Generation, saveCampaign } from "./campaign-state.ts";

export interface CampaignInput {
  home: string;
  state: CampaignState;
  config: Config;
  /** The patcher's models (one registry for the campaign: its spend is metered per attempt). */
  models: ModelRegistry;
  /** How each trial's executor is built. */
  trialModels: ModelSource;
  sandbox: SandboxLimits | null;
  parallel: number;
  signal?: AbortSignal;
  /** Where trials run when not on this machine's pool (moss evolve --queue). */
  executor?: TrialExecutor;
  say: (line: string) => void;
  onEvalEvent?: (event: EvalEvent) => void;
}

/** What the stages of a campaign share: its state (saved after every step), spend, and evals. */
export function campaignContext(input: CampaignInput) {
  const { home, state, config } = input;
  const save = () => saveCampaign(home, state);
  const evalIds = () => [
    ...new Set(
      state.history.flatMap((g) => [
        g.evalId,
        ...(g.candidate?.cascadeEvalId ? [g.candidate.cascadeEvalId] : []),
      ]),
    ),
  ];
  const spent = () =>
    state.patcherCostUsd +
    evalIds().reduce((sum, id) => sum + readResults(home, id).reduce((a, r) => a + r.costUsd, 0), 0);
  const stop = (status: CampaignState["status"], reason: string) => {
    state.status = status;
    state.stopReason = reason;
    save();
  };
  return {
    ...input,
    save,
    spent,
    stop,
    modelNames: {
      patcher: state.patcherCmd ? `external: ${state.patcherCmd}` : config.models.patcher.model,
      executor: config.models.executor.model,
    },
    /**
     * Runs the plan's open trials (only `only` when given) within what is left of the budget.
     * Returns every result of the eval, or null (and stops the campaign) on budget or interrupt.
     */
    async runPlan(plan: EvalPlan, only?: Set<string>): Promise<TrialResult[] | null> {
      const left = state.budgetUsd === null ? undefined : Math.max(0, state.budgetUsd - spent());
      const open = plan.order.filter((k) => !only || only.has(k));
      const out = await runEval({
        home,
        plan,
        config,
        models: input.trialModels,
        sandbox: input.sandbox,
        parallel: input.parallel,
        ...(left !== undefined ? { budgetUsd: left } : {}),
        estimatePerTrialUsd: estimateCost(home, plan, config, open).perTrialUsd,
        ...(only ? { only } : {}),
        ...(input.signal ? { signal: input.signal } : {}),
        ...(input.onEvalEvent ? { onEvent: input.onEvalEvent } : {}),
        ...(input.executor ? { executor: input.executor } : {}),
      });
      if (out.stoppedBy === "budget") {
        stop("budget", `the budget of $${state.budgetUsd?.toFixed(2)} is spent ($${spent().toFixed(4)})`);
        return null;
      }
      if (out.stoppedBy === "interrupted") {
        stop("interrupted", "interrupted; resume with moss evolve --resume");
        return null;
      }
      return out.results;
    },
    /** Logs a generation's attempt that did not land (rejected, or pending consent). */
    async logAttempt(
      gen: Generation,
      fields: Partial<RecordDraft> & Pick<RecordDraft, "verdict" | "reason">,
    ) {
      const entry = await withHomeLock(home, async () =>
        appendRecord(
          home,
          recordDraft({
            kind: "evolution",
            task: batchLabel(state, gen),
            runId: gen.candidate?.cascadeEvalId ?? gen.evalId,
            attempt: gen.n,
            rationale: fields.rationale || fields.reason,
            parentCommit: gen.headCommit,
            models: {
              patcher: state.patcherCmd ? `external: ${state.patcherCmd}` : config.models.patcher.model,
              executor: config.models.executor.model,
            },
            ...fields,
          }),
        ),
      );
      gen.verdict =
        fields.verdict === "accepted" ? "accepted" : fields.verdict === "pending" ? "pending" : "rejected";
      gen.reason = fields.reason;
      gen.phase = "done";
      save();
      return entry.record as EvolutionRecord;
    },
  };
}

export type CampaignContext = ReturnType<typeof campaignContext>;

/** How a generation's attempt is named in the log: the suite and the failing tasks it learned from. */
export const batchLabel = (state: CampaignState, gen: Generation) =>
  `suite ${state.suite.name}, generation ${gen.n}: ${gen.batch.join(", ")}`;
