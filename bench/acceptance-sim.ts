/**
 * The acceptance rule under noise, simulated in-process: the real `reproduceFailure` and
 * `judgeCandidate` (paired trials, sequential rules, panel, error handling) with a seeded trial
 * runner in place of agent processes. Each scenario runs 10,000 evolution cycles.
 *   node --import tsx bench/acceptance-sim.ts [cycles]
 */

import { seededRandom } from "../src/eval/stats.ts";
import { judgeCandidate, reproduceFailure } from "../src/evolve/judge/judge-candidate.ts";
import type { Trial } from "../src/log/evolution-record.ts";
import type { RunRecord } from "../src/run/run-record.ts";

export interface Scenario {
  name: string;
  /** Pass rates of head and candidate on the failing task. */
  target: [number, number];
  /** Pass rates of head and candidate on each panel task. */
  panel: Array<[number, number]>;
  /** Chance that any trial hits a model error (not a score). */
  errorRate?: number;
}

export interface Figures {
  cycles: number;
  /** Cycles where the failure reproduced and a candidate was judged. */
  judged: number;
  accepted: number;
  rejected: number;
  undecided: number;
  /** Agent runs per judged candidate (reproduction included): mean and 95th percentile. */
  meanRuns: number;
  p95Runs: number;
}

const run = (task: string): RunRecord => ({ task, runId: task, score: 0, threshold: 1 }) as RunRecord;

export async function simulate(s: Scenario, cycles: number, seed: number): Promise<Figures> {
  const rand = seededRandom(seed);
  const rates = new Map<string, [number, number]>([["target", s.target]]);
  for (const [i, p] of s.panel.entries()) rates.set(`panel-${i}`, p);
  const runTrial = async (dir: string, r: RunRecord): Promise<Trial> => {
    if (s.errorRate && rand() < s.errorRate)
      return { score: 0, passed: false, error: "model error: simulated" };
    const [ph, pc] = rates.get(r.task)!;
    const passed = rand() < (dir === "head" ? ph : pc);
    return { score: passed ? 1 : 0, passed };
  };
  const panel = s.panel.map((_, i) => ({ run: run(`panel-${i}`), sealed: i % 3 === 2 }));
  const f: Figures = { cycles, judged: 0, accepted: 0, rejected: 0, undecided: 0, meanRuns: 0, p95Runs: 0 };
  const runs: number[] = [];
  for (let i = 0; i < cycles; i++) {
    // The trigger is a head run that failed: only such runs start a cycle.
    if (rand() < s.target[0]) {
      i--;
      continue;
    }
    const repro = await reproduceFailure(runTrial, "head", run("target"), 1, 2);
    if (repro.outcome !== "reproduced") continue;
    const j = await judgeCandidate({
      target: run("target"),
      panel,
      headDir: "head",
      candidateDir: "candidate",
      runTrial,
      maxInvalidPairs: 2,
    });
    f.judged++;
    f[j.decision === "accept" ? "accepted" : j.decision === "reject" ? "rejected" : "undecided"]++;
    runs.push(repro.trials.length + j.agentRuns);
  }
  runs.sort((a, b) => a - b);
  f.meanRuns = runs.reduce((a, b) => a + b, 0) / Math.max(1, runs.length);
  f.p95Runs = runs[Math.floor(0.95 * (runs.length - 1))] ?? 0;
  return f;
}

/** The old rule for the same scenario: one replay must beat the trigger's 0, one panel trial each. */
export function simulateOldRule(s: Scenario, cycles: number, seed: number): number {
  const rand = seededRandom(seed);
  let accepted = 0;
  for (let i = 0; i < cycles; i++) {
    const better = rand() < s.target[1];
    const kept = s.panel.every(([, pc]) => rand() < pc);
    if (better && kept) accepted++;
  }
  return accepted / cycles;
}

const PANEL3: Array<[number, number]> = [
  [0.9, 0.9],
  [0.9, 0.9],
  [0.9, 0.9],
];

export const SCENARIOS: Array<Scenario & { goal: string; measure: "accepted" | "rejected" }> = [
  { name: "A/A p=0.2", target: [0.2, 0.2], panel: PANEL3, goal: "<= 5% accepted", measure: "accepted" },
  { name: "A/A p=0.5", target: [0.5, 0.5], panel: PANEL3, goal: "<= 5% accepted", measure: "accepted" },
  { name: "A/A p=0.8", target: [0.8, 0.8], panel: PANEL3, goal: "<= 5% accepted", measure: "accepted" },
  { name: "A/A p=0.5, no panel", target: [0.5, 0.5], panel: [], goal: "<= 5% accepted", measure: "accepted" },
  { name: "fix 0.2 -> 0.9", target: [0.2, 0.9], panel: PANEL3, goal: ">= 80% accepted", measure: "accepted" },
  {
    name: "fix 0.2 -> 0.9, no panel",
    target: [0.2, 0.9],
    panel: [],
    goal: ">= 80% accepted",
    measure: "accepted",
  },
  {
    name: "fix 0.05 -> 0.95",
    target: [0.05, 0.95],
    panel: PANEL3,
    goal: ">= 80% accepted",
    measure: "accepted",
  },
  {
    name: "fix, panel task 0.9 -> 0.5",
    target: [0.2, 0.9],
    panel: [[0.9, 0.5], ...PANEL3.slice(1)],
    goal: ">= 80% rejected",
    measure: "rejected",
  },
  {
    name: "A/A p=0.5, 10% model errors",
    target: [0.5, 0.5],
    panel: PANEL3,
    errorRate: 0.1,
    goal: "<= 5% accepted",
    measure: "accepted",
  },
  {
    name: "fix 0.2 -> 0.9, 40% model errors",
    target: [0.2, 0.9],
    panel: [],
    errorRate: 0.4,
    goal: "report",
    measure: "accepted",
  },
];

/** Whether a scenario meets its goal (rates are of judged candidates). */
export function meetsGoal(s: (typeof SCENARIOS)[number], f: Figures): boolean {
  if (s.goal === "report") return true;
  const rate = f[s.measure] / Math.max(1, f.judged);
  return s.goal.startsWith("<=") ? rate <= 0.05 : rate >= 0.8;
}

async function main() {
  const cycles = Number(process.argv[2] ?? 10_000);
  console.log(`acceptance under noise: ${cycles} simulated cycles per scenario (seeded)\n`);
  const header = [
    "scenario",
    "judged",
    "accepted",
    "rejected",
    "undecided",
    "runs mean",
    "runs p95",
    "old rule",
    "goal",
  ];
  const rows: string[][] = [];
  for (const [i, s] of SCENARIOS.entries()) {
    const f = await simulate(s, cycles, 1000 + i);
    const pct = (n: number) => `${((100 * n) / Math.max(1, f.judged)).toFixed(1)}%`;
    rows.push([
      s.name,
      String(f.judged),
      pct(f.accepted),
      pct(f.rejected),
      pct(f.undecided),
      f.meanRuns.toFixed(1),
      String(f.p95Runs),
      `${(100 * simulateOldRule(s, cycles, 2000 + i)).toFixed(1)}% acc`,
      `${s.goal} ${meetsGoal(s, f) ? "ok" : "MISSED"}`,
    ]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const r of [header, ...rows]) console.log(r.map((x, i) => x.padEnd(widths[i]!)).join("  "));
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
