import type { Price } from "../config/config-schema.ts";
import {
  type AgentLimits,
  type AgentResult,
  addUsage,
  type ExitReason,
  emptyUsage,
  type ModelRequest,
  type ModelTurn,
  type Usage,
} from "../contract/index.ts";
import { costUsd } from "../models/pricing.ts";

export interface CallLimitOptions {
  limits: AgentLimits;
  /** The executor's price, for the cost budget (no price: cost counts as 0). */
  price?: Price;
  /** Stop serving calls once the agent's model calls cost this much (USD). */
  costBudgetUsd?: number;
  now?: () => number;
}

/** What the harness does with one model request the agent sent. */
export type Admission =
  | { kind: "serve"; request: ModelRequest }
  | { kind: "refuse"; exitReason: ExitReason; detail: string }
  | { kind: "violation"; detail: string };

/**
 * The harness's own count of an agent's model calls. Nothing the agent reports is believed: the
 * harness counts turns, tokens, cost and time itself, clamps `maxTokens` to the configured output
 * limit, allows one call in flight, and decides the exit reason. A process that hijacks the
 * channel can therefore spend no more than the agent itself could.
 */
export function createCallLimits(opts: CallLimitOptions) {
  const now = opts.now ?? Date.now;
  const { limits } = opts;
  let started = now();
  let turns = 0;
  let usage: Usage = emptyUsage();
  let inFlight = false;
  let lastError: string | null = null;

  const tokens = () =>
    usage.inputTokens + usage.outputTokens + usage.cacheReadTokens + usage.cacheWriteTokens;
  const cost = () => costUsd(usage, opts.price);

  return {
    /** The wall clock counts from the task's start, not from spawn. */
    start(): void {
      started = now();
    },
    get turns() {
      return turns;
    },
    get usage() {
      return usage;
    },

    /** Decides on one request; a served one counts as a turn and must be followed by `record`. */
    admit(request: ModelRequest): Admission {
      if (inFlight)
        return { kind: "violation", detail: "the agent sent a model request while another was in flight" };
      if (turns >= limits.maxTurns)
        return {
          kind: "refuse",
          exitReason: "max_turns",
          detail: `the agent asked for turn ${turns + 1} past its limit of ${limits.maxTurns}; the harness refused it`,
        };
      if (tokens() >= limits.tokenBudget)
        return {
          kind: "refuse",
          exitReason: "budget_exhausted",
          detail: `token budget exhausted (${tokens()} of ${limits.tokenBudget} tokens); the harness refused the call`,
        };
      if (opts.costBudgetUsd !== undefined && cost() >= opts.costBudgetUsd)
        return {
          kind: "refuse",
          exitReason: "budget_exhausted",
          detail: `cost budget exhausted ($${cost().toFixed(4)} of $${opts.costBudgetUsd}); the harness refused the call`,
        };
      if (now() - started > limits.wallClockMs)
        return {
          kind: "refuse",
          exitReason: "timeout",
          detail: `the agent asked for a model call past its wall clock of ${limits.wallClockMs} ms; the harness refused it`,
        };
      turns++;
      inFlight = true;
      return {
        kind: "serve",
        request: { ...request, maxTokens: Math.min(request.maxTokens, limits.maxOutputTokens) },
      };
    },

    /** Counts a served call's usage (a provider's reply, error turns included). */
    record(turn: ModelTurn): void {
      inFlight = false;
      usage = addUsage(usage, turn.usage);
      lastError = turn.stopReason === "error" ? (turn.error ?? "model call failed") : null;
    },

    /**
     * The result of a run the agent ended with `done`: the harness's turns and usage, and the
     * agent's reason only where the harness's own count agrees (a `completed` after a failed model
     * call is a model error, after the wall clock a timeout). The agent's words are kept in `detail`.
     */
    settle(reported: AgentResult): AgentResult {
      let exitReason: ExitReason = reported.exitReason;
      let why = reported.detail;
      if (reported.exitReason === "completed" && lastError !== null) {
        exitReason = "model_error";
        why = `the last model call failed (${lastError}), yet the agent reported completed`;
      } else if (reported.exitReason === "completed" && now() - started > limits.wallClockMs) {
        exitReason = "timeout";
        why = `the agent finished after its wall clock of ${limits.wallClockMs} ms`;
      }
      const detail =
        exitReason === reported.exitReason
          ? reported.detail
          : `${why}; the agent reported ${reported.exitReason}${reported.detail ? ` (${reported.detail})` : ""}`;
      return {
        exitReason,
        turns,
        usage,
        finalText: reported.finalText,
        ...(detail ? { detail } : {}),
      };
    },
  };
}

export type CallLimits = ReturnType<typeof createCallLimits>;
