import { describe, expect, it } from "vitest";
import { createRng } from "../../core/rng.js";
import { adjustLogits, adjustsLogits, checkSamplingParams, sampleToken, tokenLogprob, type SamplingParams } from "./sampling.js";

const logits = Float32Array.from([1.0, 2.5, -0.5, 0.0, 3.0, 2.9, -2.0, 0.7]);

function softmax(z: ArrayLike<number>, t: number, ids: number[]): Map<number, number> {
  const m = Math.max(...ids.map((i) => (z[i] as number) / t));
  const e = ids.map((i) => Math.exp((z[i] as number) / t - m));
  const s = e.reduce((a, b) => a + b, 0);
  return new Map(ids.map((i, k) => [i, (e[k] as number) / s]));
}

/** Draws n samples and checks every frequency is within 4.5 standard errors of `expected`. */
function checkFrequencies(params: SamplingParams, expected: Map<number, number>, allowed?: number[]): void {
  const rng = createRng(42);
  const n = 20_000;
  const counts = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const { id } = sampleToken(logits, params, rng, allowed);
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  for (const id of counts.keys()) expect(expected.has(id), `id ${id} sampled outside the support`).toBe(true);
  for (const [id, p] of expected) {
    const se = Math.sqrt((p * (1 - p)) / n) + 1e-9;
    expect(Math.abs((counts.get(id) ?? 0) / n - p)).toBeLessThan(4.5 * se + 1e-3);
  }
}

describe("sampleToken", () => {
  const all = [...logits.keys()];

  it("greedy picks the argmax and records its log-prob at T = 1", () => {
    const r = sampleToken(logits, { temperature: 0 }, createRng(1));
    expect(r.id).toBe(4);
    expect(r.logprob).toBeCloseTo(Math.log(softmax(logits, 1, all).get(4) as number), 12);
    expect(sampleToken(logits, { temperature: 0 }, createRng(1), [0, 2, 7]).id).toBe(0);
    expect(sampleToken(Float32Array.from([1, 3, 3]), { temperature: 0 }, createRng(1)).id).toBe(1);
  });

  it("samples softmax(z/T) and records log_softmax(z/T) of the sampled id", () => {
    const rng = createRng(3);
    for (let i = 0; i < 200; i++) {
      const r = sampleToken(logits, { temperature: 0.7 }, rng);
      expect(r.logprob).toBeCloseTo(Math.log(softmax(logits, 0.7, all).get(r.id) as number), 12);
      expect(r.logprob).toBeCloseTo(tokenLogprob(logits, 0.7, r.id), 12);
    }
    checkFrequencies({ temperature: 0.7 }, softmax(logits, 0.7, all));
    checkFrequencies({ temperature: 1.5 }, softmax(logits, 1.5, all));
  });

  it("with an allowed set samples the masked, renormalised distribution and records its log-prob", () => {
    const allowed = [7, 0, 3];
    checkFrequencies({ temperature: 1 }, softmax(logits, 1, allowed), allowed);
    const r = sampleToken(logits, { temperature: 0.9 }, createRng(5), allowed);
    expect(r.logprob).toBeCloseTo(Math.log(softmax(logits, 0.9, allowed).get(r.id) as number), 12);
  });

  it("top-k and top-p keep only the head, but the recorded log-prob stays untruncated", () => {
    const p = softmax(logits, 1, all);
    const top2 = new Map([4, 5].map((i) => [i, (p.get(i) as number) / ((p.get(4) as number) + (p.get(5) as number))]));
    checkFrequencies({ temperature: 1, topK: 2 }, top2);
    // Sorted probs: 4 (.34), 5 (.31), 1 (.20), ... ; p = 0.6 needs {4, 5}, p = 0.7 needs {4, 5, 1}.
    checkFrequencies({ temperature: 1, topP: 0.6 }, top2);
    const top3Mass = [4, 5, 1].reduce((a, i) => a + (p.get(i) as number), 0);
    checkFrequencies({ temperature: 1, topP: 0.7 }, new Map([4, 5, 1].map((i) => [i, (p.get(i) as number) / top3Mass])));
    const r = sampleToken(logits, { temperature: 1, topK: 2 }, createRng(9));
    expect(r.logprob).toBeCloseTo(Math.log(p.get(r.id) as number), 12);
  });

  it("is a pure function of the RNG state", () => {
    const draw = (seed: number) => {
      const rng = createRng(seed);
      return Array.from({ length: 50 }, () => sampleToken(logits, { temperature: 1, topP: 0.9 }, rng).id);
    };
    expect(draw(11)).toEqual(draw(11));
    expect(draw(11)).not.toEqual(draw(12));
  });

  it("rejects empty allowed sets and non-finite logits", () => {
    expect(() => sampleToken(logits, { temperature: 1 }, createRng(1), [])).toThrow(/allowed set is empty/);
    expect(() => sampleToken(Float32Array.from([NaN, NaN]), { temperature: 1 }, createRng(1))).toThrow(/not finite/);
    expect(() => checkSamplingParams({ temperature: -1 })).toThrow(/temperature must be/);
    expect(() => checkSamplingParams({ temperature: 1, topP: 0 })).toThrow(/topP must be in/);
    expect(() => checkSamplingParams({ temperature: 1, topK: 1.5 })).toThrow(/topK must be/);
    expect(() => checkSamplingParams({ temperature: 0.6, topP: 0.95, topK: 20 })).not.toThrow();
  });
});

describe("adjustLogits (OpenAI logit_bias and presence/frequency penalties)", () => {
  it("adds the bias and subtracts count · frequency + [count > 0] · presence, on the raw logits", () => {
    const z = Float32Array.from(logits);
    const counts = new Map([[1, 3], [4, 1], [6, 0]]);
    adjustLogits(z, { logitBias: new Map([[0, 2], [4, -100]]), presencePenalty: 0.5, frequencyPenalty: 0.25 }, counts);
    const want = [...logits];
    want[0]! += 2;
    want[1]! -= 3 * 0.25 + 0.5;
    want[4]! += -100 - (1 * 0.25 + 0.5);
    // Exact to float32 rounding of each sum.
    want.forEach((w, i) => expect(Math.abs((z[i] as number) - w)).toBeLessThan(1e-5));
    // The -100 bias bans the mode (id 4, 3.0); id 0's +2 (1.0 → 3.0) lifts it over the runner-up 5 (2.9).
    expect(sampleToken(z, { temperature: 0 }, createRng(1)).id).toBe(0);
  });

  it("changes nothing without settings (so rows without them take the plain path)", () => {
    expect(adjustsLogits({})).toBe(false);
    expect(adjustsLogits({ logitBias: new Map(), presencePenalty: 0, frequencyPenalty: 0 })).toBe(false);
    expect(adjustsLogits({ frequencyPenalty: -0.5 })).toBe(true);
    const z = Float32Array.from(logits);
    adjustLogits(z, { presencePenalty: 0, frequencyPenalty: 0 }, new Map([[2, 5]]));
    expect([...z]).toEqual([...logits]);
  });
});
