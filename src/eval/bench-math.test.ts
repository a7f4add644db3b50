import { describe, expect, it } from "vitest";
import { wilson } from "./stats.js";
import { wilsonShare } from "./bench-math.js";

describe("wilsonShare", () => {
  it("equals Wilson's interval for integer counts and stays inside [0, 1] for shares", () => {
    for (const [k, n] of [[0, 10], [3, 10], [10, 10], [17, 40]] as const) {
      const a = wilsonShare(k / n, n);
      const b = wilson(k, n);
      expect(a.low).toBeCloseTo(b.low, 12);
      expect(a.high).toBeCloseTo(b.high, 12);
    }
    const s = wilsonShare(0.375, 8);
    expect(s.rate).toBe(0.375);
    expect(s.low).toBeGreaterThan(0);
    expect(s.high).toBeLessThan(1);
    expect(wilsonShare(0, 0)).toEqual({ rate: 0, low: 0, high: 1 });
  });
});
