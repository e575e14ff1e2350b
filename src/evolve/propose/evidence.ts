import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import type { RunRecord } from "../../run/run-record.ts";
import { runsDir } from "../../run/run-record.ts";
import { asUntrustedData } from "./untrusted-data.ts";

/** The parts of a failed attempt the evidence shows (a run record, or a suite trial's). */
export type EvidenceSource = Pick<
  RunRecord,
  | "runId"
  | "task"
  | "score"
  | "threshold"
  | "exitReason"
  | "detail"
  | "turns"
  | "rationale"
  | "check"
  | "checkOutputTail"
  | "diff"
>;

/**
 * What the patcher sees of a failed run. Deterministic by design: no run ids, absolute temp
 * paths or timings, so the same failure yields the same text (and cassettes replay it).
 * `transcriptFile` is the run's own transcript unless given (a suite trial keeps its elsewhere).
 */
export function buildEvidence(
  home: string,
  record: EvidenceSource,
  transcriptFile = path.join(runsDir(home), record.runId, "transcript.jsonl"),
): string {
  const lines = existsSync(transcriptFile) ? readFileSync(transcriptFile, "utf8").trim().split("\n") : [];
  const steps: string[] = [];
  for (const line of lines) {
    const e = JSON.parse(line) as Record<string, unknown>;
    if (e.type === "tool_call")
      steps.push(`turn ${e.turn}: call ${e.name} ${clip(JSON.stringify(e.input), 600)}`);
    if (e.type === "tool_result")
      steps.push(`  ${e.isError ? "ERROR" : "ok"}: ${clip(String(e.content), 1200)}`);
    if (e.type === "assistant_text") steps.push(`turn ${e.turn}: says ${clip(String(e.text), 600)}`);
  }
  return [
    `## Task\n${record.task}`,
    `## Outcome\nscore ${record.score} (threshold ${record.threshold}); the agent ended with ${record.exitReason}${
      record.detail ? ` (${normalize(record.detail)})` : ""
    } after ${record.turns} turns\n${record.rationale.map((r) => `- ${normalize(r)}`).join("\n")}`,
    `## What the agent did\n${asUntrustedData("The agent's transcript", steps.join("\n") || "(no tool calls)")}`,
    record.check
      ? `## Check \`${record.check}\` output (tail)\n${asUntrustedData("The check's output", normalize(record.checkOutputTail).slice(-4000))}`
      : "",
    `## Diff the attempt made\n${asUntrustedData("The attempt's diff", record.diff || "(none)")}`,
  ]
    .filter(Boolean)
    .join("\n\n");
}

/** The agent's source with line numbers, for file:line diagnosis. Snapshots are left out. */
export function agentSourceListing(agentDir: string): string {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const abs = path.join(dir, name);
      if (name === "__snapshots__" || name === "node_modules") continue;
      if (statSync(abs).isDirectory()) walk(abs);
      else if (/\.(ts|md|json)$/.test(name)) {
        const rel = path.relative(agentDir, abs).split(path.sep).join("/");
        const numbered = readFileSync(abs, "utf8")
          .split("\n")
          .map((l, i) => `${String(i + 1).padStart(4)}  ${l}`)
          .join("\n");
        out.push(`### ${rel}\n${numbered}`);
      }
    }
  };
  walk(path.join(agentDir, "agent-src"));
  return `## The agent's source (agent-src/)\n${asUntrustedData("The agent's source, comments and prompts included", out.join("\n\n"))}`;
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)} […${s.length - n} more]` : s);

/** Strips what differs between identical runs: temp paths and durations. */
export function normalize(text: string): string {
  return text
    .replace(/\/[\w./-]*moss-(?:scratch|wt|gate)-\d+-\w+/g, "<workspace>")
    .replace(/\b\d+(?:\.\d+)?\s?ms\b/g, "<ms>")
    .replace(/duration_ms:? [\d.]+/g, "duration_ms <ms>");
}
