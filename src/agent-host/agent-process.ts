import { type ChildProcess, spawn } from "node:child_process";
import { realpathSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import {
  type AgentEvent,
  type AgentLimits,
  type AgentResult,
  type AgentToHarness,
  AgentToHarnessSchema,
  addUsage,
  emptyUsage,
  type HarnessToAgent,
  type ModelRequest,
  type ModelTurn,
  type Usage,
} from "../contract/index.ts";
import type { Provider } from "../models/provider.ts";
import type { SandboxLimits } from "../sandbox/limits.ts";
import { prepareSandboxed, type WrappedProcess } from "../sandbox/run-sandboxed.ts";
import type { SharedMount } from "../sandbox/sandbox.ts";

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
  /** Time allowed from spawn to the child's `ready`. */
  startTimeoutMs?: number;
  /** Extra time past the wall clock before the harness kills the child. */
  graceMs?: number;
  /** Run inside a bubblewrap sandbox with these limits; null runs the agent unsandboxed. */
  sandbox?: SandboxLimits | null;
  /** Installed dependency folders shown read-only in the workspace (see shared-deps.ts). */
  shared?: SharedMount[];
}

export interface AgentRunResult extends AgentResult {
  stderrTail: string;
  ms: number;
}

const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
const GRACE_MS = 15_000;
/** The harness's own node_modules (tsx and the agent's dependencies), mounted read-only. */
const harnessModules = realpathSync(
  path.join(path.dirname(createRequire(import.meta.url).resolve("tsx")), "..", ".."),
);

/**
 * Runs the agent from `agentDir` in a child process and serves its model calls. Resolves with a
 * result in every case: a crash, a hang, garbage on the channel or an abort is a failed attempt
 * with a reason, never an exception in the harness.
 */
export function runAgentProcess(opts: AgentRunOptions): Promise<AgentRunResult> {
  const started = Date.now();
  const argv = ["--import", tsxLoader, path.join(opts.agentDir, "agent-src", "main.ts")];
  const launch = sandboxed(opts, argv);
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
  let usage: Usage = emptyUsage();
  let turns = 0;
  let refused = false;

  return new Promise<AgentRunResult>((resolve) => {
    let settled = false;
    const finish = (result: AgentResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(startTimer);
      clearTimeout(wallTimer);
      stopWatch();
      opts.signal?.removeEventListener("abort", onAbort);
      killTree(child);
      launch.dispose();
      resolve({
        ...result,
        stderrTail: stderr.trim().split("\n").slice(-20).join("\n"),
        ms: Date.now() - started,
      });
    };
    const fail = (exitReason: AgentResult["exitReason"], detail: string) =>
      finish({ exitReason, turns, usage, finalText: "", detail });
    const send = (msg: HarnessToAgent) => {
      if (child.stdin?.writable) child.stdin.write(`${JSON.stringify(msg)}\n`);
    };

    const startTimer = setTimeout(
      () => fail("agent_hang", `the agent did not start within ${opts.startTimeoutMs ?? 20_000} ms`),
      opts.startTimeoutMs ?? 20_000,
    );
    const wallTimer = setTimeout(
      () =>
        fail(
          "agent_hang",
          `the agent ran past its wall clock (${opts.limits.wallClockMs} ms) and was killed`,
        ),
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
      // Let the line reader drain a final `done` before deciding this was a crash.
      setImmediate(() =>
        fail(
          "agent_crash",
          `the agent process exited (${sig ? `signal ${sig}` : `code ${code}`}) before finishing`,
        ),
      );
    });
    child.stdin?.on("error", () => {});

    const lines = createInterface({ input: child.stdout! });
    lines.on("line", async (line) => {
      if (settled || !line.trim()) return;
      const msg = parseLine(line);
      if (!msg)
        return fail(
          "protocol_error",
          `the agent wrote something that is not protocol: ${line.slice(0, 200)}`,
        );
      if (msg.type === "ready") {
        clearTimeout(startTimer);
        send({ type: "start", task: opts.task, limits: opts.limits });
      } else if (msg.type === "event") {
        opts.onEvent?.(msg.event);
      } else if (msg.type === "model_request") {
        turns++;
        const t0 = Date.now();
        refused ||= !budgetLeft(usage, opts.limits);
        const turn = refused ? refusal(opts.limits) : await opts.provider.complete(msg.request, opts.signal);
        usage = addUsage(usage, turn.usage);
        opts.onExchange?.(msg.request, turn, Date.now() - t0);
        send({ type: "model_response", id: msg.id, turn });
      } else if (msg.type === "done") {
        // The harness's own token count is the one that is trusted.
        const exitReason = refused ? "budget_exhausted" : msg.result.exitReason;
        finish({ ...msg.result, exitReason, usage });
      }
    });
  });
}

/** The agent sees its agent-src and contract read-only, its workspace read-write, nothing else. */
function sandboxed(opts: AgentRunOptions, argv: string[]): WrappedProcess {
  return prepareSandboxed({
    command: process.execPath,
    args: argv,
    cwd: opts.workspace,
    env: { kind: "agent" },
    readOnly: [
      path.join(opts.agentDir, "agent-src"),
      path.join(opts.agentDir, "src", "contract"),
      path.join(opts.agentDir, "package.json"),
      path.join(opts.agentDir, "node_modules"),
      harnessModules,
    ],
    writable: [opts.workspace],
    shared: opts.shared ?? [],
    limits: opts.sandbox ?? null,
  });
}

function parseLine(line: string): AgentToHarness | null {
  try {
    const parsed = AgentToHarnessSchema.safeParse(JSON.parse(line));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

const budgetLeft = (u: Usage, limits: AgentLimits) =>
  u.inputTokens + u.outputTokens + u.cacheReadTokens + u.cacheWriteTokens < limits.tokenBudget;

const refusal = (limits: AgentLimits): ModelTurn => ({
  content: [],
  stopReason: "error",
  usage: emptyUsage(),
  error: `token budget exhausted (${limits.tokenBudget} tokens); the harness refused the call`,
});

function killTree(child: ChildProcess): void {
  try {
    if (child.pid) process.kill(-child.pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}
