import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  IMPROVEMENT,
  NON_INFERIORITY,
  operatingCharacteristics,
  worstCaseUpper,
} from "../src/evolve/judge/sequential-rule.ts";

const oc = operatingCharacteristics;

describe("the improvement rule (candidate better than the head?)", () => {
  it("keeps the false-accept rate of an effect-free candidate at or under 5% for every pass rate", () => {
    const worst = worstCaseUpper(IMPROVEMENT);
    expect(worst.rate).toBeLessThanOrEqual(0.05);
    expect(worst.atP).toBeCloseTo(0.5, 1);
    for (const p of [0.2, 0.5, 0.8]) expect(oc(IMPROVEMENT, p, p).upper).toBeLessThanOrEqual(0.05);
  });

  it("has at least 80% power for a fix that lifts a task from 0.2 to 0.9", () => {
    expect(oc(IMPROVEMENT, 0.2, 0.9).upper).toBeGreaterThanOrEqual(0.8);
  });

  it("accepts a fix that always passes against a head that never does after 3 pairs", () => {
    const counts = (n: number) => ({ pairs: n, head: 0, candidate: n });
    expect([1, 2].map((n) => IMPROVEMENT.decide(counts(n)))).toEqual(["continue", "continue"]);
    expect(IMPROVEMENT.decide(counts(3))).toBe("upper");
    const common = oc(IMPROVEMENT, 0.05, 0.95);
    expect(common.upper).toBeGreaterThan(0.95);
    expect(common.meanPairs).toBeLessThanOrEqual(4);
  });

  it("rejects a candidate that does no better than the head early, without using the whole cap", () => {
    expect(IMPROVEMENT.decide({ pairs: 3, head: 2, candidate: 1 })).toBe("lower");
    expect(IMPROVEMENT.decide({ pairs: 4, head: 0, candidate: 0 })).toBe("lower");
    expect(oc(IMPROVEMENT, 0.5, 0.5).meanPairs).toBeLessThan(5);
  });

  it("always decides by its cap, and never calls a candidate better on fewer passes than the head", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: IMPROVEMENT.maxPairs }), fc.nat(), fc.nat(), (pairs, h, c) => {
        const counts = { pairs, head: h % (pairs + 1), candidate: c % (pairs + 1) };
        const call = IMPROVEMENT.decide(counts);
        if (pairs === IMPROVEMENT.maxPairs) expect(call).not.toBe("continue");
        if (counts.candidate <= counts.head) expect(call).not.toBe("upper");
      }),
    );
  });

  it("is monotone: one more candidate pass never turns an accept into anything else", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: IMPROVEMENT.maxPairs }), fc.nat(), fc.nat(), (pairs, h, c) => {
        const head = h % (pairs + 1);
        const candidate = c % pairs;
        if (IMPROVEMENT.decide({ pairs, head, candidate }) === "upper")
          expect(IMPROVEMENT.decide({ pairs, head, candidate: candidate + 1 })).toBe("upper");
      }),
    );
  });

  it("gets its probabilities right: they sum to 1 and agree with a seeded simulation", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (a, b) => {
          const r = oc(IMPROVEMENT, a, b);
          expect(r.upper + r.lower).toBeCloseTo(1, 9);
          expect(r.meanPairs).toBeGreaterThanOrEqual(1);
          expect(r.meanPairs).toBeLessThanOrEqual(IMPROVEMENT.maxPairs);
        },
      ),
      { numRuns: 50 },
    );
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    let accepted = 0;
    const cycles = 4000;
    for (let i = 0; i < cycles; i++) {
      const counts = { pairs: 0, head: 0, candidate: 0 };
      let call = IMPROVEMENT.decide(counts);
      while (call === "continue") {
        counts.pairs++;
        counts.head += rand() < 0.3 ? 1 : 0;
        counts.candidate += rand() < 0.7 ? 1 : 0;
        call = IMPROVEMENT.decide(counts);
      }
      if (call === "upper") accepted++;
    }
    // 4 standard errors of a 4000-cycle proportion.
    expect(Math.abs(accepted / cycles - oc(IMPROVEMENT, 0.3, 0.7).upper)).toBeLessThan(0.032);
  });
});

describe("the non-inferiority rule (a panel task no worse?)", () => {
  it("catches a task that falls from 0.9 to 0.5 at least 80% of the time", () => {
    expect(oc(NON_INFERIORITY, 0.9, 0.5).lower).toBeGreaterThanOrEqual(0.8);
  });

  it("rarely flags an unchanged task that passes reliably, and clears a perfect one after 4 pairs", () => {
    expect(oc(NON_INFERIORITY, 0.9, 0.9).lower).toBeLessThan(0.05);
    expect(oc(NON_INFERIORITY, 1, 1)).toMatchObject({ upper: 1, meanPairs: 4 });
  });

  it("ignores the head while the candidate has passed every trial (so head trials can wait)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: NON_INFERIORITY.maxPairs }), fc.nat(), (pairs, h) => {
        const call = (head: number) => NON_INFERIORITY.decide({ pairs, head, candidate: pairs });
        expect(call(h % (pairs + 1))).toBe(call(0));
      }),
    );
  });

  it("always decides by its cap and never flags a candidate that passed at least as often", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: NON_INFERIORITY.maxPairs }),
        fc.nat(),
        fc.nat(),
        (pairs, h, c) => {
          const counts = { pairs, head: h % (pairs + 1), candidate: c % (pairs + 1) };
          const call = NON_INFERIORITY.decide(counts);
          if (pairs === NON_INFERIORITY.maxPairs) expect(call).not.toBe("continue");
          if (counts.candidate >= counts.head) expect(call).not.toBe("lower");
        },
      ),
    );
  });
});
