import { describe, expect, it } from "vitest";
import { referenceLoss, type LossSample } from "./loss-reference.js";

// Two samples, C = 4, ε = 0.2. Old log-probs are −1 everywhere; the new ones give ratios
//   sample 1 (A = +1): r = 1.5 (clipped: 1.2 < 1.5), 0.5 (unclipped), 1.0
//   sample 2 (A = −2): r = 1.5 (unclipped: −3 < −2.4), 0.5 (clipped: −1.6 < −1)
// Per-token losses: −1.2, −0.5, −1 | 3, 1.6 → sum 1.9 → loss = 1.9 / (N·C) = 1.9 / 8 = 0.2375.
const old = -1;
const samples: LossSample[] = [
  { advantage: 1, oldLogprobs: [old, old, old], logprobs: [old + Math.log(1.5), old + Math.log(0.5), old] },
  { advantage: -2, oldLogprobs: [old, old], logprobs: [old + Math.log(1.5), old + Math.log(0.5)] },
];
const TOL = 12; // decimal places: everything here is a handful of float64 operations

describe("reference PPO-clip loss with Dr.GRPO normalisation", () => {
  it("matches the hand-computed example: ratio, clipping on both sides, constant normaliser", () => {
    const r = referenceLoss(samples, { kind: "ppo", clip: 0.2, normalizer: 4 });
    expect(r.loss).toBeCloseTo(0.2375, TOL);
    expect(r.clipFraction).toBeCloseTo(2 / 5, TOL);
    const k3 = (x: number) => x - 1 - Math.log(x);
    expect(r.approxKl).toBeCloseTo((2 * k3(1.5) + 2 * k3(0.5) + k3(1)) / 5, TOL);
    expect(r.tokens).toBe(5);
    const want = [[0, -0.5 / 8, -1 / 8], [3 / 8, 0]];
    r.gradLogprobs.forEach((g, i) => g.forEach((x, t) => expect(x).toBeCloseTo(want[i]![t]!, TOL)));
  });

  it("divides by the constant C, not by each sample's length", () => {
    const one: LossSample = { advantage: 1, oldLogprobs: [0], logprobs: [0] };
    const three: LossSample = { advantage: 1, oldLogprobs: [0, 0, 0], logprobs: [0, 0, 0] };
    // At r = 1 each token contributes −A/C: one token → −1/10, three tokens → −3/10.
    expect(referenceLoss([one], { kind: "ppo", clip: 0.2, normalizer: 10 }).loss).toBeCloseTo(-0.1, TOL);
    expect(referenceLoss([three], { kind: "ppo", clip: 0.2, normalizer: 10 }).loss).toBeCloseTo(-0.3, TOL);
    expect(referenceLoss([one, three], { kind: "ppo", clip: 0.2, normalizer: 10 }).loss).toBeCloseTo(-0.2, TOL);
  });

  it("at r = 1 the PPO gradient equals the REINFORCE gradient", () => {
    const onPolicy = samples.map((s) => ({ ...s, logprobs: s.oldLogprobs }));
    const ppo = referenceLoss(onPolicy, { kind: "ppo", clip: 0.2, normalizer: 4 });
    const pg = referenceLoss(onPolicy, { kind: "reinforce", clip: 0.2, normalizer: 4 });
    expect(ppo.gradLogprobs).toEqual(pg.gradLogprobs);
    expect(ppo.clipFraction).toBe(0);
    expect(ppo.approxKl).toBe(0);
  });

  it("REINFORCE is −A·logp summed, over N·C", () => {
    const r = referenceLoss(samples, { kind: "reinforce", clip: 0.2, normalizer: 4 });
    const s1 = 3 * old + Math.log(1.5) + Math.log(0.5);
    const s2 = 2 * old + Math.log(1.5) + Math.log(0.5);
    expect(r.loss).toBeCloseTo((-1 * s1 + 2 * s2) / 8, TOL);
    expect(r.gradLogprobs).toEqual([[-1 / 8, -1 / 8, -1 / 8], [2 / 8, 2 / 8]]);
  });

  it("rejects mismatched lengths and a non-positive normaliser", () => {
    expect(() => referenceLoss([{ advantage: 1, logprobs: [0], oldLogprobs: [] }], { kind: "ppo", clip: 0.2, normalizer: 4 })).toThrow(/old log-probs/);
    expect(() => referenceLoss(samples, { kind: "ppo", clip: 0.2, normalizer: 0 })).toThrow(/normalizer/);
  });
});
