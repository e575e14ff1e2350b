import { emptyUsage } from "../../contract/index.ts";
import { newEvolutionId } from "../../log/evolution-log.ts";
import type { EvolutionRecord } from "../../log/evolution-record.ts";

/** An evolution record before the log gives it its sequence number and chain hash. */
export type RecordDraft = Omit<EvolutionRecord, "seq" | "prevHash">;

type Required = "kind" | "rationale" | "verdict" | "reason" | "parentCommit";

/**
 * The one way to start a record: the caller names what happened; every stage it did not reach
 * defaults to "not run" (null scope, gate and replay, no regression, no usage), with a fresh id
 * and the current time unless given.
 */
export function recordDraft(
  fields: Pick<RecordDraft, Required> & Partial<Omit<RecordDraft, Required>>,
): RecordDraft {
  return {
    id: newEvolutionId(),
    time: new Date().toISOString(),
    task: null,
    runId: null,
    triggerScore: null,
    attempt: 0,
    diagnosis: null,
    plan: null,
    diff: "",
    scope: null,
    gate: null,
    replay: null,
    regression: [],
    judgement: null,
    target: null,
    models: {},
    usage: emptyUsage(),
    costUsd: 0,
    timings: {},
    ...fields,
  };
}
