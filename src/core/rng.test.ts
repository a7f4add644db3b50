import { describe, expect, it } from "vitest";
import { createRng, rngFromState } from "./rng.js";

describe("rng", () => {
  it("is deterministic for a seed and differs across seeds", () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const xs = Array.from({ length: 100 }, () => a.nextUint32());
    expect(Array.from({ length: 100 }, () => b.nextUint32())).toEqual(xs);
    expect(Array.from({ length: 100 }, () => c.nextUint32())).not.toEqual(xs);
    expect(createRng("kuhn").next()).toBe(createRng("kuhn").next());
  });

  it("resumes exactly from a saved state", () => {
    const a = createRng(7);
    for (let i = 0; i < 13; i++) a.next();
    const resumed = rngFromState(a.state());
    expect(Array.from({ length: 50 }, () => resumed.next())).toEqual(Array.from({ length: 50 }, () => a.next()));
  });

  it("clone is independent of the original", () => {
    const a = createRng(1);
    const b = a.clone();
    a.next();
    a.next();
    const c = rngFromState(b.state());
    expect(b.next()).toBe(c.next());
  });

  it("int(n) is uniform within 3% (0.005 absolute) per bucket over 60k draws", () => {
    const rng = createRng(3);
    const counts = new Array<number>(6).fill(0);
    const draws = 60_000;
    for (let i = 0; i < draws; i++) {
      const k = rng.int(6);
      counts[k] = (counts[k] ?? 0) + 1;
    }
    for (const k of counts) expect(Math.abs(k / draws - 1 / 6)).toBeLessThan(0.005);
  });

  it("next() lies in [0, 1) with mean 0.5 ± 0.01 over 100k draws", () => {
    const rng = createRng(11);
    let sum = 0;
    for (let i = 0; i < 100_000; i++) {
      const x = rng.next();
      expect(x >= 0 && x < 1).toBe(true);
      sum += x;
    }
    expect(Math.abs(sum / 100_000 - 0.5)).toBeLessThan(0.01);
  });

  it("normal() has mean 0 ± 0.02 and variance 1 ± 0.03 over 100k draws", () => {
    const rng = createRng(5);
    let s = 0;
    let s2 = 0;
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      const x = rng.normal();
      s += x;
      s2 += x * x;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.02);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.03);
  });

  it("split streams differ from the parent and are reproducible", () => {
    const a = createRng(9);
    const child = a.split();
    const a2 = createRng(9);
    const child2 = a2.split();
    expect(child.nextUint32()).toBe(child2.nextUint32());
    expect(a.nextUint32()).toBe(a2.nextUint32());
    expect(child.nextUint32()).not.toBe(a.nextUint32());
  });

  it("shuffle is a permutation; bad arguments throw clear errors", () => {
    const rng = createRng(2);
    const xs = [1, 2, 3, 4, 5, 6, 7];
    expect(rng.shuffle(xs).sort()).toEqual(xs);
    expect(() => rng.int(0)).toThrow(/integer n/);
    expect(() => rng.choice([])).toThrow(/non-empty/);
    expect(() => rngFromState([0, 0, 0, 0])).toThrow(/zeros/);
  });
});
