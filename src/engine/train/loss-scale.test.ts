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

  it("continues from a saved state (scale, clean count, skipped) and rejects a malformed one, naming where it came from", () => {
    const s = new DynamicLossScale({ growthInterval: 3 });
    s.update(false);
    s.update(true);
    s.update(true);
    const saved = s.state();
    expect(saved).toEqual({ scale: 32768, clean: 2, skipped: 1 });
    const resumed = DynamicLossScale.resume(JSON.parse(JSON.stringify(saved)), "trainer_state.json lossScale", { growthInterval: 3 });
    // One more clean update grows it, as it would have the uninterrupted scaler.
    resumed.update(true);
    s.update(true);
    expect(resumed.state()).toEqual(s.state());
    expect(resumed.scale).toBe(65536);
    for (const bad of [null, 3, { scale: 0, clean: 0, skipped: 0 }, { scale: 1024, clean: -1, skipped: 0 }, { scale: 1024, clean: 0 }]) {
      expect(() => DynamicLossScale.resume(bad, "trainer_state.json lossScale")).toThrow(/trainer_state\.json lossScale: expected a loss scale state/);
    }
  });
});
