/**
 * The device sampler graph against the host sampler (sampling.ts), on the CPU provider (every
 * machine) and on webgpu (lavapipe in CI). Small shapes: lavapipe runs on CPU cores.
 */
import ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { createRng, type Rng } from "../../core/rng.js";
import { checkSamplerDevice, defaultSampler, parseSampler } from "../graph/device.js";
import { requireWebgpu, skipWebgpu } from "../graph/test-webgpu.js";
import { type DeviceDrawRow, DeviceSampler, needsHostDraw } from "./device-sampler.js";
import { sampleToken, tokenLogprob } from "./sampling.js";

/** An Rng whose next() is `u` (the host sampler takes exactly one per sampled token). */
function fixedRng(u: number): Rng {
  return { next: () => u } as unknown as Rng;
}

function logitsTensor(z: Float32Array, B: number): ort.Tensor {
  return new ort.Tensor("float32", z, [B, z.length / B]);
}

/** Exact softmax(z/T) over `ids`, float64. */
function probabilities(z: ArrayLike<number>, T: number, ids: readonly number[]): number[] {
  const x = ids.map((i) => (z[i] as number) / T);
  const m = x.reduce((a, v) => Math.max(a, v), -Infinity);
  const e = x.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

describe("sampler settings", () => {
  it("parses --sampler / the sampler key, refuses the device sampler on the CPU by the key's name, defaults by device", () => {
    expect(parseSampler("device")).toBe("device");
    expect(parseSampler("host")).toBe("host");
    expect(() => parseSampler("gpu", "sampler")).toThrow('sampler expects one of device, host; got "gpu"');
    expect(() => checkSamplerDevice("cpu", "device", "sampler")).toThrow(/^sampler device draws on the GPU \(--device webgpu\)/);
    expect(() => checkSamplerDevice("cpu", "host")).not.toThrow();
    expect(() => checkSamplerDevice("webgpu", "device")).not.toThrow();
    expect([defaultSampler("cpu"), defaultSampler("webgpu")]).toEqual(["host", "device"]);
  });

  it("rows the graph does not cover fall back to the host: logit adjustments, top-p < 1, top-k below the candidates", () => {
    expect(needsHostDraw({ temperature: 1 }, false, 100)).toBe(false);
    expect(needsHostDraw({ temperature: 1, topP: 1, topK: 0 }, false, 100)).toBe(false);
    expect(needsHostDraw({ temperature: 1, topK: 100 }, false, 100)).toBe(false); // keeps every candidate
    expect(needsHostDraw({ temperature: 1, topK: 5 }, false, 100)).toBe(true);
    expect(needsHostDraw({ temperature: 1, topP: 0.9 }, false, 100)).toBe(true);
    expect(needsHostDraw({ temperature: 0, topP: 0.9 }, false, 100)).toBe(false); // greedy ignores truncation
    expect(needsHostDraw({ temperature: 0 }, true, 100)).toBe(true);
  });
});

for (const device of ["cpu", "webgpu"] as const) {
  describe.skipIf(device === "webgpu" && skipWebgpu)(`device sampler graph on ${device}`, { timeout: 120_000 }, () => {
    const open = async (V: number): Promise<DeviceSampler> => {
      if (device === "webgpu") await requireWebgpu();
      return DeviceSampler.create(device, V);
    };

    // 20 000 draws from one row; χ² goodness of fit against the exact probabilities, threshold
    // the 0.999 quantile (a fixed seed: the test passes or fails the same way every run).
    const cases = [
      { name: "whole vocabulary (V = 16, T = 0.8)", allowed: undefined, quantile: 37.7 }, // χ²(15)
      { name: "allowed set of 6 ids (T = 0.8)", allowed: [1, 3, 4, 9, 12, 15], quantile: 20.52 }, // χ²(5)
    ];
    for (const c of cases) {
      it(`draw frequencies fit softmax(z/T): ${c.name}, χ² below its 0.999 quantile`, async () => {
        const V = 16, T = 0.8, rowsPerRun = 2000, runs = 10;
        const sampler = await open(V);
        const z = Float32Array.from({ length: V }, (_, i) => Math.sin(1.7 * i) * 2);
        const ids = c.allowed ?? [...z.keys()];
        const p = probabilities(z, T, ids);
        const counts = new Map<number, number>();
        const rng = createRng(99);
        for (let r = 0; r < runs; r++) {
          const logits = new Float32Array(rowsPerRun * V);
          for (let b = 0; b < rowsPerRun; b++) logits.set(z, b * V);
          const rows: DeviceDrawRow[] = Array.from({ length: rowsPerRun }, () => ({ temperature: T, allowed: c.allowed, u: rng.next() }));
          const out = await sampler.draw(logitsTensor(logits, rowsPerRun), rows, false);
          for (const id of out.ids) counts.set(id, (counts.get(id) ?? 0) + 1);
        }
        await sampler.release();
        const n = rowsPerRun * runs;
        for (const id of counts.keys()) expect(ids, `id ${id} drawn outside the candidates`).toContain(id);
        const chi2 = ids.reduce((a, id, k) => a + ((counts.get(id) ?? 0) - n * (p[k] as number)) ** 2 / (n * (p[k] as number)), 0);
        console.log(`device sampler (${device}), ${c.name}: χ² = ${chi2.toFixed(2)} over ${ids.length - 1} degrees of freedom, ${n} draws`);
        expect(chi2).toBeLessThan(c.quantile);
      });
    }

    it("with the host's uniforms: the same ids except within float32 rounding of a CDF boundary, log-probs within 2e-5 of tokenLogprob", async () => {
      const V = 264, B = 1000, runs = 4;
      const sampler = await open(V);
      const rng = createRng(7);
      let mismatches = 0, draws = 0, maxDiff = 0;
      for (let r = 0; r < runs; r++) {
        const logits = Float32Array.from({ length: B * V }, () => rng.normal() * 2);
        // Temperatures 1, 0.7, 1.3 and greedy; every third row constrained to 1–20 random ids.
        const rows: DeviceDrawRow[] = Array.from({ length: B }, (_, b) => {
          const temperature = [1, 0.7, 1.3, 0][b % 4] as number;
          const allowed = b % 3 === 0 ? Int32Array.from(new Set(Array.from({ length: 1 + rng.int(20) }, () => rng.int(V)))).sort() : undefined;
          return { temperature, allowed, u: rng.next() };
        });
        const out = await sampler.draw(logitsTensor(logits, B), rows, false);
        rows.forEach((row, b) => {
          const z = logits.subarray(b * V, (b + 1) * V);
          const host = sampleToken(z, { temperature: row.temperature }, fixedRng(row.u), row.allowed);
          const id = out.ids[b] as number;
          draws++;
          maxDiff = Math.max(maxDiff, Math.abs((out.logprobs[b] as number) - tokenLogprob(z, row.temperature, id, row.allowed)));
          if (id === host.id) return;
          mismatches++;
          // A mismatch must sit at a boundary: u·Σe within 1e-5 (relative) of the partial sum between the two ids.
          const ids = row.allowed === undefined ? [...z.keys()] : Array.from(row.allowed);
          const p = probabilities(z, row.temperature, ids);
          const cut = ids.indexOf(Math.min(id, host.id));
          const cdf = p.slice(0, cut + 1).reduce((a, x) => a + x, 0);
          expect(Math.abs(cdf - row.u)).toBeLessThan(1e-5);
        });
      }
      await sampler.release();
      console.log(`device sampler (${device}) vs host sampler, same uniforms: ${mismatches} of ${draws} draws differ; max |Δ log-prob| ${maxDiff.toExponential(2)}`);
      expect(mismatches).toBeLessThanOrEqual(draws * 1e-3);
      expect(maxDiff).toBeLessThan(2e-5);
    });

    it("Qwen3's vocabulary (V = 151,936), LM-like rows (20 strong logits over a broad tail): with the host's uniforms at most 1 % of draws differ, each within 1e-5 of a CDF boundary; log-probs within 2e-5", async () => {
      const V = 151_936, B = 8, runs = device === "cpu" ? 60 : 5;
      const sampler = await open(V);
      const rng = createRng(11);
      const logits = Float32Array.from({ length: B * V }, () => rng.normal() * 2);
      for (let b = 0; b < B; b++) for (let k = 0; k < 20; k++) logits[b * V + rng.int(V)] = 8 + rng.normal() * 3;
      let mismatches = 0, draws = 0, maxDiff = 0;
      for (let r = 0; r < runs; r++) {
        const rows: DeviceDrawRow[] = Array.from({ length: B }, (_, b) => ({ temperature: b % 2 === 1 ? 1 : 0.7, allowed: undefined, u: rng.next() }));
        const out = await sampler.draw(logitsTensor(logits, B), rows, false);
        rows.forEach((row, b) => {
          const z = logits.subarray(b * V, (b + 1) * V);
          const id = out.ids[b] as number;
          const host = sampleToken(z, { temperature: row.temperature }, fixedRng(row.u));
          draws++;
          maxDiff = Math.max(maxDiff, Math.abs((out.logprobs[b] as number) - tokenLogprob(z, row.temperature, id)));
          if (id === host.id) return;
          mismatches++;
          const p = probabilities(z, row.temperature, [...z.keys()]);
          let cdf = 0;
          for (let k = 0; k <= Math.min(id, host.id); k++) cdf += p[k] as number;
          expect(Math.abs(cdf - row.u)).toBeLessThan(1e-5);
        });
      }
      await sampler.release();
      console.log(`device sampler (${device}), V = ${V}: ${mismatches} of ${draws} draws differ from the host's with the same uniforms; max |Δ log-prob| ${maxDiff.toExponential(2)}`);
      expect(mismatches).toBeLessThanOrEqual(draws * 0.01);
      expect(maxDiff).toBeLessThan(2e-5);
    });

    it("greedy picks the lowest id among tied maxima (unconstrained and constrained) and consumes no uniform", async () => {
      const sampler = await open(6);
      const logits = Float32Array.of(0, 3, 1, 3, 3, 2, /* row 1 */ 0, 3, 1, 3, 3, 2);
      const out = await sampler.draw(logitsTensor(logits, 2), [{ temperature: 0, allowed: undefined, u: 0.99 }, { temperature: 0, allowed: [2, 3, 4], u: 0.99 }], true);
      await sampler.release();
      expect([...out.ids]).toEqual([1, 3]);
      expect(out.logits).toEqual(logits); // fetched on request for host draws
      expect(out.logprobs[0]).toBeCloseTo(tokenLogprob(logits.subarray(0, 6), 0, 1), 5);
      expect(out.logprobs[1]).toBeCloseTo(tokenLogprob(logits.subarray(6), 0, 3, [2, 3, 4]), 5);
    });

    it("non-finite logits are an error naming the row", async () => {
      const sampler = await open(3);
      const logits = Float32Array.of(0, 1, 2, 0, Number.NaN, 2);
      await expect(sampler.draw(logitsTensor(logits, 2), [{ temperature: 1, allowed: undefined, u: 0.5 }, { temperature: 1, allowed: undefined, u: 0.5 }], false)).rejects.toThrow(/row 1 are not finite/);
      await sampler.release();
    });
  });
}
