import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createRng, type Rng } from "../../core/rng.js";
import { parseModelConfig, type ModelConfig } from "./config.js";
import { isNormWeight, paramLayout, Params } from "../weights/params.js";
import { applyRope, logSoftmaxRows, referenceForward, referenceTokenLogProbs } from "./reference.js";

const small: ModelConfig = {
  vocabSize: 11, hiddenSize: 8, intermediateSize: 12, numHiddenLayers: 2, numAttentionHeads: 4,
  numKeyValueHeads: 2, headDim: 4, rmsNormEps: 1e-6, ropeTheta: 10000, tieWordEmbeddings: true,
  maxPositionEmbeddings: 64,
};

/** Large random weights (std 0.5, norm gains around 1) so every path changes the logits. */
function randomParams(config: ModelConfig, rng: Rng): Params {
  const p = new Params(paramLayout(config));
  for (const v of p.layout.views) {
    const w = p.view(v.name);
    for (let i = 0; i < w.length; i++) w[i] = isNormWeight(v.name) ? 1 + 0.2 * rng.normal() : 0.5 * rng.normal();
  }
  return p;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

describe("referenceForward", () => {
  it("matches a literal NumPy port of transformers' modeling_qwen3.py, to 1e-10", () => {
    // testdata/qwen3-numpy-port.py: D=8 ≠ C/H=4, GQA 4/2, 2 layers, untied head, T=7.
    const fixture = JSON.parse(readFileSync(new URL("./testdata/qwen3-numpy-port.json", import.meta.url), "utf8")) as {
      config: unknown; tokens: number[]; logits: number[][];
    };
    const config = parseModelConfig(fixture.config, "qwen3-numpy-port.json");
    const p = new Params(paramLayout(config));
    p.layout.views.forEach((v, k) => {
      const w = p.view(v.name);
      for (let j = 0; j < w.length; j++) {
        w[j] = isNormWeight(v.name) ? 1 + 0.25 * Math.sin(0.9 * j + 1.7 * k) : 0.5 * Math.sin(0.7 * j + 1.3 * k + 0.1);
      }
    });
    const logits = referenceForward(config, p, fixture.tokens);
    // Measured 5e-12 (the fixture keeps 12 digits); dropping the float32 RoPE angles gives 7.5e-10.
    expect(maxAbsDiff(logits, fixture.logits.flat())).toBeLessThan(1e-10);
  });

  it("matches a 1-layer example computed by hand (C=4, D=2, T=2), to 1e-5", () => {
    const config: ModelConfig = {
      vocabSize: 3, hiddenSize: 4, intermediateSize: 2, numHiddenLayers: 1, numAttentionHeads: 1,
      numKeyValueHeads: 1, headDim: 2, rmsNormEps: 1e-6, ropeTheta: 10000, tieWordEmbeddings: true,
      maxPositionEmbeddings: 8,
    };
    const p = new Params(paramLayout(config));
    const set = (name: string, values: number[]) => p.view(name).set(values);
    set("model.embed_tokens.weight", [1, 0, 0, 0, /**/ 0, 1, 0, 0, /**/ 1, 1, 1, 1]);
    for (const n of ["model.layers.0.input_layernorm.weight", "model.layers.0.post_attention_layernorm.weight", "model.norm.weight"]) set(n, [1, 1, 1, 1]);
    set("model.layers.0.self_attn.q_norm.weight", [1, 1]);
    set("model.layers.0.self_attn.k_norm.weight", [1, 1]);
    const pick01 = [1, 0, 0, 0, /**/ 0, 1, 0, 0]; // [2, 4]: channels 0 and 1
    set("model.layers.0.self_attn.q_proj.weight", pick01);
    set("model.layers.0.self_attn.k_proj.weight", pick01);
    set("model.layers.0.self_attn.v_proj.weight", pick01);
    set("model.layers.0.self_attn.o_proj.weight", [0, 0, /**/ 0, 0, /**/ 1, 0, /**/ 0, 1]); // [4, 2]: into channels 2, 3
    set("model.layers.0.mlp.gate_proj.weight", [1, 0, 0, 0, /**/ 0, 0, 0, 0]);
    set("model.layers.0.mlp.up_proj.weight", [1, 0, 0, 0, /**/ 0, 0, 0, 0]);
    set("model.layers.0.mlp.down_proj.weight", [0, 0, /**/ 1, 0, /**/ 0, 0, /**/ 0, 0]); // into channel 1

    // tokens [0, 1]: x0 = e0, x1 = e1; RMSNorm of a one-hot in C=4 gives 2·e.
    // q = k = v: position 0 → [2, 0], position 1 → [0, 2]; QK-norm (D=2) → [√2, 0] and [0, √2].
    // RoPE (D=2, inv_freq 1): position 1 rotates by 1 rad. Scores at t=1 (scale 1/√2):
    //   s(1,0) = rot(1)[0,√2] · [√2,0] / √2 = −√2 sin 1;   s(1,1) = |[0,√2]|² / √2 = √2.
    const p10 = 1 / (1 + Math.exp(Math.SQRT2 + Math.SQRT2 * Math.sin(1)));
    // attention outputs: t=0 → v0 = [2, 0]; t=1 → p10·[2,0] + (1−p10)·[0,2]; o_proj moves them to channels 2, 3.
    const x = [
      [1, 0, 2, 0],
      [0, 1, 2 * p10, 2 * (1 - p10)],
    ];
    // MLP: g = u = RMSNorm(x)[0]; channel 1 += silu(g) · u.
    for (const row of x) {
      const rms = Math.sqrt(row.reduce((a, b) => a + b * b, 0) / 4);
      const g = (row[0] as number) / rms;
      row[1] = (row[1] as number) + (g / (1 + Math.exp(-g))) * g;
    }
    const embed = [[1, 0, 0, 0], [0, 1, 0, 0], [1, 1, 1, 1]];
    const expected = x.flatMap((row) => {
      const rms = Math.sqrt(row.reduce((a, b) => a + b * b, 0) / 4);
      return embed.map((e) => e.reduce((a, ei, i) => a + ei * (row[i] as number) / rms, 0));
    });
    const logits = referenceForward(config, p, [0, 1]);
    expect(maxAbsDiff(logits, expected)).toBeLessThan(1e-5);
    // A sanity anchor independent of the formulas above: position 0 is [1,0,2,0]/√1.25 plus the MLP term.
    expect(logits[2]).toBeGreaterThan(2);
  });

  it("is causal: logits at t do not depend on tokens after t (exactly)", () => {
    const p = randomParams(small, createRng(3));
    const a = referenceForward(small, p, [1, 5, 2, 9, 3, 7]);
    const b = referenceForward(small, p, [1, 5, 2, 4, 0, 10]);
    const V = small.vocabSize;
    expect(maxAbsDiff(a.subarray(0, 3 * V), b.subarray(0, 3 * V))).toBe(0);
    expect(maxAbsDiff(a.subarray(3 * V), b.subarray(3 * V))).toBeGreaterThan(1e-3);
    // The last position of a prefix equals that position in the full sequence.
    const prefix = referenceForward(small, p, [1, 5, 2]);
    expect(maxAbsDiff(prefix, a.subarray(0, 3 * V))).toBe(0);
  });

  it("maps query head h to kv head ⌊h / G⌋ (HF repeat_kv)", () => {
    // A KV=2 model equals a KV=4 model whose kv heads are copies [k0, k0, k1, k1].
    const gqa = randomParams(small, createRng(4));
    const full: ModelConfig = { ...small, numKeyValueHeads: 4 };
    const mha = new Params(paramLayout(full));
    const { headDim: D, hiddenSize: C } = small;
    for (const v of mha.layout.views) {
      const dst = mha.view(v.name);
      if (/[kv]_proj/.test(v.name)) {
        const src = gqa.view(v.name); // [2·D, C]
        for (const [to, from] of [[0, 0], [1, 0], [2, 1], [3, 1]] as const) {
          dst.set(src.subarray(from * D * C, (from + 1) * D * C), to * D * C);
        }
      } else {
        dst.set(gqa.view(v.name));
      }
    }
    const tokens = [3, 1, 4, 1, 5];
    expect(maxAbsDiff(referenceForward(small, gqa, tokens), referenceForward(full, mha, tokens))).toBeLessThan(1e-12);
  });

  it("an untied head holding a copy of the embedding gives the same logits", () => {
    const tied = randomParams(small, createRng(5));
    const config: ModelConfig = { ...small, tieWordEmbeddings: false };
    const untied = new Params(paramLayout(config));
    for (const v of tied.layout.views) untied.view(v.name).set(tied.view(v.name));
    untied.view("lm_head.weight").set(tied.view("model.embed_tokens.weight"));
    expect(maxAbsDiff(referenceForward(small, tied, [2, 7, 1]), referenceForward(config, untied, [2, 7, 1]))).toBe(0);
    untied.view("lm_head.weight")[0] = 9;
    expect(maxAbsDiff(referenceForward(small, tied, [2, 7, 1]), referenceForward(config, untied, [2, 7, 1]))).toBeGreaterThan(0.1);
  });

  it("rejects tokens outside the vocabulary", () => {
    const p = randomParams(small, createRng(6));
    expect(() => referenceForward(small, p, [1, 11])).toThrow(/Token 11 at position 1 is outside the vocabulary \[0, 11\)/);
    expect(() => referenceForward(small, p, [])).toThrow(/at least one token/);
  });

  it("token log-probs are the log-softmax entries of the next tokens", () => {
    const p = randomParams(small, createRng(7));
    const tokens = [0, 3, 6, 9];
    const logp = logSoftmaxRows(referenceForward(small, p, tokens), small.vocabSize);
    for (let t = 0; t < tokens.length; t++) {
      let z = 0;
      for (let i = 0; i < small.vocabSize; i++) z += Math.exp(logp[t * small.vocabSize + i] as number);
      expect(z).toBeCloseTo(1, 12);
    }
    const lp = referenceTokenLogProbs(small, p, tokens);
    expect(Array.from(lp)).toEqual([1, 2, 3].map((t) => logp[(t - 1) * small.vocabSize + (tokens[t] as number)]));
  });
});

describe("applyRope", () => {
  it("rotates pairs (i, i + D/2) and keeps q·k a function of the offset only", () => {
    // D=2, θ irrelevant (inv_freq[0] = 1): position t rotates by t radians.
    const x = new Float64Array([1, 0, 1, 0, 1, 0]);
    applyRope(x, 3, 1, 2, 10000);
    expect(maxAbsDiff(x, [1, 0, Math.cos(1), Math.sin(1), Math.cos(2), Math.sin(2)])).toBeLessThan(1e-7);
    // D=4 tells rotate_half (pairs (0,2), (1,3)) from the interleaved convention (pairs (0,1), (2,3)).
    const y = new Float64Array([0, 0, 0, 0, 1, 0, 0, 0]);
    applyRope(y, 2, 1, 4, 100);
    expect(maxAbsDiff(y, [0, 0, 0, 0, Math.cos(1), 0, Math.sin(1), 0])).toBeLessThan(1e-7);
    const z = new Float64Array([0, 0, 0, 0, 0, 1, 0, 0]);
    applyRope(z, 2, 1, 4, 100); // inv_freq[1] = 100^(−2/4) = 0.1
    expect(maxAbsDiff(z, [0, 0, 0, 0, 0, Math.cos(0.1), 0, Math.sin(0.1)])).toBeLessThan(1e-7);
    // D=8: dot(rope(q at p), rope(k at s)) depends only on p − s (up to float32 angle rounding).
    const rng = createRng(8);
    const q = Float64Array.from({ length: 8 }, () => rng.normal());
    const k = Float64Array.from({ length: 8 }, () => rng.normal());
    const dotAt = (p: number, s: number) => {
      const qq = q.slice();
      const kk = k.slice();
      applyRope(qq, 1, 1, 8, 10000, p);
      applyRope(kk, 1, 1, 8, 10000, s);
      return qq.reduce((a, v, i) => a + v * (kk[i] as number), 0);
    };
    expect(dotAt(7, 3)).toBeCloseTo(dotAt(104, 100), 4);
    expect(Math.abs(dotAt(7, 3) - dotAt(7, 4))).toBeGreaterThan(1e-3);
  });
});
