import { describe, expect, it } from "vitest";
import { createRng } from "../../core/rng.js";
import { AdamW, clipFactor, clipGradNorm, gradNorm } from "./optimizer.js";

describe("AdamW", () => {
  it("matches a two-step example computed by hand, to 1e-7 (float32 storage)", () => {
    // lr 0.1, β1 0.9, β2 0.95, ε 1e-8, weight decay 0.1; element 0 sees g = 0.5 then −0.25,
    // element 1 sees g = 0 (only decay acts: 2 · 0.99² = 1.9602).
    // Step 1: p = 0.99 − 0.1 · (0.05/0.1) / (√(0.0125/0.05) + 1e-8) = 0.890000002
    // Step 2: m = 0.02, v = 0.015; p = 0.890000002·0.99 − 0.1 · (0.02/0.19) / (√(0.015/0.0975) + 1e-8)
    //         = 0.8542630578558273 (float64 arithmetic)
    const opt = new AdamW(2, { lr: 0.1, weightDecay: 0.1 });
    const p = new Float32Array([1, 2]);
    opt.step(p, new Float32Array([0.5, 0]));
    expect(p[0]).toBeCloseTo(0.890000002, 7);
    opt.step(p, new Float32Array([-0.25, 0]));
    expect(Math.abs((p[0] as number) - 0.8542630578558273)).toBeLessThan(1e-7);
    expect(Math.abs((p[1] as number) - 1.9602)).toBeLessThan(1e-7);
    expect(opt.state().step).toBe(2);
    expect(opt.state().m[0]).toBeCloseTo(0.02, 7);
    expect(opt.state().v[0]).toBeCloseTo(0.015, 7);
  });

  it("first step moves every parameter by ≈ lr·sign(g) (bias correction)", () => {
    const opt = new AdamW(3, { lr: 1e-3 });
    const p = new Float32Array([0, 0, 0]);
    opt.step(p, new Float32Array([1e-4, -3, 0]));
    expect(p[0]).toBeCloseTo(-1e-3, 6);
    expect(p[1]).toBeCloseTo(1e-3, 6);
    expect(p[2]).toBe(0);
  });

  it("save → restore gives a bit-identical continuation", () => {
    const rng = createRng(11);
    const n = 1000;
    const grads = Array.from({ length: 6 }, () => Float32Array.from({ length: n }, () => rng.normal()));
    const opts = { lr: 3e-3, weightDecay: 0.01 };
    const a = new AdamW(n, opts);
    const pa = Float32Array.from({ length: n }, () => rng.normal());
    for (const g of grads.slice(0, 3)) a.step(pa, g);
    const saved = a.state();
    const b = AdamW.fromState({ step: saved.step, m: saved.m.slice(), v: saved.v.slice() }, opts);
    const pb = pa.slice();
    for (const g of grads.slice(3)) {
      a.step(pa, g);
      b.step(pb, g);
    }
    expect(b.stepsTaken).toBe(6);
    expect(Buffer.from(pa.buffer).equals(Buffer.from(pb.buffer))).toBe(true);
    expect(Buffer.from(a.state().v.buffer).equals(Buffer.from(b.state().v.buffer))).toBe(true);
  });

  it("uses the per-call lr override", () => {
    const a = new AdamW(1, { lr: 1 });
    const p = new Float32Array([0]);
    a.step(p, new Float32Array([1]), 0);
    expect(p[0]).toBe(0);
    a.step(p, new Float32Array([1]), 0.5);
    expect(p[0]).toBeCloseTo(-0.5, 6);
  });

  it("rejects mismatched sizes and bad hyper-parameters with what was expected", () => {
    const opt = new AdamW(4, { lr: 1e-3 });
    expect(() => opt.step(new Float32Array(4), new Float32Array(3))).toThrow(/length 4; got 4 and 3/);
    expect(() => new AdamW(4, { lr: -1 })).toThrow(/lr must be/);
    expect(() => new AdamW(4, { lr: 1, beta2: 1 })).toThrow(/beta2 must be in \[0, 1\)/);
    expect(() => AdamW.fromState({ step: 1, m: new Float32Array(2), v: new Float32Array(3) }, { lr: 1 })).toThrow(/expected 2 each/);
    expect(() => opt.step(new Float32Array(4), new Float32Array(4), Number.NaN)).toThrow(/lr must be/);
  });
});

describe("clipGradNorm", () => {
  it("returns the pre-clip norm and scales to maxNorm", () => {
    const g = new Float32Array([3, 4]);
    expect(clipGradNorm(g, 1)).toBe(5);
    // factor 1 / (5 + 1e-6)
    expect(g[0]).toBeCloseTo(0.6, 6);
    expect(g[1]).toBeCloseTo(0.8, 6);
    const h = new Float32Array([0.3, 0.4]);
    expect(clipGradNorm(h, 1)).toBeCloseTo(0.5, 7);
    expect(Array.from(h)).toEqual([Math.fround(0.3), Math.fround(0.4)]);
  });

  it("accumulates in float64 (1e6 elements of 1e-3 give exactly 1)", () => {
    const g = new Float32Array(1_000_000).fill(1e-3);
    // Σ float32(1e-3)² over 1e6 in float64; a float32 accumulator would drift by ~1e-3.
    expect(clipGradNorm(g, 10)).toBeCloseTo(Math.fround(1e-3) * 1000, 9);
  });

  it("leaves grads untouched when the norm is not finite", () => {
    const g = new Float32Array([1, Number.NaN, 2]);
    expect(clipGradNorm(g, 1)).toBeNaN();
    expect(g[0]).toBe(1);
    expect(() => clipGradNorm(g, 0)).toThrow(/maxNorm must be > 0/);
  });
});

describe("clipFactor and AdamW's gradScale", () => {
  it("give the same bits as clipGradNorm then step, clipped or not", () => {
    const rng = createRng(5);
    const n = 4096;
    for (const scale of [3, 0.01]) {
      const grads = Array.from({ length: 4 }, () => Float32Array.from({ length: n }, () => scale * rng.normal()));
      const p0 = Float32Array.from({ length: n }, () => rng.normal());
      const [a, b] = [new AdamW(n, { lr: 1e-2, weightDecay: 0.1 }), new AdamW(n, { lr: 1e-2, weightDecay: 0.1 })];
      const [pa, pb] = [p0.slice(), p0.slice()];
      for (const g of grads) {
        const clipped = g.slice();
        const norm = clipGradNorm(clipped, 1);
        a.step(pa, clipped);
        expect(gradNorm(g)).toBe(norm);
        b.step(pb, g, undefined, clipFactor(norm, 1));
      }
      expect(Buffer.from(pb.buffer).equals(Buffer.from(pa.buffer))).toBe(true);
      expect(Buffer.from(b.state().m.buffer).equals(Buffer.from(a.state().m.buffer))).toBe(true);
      expect(Buffer.from(b.state().v.buffer).equals(Buffer.from(a.state().v.buffer))).toBe(true);
    }
    expect(clipFactor(0.5, 1)).toBe(1);
    expect(clipFactor(5, 1)).toBe(1 / (5 + 1e-6));
  });
});
