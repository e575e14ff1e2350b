import { appendFileSync } from "node:fs";
import { type AgentRunResult, runAgentProcess } from "../agent-host/agent-process.ts";
import type { Price } from "../config/config-schema.ts";
import type { AgentLimits, Usage } from "../contract/index.ts";
import { type CheckResult, runCheck } from "../evaluate/check-command.ts";
import { judgeRubric, type Verdict } from "../evaluate/judge.ts";
import { type Score, scoreAttempt } from "../evaluate/score.ts";
import { makeTempDir, removeTree } from "../git/temp-dirs.ts";
import { failureLabel } from "../models/model-failure.ts";
import type { Provider } from "../models/provider.ts";
import type { SandboxLimits } from "../sandbox/limits.ts";
import { attachSharedDeps, detachSharedDeps, type SharedDeps } from "../sandbox/shared-deps.ts";
import { diffAgainstSnapshot, materializeSnapshot, type SnapshotRef } from "../workspace/snapshot.ts";
import type { TreeDiff } from "../workspace/tree-diff.ts";
import { type Baseline, runBaseline } from "./baseline.ts";
import { type RoleFailure, watchProvider } from "./model-watch.ts";

export interface AttemptInput {
  agentDir: string;
  snapshot: SnapshotRef;
  task: string;
  check: string | null;
  rubric: string | null;
  threshold: number;
  limits: AgentLimits;
  /** The executor's price and the cost budget of the agent's model calls (the harness enforces it). */
  price?: Price;
  costBudgetUsd?: number;
  checkTimeoutMs: number;
  executor: Provider;
  judge?: () => Provider;
  /** Also run the check on the untouched snapshot, beside the agent (the run's score before). */
  baseline?: boolean;
  /** JSONL transcript of events and model exchanges; omitted for silent replays. */
  transcript?: string;
  signal?: AbortSignal;
  /** Keep the scratch copy (the caller applies it, then calls `release`). */
  keepScratch?: boolean;
  onEvent?: (line: Record<string, unknown>) => void;
  sandbox: SandboxLimits | null;
  /** The workspace's installed dependencies, visible read-only in the scratch copy. */
  sharedDeps?: SharedDeps;
}

export interface AttemptResult {
  agent: AgentRunResult;
  check?: CheckResult;
  verdict?: Verdict;
  judgeError?: string;
  score: Score;
  diff: TreeDiff;
  scratch: string | null;
  /** With keepScratch: a folder holding the snapshot's version of each changed path (for apply-back). */
  before: string | null;
  /** With keepScratch: removes the scratch copy and `before`. */
  release: () => void;
  timings: Record<string, number>;
  /** The check on the untouched snapshot, when asked for and a check was given. */
  baseline?: Baseline;
  /** A model-service failure (see isServiceFailure) the executor or judge hit; unset on a pass. */
  modelFailure?: RoleFailure;
  /** The judge's tokens in this attempt (the executor's are agent.usage). */
  judgeUsage?: Usage;
}

/**
 * One attempt: materialize the snapshot in a scratch folder, run the agent there in its own
 * process (and, when asked, the check on a second untouched copy beside it), then check, judge
 * and score the result. The snapshot itself is never written. When the baseline shows the check
 * cannot run, the agent is stopped and nothing is scored (`baseline.unrunnable`).
 */
export async function runAttempt(input: AttemptInput): Promise<AttemptResult> {
  const timings: Record<string, number> = {};
  const scratch = makeTempDir("scratch");
  const log = (entry: Record<string, unknown>) => {
    const line = { t: new Date().toISOString(), ...entry };
    if (input.transcript) appendFileSync(input.transcript, `${JSON.stringify(line)}\n`);
    input.onEvent?.(line);
  };
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  input.signal?.addEventListener("abort", onAbort, { once: true });
  if (input.signal?.aborted) stop.abort();
  const executor = watchProvider("executor", input.executor);
  const judge = input.judge && input.rubric ? watchProvider("judge", input.judge()) : undefined;
  let disposeBefore = () => {};
  try {
    let t = Date.now();
    materializeSnapshot(input.snapshot, scratch);
    const shared = attachSharedDeps(scratch, input.sharedDeps, input.sandbox !== null);
    timings.scratchMs = Date.now() - t;
    t = Date.now();
    log({ type: "task", task: input.task, agentDir: input.agentDir });
    // The baseline's own copy and check start once the agent is up (or gone): on a small machine
    // they would otherwise compete with the agent's start and delay its first model call.
    let baselineRun: Promise<Baseline | undefined> | undefined;
    const startBaseline = () => {
      if (baselineRun || !input.baseline || !input.check) return;
      baselineRun = runBaseline({
        snapshot: input.snapshot,
        check: input.check,
        threshold: input.threshold,
        timeoutMs: input.checkTimeoutMs,
        sandbox: input.sandbox,
        ...(input.sharedDeps ? { sharedDeps: input.sharedDeps } : {}),
        ...(input.signal ? { signal: input.signal } : {}),
      }).then(
        (b) => {
          log({ type: "baseline", ...b });
          if (b.unrunnable) stop.abort();
          return b;
        },
        // The harness could not set it up: no score before, the run goes on.
        (err: Error) => {
          log({ type: "baseline", error: err.message });
          return undefined;
        },
      );
    };
    const agentRun = runAgentProcess({
      agentDir: input.agentDir,
      workspace: scratch,
      task: input.task,
      limits: input.limits,
      ...(input.price ? { price: input.price } : {}),
      ...(input.costBudgetUsd !== undefined ? { costBudgetUsd: input.costBudgetUsd } : {}),
      provider: executor.provider,
      sandbox: input.sandbox,
      shared,
      signal: stop.signal,
      onReady: startBaseline,
      onEvent: (event) => log({ ...event }),
      onExchange: (request, turn, ms) =>
        log({ type: "model_exchange", messages: request.messages.length, turn, ms }),
    });
    let agent = await agentRun;
    timings.agentMs = Date.now() - t;
    startBaseline();
    log({ type: "agent_exit", exitReason: agent.exitReason, detail: agent.detail, stderr: agent.stderrTail });
    // An interrupted baseline was killed: it says nothing about the check.
    const finished = baselineRun ? await baselineRun : undefined;
    const baseline = input.signal?.aborted ? undefined : finished;
    if (baseline) timings.baselineMs = baseline.ms;
    const scoreIt = agent.exitReason !== "aborted" && !baseline?.unrunnable;

    t = Date.now();
    const check =
      input.check && scoreIt
        ? await runCheck(input.check, scratch, input.checkTimeoutMs, input.sandbox, shared)
        : undefined;
    timings.checkMs = Date.now() - t;
    if (check)
      log({
        type: "check",
        exitCode: check.exitCode,
        counts: check.counts,
        output: check.output.slice(-4000),
      });

    detachSharedDeps(scratch, input.sharedDeps);
    t = Date.now();
    let changed: ReturnType<typeof diffAgainstSnapshot>;
    try {
      changed = diffAgainstSnapshot(input.snapshot, scratch);
    } catch (err) {
      // What the agent left cannot be read back (a listing past its cap, paths past PATH_MAX):
      // nothing of it is applied, and the run ends on the agent's account with a record.
      changed = { diff: { changes: [], patch: "" }, before: scratch, dispose: () => {} };
      agent = {
        ...agent,
        exitReason: "sandbox_limit",
        detail: `the agent left a workspace moss cannot read back: ${(err as Error).message.slice(0, 300)}`,
      };
    }
    timings.diffMs = Date.now() - t;
    disposeBefore = changed.dispose;
    const diff = changed.diff;
    let verdict: Verdict | undefined;
    let judgeError: string | undefined;
    if (judge && scoreIt) {
      t = Date.now();
      try {
        verdict = await judgeRubric(judge.provider, {
          task: input.task,
          rubric: input.rubric!,
          diff: diff.patch,
          ...(check ? { checkOutput: check.output } : {}),
        });
      } catch (err) {
        judgeError = (err as Error).message;
      }
      timings.judgeMs = Date.now() - t;
    }
    let score = scoreAttempt({
      ...(check ? { check } : {}),
      ...(verdict ? { verdict } : {}),
      exitReason: agent.exitReason,
      threshold: input.threshold,
    });
    if (judgeError) score.rationale.push(`judge failed: ${judgeError}`);
    // A rubric was asked for: without its verdict the attempt does not pass on the check alone,
    // and a judge that gave none (an outage, no submit_verdict, an invalid verdict) is the model's
    // failure, never the agent's.
    const noVerdict = judge && scoreIt && !verdict;
    if (noVerdict) score = { ...score, passed: false };
    const judgeFailure: RoleFailure | null =
      judge?.failure() ??
      (noVerdict
        ? { role: "judge", kind: "other", message: judgeError ?? "the judge gave no verdict" }
        : null);
    // A run the model service broke (after the SDK's retries) is the service's failure: it ends
    // as model_error whatever the agent reported, unless it passed anyway; so is a stalled call
    // the wall clock caught.
    const stalled: RoleFailure | null = agent.stalledCall
      ? { role: "executor", kind: "timeout", message: agent.detail ?? "a model call stalled" }
      : null;
    const failure = executor.failure() ?? stalled ?? judgeFailure;
    const modelFailure = failure && (!score.passed || judgeFailure) ? failure : undefined;
    if (modelFailure) {
      agent = {
        ...agent,
        exitReason: "model_error",
        detail: `${modelFailure.role} model ${failureLabel(modelFailure)}: ${modelFailure.message}`,
      };
      score = scoreAttempt({
        ...(check ? { check } : {}),
        exitReason: "model_error",
        threshold: input.threshold,
      });
      score.rationale.push(`the ${modelFailure.role} model failed: ${failureLabel(modelFailure)}`);
    }
    log({ type: "score", score: score.score, passed: score.passed, rationale: score.rationale });
    return {
      agent,
      ...(check ? { check } : {}),
      ...(verdict ? { verdict } : {}),
      ...(judgeError ? { judgeError } : {}),
      score,
      diff,
      scratch: input.keepScratch ? scratch : null,
      before: input.keepScratch ? changed.before : null,
      release: () => {
        removeTree(scratch);
        changed.dispose();
      },
      timings,
      ...(baseline ? { baseline } : {}),
      ...(modelFailure ? { modelFailure } : {}),
      ...(judge ? { judgeUsage: judge.usage() } : {}),
    };
  } finally {
    input.signal?.removeEventListener("abort", onAbort);
    if (!input.keepScratch) {
      removeTree(scratch);
      disposeBefore();
    }
  }
}
