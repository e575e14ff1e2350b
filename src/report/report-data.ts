import { listCampaigns } from "../campaign/campaign-state.ts";
import { generationFigures } from "../campaign/run-campaign.ts";
import { type EvalPlan, listEvals, loadPlan, readResults } from "../eval/eval-store.ts";
import { type EvalSummary, summarize } from "../eval/eval-summary.ts";
import { readLog } from "../log/evolution-log.ts";
import type { EvolutionRecord } from "../log/evolution-record.ts";

export interface ReportEval {
  plan: Pick<EvalPlan, "evalId" | "createdAt" | "suite" | "trials" | "seed" | "purpose">;
  summary: EvalSummary;
}

export interface ReportData {
  home: string;
  generatedAt: string;
  evals: ReportEval[];
  evolution: Array<
    Pick<
      EvolutionRecord,
      | "id"
      | "kind"
      | "time"
      | "task"
      | "verdict"
      | "reason"
      | "rationale"
      | "diff"
      | "costUsd"
      | "parentCommit"
    >
  >;
  campaigns: Array<{
    campaignId: string;
    suite: string;
    status: string;
    stopReason: string;
    patcherCostUsd: number;
    generations: ReturnType<typeof generationFigures>;
  }>;
  /** Evals whose files could not be read, with why. */
  unreadable: string[];
}

/** Everything the report shows, read from the home: its evals and its evolution log. */
export function collectReportData(home: string): ReportData {
  const evals: ReportEval[] = [];
  const unreadable: string[] = [];
  for (const id of listEvals(home)) {
    try {
      const plan = loadPlan(home, id);
      evals.push({
        plan: {
          evalId: plan.evalId,
          createdAt: plan.createdAt,
          suite: plan.suite,
          trials: plan.trials,
          seed: plan.seed,
          ...(plan.purpose ? { purpose: plan.purpose } : {}),
        },
        summary: summarize(plan, readResults(home, id)),
      });
    } catch (err) {
      unreadable.push(`${id}: ${(err as Error).message.split("\n")[0]}`);
    }
  }
  let evolution: ReportData["evolution"] = [];
  try {
    evolution = readLog(home).map(({ record: r }) => ({
      id: r.id,
      kind: r.kind,
      time: r.time,
      task: r.task,
      verdict: r.verdict,
      reason: r.reason,
      rationale: r.rationale,
      diff: r.diff,
      costUsd: r.costUsd,
      parentCommit: r.parentCommit,
    }));
  } catch (err) {
    unreadable.push(`evolution log: ${(err as Error).message.split("\n")[0]}`);
  }
  const campaigns: ReportData["campaigns"] = [];
  for (const c of listCampaigns(home)) {
    try {
      campaigns.push({
        campaignId: c.campaignId,
        suite: c.suite.name,
        status: c.status,
        stopReason: c.stopReason,
        patcherCostUsd: c.patcherCostUsd,
        generations: generationFigures(home, c),
      });
    } catch (err) {
      unreadable.push(`campaign ${c.campaignId}: ${(err as Error).message.split("\n")[0]}`);
    }
  }
  return { home, generatedAt: new Date().toISOString(), evals, evolution, campaigns, unreadable };
}
