import { type ChildProcess, spawn } from "node:child_process";
import { realpathSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { Price } from "../config/config-schema.ts";
import {
  type AgentEvent,
  AgentExitReasonSchema,
  type AgentLimits,
  type AgentResult,
  type AgentToHarness,
  AgentToHarnessSchema,
  type HarnessToAgent,
  type ModelRequest,
  type ModelTurn,
  WIRE_CAPS,
} from "../contract/index.ts";
import type { Provider } from "../models/provider.ts";
import type { SandboxLimits } from "../sandbox/limits.ts";
import { prepareSandboxed, type WrappedProcess } from "../sandbox/run-sandboxed.ts";
import type { SharedMount } from "../sandbox/sandbox.ts";
import { createCallLimits } from "./call-limits.ts";
import { execOnlyNode } from "./exec-only-node.ts";
import { readBoundedLines } from "./line-reader.ts";

/** The limits moved to src/sandbox/limits.ts; re-exported for code written against the old place. */
export type { SandboxLimits } from "../sandbox/limits.ts";

export interface AgentRunOptions {
  /** A checkout holding agent-src/ (the home, or a candidate worktree). */
  agentDir: string;
  workspace: string;
  task: string;
  limits: AgentLimits;
  provider: Provider;
  onEvent?: (event: AgentEvent) => void;
  onExchange?: (request: ModelRequest, turn: ModelTurn, ms: number) => void;
  signal?: AbortSignal;
  /** Called once when the agent has started (sent `ready`). */
  onReady?: () => void;
  /** Time allowed from spawn to the child's `ready`. */
  startTimeoutMs?: number;
  /** Extra time past the wall clock before the harness kills the child. */
  graceMs?: number;
  /** Run inside a bubblewrap sandbox with these limits; null runs the agent unsandboxed. */
  sandbox?: SandboxLimits | null;
  /** Installed dependency folders shown read-only in the workspace (see shared-deps.ts). */
  shared?: SharedMount[];
  /** The executor's price and a cost budget: the harness refuses calls past it. */
  price?: Price;
  costBudgetUsd?: number;
  /** Most bytes the agent may write on the channel (default WIRE_CAPS.totalBytes). */
  maxChannelBytes?: number;
}

export interface AgentRunResult extends AgentResult {
  stderrTail: string;
  ms: number;
  /** The wall clock ran out while the harness was waiting on a model call: the model's delay, not the agent's. */
  stalledCall?: boolean;
}

const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
const GRACE_MS = 15_000;
/** How long a run that has ended waits for a model call in flight before aborting it. */
const IN_FLIGHT_GRACE_MS = 5_000;
/** The harness's own node_modules (tsx and the agent's dependencies), mounted read-only. */
const harnessModules = realpathSync(
  path.join(path.dirname(createRequire(import.meta.url).resolve("tsx")), "..", ".."),
);

/**
 * Runs the agent from `agentDir` in a child process and serves its model calls. Resolves with a
 * result in every case: a crash, a hang, garbage on the channel or an abort is a failed attempt
 * with a reason, never an exception in the harness.
 *
 * The channel is untrusted (any process in the sandbox might write on it): lines are read within
 * WIRE_CAPS, every message is schema-checked, and a violation ends the run as `protocol_error`.
 * Turns, tokens, cost, `maxTokens`, the wall clock and the exit reason are the harness's own
 * (see call-limits.ts).
 */
export function runAgentProcess(opts: AgentRunOptions): Promise<AgentRunResult> {
  const started = Date.now();
  const argv = ["--import", tsxLoader, path.join(opts.agentDir, "agent-src", "main.ts")];
  const launch = sandboxed(opts, argv, agentNode());
  const child = spawn(launch.command, launch.args, {
    cwd: launch.cwd,
    env: launch.env,
    stdio: ["pipe", "pipe", "pipe"],
    detached: true,
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-8000);
  });
  const calls = createCallLimits({
    limits: opts.limits,
    ...(opts.price ? { price: opts.price } : {}),
    ...(opts.costBudgetUsd !== undefined ? { costBudgetUsd: opts.costBudgetUsd } : {}),
  });
  let ready = false;

  return new Promise<AgentRunResult>((resolve) => {
    let settled = false;
    /** Model calls the harness is making for the agent, aborted when the run ends (or is aborted). */
    const inFlight = new Set<Promise<void>>();
    const calling = new AbortController();
    const stopCalls = () => calling.abort();
    opts.signal?.addEventListener("abort", stopCalls, { once: true });
    const finish = (result: AgentResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(startTimer);
      clearTimeout(wallTimer);
      stopWatch();
      opts.signal?.removeEventListener("abort", onAbort);
      opts.signal?.removeEventListener("abort", stopCalls);
      // A call still in flight is waited for a few seconds (its usage counts), then aborted: a
      // reply trickling in must not hold the run open.
      const giveUp = setTimeout(() => calling.abort(), IN_FLIGHT_GRACE_MS);
      killTree(child);
      launch.dispose();
      // Calls the harness made still count, whatever ended the run: wait for those in flight, then
      // report the usage of every call made (not the count at the moment the run ended).
      void Promise.allSettled(inFlight).then(() => {
        clearTimeout(giveUp);
        resolve({
          ...result,
          usage: calls.usage,
          stderrTail: stderr.trim().split("\n").slice(-20).join("\n"),
          ms: Date.now() - started,
          ...(stalledCall ? { stalledCall } : {}),
        });
      });
    };
    const fail = (exitReason: AgentResult["exitReason"], detail: string) =>
      finish({ exitReason, turns: calls.turns, usage: calls.usage, finalText: "", detail });
    const send = (msg: HarnessToAgent) => {
      if (child.stdin?.writable) child.stdin.write(`${JSON.stringify(msg)}\n`);
    };

    const startTimer = setTimeout(
      () => fail("agent_hang", `the agent did not start within ${opts.startTimeoutMs ?? 20_000} ms`),
      opts.startTimeoutMs ?? 20_000,
    );
    let stalledCall = false;
    const wallTimer = setTimeout(
      () => {
        if (inFlight.size > 0) {
          stalledCall = true;
          return fail(
            "model_error",
            `the wall clock (${opts.limits.wallClockMs} ms) ran out while a model call was still waiting for its reply`,
          );
        }
        fail(
          "agent_hang",
          `the agent ran past its wall clock (${opts.limits.wallClockMs} ms) and was killed`,
        );
      },
      opts.limits.wallClockMs + (opts.graceMs ?? GRACE_MS),
    );
    const stopWatch = child.pid
      ? launch.watch(child.pid, (why) => fail("sandbox_limit", `the agent ${why} and was killed`))
      : () => {};
    const onAbort = () => fail("aborted", "interrupted");
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    if (opts.signal?.aborted) onAbort();

    child.on("error", (err) => fail("agent_crash", `could not start the agent: ${err.message}`));
    child.on("exit", (code, sig) => {
      const crash = () =>
        fail(
          "agent_crash",
          `the agent process exited (${sig ? `signal ${sig}` : `code ${code}`}) before finishing`,
        );
      // Let the line reader drain a final `done` before deciding this was a crash: on a loaded
      // machine its bytes can still be in the pipe when `exit` fires (a grandchild holding the
      // pipe open cannot stall this past a few seconds).
      const out = child.stdout;
      if (!out || out.readableEnded) return void setImmediate(crash);
      const cap = setTimeout(crash, 3000);
      out.once("end", () => {
        clearTimeout(cap);
        setImmediate(crash);
      });
    });
    child.stdin?.on("error", () => {});

    const serve = async (id: number, request: ModelRequest) => {
      const t0 = Date.now();
      const turn = await opts.provider.complete(request, calling.signal);
      calls.record(turn);
      if (settled) return;
      opts.onExchange?.(request, turn, Date.now() - t0);
      send({ type: "model_response", id, turn });
    };
    const onMessage = (msg: AgentToHarness) => {
      if (msg.type === "ready") {
        if (ready) return fail("protocol_error", "the agent sent `ready` twice");
        ready = true;
        clearTimeout(startTimer);
        calls.start();
        send({ type: "start", task: opts.task, limits: opts.limits });
        opts.onReady?.();
      } else if (!ready) {
        fail("protocol_error", `the agent sent \`${msg.type}\` before \`ready\``);
      } else if (msg.type === "event") {
        opts.onEvent?.(msg.event);
      } else if (msg.type === "model_request") {
        const admitted = calls.admit(msg.request);
        if (admitted.kind === "violation") return fail("protocol_error", admitted.detail);
        if (admitted.kind === "refuse") return fail(admitted.exitReason, admitted.detail);
        const call = serve(msg.id, admitted.request);
        inFlight.add(call);
        void call.finally(() => inFlight.delete(call));
      } else if (msg.type === "done") {
        if (!AgentExitReasonSchema.safeParse(msg.result.exitReason).success)
          return fail(
            "protocol_error",
            `the agent reported ${msg.result.exitReason}, a reason only the harness gives`,
          );
        finish(calls.settle(msg.result));
      }
    };
    readBoundedLines(
      child.stdout!,
      { maxLineBytes: WIRE_CAPS.lineBytes, maxTotalBytes: opts.maxChannelBytes ?? WIRE_CAPS.totalBytes },
      (line) => {
        if (settled || !line.trim()) return;
        const parsed = parseLine(line);
        if (typeof parsed === "string") return fail("protocol_error", parsed);
        onMessage(parsed);
      },
      (why) => fail("protocol_error", why),
    );
  });
}

/** The agent sees its agent-src and contract read-only, its workspace read-write, nothing else. */
function sandboxed(opts: AgentRunOptions, argv: string[], node: string): WrappedProcess {
  return prepareSandboxed({
    command: node,
    args: argv,
    cwd: opts.workspace,
    env: { kind: "agent" },
    readOnly: [
      path.join(opts.agentDir, "agent-src"),
      path.join(opts.agentDir, "src", "contract"),
      path.join(opts.agentDir, "package.json"),
      path.join(opts.agentDir, "node_modules"),
      harnessModules,
      path.dirname(node),
    ],
    writable: [opts.workspace],
    shared: opts.shared ?? [],
    limits: opts.sandbox ?? null,
  });
}

/** A checked message, or why the line is not one (quoting the start of the line). */
function parseLine(line: string): AgentToHarness | string {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return `the agent wrote something that is not protocol: ${line.slice(0, 200)}`;
  }
  const parsed = AgentToHarnessSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  return `the agent sent a message that breaks the protocol (${issue?.path.join(".") || "message"}: ${issue?.message}): ${line.slice(0, 200)}`;
}

let nodeBinary: string | undefined;
/** The exec-only node (see exec-only-node.ts), made once per process; else this node. */
function agentNode(): string {
  nodeBinary ??= execOnlyNode() ?? process.execPath;
  return nodeBinary;
}

function killTree(child: ChildProcess): void {
  try {
    if (child.pid) process.kill(-child.pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}
