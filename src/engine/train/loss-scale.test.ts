import { describe, expect, it } from "vitest";
import { DynamicLossScale } from "./loss-scale.js";

describe("DynamicLossScale", () => {
  it("starts at 2^16, halves on an overflow (counted as skipped) and doubles after growthInterval clean updates", () => {
    const s = new DynamicLossScale({ growthInterval: 3 });
    expect(s.scale).toBe(65536);
    s.update(false);
    expect([s.scale, s.skipped]).toEqual([32768, 1]);
    s.update(true);
    s.update(true);
    expect(s.scale).toBe(32768);
    s.update(true);
    expect(s.scale).toBe(65536);
    // An overflow resets the clean count: three more clean updates are needed to grow again.
    s.update(true);
    s.update(false);
    s.update(true);
    s.update(true);
    expect(s.scale).toBe(32768);
    s.update(true);
    expect([s.scale, s.skipped]).toEqual([65536, 2]);
  });

  it("stays within [min, max]", () => {
    const s = new DynamicLossScale({ initial: 2, min: 1, max: 4, growthInterval: 1 });
    s.update(false);
    s.update(false);
    expect(s.scale).toBe(1);
    for (let i = 0; i < 5; i++) s.update(true);
    expect(s.scale).toBe(4);
  });

  it("rejects a bad initial scale or interval", () => {
    expect(() => new DynamicLossScale({ initial: 0 })).toThrow(/initial must be a finite number > 0/);
    expect(() => new DynamicLossScale({ growthInterval: 0.5 })).toThrow(/growthInterval must be an integer ≥ 1/);
  });
});
