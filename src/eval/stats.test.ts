import { describe, expect, it } from "vitest";
import { addOutcome, addValue, EMPTY_MEAN, NO_OUTCOMES, outcomeRates, stdDev, wilson } from "./stats.js";

describe("wilson", () => {
  it("matches published values", () => {
    // 8 of 10: [0.4902, 0.9433] (Wilson 1927; e.g. Newcombe 1998 table), tolerance 1e-4.
    const a = wilson(8, 10);
    expect(a.rate).toBe(0.8);
    expect(a.low).toBeCloseTo(0.4902, 4);
    expect(a.high).toBeCloseTo(0.9433, 4);
    // 0 of 10: [0, 0.2775].
    const b = wilson(0, 10);
    expect(b.low).toBe(0);
    expect(b.high).toBeCloseTo(0.2775, 4);
    // n = 0: no information.
    expect(wilson(0, 0)).toEqual({ rate: 0, low: 0, high: 1 });
  });

  it("is symmetric and narrows with n", () => {
    const a = wilson(30, 100);
    const b = wilson(70, 100);
    expect(a.low).toBeCloseTo(1 - b.high, 12);
    expect(wilson(300, 1000).high - wilson(300, 1000).low).toBeLessThan(a.high - a.low);
    expect(() => wilson(3, 2)).toThrow(/successes ≤ trials/);
  });
});

describe("outcomes and running means", () => {
  it("counts by the sign of the return", () => {
    let o = NO_OUTCOMES;
    for (const r of [1, 0.5, 0, -1, -1.5, 1]) o = addOutcome(o, r);
    expect(o).toEqual({ wins: 3, draws: 1, losses: 2 });
    expect(outcomeRates(o).nonLoss.rate).toBeCloseTo(4 / 6, 12);
  });

  it("Welford mean and standard deviation", () => {
    let m = EMPTY_MEAN;
    for (const x of [2, 4, 4, 4, 5, 5, 7, 9]) m = addValue(m, x);
    expect(m.mean).toBeCloseTo(5, 12);
    expect(stdDev(m)).toBeCloseTo(Math.sqrt(32 / 7), 12);
  });
});
