import type { Config } from "../config/config-schema.ts";
import { assertAgentSrcClean, headBranch, readRef } from "../git/ratchet.ts";
import { createWorktree } from "../git/worktree.ts";
import { appendRecord } from "../log/evolution-log.ts";
import type { EvolutionRecord, GateResult, ScopeResult } from "../log/evolution-record.ts";
import { withHomeLock } from "../log/home-lock.ts";
import type { ModelRegistry } from "../models/model-registry.ts";
import type { RunRecord } from "../run/run-record.ts";
import type { SandboxLimits } from "../sandbox/limits.ts";
import { candidatePolicy, checkCandidate } from "./check/candidate-policy.ts";
import { taskFileNames } from "./check/task-file-names.ts";
import { mean, regressionSuite, replayRun } from "./judge/replay.ts";
import { savePending } from "./land/candidates.ts";
import { promoteCandidate } from "./land/promote.ts";
import { type RecordDraft, recordDraft } from "./land/record-draft.ts";
import { modelsTrailer } from "./land/trailers.ts";
import { agentSourceListing, buildEvidence } from "./propose/evidence.ts";
import { diagnose, formatDiagnosis } from "./propose/patcher.ts";
import { DEPTHS, type Depth, type Diagnosis } from "./propose/patcher-schemas.ts";
import { proposeCandidate } from "./propose/propose-candidate.ts";
import { meterUsage } from "./usage-meter.ts";

/** What the user decides on: the diff, the scores, and the scope's review notes (test and instruction changes, flags). */
export type Consent = (summary: {
  diff: string;
  before: number;
  after: number[];
  scope?: ScopeResult | null;
  gate?: GateResult | null;
}) => Promise<boolean>;

export interface EvolveInput {
  home: string;
  run: RunRecord;
  config: Config;
  models: ModelRegistry;
  depth: Depth;
  /** Replay trials per candidate; the depth's default when omitted. */
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
}

/**
 * One evolution cycle for a failed run: diagnose, then up to the depth's attempts of
 * propose (plan, review, patch) -> check (scope, gate) -> judge (replay, regression) -> land
 * (promote, or keep pending consent). Every attempt leaves a log record.
 */
export async function evolve(input: EvolveInput): Promise<EvolveOutcome> {
  const { home, run, config, models } = input;
  const say = input.say ?? (() => {});
  const depth = { ...DEPTHS[input.depth], ...(input.trials ? { trials: input.trials } : {}) };
  await assertAgentSrcClean(home);
  const branch = await headBranch(home);
  const parent = await readRef(home, branch);
  const evidence = buildEvidence(home, run);
  const source = agentSourceListing(home);
  const policy = candidatePolicy(config, input.sandbox, taskFileNames(run.snapshot), {
    testChanges: input.personConsents,
  });
  const outcome: EvolveOutcome = { records: [], accepted: null, pending: null };
  const feedback: string[] = [];
  const modelNames = {
    patcher: input.patcherCmd ? `external: ${input.patcherCmd}` : config.models.patcher.model,
    executor: config.models.executor.model,
  };

  // An interrupt (Ctrl-C, SIGTERM) is recorded as `interrupted` at whatever stage it lands: what
  // failed then failed because it was stopped, so it never counts as a rejection or feedback.
  let stage = "diagnosing the failure";
  const interruption = () =>
    `interrupted (${String(input.signal?.reason ?? "aborted")}) while ${stage}; the candidate was not judged`;

  let diagnosis: Diagnosis | null = null;
  if (!input.patcherCmd) {
    say("diagnosing the failure…");
    try {
      diagnosis = await diagnose(models.for("patcher"), evidence, source);
    } catch (err) {
      if (!input.signal?.aborted) throw err;
      const draft = recordDraft({
        kind: "evolution",
        task: run.task,
        runId: run.runId,
        triggerScore: run.score,
        attempt: 1,
        diagnosis: null,
        rationale: interruption(),
        verdict: "interrupted",
        reason: interruption(),
        parentCommit: parent,
        models: modelNames,
      });
      const entry = await withHomeLock(home, async () => appendRecord(home, draft));
      outcome.records.push(entry.record);
      return outcome;
    }
    say(`diagnosis: ${diagnosis.rootCause}`);
  }

  for (let attempt = 1; attempt <= depth.attempts && !input.signal?.aborted; attempt++) {
    const t0 = Date.now();
    const usage = meterUsage(models);
    const timings: Record<string, number> = {};
    // What this attempt has established so far; each stage fills in its part.
    let draft: RecordDraft = recordDraft({
      kind: "evolution",
      task: run.task,
      runId: run.runId,
      triggerScore: run.score,
      attempt,
      diagnosis: diagnosis ? formatDiagnosis(diagnosis) : null,
      rationale: "",
      verdict: "rejected",
      reason: "",
      parentCommit: parent,
      models: modelNames,
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
    const log = async (verdict: EvolutionRecord["verdict"], reason: string) => {
      const entry = await withHomeLock(home, async () => appendRecord(home, finish(verdict, reason)));
      outcome.records.push(entry.record);
    };
    const reject = async (reason: string) => {
      if (input.signal?.aborted) {
        say(`attempt ${attempt} ${interruption()}`);
        await log("interrupted", interruption());
        return;
      }
      say(`attempt ${attempt} rejected: ${reason}`);
      feedback.push(`attempt ${attempt}: ${reason}`);
      await log("rejected", reason);
    };

    stage = "proposing a patch";
    const wt = await createWorktree(home, parent);
    try {
      // propose
      try {
        const proposal = await proposeCandidate({
          dir: wt.dir,
          evidence,
          source,
          diagnosis,
          feedback,
          reviewRounds: depth.reviewRounds,
          allowPaths: config.evolve.allowPaths,
          models,
          ...(input.patcherCmd ? { patcherCmd: input.patcherCmd, external: externalSetup(input) } : {}),
          timeoutMs: config.evolve.gateTimeoutMs,
          onPlan: (plan) => {
            draft.plan = plan;
          },
        });
        draft = { ...draft, plan: proposal.plan, rationale: proposal.rationale };
        Object.assign(timings, proposal.timings);
      } catch (err) {
        await reject((err as Error).message);
        continue;
      }

      if (input.signal?.aborted) {
        await reject("interrupted while proposing");
        continue;
      }

      // check
      stage = "checking scope and running the gate";
      say(`attempt ${attempt}: scope and gate (typecheck + agent tests)…`);
      let t = Date.now();
      const checked = await checkCandidate(wt.dir, policy);
      draft = { ...draft, diff: checked.diff, scope: checked.scope, gate: checked.gate };
      timings.checkMs = Date.now() - t;
      if (checked.gate) timings.gateMs = checked.gate.ms;
      if (checked.failure) {
        await reject(checked.failure);
        continue;
      }

      // judge
      stage = "replaying the failed task";
      say(`attempt ${attempt}: replaying the failed task on the candidate…`);
      t = Date.now();
      const after = await replayRun(wt.dir, run, config, models, depth.trials, input.sandbox, input.signal);
      draft.replay = { task: run.task, runId: run.runId, before: run.score, after };
      timings.replayMs = Date.now() - t;
      if (!(mean(after) > run.score)) {
        await reject(`replay: the candidate scored ${after.join(", ")}, not above the head's ${run.score}`);
        continue;
      }
      t = Date.now();
      let regressed: string | null = null;
      for (const r of regressionSuite(home, run, config.evolve.regressionLimit)) {
        const scores = await replayRun(wt.dir, r, config, models, 1, input.sandbox, input.signal);
        draft.regression.push({ task: r.task, runId: r.runId, before: r.score, after: scores });
        if (Math.min(...scores) < r.score)
          regressed = `regression: "${r.task}" fell from ${r.score} to ${scores.join(", ")}`;
      }
      timings.regressionMs = Date.now() - t;
      if (regressed) {
        await reject(regressed);
        continue;
      }

      // land: never after an interrupt
      if (input.signal?.aborted) {
        await reject("interrupted before promotion");
        break;
      }
      stage = "asking for consent";
      const decision = input.consent
        ? await input.consent({
            diff: draft.diff,
            before: run.score,
            after,
            scope: draft.scope,
            gate: draft.gate,
          })
        : null;
      if (decision === false) {
        await log("declined", "the user declined the candidate");
        break;
      }
      if (decision === null) {
        const pending = finish(
          "pending",
          `passed every check; awaiting consent: run \`moss apply ${draft.id}\` to promote it`,
        );
        const entry = await withHomeLock(home, async () => {
          savePending(home, {
            id: draft.id,
            diff: draft.diff,
            parentCommit: parent,
            task: run.task,
            runId: run.runId,
            before: run.score,
            after,
          });
          return appendRecord(home, pending);
        });
        outcome.records.push(entry.record);
        outcome.pending = draft.id;
        say(`candidate ${draft.id} passed every check; promote it with: moss apply ${draft.id}`);
        break;
      }
      const accepted = finish(
        "accepted",
        `gate passed (${checked.gate?.summary}); replay ${run.score} -> ${after.join(", ")}`,
      );
      const promoted = await promoteCandidate({
        home,
        branch,
        worktree: wt,
        draft: accepted,
        trailers: {
          "Moss-Verdict": "accepted",
          "Moss-Score-Before": String(run.score),
          "Moss-Score-After": after.join(","),
          "Moss-Models": modelsTrailer(modelNames),
          "Moss-Cost-Usd": accepted.costUsd.toFixed(4),
        },
        policy,
      });
      if (!promoted.ok) {
        await reject(promoted.reason);
        continue;
      }
      outcome.records.push(promoted.record);
      outcome.accepted = { id: draft.id, commit: promoted.commit };
      say(`attempt ${attempt} accepted: new head ${promoted.commit.slice(0, 10)}`);
      break;
    } finally {
      await wt.remove();
    }
  }
  return outcome;
}

/** How this home's external patcher is confined (config evolve.patcherEnv, evolve.patcherNetwork). */
const externalSetup = (input: EvolveInput) => ({
  home: input.home,
  sandbox: input.sandbox,
  env: input.config.evolve.patcherEnv,
  network: input.config.evolve.patcherNetwork,
});
