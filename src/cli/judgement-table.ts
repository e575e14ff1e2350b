import type { Judgement, TaskComparison, Trial } from "../log/evolution-record.ts";

/** Success as the comparison's rule counted it (see TaskComparison.bar); a plain pass elsewhere. */
const ok = (t: Trial, b?: TaskComparison) =>
  !t.error && (b ? (b.strict ? t.score > b.bar : t.score >= b.bar) : t.passed);
const mark = (t: Trial, b?: TaskComparison) => (t.error ? "!" : ok(t, b) ? "✓" : "✗");
const passes = (ts: Trial[], b?: TaskComparison) =>
  `${ts.filter((t) => ok(t, b)).length}/${ts.filter((t) => !t.error).length}`;

/** The list view's one-word summary: passes of head and candidate on the failing task. */
export function judgementBrief(j: Judgement): string {
  const target = j.comparisons[0];
  if (!target) return `repro ${passes(j.reproduce)}`;
  return `h ${passes(target.head, target)} c ${passes(target.candidate, target)}`;
}

/**
 * `moss log <id>`: the judgement as a small table, one row per task: each trial (✓ pass, ✗ fail,
 * ! error, left out), the pass counts, the statistic against its boundaries, and the call.
 * `taskText` finds a sealed task's text in the local run history (the record does not hold it).
 */
export function judgementTable(j: Judgement, taskText: (c: TaskComparison) => string): string[] {
  const lines = [
    `decision ${j.decision}; ${j.agentRuns} agent run(s); head re-run on the failing task first: ${j.reproduce.map((t) => mark(t)).join("") || "-"}`,
  ];
  if (j.comparisons.length === 0) return lines;
  const rows = j.comparisons.map((c) => [
    taskText(c).replace(/\s+/g, " ").slice(0, 36),
    c.role,
    `${c.strict ? ">" : ">="} ${c.bar}`,
    `${c.head.map((t) => mark(t, c)).join("")} ${passes(c.head, c)}`,
    `${c.candidate.map((t) => mark(t, c)).join("")} ${passes(c.candidate, c)}`,
    String(c.pairs) + (c.invalidPairs ? ` (+${c.invalidPairs} err)` : ""),
    `${c.role === "target" ? "D" : "h-c"}=${c.statistic}`,
    c.role === "target" ? `>=${c.upper ?? "-"} / <=${c.lower ?? "-"}` : `>=${c.upper ?? "-"}`,
    c.call,
  ]);
  const header = ["task", "role", "success", "head", "candidate", "pairs", "statistic", "bounds", "call"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => [...r[i]!].length)));
  const fmt = (r: string[]) => `  ${r.map((x, i) => x + " ".repeat(widths[i]! - [...x].length)).join("  ")}`;
  lines.push(fmt(header), ...rows.map(fmt));
  lines.push(`  rule: ${[...new Set(j.comparisons.map((c) => c.rule))].join("; ")}`);
  return lines;
}
