import { describe, expect, it } from "vitest";
import { learningRate, parseLrSchedule } from "./schedule.js";

describe("learningRate", () => {
  it("constant ignores the step", () => {
    expect(learningRate({ kind: "constant", lr: 1e-6 }, 0)).toBe(1e-6);
    expect(learningRate({ kind: "constant", lr: 1e-6 }, 10_000)).toBe(1e-6);
  });

  it("linear warm-up ramps from lr/warmup to lr", () => {
    const s = { kind: "linear-warmup", lr: 1, warmupSteps: 4 } as const;
    expect([0, 1, 2, 3, 4, 100].map((t) => learningRate(s, t))).toEqual([0.25, 0.5, 0.75, 1, 1, 1]);
    expect(learningRate({ ...s, warmupSteps: 0 }, 0)).toBe(1);
  });

  it("cosine warms up, halves at mid-decay and ends at minLr", () => {
    const s = { kind: "cosine", lr: 1, minLr: 0.1, warmupSteps: 10, totalSteps: 110 } as const;
    expect(learningRate(s, 0)).toBeCloseTo(0.1, 12);
    expect(learningRate(s, 9)).toBe(1);
    expect(learningRate(s, 10)).toBe(1);
    expect(learningRate(s, 60)).toBeCloseTo(0.55, 12);
    expect(learningRate(s, 110)).toBeCloseTo(0.1, 12);
    expect(learningRate(s, 500)).toBeCloseTo(0.1, 12);
    for (let t = 10; t < 110; t++) expect(learningRate(s, t + 1)).toBeLessThanOrEqual(learningRate(s, t));
  });

  it("linear decays evenly to minLr; decayStart holds lr for that share of the span first (1e-12)", () => {
    const s = { kind: "linear", lr: 1, minLr: 0.2, warmupSteps: 0, totalSteps: 8 } as const;
    [1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.2].forEach((w, t) => expect(Math.abs(learningRate(s, t) - w)).toBeLessThan(1e-12));
    const held = { ...s, decayStart: 0.5 };
    [1, 1, 1, 1, 1, 0.8, 0.6, 0.4, 0.2].forEach((w, t) => expect(Math.abs(learningRate(held, t) - w)).toBeLessThan(1e-12));
    const cos = { kind: "cosine", lr: 1, minLr: 0, warmupSteps: 0, totalSteps: 8, decayStart: 0.5 } as const;
    expect(learningRate(cos, 4)).toBe(1);
    expect(Math.abs(learningRate(cos, 6) - 0.5)).toBeLessThan(1e-12);
    expect(Math.abs(learningRate(cos, 8))).toBeLessThan(1e-12);
    expect(() => parseLrSchedule({ ...held, decayStart: 1 })).toThrow(/decayStart/);
  });

  it("rejects a fractional or negative step", () => {
    expect(() => learningRate({ kind: "constant", lr: 1 }, -1)).toThrow(/non-negative integer/);
    expect(() => learningRate({ kind: "constant", lr: 1 }, 0.5)).toThrow(/non-negative integer/);
  });
});

describe("parseLrSchedule", () => {
  it("accepts valid schedules and names the bad key otherwise", () => {
    expect(parseLrSchedule({ kind: "constant", lr: 1e-6 })).toEqual({ kind: "constant", lr: 1e-6 });
    expect(() => parseLrSchedule({ kind: "constant", lr: -1 }, "train.lr")).toThrow(/Invalid train\.lr: lr:/);
    expect(() => parseLrSchedule({ kind: "constant", lr: 1, warmup: 3 })).toThrow(/warmup/);
    expect(() => parseLrSchedule({ kind: "step", lr: 1 })).toThrow(/kind/);
    expect(() => parseLrSchedule({ kind: "cosine", lr: 1, minLr: 0, warmupSteps: 10, totalSteps: 5 })).toThrow(/totalSteps \(5\) must be ≥ warmupSteps \(10\)/);
  });
});
