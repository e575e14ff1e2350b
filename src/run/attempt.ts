import { appendFileSync, rmSync } from "node:fs";
import { type AgentRunResult, runAgentProcess } from "../agent-host/agent-process.ts";
import type { AgentLimits } from "../contract/index.ts";
import { type CheckResult, runCheck } from "../evaluate/check-command.ts";
import { judgeRubric, type Verdict } from "../evaluate/judge.ts";
import { type Score, scoreAttempt } from "../evaluate/score.ts";
import { makeTempDir } from "../git/temp-dirs.ts";
import type { Provider } from "../models/provider.ts";
import type { SandboxLimits } from "../sandbox/limits.ts";
import { attachSharedDeps, detachSharedDeps, type SharedDeps } from "../sandbox/shared-deps.ts";
import { listWorkspaceFiles } from "../workspace/file-list.ts";
import { copyTree } from "../workspace/snapshot.ts";
import { diffTrees, type TreeDiff } from "../workspace/tree-diff.ts";

export interface AttemptInput {
  agentDir: string;
  snapshot: string;
  task: string;
  check: string | null;
  rubric: string | null;
  threshold: number;
  limits: AgentLimits;
  checkTimeoutMs: number;
  executor: Provider;
  judge?: () => Provider;
  /** JSONL transcript of events and model exchanges; omitted for silent replays. */
  transcript?: string;
  signal?: AbortSignal;
  /** Keep the scratch copy (the caller applies it, then removes it). */
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
  timings: Record<string, number>;
}

/**
 * One attempt: copy the snapshot to a scratch folder, run the agent there in its own process,
 * then check, judge and score the result. The snapshot itself is never written.
 */
export async function runAttempt(input: AttemptInput): Promise<AttemptResult> {
  const timings: Record<string, number> = {};
  const scratch = makeTempDir("scratch");
  const log = (entry: Record<string, unknown>) => {
    const line = { t: new Date().toISOString(), ...entry };
    if (input.transcript) appendFileSync(input.transcript, `${JSON.stringify(line)}\n`);
    input.onEvent?.(line);
  };
  try {
    let t = Date.now();
    copyTree(input.snapshot, scratch, listWorkspaceFiles(input.snapshot));
    const shared = attachSharedDeps(scratch, input.sharedDeps, input.sandbox !== null);
    timings.scratchMs = Date.now() - t;
    t = Date.now();
    log({ type: "task", task: input.task, agentDir: input.agentDir });
    const agent = await runAgentProcess({
      agentDir: input.agentDir,
      workspace: scratch,
      task: input.task,
      limits: input.limits,
      provider: input.executor,
      sandbox: input.sandbox,
      shared,
      ...(input.signal ? { signal: input.signal } : {}),
      onEvent: (event) => log({ ...event }),
      onExchange: (request, turn, ms) =>
        log({ type: "model_exchange", messages: request.messages.length, turn, ms }),
    });
    timings.agentMs = Date.now() - t;
    log({ type: "agent_exit", exitReason: agent.exitReason, detail: agent.detail, stderr: agent.stderrTail });

    t = Date.now();
    const check =
      input.check && agent.exitReason !== "aborted"
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
    const diff = diffTrees(input.snapshot, scratch);
    let verdict: Verdict | undefined;
    let judgeError: string | undefined;
    if (input.rubric && input.judge && agent.exitReason !== "aborted") {
      t = Date.now();
      try {
        verdict = await judgeRubric(input.judge(), {
          task: input.task,
          rubric: input.rubric,
          diff: diff.patch,
          ...(check ? { checkOutput: check.output } : {}),
        });
      } catch (err) {
        judgeError = (err as Error).message;
      }
      timings.judgeMs = Date.now() - t;
    }
    const score = scoreAttempt({
      ...(check ? { check } : {}),
      ...(verdict ? { verdict } : {}),
      exitReason: agent.exitReason,
      threshold: input.threshold,
    });
    if (judgeError) score.rationale.push(`judge failed: ${judgeError}`);
    log({ type: "score", score: score.score, passed: score.passed, rationale: score.rationale });
    return {
      agent,
      ...(check ? { check } : {}),
      ...(verdict ? { verdict } : {}),
      ...(judgeError ? { judgeError } : {}),
      score,
      diff,
      scratch: input.keepScratch ? scratch : null,
      timings,
    };
  } finally {
    if (!input.keepScratch) rmSync(scratch, { recursive: true, force: true });
  }
}
