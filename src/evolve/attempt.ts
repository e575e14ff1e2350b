import type { Config } from "../config/config-schema.ts";
import { createWorktree } from "../git/worktree.ts";
import { appendRecord } from "../log/evolution-log.ts";
import type { EvolutionRecord, GateResult, ScopeResult, Trial } from "../log/evolution-record.ts";
import { withHomeLock } from "../log/home-lock.ts";
import type { ModelRegistry } from "../models/model-registry.ts";
import type { RunRecord } from "../run/run-record.ts";
import type { SandboxLimits } from "../sandbox/limits.ts";
import { type CandidatePolicy, checkCandidate } from "./check/candidate-policy.ts";
import { judgeCandidate } from "./judge/judge-candidate.ts";
import { surfaceChanges, unpromptedWrites } from "./judge/model-surface.ts";
import type { PanelTask } from "./judge/regression-panel.ts";
import type { RunTrial } from "./judge/trial-runner.ts";
import { savePending } from "./land/candidates.ts";
import { promoteCandidate } from "./land/promote.ts";
import { type RecordDraft, recordDraft } from "./land/record-draft.ts";
import { judgementTrailers, modelsTrailer } from "./land/trailers.ts";
import { formatDiagnosis } from "./propose/patcher.ts";
import type { Diagnosis } from "./propose/patcher-schemas.ts";
import { proposeCandidate } from "./propose/propose-candidate.ts";
import { meterUsage } from "./usage-meter.ts";

/**
 * What the user decides on: the diff, the scores (the head's mean and the candidate's trials on
 * the failing task), and the scope's review notes (test and instruction changes, flags).
 */
export type Consent = (summary: {
  diff: string;
  before: number;
  after: number[];
  scope?: ScopeResult | null;
  gate?: GateResult | null;
}) => Promise<boolean>;

/**
 * An interrupt (Ctrl-C, SIGTERM) is recorded as `interrupted` at whatever stage it lands: what
 * failed then failed because it was stopped, so it never counts as a rejection or feedback.
 */
export const interruptedWhile = (signal: AbortSignal | undefined, stage: string) =>
  `interrupted (${String(signal?.reason ?? "aborted")}) while ${stage}; the candidate was not judged`;

/** What every attempt of one cycle shares: the failing run, the head, the checks and the judge. */
export interface CycleContext {
  home: string;
  branch: string;
  /** The head every candidate of this cycle is built on, and a checkout of it for head trials. */
  parent: string;
  headDir: string;
  run: RunRecord;
  config: Config;
  models: ModelRegistry;
  evidence: string;
  source: string;
  diagnosis: Diagnosis | null;
  reviewRounds: number;
  policy: CandidatePolicy;
  panel: PanelTask[];
  runTrial: RunTrial;
  sandbox: SandboxLimits | null;
  /** The head's re-runs of the failing task that let the cycle go ahead. */
  reproduce: Trial[];
  /** Reasons earlier attempts were rejected; the patcher reads them. */
  feedback: string[];
  modelNames: Record<string, string>;
  consent: Consent | null;
  patcherCmd?: string;
  maxPairs?: number;
  signal?: AbortSignal;
  say: (line: string) => void;
}

export type AttemptEnd =
  | { end: "rejected"; record: EvolutionRecord }
  | { end: "accepted"; record: EvolutionRecord; commit: string }
  | { end: "pending" | "declined" | "undecided" | "interrupted"; record: EvolutionRecord };

/**
 * One attempt: propose a patch in a fresh worktree of the head, check it (scope, gate), judge it
 * against the head (paired trials), then land it (promote, or keep it pending consent). Always
 * leaves exactly one log record and removes its worktree.
 */
export async function tryCandidate(ctx: CycleContext, attempt: number): Promise<AttemptEnd> {
  const { home, run, say } = ctx;
  const t0 = Date.now();
  const usage = meterUsage(ctx.models);
  const timings: Record<string, number> = {};
  // What this attempt has established so far; each stage fills in its part.
  let draft: RecordDraft = recordDraft({
    kind: "evolution",
    task: run.task,
    runId: run.runId,
    triggerScore: run.score,
    attempt,
    diagnosis: ctx.diagnosis ? formatDiagnosis(ctx.diagnosis) : null,
    rationale: "",
    verdict: "rejected",
    reason: "",
    parentCommit: ctx.parent,
    models: ctx.modelNames,
  });
  const finish = (verdict: EvolutionRecord["verdict"], reason: string): RecordDraft => ({
    ...draft,
    time: new Date().toISOString(),
    rationale: draft.rationale || reason,
    verdict,
    reason,
    ...usage(),
    timings: { ...timings, totalMs: Date.now() - t0 },
  });
  const log = async (verdict: EvolutionRecord["verdict"], reason: string) =>
    (await withHomeLock(home, async () => appendRecord(home, finish(verdict, reason)))).record;
  let stage = "proposing a patch";
  const reject = async (reason: string): Promise<AttemptEnd> => {
    if (ctx.signal?.aborted) {
      const why = interruptedWhile(ctx.signal, stage);
      say(`attempt ${attempt} ${why}`);
      return { end: "interrupted", record: await log("interrupted", why) };
    }
    say(`attempt ${attempt} rejected: ${reason}`);
    ctx.feedback.push(`attempt ${attempt}: ${reason}`);
    return { end: "rejected", record: await log("rejected", reason) };
  };

  const wt = await createWorktree(home, ctx.parent);
  try {
    // propose
    try {
      const proposal = await proposeCandidate({
        dir: wt.dir,
        evidence: ctx.evidence,
        source: ctx.source,
        diagnosis: ctx.diagnosis,
        feedback: ctx.feedback,
        reviewRounds: ctx.reviewRounds,
        allowPaths: ctx.config.evolve.allowPaths,
        models: ctx.models,
        ...(ctx.patcherCmd ? { patcherCmd: ctx.patcherCmd, external: externalSetup(ctx) } : {}),
        timeoutMs: ctx.config.evolve.gateTimeoutMs,
        onPlan: (plan) => {
          draft.plan = plan;
        },
      });
      draft = { ...draft, plan: proposal.plan, rationale: proposal.rationale };
      Object.assign(timings, proposal.timings);
    } catch (err) {
      return await reject((err as Error).message);
    }
    if (ctx.signal?.aborted) return await reject("interrupted while proposing");

    // check
    stage = "checking scope and running the gate";
    say(`attempt ${attempt}: scope and gate (typecheck + agent tests)…`);
    let t = Date.now();
    const checked = await checkCandidate(wt.dir, ctx.policy);
    draft = { ...draft, diff: checked.diff, scope: checked.scope, gate: checked.gate };
    timings.checkMs = Date.now() - t;
    if (checked.gate) timings.gateMs = checked.gate.ms;
    if (checked.failure) return await reject(checked.failure);

    // judge
    stage = "judging the candidate against the head";
    t = Date.now();
    const judged = await judgeCandidate({
      target: run,
      panel: ctx.panel,
      headDir: ctx.headDir,
      candidateDir: wt.dir,
      runTrial: ctx.runTrial,
      maxInvalidPairs: ctx.config.evolve.maxInvalidPairs,
      ...(ctx.maxPairs ? { maxPairs: ctx.maxPairs } : {}),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      say: (line) => say(`attempt ${attempt}: ${line}`),
    });
    draft.judgement = {
      reproduce: ctx.reproduce,
      comparisons: judged.comparisons,
      decision: judged.decision,
      agentRuns: ctx.reproduce.length + judged.agentRuns,
    };
    timings.judgeMs = Date.now() - t;
    if (ctx.signal?.aborted) return await reject("interrupted while judging");
    if (judged.decision === "undecided") {
      say(`attempt ${attempt}: ${judged.reason}`);
      return { end: "undecided", record: await log("undecided", judged.reason) };
    }
    if (judged.decision === "reject") return await reject(judged.reason);
    const alone = unpromptedWrites(judged.comparisons);
    if (alone.length > 0) return await reject(alone[0]!);
    const told = surfaceChanges(judged.comparisons);
    if (told.length > 0) {
      draft.scope = {
        ...draft.scope!,
        instructionChanges: [...(draft.scope?.instructionChanges ?? []), ...told],
      };
      if (!ctx.policy.scope.allowTestChanges)
        return await reject(
          `instruction change: ${told[0]}; a person must review it (run without --yes) or give --allow-test-changes`,
        );
    }

    // land
    const target = judged.comparisons[0]!;
    const before = meanScore(target.head);
    const after = target.candidate.filter((x) => !x.error).map((x) => x.score);
    stage = "asking for consent";
    const decision = ctx.consent
      ? await ctx.consent({ diff: draft.diff, before, after, scope: draft.scope, gate: draft.gate })
      : null;
    if (decision === false)
      return { end: "declined", record: await log("declined", "the user declined the candidate") };
    if (decision === null) {
      const pending = finish(
        "pending",
        `${judged.reason}; awaiting consent: run \`moss apply ${draft.id}\` to promote it`,
      );
      const entry = await withHomeLock(home, async () => {
        savePending(home, {
          id: draft.id,
          diff: draft.diff,
          parentCommit: ctx.parent,
          task: run.task,
          runId: run.runId,
          before,
          after,
        });
        return appendRecord(home, pending);
      });
      say(`candidate ${draft.id} passed every check; promote it with: moss apply ${draft.id}`);
      return { end: "pending", record: entry.record };
    }
    const accepted = finish("accepted", `gate passed (${checked.gate?.summary}); ${judged.reason}`);
    const promoted = await promoteCandidate({
      home,
      branch: ctx.branch,
      worktree: wt,
      draft: accepted,
      trailers: {
        "Moss-Verdict": "accepted",
        ...judgementTrailers(accepted.judgement!),
        "Moss-Models": modelsTrailer(ctx.modelNames),
        "Moss-Cost-Usd": accepted.costUsd.toFixed(4),
      },
      policy: ctx.policy,
    });
    if (!promoted.ok) return await reject(promoted.reason);
    say(`attempt ${attempt} accepted: new head ${promoted.commit.slice(0, 10)}`);
    return { end: "accepted", record: promoted.record, commit: promoted.commit };
  } finally {
    await wt.remove();
  }
}

/** How this home's external patcher is confined (config evolve.patcherEnv, evolve.patcherNetwork). */
const externalSetup = (ctx: CycleContext) => ({
  home: ctx.home,
  sandbox: ctx.sandbox,
  env: ctx.config.evolve.patcherEnv,
  network: ctx.config.evolve.patcherNetwork,
});

/** The mean score of the valid trials (0 when there are none). */
export const meanScore = (trials: Trial[]) => {
  const valid = trials.filter((t) => !t.error);
  return valid.length ? valid.reduce((a, t) => a + t.score, 0) / valid.length : 0;
};
