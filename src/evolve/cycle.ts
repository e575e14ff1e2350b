import type { Config } from "../config/config-schema.ts";
import { assertAgentSrcClean, headBranch, readRef } from "../git/ratchet.ts";
import { createWorktree } from "../git/worktree.ts";
import { appendRecord } from "../log/evolution-log.ts";
import type { EvolutionRecord } from "../log/evolution-record.ts";
import { withHomeLock } from "../log/home-lock.ts";
import type { ModelRegistry } from "../models/model-registry.ts";
import type { RunRecord } from "../run/run-record.ts";
import type { SandboxLimits } from "../sandbox/limits.ts";
import { type Consent, type CycleContext, interruptedWhile, tryCandidate } from "./attempt.ts";
import { candidatePolicy } from "./check/candidate-policy.ts";
import { taskFileNames } from "./check/task-file-names.ts";
import { type Reproduction, reproduceFailure } from "./judge/judge-candidate.ts";
import { regressionPanel } from "./judge/regression-panel.ts";
import { makeTrialRunner } from "./judge/trial-runner.ts";
import { recordDraft } from "./land/record-draft.ts";
import { agentSourceListing, buildEvidence } from "./propose/evidence.ts";
import { diagnose } from "./propose/patcher.ts";
import { DEPTHS, type Depth } from "./propose/patcher-schemas.ts";

export type { Consent } from "./attempt.ts";

export interface EvolveInput {
  home: string;
  run: RunRecord;
  config: Config;
  models: ModelRegistry;
  depth: Depth;
  /** A cap on paired trials per task below the rules' own (cheaper, less power, never more false accepts). */
  trials?: number;
  /** Decides promotion; null means nobody can be asked: the candidate is kept as pending. */
  consent: Consent | null;
  /**
   * A person decides on this cycle's candidates (a consent prompt, or `moss apply` of a pending
   * one), so changes to existing tests reach them instead of being rejected outright.
   */
  personConsents?: boolean;
  patcherCmd?: string;
  signal?: AbortSignal;
  say?: (line: string) => void;
  sandbox: SandboxLimits | null;
}

export interface EvolveOutcome {
  records: EvolutionRecord[];
  accepted: { id: string; commit: string } | null;
  pending: string | null;
  /** Why the cycle did not evolve: the failure did not reproduce, or the head could not be re-measured. */
  skipped: string | null;
}

/**
 * One evolution cycle for a failed run. First the head is re-run on the failing task: the cycle
 * does not evolve on a failure that does not reproduce. Then diagnose, and up to the depth's
 * attempts of propose -> check -> judge -> land (see `tryCandidate`); the first candidate that
 * is judged better than the head without regressing the panel lands or waits for consent, and
 * an undecided judgement (too many errors) ends the cycle. Every attempt leaves a log record.
 */
export async function evolve(input: EvolveInput): Promise<EvolveOutcome> {
  const { home, run, config, models } = input;
  const say = input.say ?? (() => {});
  await assertAgentSrcClean(home);
  const branch = await headBranch(home);
  const parent = await readRef(home, branch);
  const outcome: EvolveOutcome = { records: [], accepted: null, pending: null, skipped: null };
  const modelNames = {
    patcher: input.patcherCmd ? `external: ${input.patcherCmd}` : config.models.patcher.model,
    executor: config.models.executor.model,
  };
  const runTrial = makeTrialRunner(config, models, input.sandbox, input.signal);
  const head = await createWorktree(home, parent);
  try {
    say(`re-running the head on the failing task (${config.evolve.reproduceTrials}x)…`);
    const t0 = Date.now();
    const repro = await reproduceFailure(
      runTrial,
      head.dir,
      run,
      config.evolve.reproduceTrials,
      config.evolve.maxInvalidPairs,
      input.signal,
    );
    if (repro.outcome !== "reproduced" || input.signal?.aborted) {
      const record = await recordSkip(input, parent, modelNames, repro, Date.now() - t0);
      say(record.reason);
      return { ...outcome, records: [record], skipped: record.reason };
    }
    let diagnosis = null;
    const evidence = buildEvidence(home, run);
    const source = agentSourceListing(home);
    if (!input.patcherCmd) {
      say("diagnosing the failure…");
      try {
        diagnosis = await diagnose(models.for("patcher"), evidence, source);
      } catch (err) {
        if (!input.signal?.aborted) throw err;
        const record = await recordInterrupt(input, parent, modelNames, "diagnosing the failure");
        return { ...outcome, records: [record] };
      }
      say(`diagnosis: ${diagnosis.rootCause}`);
    }
    const ctx: CycleContext = {
      home,
      branch,
      parent,
      headDir: head.dir,
      run,
      config,
      models,
      evidence,
      source,
      diagnosis,
      reviewRounds: DEPTHS[input.depth].reviewRounds,
      policy: candidatePolicy(config, input.sandbox, taskFileNames(run.snapshot), {
        testChanges: input.personConsents,
      }),
      panel: regressionPanel(home, run, config.evolve.regressionLimit, config.evolve.sealedFraction),
      runTrial,
      sandbox: input.sandbox,
      reproduce: repro.trials,
      feedback: [],
      modelNames,
      consent: input.consent,
      ...(input.patcherCmd ? { patcherCmd: input.patcherCmd } : {}),
      ...(input.trials ? { maxPairs: input.trials } : {}),
      ...(input.signal ? { signal: input.signal } : {}),
      say,
    };
    for (let attempt = 1; attempt <= DEPTHS[input.depth].attempts && !input.signal?.aborted; attempt++) {
      const end = await tryCandidate(ctx, attempt);
      outcome.records.push(end.record);
      if (end.end === "rejected") continue;
      if (end.end === "accepted") outcome.accepted = { id: end.record.id, commit: end.commit };
      if (end.end === "pending") outcome.pending = end.record.id;
      break;
    }
    return outcome;
  } finally {
    await head.remove();
  }
}

/** The record of a cycle the user stopped (Ctrl-C, SIGTERM) before any candidate: `interrupted`. */
async function recordInterrupt(
  input: EvolveInput,
  parent: string,
  models: Record<string, string>,
  stage: string,
): Promise<EvolutionRecord> {
  const reason = interruptedWhile(input.signal, stage);
  const draft = recordDraft({
    kind: "evolution",
    task: input.run.task,
    runId: input.run.runId,
    triggerScore: input.run.score,
    attempt: 1,
    rationale: reason,
    verdict: "interrupted",
    reason,
    parentCommit: parent,
    models,
  });
  return (await withHomeLock(input.home, async () => appendRecord(input.home, draft))).record;
}

/** The record of a cycle that did not evolve: the failure did not reproduce, or errors hid it. */
async function recordSkip(
  input: EvolveInput,
  parent: string,
  models: Record<string, string>,
  repro: Reproduction,
  ms: number,
): Promise<EvolutionRecord> {
  if (input.signal?.aborted) return recordInterrupt(input, parent, models, "re-running the head");
  const undecided = repro.outcome === "undecided";
  const reason = undecided
    ? `undecided: the head could not be re-measured on the failing task (${repro.trials.map((t) => t.error).join("; ")})`
    : `the failure did not reproduce: the head passed a re-run (scores ${repro.trials.map((t) => t.score).join(", ")}); not evolving on it`;
  const draft = recordDraft({
    kind: "evolution",
    task: input.run.task,
    runId: input.run.runId,
    triggerScore: input.run.score,
    rationale: reason,
    verdict: undecided ? "undecided" : "rejected",
    reason,
    parentCommit: parent,
    models,
    judgement: {
      reproduce: repro.trials,
      comparisons: [],
      decision: undecided ? "undecided" : "reject",
      agentRuns: repro.trials.length,
    },
    timings: { reproduceMs: ms },
  });
  return (await withHomeLock(input.home, async () => appendRecord(input.home, draft))).record;
}
