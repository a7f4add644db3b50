import { describe, expect, it } from "vitest";
import { band, mean, quantile, sampleSd, summarize, tCritical } from "./stats.js";

describe("sweep statistics against hand-computed values", () => {
  // Values: 0.5, 0.7, 0.9, 1.0 — mean 0.775; deviations −0.275, −0.075, 0.125, 0.225;
  // squares sum 0.075625 + 0.005625 + 0.015625 + 0.050625 = 0.1475; sd = √(0.1475/3) = 0.221736…
  const xs = [0.9, 0.5, 1.0, 0.7];

  it("mean and sample sd (tolerance 1e-12)", () => {
    expect(mean(xs)).toBeCloseTo(0.775, 12);
    expect(sampleSd(xs)).toBeCloseTo(Math.sqrt(0.1475 / 3), 12);
    expect(sampleSd([3])).toBe(0);
  });

  it("t critical values match the printed table (tolerance 5e-4)", () => {
    // Student's t table, two-sided 95%: df 1 → 12.706, 3 → 3.182, 4 → 2.776, 9 → 2.262, 29 → 2.045.
    for (const [n, t] of [[2, 12.706], [4, 3.182], [5, 2.776], [10, 2.262], [30, 2.045]] as const) expect(Math.abs(tCritical(n) - t)).toBeLessThan(5e-4);
    expect(() => tCritical(1)).toThrow(/at least 2 values/);
  });

  it("95% t-interval: mean ± 3.182·sd/2 for n = 4 (tolerance 1e-3)", () => {
    const s = summarize(xs);
    // half width = 3.182446 · 0.221736 / 2 = 0.352831
    expect(s.n).toBe(4);
    expect(s.ci95?.[0]).toBeCloseTo(0.775 - 0.352831, 3);
    expect(s.ci95?.[1]).toBeCloseTo(0.775 + 0.352831, 3);
    expect(summarize([0.4]).ci95).toBeNull();
    // Identical seeds: a zero-width interval, not NaN.
    expect(summarize([0.5, 0.5, 0.5]).ci95).toEqual([0.5, 0.5]);
  });

  it("type-7 quantiles: median and quartiles (tolerance 1e-12)", () => {
    // Sorted 0.5, 0.7, 0.9, 1.0: h = 3p. p = .25 → h .75 → 0.5 + .75·0.2 = 0.65;
    // p = .5 → h 1.5 → 0.8; p = .75 → h 2.25 → 0.9 + .25·0.1 = 0.925.
    expect(quantile(xs, 0.25)).toBeCloseTo(0.65, 12);
    expect(quantile(xs, 0.5)).toBeCloseTo(0.8, 12);
    expect(quantile(xs, 0.75)).toBeCloseTo(0.925, 12);
    expect(quantile(xs, 0)).toBe(0.5);
    expect(quantile(xs, 1)).toBe(1.0);
    // Odd count: the middle value; 1, 2, 3, 4, 10 → q1 2, median 3, q3 4.
    expect(band([10, 1, 3, 2, 4])).toEqual({ n: 5, median: 3, q1: 2, q3: 4 });
    expect(band([7])).toEqual({ n: 1, median: 7, q1: 7, q3: 7 });
    expect(() => quantile([], 0.5)).toThrow(/no values/);
  });
});
