import { describe, expect, it } from "vitest";
import { createRng, type Rng } from "../../core/rng.js";
import { AdamW, clipGradNorm } from "./optimizer.js";
import { GraphAdamW, type OptimizerPrecision } from "./optimizer-graph.js";

const N = 4099; // not a multiple of any vector width
const opts = { lr: 3e-3, weightDecay: 0.01 };

function normals(rng: Rng, n: number, scale: number): Float32Array {
  return Float32Array.from({ length: n }, () => scale * rng.normal());
}

/** Five steps of JS clip + AdamW and of the graph from one start; returns both end states. */
async function race(precision: OptimizerPrecision, maxNorm: number, gradScale: number) {
  const rng = createRng(`graph-adamw-${precision}`);
  const p0 = normals(rng, N, 0.02);
  const grads = Array.from({ length: 5 }, () => normals(rng, N, gradScale));
  const js = new AdamW(N, opts);
  const pj = p0.slice();
  const jsNorms: number[] = [];
  for (const g of grads) {
    const c = g.slice();
    jsNorms.push(clipGradNorm(c, maxNorm));
    js.step(pj, c);
  }
  const graph = await GraphAdamW.create(new AdamW(N, opts), { precision, session: { threads: 1 } });
  const pg = p0.slice();
  const graphNorms: number[] = [];
  for (const g of grads) {
    const before = g.slice();
    graphNorms.push(await graph.step(pg, g, maxNorm));
    expect(g).toEqual(before); // the gradient is read, not clipped in place
  }
  await graph.release();
  return { js, pj, jsNorms, graph: graph.optimizer, pg, graphNorms };
}

const bits = (a: Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Largest |a − b| − bound(b) over elements (≤ 0: every element within its bound). */
function maxExcess(a: Float32Array, b: Float32Array, bound: (x: number) => number): number {
  let d = -Infinity;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs((a[i] as number) - (b[i] as number)) - bound(b[i] as number));
  return d;
}

describe("GraphAdamW", () => {
  it("float64: reproduces clipGradNorm + AdamW.step bit for bit when the clip does not fire", async () => {
    const r = await race("float64", 1e9, 1);
    expect(bits(r.pg).equals(bits(r.pj))).toBe(true);
    expect(bits(r.graph.state().m).equals(bits(r.js.state().m))).toBe(true);
    expect(bits(r.graph.state().v).equals(bits(r.js.state().v))).toBe(true);
    expect(r.graph.stepsTaken).toBe(5);
    // The norm is summed in another order: equal to ~1e-15 relative, not bit for bit.
    r.graphNorms.forEach((x, i) => expect(Math.abs(x - (r.jsNorms[i] as number)) / x).toBeLessThan(1e-13));
  });

  it("float64: bit for bit with the clip firing on every step (this seed; the factor can differ by an ulp)", async () => {
    const r = await race("float64", 1, 1); // norms ≈ √4099 ≈ 64 ≫ 1
    expect(r.jsNorms.every((x) => x > 10)).toBe(true);
    expect(bits(r.pg).equals(bits(r.pj))).toBe(true);
    expect(bits(r.graph.state().v).equals(bits(r.js.state().v))).toBe(true);
  });

  it("float32: after 5 steps parameters within 2 float32 ulps + 5e-6·lr of the float64 loop, moments within 1e-6 of their largest entry", async () => {
    for (const maxNorm of [1e9, 1]) {
      const r = await race("float32", maxNorm, 1);
      // The stored parameter rounds to float32 after each step (ulp 2⁻²³·|p|); the move itself
      // (≈ lr) carries float32 rounding of ~6e-8·lr per op, ~10 ops a step, 5 steps.
      expect(maxExcess(r.pg, r.pj, (p) => 2 * 2 ** -23 * Math.abs(p) + 5e-6 * opts.lr)).toBeLessThanOrEqual(0);
      // m is a difference of terms (β1·m + (1−β1)·g), so near-zero entries carry the rounding of
      // their terms: the bound is relative to the buffer's largest entry.
      const relToMax = (a: Float32Array, b: Float32Array): number => maxExcess(a, b, () => 0) / b.reduce((x, y) => Math.max(x, Math.abs(y)), 0);
      expect(relToMax(r.graph.state().m, r.js.state().m)).toBeLessThan(1e-6);
      expect(relToMax(r.graph.state().v, r.js.state().v)).toBeLessThan(1e-6);
      r.graphNorms.forEach((x, i) => expect(Math.abs(x - (r.jsNorms[i] as number)) / x).toBeLessThan(1e-6));
    }
  });

  it("a non-finite gradient norm changes nothing and counts no step", async () => {
    for (const precision of ["float32", "float64"] as const) {
      for (const bad of [Number.NaN, Infinity]) {
        const rng = createRng(`bad-${precision}`);
        const opt = new AdamW(N, opts);
        const graph = await GraphAdamW.create(opt, { precision, session: { threads: 1 } });
        const p = normals(rng, N, 0.02);
        await graph.step(p, normals(rng, N, 1), 1);
        const [p0, m0, v0] = [p.slice(), opt.state().m.slice(), opt.state().v.slice()];
        const g = normals(rng, N, 1);
        g[17] = bad;
        const norm = await graph.step(p, g, 1);
        expect(Number.isFinite(norm)).toBe(false);
        expect(opt.stepsTaken).toBe(1);
        expect(p).toEqual(p0);
        expect(opt.state().m).toEqual(m0);
        expect(opt.state().v).toEqual(v0);
        await graph.release();
      }
    }
  });

  it("shares the AdamW state: the JS loop resumes the graph's moments (checkpoint layout unchanged)", async () => {
    const rng = createRng("share");
    const grads = Array.from({ length: 4 }, () => normals(rng, N, 1));
    const p0 = normals(rng, N, 0.02);
    const a = new AdamW(N, opts);
    const pa = p0.slice();
    for (const g of grads) a.step(pa, g);
    const b = new AdamW(N, opts);
    const graph = await GraphAdamW.create(b, { precision: "float64", session: { threads: 1 } });
    const pb = p0.slice();
    for (const g of grads.slice(0, 2)) await graph.step(pb, g, 1e9);
    await graph.release();
    const resumed = AdamW.fromState({ step: b.state().step, m: b.state().m.slice(), v: b.state().v.slice() }, opts);
    for (const g of grads.slice(2)) resumed.step(pb, g);
    expect(resumed.stepsTaken).toBe(4);
    expect(bits(pb).equals(bits(pa))).toBe(true);
  });

  it("rejects mismatched buffers and a bad maxNorm with what was expected", async () => {
    const graph = await GraphAdamW.create(new AdamW(8, opts), { session: { threads: 1 } });
    await expect(graph.step(new Float32Array(8), new Float32Array(7), 1)).rejects.toThrow(/length 8; got 8 and 7/);
    await expect(graph.step(new Float32Array(8), new Float32Array(8), 0)).rejects.toThrow(/maxNorm must be > 0/);
    await graph.release();
  });
});
