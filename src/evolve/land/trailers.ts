import type { Judgement, TaskComparison, Trial } from "../../log/evolution-record.ts";
import { succeeds } from "../judge/paired-comparison.ts";

/** The `Moss-Models` trailer value: `role=model` pairs. */
export const modelsTrailer = (models: Record<string, string>) =>
  Object.entries(models)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");

/**
 * The judgement's summary as commit trailers: successes of head and candidate on the failing
 * task with the statistic against its boundary, the panel's calls (sealed apart) and the agent
 * runs spent.
 */
export function judgementTrailers(j: Judgement): Record<string, string> {
  const target = j.comparisons.find((c) => c.role === "target");
  const panel = j.comparisons.filter((c) => c.role !== "target");
  const passes = (ts: Trial[], c: TaskComparison) =>
    `${ts.filter((t) => succeeds(t, c)).length}/${ts.filter((t) => !t.error).length}`;
  const calls = (role: string) => {
    const cs = panel.filter((c) => c.role === role);
    return `${cs.filter((c) => c.call === "non-inferior").length}/${cs.length} non-inferior`;
  };
  return {
    ...(target
      ? {
          "Moss-Judgement": `head ${passes(target.head, target)} candidate ${passes(target.candidate, target)} (D=${target.statistic} >= ${target.upper ?? "-"})`,
        }
      : {}),
    "Moss-Panel": `open ${calls("panel")}, sealed ${calls("sealed")}`,
    "Moss-Agent-Runs": String(j.agentRuns),
  };
}
