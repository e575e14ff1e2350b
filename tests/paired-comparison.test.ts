import { describe, expect, it } from "vitest";
import { comparePaired } from "../src/evolve/judge/paired-comparison.ts";
import { IMPROVEMENT, NON_INFERIORITY } from "../src/evolve/judge/sequential-rule.ts";
import type { RunTrial } from "../src/evolve/judge/trial-runner.ts";
import type { Trial } from "../src/log/evolution-record.ts";
import type { RunRecord } from "../src/run/run-record.ts";

const run = { task: "t", runId: "r", score: 0, threshold: 1 } as RunRecord;
const pass: Trial = { score: 1, passed: true };
const fail: Trial = { score: 0, passed: false };
const error: Trial = { score: 0, passed: false, error: "model error: 529 overloaded" };

/** A runner that answers each side from its own queue (the last answer repeats) and logs the order. */
function scripted(head: Trial[], candidate: Trial[]) {
  const calls: string[] = [];
  const queues: Record<string, Trial[]> = { head: [...head], candidate: [...candidate] };
  const runTrial: RunTrial = async (dir) => {
    calls.push(dir);
    const q = queues[dir]!;
    return q.length > 1 ? q.shift()! : q[0]!;
  };
  return { runTrial, calls };
}
const common = { run, headDir: "head", candidateDir: "candidate", maxInvalidPairs: 2 };
const target = { ...common, rule: IMPROVEMENT, role: "target" as const, bar: { bar: 0, strict: true } };
const panel = { ...common, rule: NON_INFERIORITY, role: "panel" as const, bar: { bar: 1, strict: false } };

describe("paired trials of head and candidate", () => {
  it("interleave, alternating which side goes first, until the rule decides", async () => {
    const s = scripted([fail], [pass]);
    const c = await comparePaired({ ...target, runTrial: s.runTrial });
    expect(c).toMatchObject({ call: "better", pairs: 3, statistic: 3, upper: 3, lower: -1, invalidPairs: 0 });
    expect(s.calls).toEqual(["head", "candidate", "candidate", "head", "head", "candidate"]);
  });

  it("count partial progress on the failing task: a score above the failing run's is a success", async () => {
    const s = scripted([{ score: 0.4, passed: false }], [{ score: 0.6, passed: false }]);
    const c = await comparePaired({ ...target, bar: { bar: 0.4, strict: true }, runTrial: s.runTrial });
    expect(c.call).toBe("better");
  });

  it("retry an erring trial once and keep both runs on record; the error is not a fail", async () => {
    const s = scripted([error, fail], [pass]);
    const c = await comparePaired({ ...target, runTrial: s.runTrial });
    expect(c).toMatchObject({ call: "better", pairs: 3, invalidPairs: 0 });
    expect(c.head[0]).toEqual(error);
    expect(c.head.filter((t) => !t.error)).toHaveLength(3);
  });

  it("leave out pairs whose trials keep erring, and end undecided past the allowance", async () => {
    const s = scripted([error], [pass]);
    const c = await comparePaired({ ...target, runTrial: s.runTrial });
    expect(c).toMatchObject({ call: "undecided", pairs: 0, invalidPairs: 3 });
    // Each lost pair: the side that went first, tried twice; the other side is not run for nothing.
    expect(s.calls).toEqual(Array(6).fill("head"));
  });

  it("stop at a lower cap with the cautious call: not shown better", async () => {
    const s = scripted([fail], [pass]);
    const c = await comparePaired({ ...target, maxPairs: 2, runTrial: s.runTrial });
    expect(c).toMatchObject({ call: "not-better", pairs: 2 });
  });

  it("on the panel, run no head trial while the candidate passes every time", async () => {
    const s = scripted([pass], [pass]);
    const c = await comparePaired({ ...panel, deferHead: true, runTrial: s.runTrial });
    expect(c).toMatchObject({ call: "non-inferior", pairs: 4 });
    expect(s.calls).toEqual(Array(4).fill("candidate"));
  });

  it("on the panel, pay the owed head trials at the candidate's first fail, then catch a regression", async () => {
    const s = scripted([pass], [pass, fail]);
    const c = await comparePaired({ ...panel, deferHead: true, runTrial: s.runTrial });
    expect(c).toMatchObject({ call: "regressed", statistic: 3 });
    expect(s.calls.slice(0, 4)).toEqual(["candidate", "candidate", "head", "head"]);
    expect(c.head).toHaveLength(c.pairs);
    expect(c.candidate).toHaveLength(c.pairs);
  });

  it("on the panel, drop a pair whose owed head trial keeps erring", async () => {
    const s = scripted([error, error, pass], [fail, fail]);
    const c = await comparePaired({ ...panel, deferHead: true, runTrial: s.runTrial });
    expect(c.invalidPairs).toBe(1);
    expect(c.candidate.length).toBe(c.pairs + 1);
    expect(c.call).toBe("regressed");
  });
});
