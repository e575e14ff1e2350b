import type { ChalkInstance } from "chalk";
import type { ModelCallEvent } from "../models/model-registry.ts";
import { safeJson, sanitize } from "./sanitize.ts";

/**
 * How a run shows what happens while it happens:
 * - terminal: one line per step (tool calls, agent text, baseline, check, stages, retries) and a
 *   ticking status line for what is in flight (the model call, the check, an evolution stage);
 * - plain: the same lines without status line, spinner or colors (stderr is not a terminal);
 * - json-stream: every event as one JSON object per line on stdout, the result last;
 * - silent: nothing (--json prints only the final object).
 */
export type ProgressMode = "terminal" | "plain" | "json-stream" | "silent";

export interface Progress {
  /** A line of the attempt's transcript (tool_call, tool_result, assistant_text, baseline, check, ...). */
  event(line: Record<string, unknown>): void;
  model(event: ModelCallEvent): void;
  /** An evolution stage begins (the previous one ends). */
  stage(text: string): void;
  /** The final object (json-stream only; other modes print their own summary). */
  result(value: Record<string, unknown>): void;
  /** Stops the status line; call before printing the summary. */
  close(): void;
}

export interface ProgressOptions {
  mode: ProgressMode;
  color: ChalkInstance;
  /** Where lines go: stderr for terminal/plain, stdout for json-stream. */
  write: (text: string) => void;
  now?: () => number;
  /** Whether runs have a check, so "scoring" is in flight from the agent's exit to the check's result. */
  hasCheck?: boolean;
  /** Redraw interval of the status line; 0 turns the ticking off (tests). */
  tickMs?: number;
}

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

export function createProgress(opts: ProgressOptions): Progress {
  const now = opts.now ?? Date.now;
  const c = opts.color;
  if (opts.mode === "silent") return { event() {}, model() {}, stage() {}, result() {}, close() {} };
  if (opts.mode === "json-stream") {
    const emit = (v: Record<string, unknown>) => opts.write(`${safeJson(v)}\n`);
    let stageStart = 0;
    return {
      event: (line) => emit(line),
      model: (e) => emit({ t: new Date(now()).toISOString(), ...e }),
      stage: (text) => {
        stageStart ||= now();
        emit({ t: new Date(now()).toISOString(), type: "stage", text, elapsedMs: now() - stageStart });
      },
      result: (value) => emit({ type: "result", ...value }),
      close() {},
    };
  }

  const terminal = opts.mode === "terminal";
  const statuses = new Map<string, { text: string; since: number }>();
  let shown = false;
  let frame = 0;
  const clear = () => {
    if (shown) opts.write("\r\u001b[K");
    shown = false;
  };
  const draw = () => {
    if (!terminal) return;
    const last = [...statuses.values()].at(-1);
    clear();
    if (!last) return;
    frame = (frame + 1) % SPINNER.length;
    opts.write(c.cyan(`${SPINNER[frame]} ${last.text} ${secs(now() - last.since)}`));
    shown = true;
  };
  const timer = terminal && (opts.tickMs ?? 250) > 0 ? setInterval(draw, opts.tickMs ?? 250) : undefined;
  timer?.unref();
  const line = (text: string) => {
    clear();
    opts.write(`${text}\n`);
    draw();
  };
  const setStatus = (key: string, text: string) => {
    statuses.delete(key);
    statuses.set(key, { text, since: now() });
    draw();
  };
  const endStatus = (key: string) => {
    const s = statuses.get(key);
    statuses.delete(key);
    draw();
    return s ? now() - s.since : 0;
  };

  let lastText = "";
  let stage: { text: string; since: number } | undefined;
  let evolveStart: number | undefined;
  return {
    event(l) {
      switch (l.type) {
        case "task":
          line(c.bold("agent started"));
          break;
        case "assistant_text":
          lastText = sanitize(String(l.text ?? ""));
          if (lastText.trim()) line(c.white(indentLines(firstLines(lastText, 3), "  ")));
          break;
        case "tool_call":
          line(c.dim(`  → ${sanitize(`${l.name} ${preview(l.input)}`)}`));
          break;
        case "tool_result":
          if (l.isError)
            line(c.yellow(`    ✗ ${firstLines(sanitize(String(l.content ?? "")), 1).slice(0, 120)}`));
          break;
        case "baseline":
          line(
            c.dim(
              l.unrunnable
                ? `baseline check: cannot run (${sanitize(String(l.unrunnable))})`
                : `baseline check: score ${fmtScore(l.score)} before the agent${typeof l.ms === "number" ? ` (${secs(l.ms)})` : ""}`,
            ),
          );
          break;
        case "agent_exit":
          endStatus("model");
          line(
            c.bold(`agent finished: ${l.exitReason}${l.detail ? ` (${sanitize(String(l.detail))})` : ""}`),
          );
          if (lastText.trim())
            line(`${c.bold("agent's last message:")}\n${indentLines(firstLines(lastText, 12), "  ")}`);
          lastText = "";
          if (opts.hasCheck) setStatus("check", "running the check on the result");
          break;
        case "check": {
          const ms = endStatus("check");
          const counts = l.counts as { passed?: number; failed?: number } | null | undefined;
          const tests = counts ? `, ${counts.passed ?? 0} passed / ${counts.failed ?? 0} failed` : "";
          line(c.dim(`check: exit code ${l.exitCode}${tests} (${secs(ms)})`));
          break;
        }
      }
    },
    model(e) {
      if (e.phase === "start") setStatus("model", `waiting for the ${e.role} model (${e.model})`);
      else if (e.phase === "end") {
        endStatus("model");
        if (e.error) line(c.yellow(`  model ${e.role}: ${sanitize(e.error)}`));
      } else {
        const wait = e.retryAfterMs ? ` in ${secs(e.retryAfterMs)}` : "";
        line(c.yellow(`  model ${e.role}: ${e.what}, ${e.retrying ? `retrying${wait}` : "giving up"}`));
      }
    },
    stage(text) {
      const t = now();
      evolveStart ??= t;
      if (stage) endStatus("stage");
      stage = { text, since: t };
      line(c.magenta(`moss evolve [${secs(t - evolveStart)}]: ${sanitize(text)}`));
      setStatus("stage", sanitize(text).slice(0, 80));
    },
    result() {},
    close() {
      if (timer) clearInterval(timer);
      statuses.clear();
      clear();
    },
  };
}

/** Elapsed time for people: "0.4 s", "12 s", "2 m 05 s". */
export function secs(ms: number): string {
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} m ${String(s % 60).padStart(2, "0")} s`;
}

/** A one-line preview of a tool call's input: its values, shortened. */
export function preview(input: unknown, max = 80): string {
  const values =
    typeof input === "object" && input !== null
      ? Object.values(input as Record<string, unknown>).map((v) =>
          typeof v === "string" ? v : JSON.stringify(v),
        )
      : [JSON.stringify(input) ?? ""];
  const text = sanitize(values.join(" ")).replace(/\s+/g, " ").trim();
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

const firstLines = (text: string, n: number) => {
  const lines = text.trim().split("\n");
  return lines.length > n ? `${lines.slice(0, n).join("\n")}\n…` : lines.join("\n");
};
const indentLines = (text: string, pad: string) =>
  text
    .split("\n")
    .map((l) => pad + l)
    .join("\n");
const fmtScore = (v: unknown) => (typeof v === "number" ? v.toFixed(3) : String(v));
