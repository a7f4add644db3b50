/**
 * A slow, readable Qwen3 forward pass in plain TypeScript, for tests only.
 *
 * It follows transformers' modeling_qwen3.py step by step (T time, C hidden, I intermediate,
 * V vocab, H heads, KV kv heads, D head dim, G = H / KV query heads per kv head):
 *
 *   x = embed_tokens[tokens]                                   [T, C]
 *   per layer:
 *     h = rmsNorm(x, input_layernorm)                          [T, C]
 *     q = h · q_projᵀ → [T, H, D];  k = h · k_projᵀ, v = h · v_projᵀ → [T, KV, D]
 *     q = rmsNorm(q, q_norm), k = rmsNorm(k, k_norm)          over D, per head (QK-norm)
 *     q, k = rope(q), rope(k)                                 rotate_half: pairs (i, i + D/2)
 *     head h attends with kv head ⌊h / G⌋ (repeat_kv), causal, scale 1/√D
 *     x = x + [T, H·D] · o_projᵀ
 *     h = rmsNorm(x, post_attention_layernorm)
 *     x = x + down_proj(silu(gate_proj(h)) ⊙ up_proj(h))
 *   x = rmsNorm(x, norm);  logits = x · headᵀ                 head = embed_tokens when tied
 *
 * RMSNorm: y = w ⊙ x / √(mean(x²) + eps).
 * RoPE: inv_freq[i] = θ^(−2i/D), i < D/2; angle = position · inv_freq[i]; HF computes inv_freq
 * and the angle in float32, so we round those two to float32 too (Math.fround) — at position 4000
 * with θ = 1e6 the float32 angle differs from the exact one by ~1e-4 rad, more than a test allows.
 * Everything else accumulates in float64.
 */
import type { ModelConfig } from "./config.js";
import { layerParamName, type Params } from "../weights/params.js";

/** y[t, o] = Σ_i x[t, i] · W[o, i]   (x [T, In], W [Out, In] as PyTorch stores Linear weights) → [T, Out] */
export function linear(x: Float64Array, w: Float32Array, T: number, inDim: number, outDim: number): Float64Array {
  if (x.length !== T * inDim || w.length !== outDim * inDim) {
    throw new Error(`linear: x has ${x.length} values for [${T}, ${inDim}], W has ${w.length} for [${outDim}, ${inDim}]`);
  }
  const y = new Float64Array(T * outDim);
  for (let t = 0; t < T; t++) {
    for (let o = 0; o < outDim; o++) {
      let s = 0;
      for (let i = 0; i < inDim; i++) s += (x[t * inDim + i] as number) * (w[o * inDim + i] as number);
      y[t * outDim + o] = s;
    }
  }
  return y;
}

/** RMSNorm over the last axis of width n, applied to every row of x ([rows, n]); returns a new array. */
export function rmsNorm(x: Float64Array, w: Float32Array, n: number, eps: number): Float64Array {
  if (w.length !== n || x.length % n !== 0) throw new Error(`rmsNorm: weight has ${w.length} values, expected ${n}`);
  const y = new Float64Array(x.length);
  for (let r = 0; r < x.length / n; r++) {
    let ss = 0;
    for (let i = 0; i < n; i++) ss += (x[r * n + i] as number) ** 2;
    const inv = 1 / Math.sqrt(ss / n + eps);
    for (let i = 0; i < n; i++) y[r * n + i] = (x[r * n + i] as number) * inv * (w[i] as number);
  }
  return y;
}

/** RoPE inverse frequencies [D/2], rounded to float32 as HF computes them. */
export function ropeInvFreq(headDim: number, theta: number): Float64Array {
  const f = new Float64Array(headDim / 2);
  for (let i = 0; i < headDim / 2; i++) f[i] = Math.fround(1 / Math.fround(theta ** Math.fround((2 * i) / headDim)));
  return f;
}

/**
 * Rotates x ([T, heads, D], in place) by position t = 0..T-1 (HF rotate_half convention):
 *   out[i]       = x[i] cos − x[i + D/2] sin
 *   out[i + D/2] = x[i + D/2] cos + x[i] sin,   angle = t · inv_freq[i]
 */
export function applyRope(x: Float64Array, T: number, heads: number, headDim: number, theta: number, startPosition = 0): void {
  const half = headDim / 2;
  const invFreq = ropeInvFreq(headDim, theta);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < half; i++) {
      const angle = Math.fround((t + startPosition) * (invFreq[i] as number));
      const cos = Math.cos(angle);
      const sin = Math.sin(angle);
      for (let h = 0; h < heads; h++) {
        const base = (t * heads + h) * headDim;
        const a = x[base + i] as number;
        const b = x[base + i + half] as number;
        x[base + i] = a * cos - b * sin;
        x[base + i + half] = b * cos + a * sin;
      }
    }
  }
}

/** Causal grouped-query attention: q [T, H, D], k/v [T, KV, D] → [T, H·D]. */
export function causalAttention(q: Float64Array, k: Float64Array, v: Float64Array, T: number, H: number, KV: number, D: number): Float64Array {
  const group = H / KV;
  const scale = 1 / Math.sqrt(D);
  const out = new Float64Array(T * H * D);
  const scores = new Float64Array(T);
  for (let h = 0; h < H; h++) {
    const kvHead = Math.floor(h / group);
    for (let t = 0; t < T; t++) {
      let max = -Infinity;
      for (let s = 0; s <= t; s++) {
        let dot = 0;
        for (let d = 0; d < D; d++) dot += (q[(t * H + h) * D + d] as number) * (k[(s * KV + kvHead) * D + d] as number);
        scores[s] = dot * scale;
        if (dot * scale > max) max = dot * scale;
      }
      let sum = 0;
      for (let s = 0; s <= t; s++) {
        scores[s] = Math.exp((scores[s] as number) - max);
        sum += scores[s] as number;
      }
      for (let s = 0; s <= t; s++) {
        const p = (scores[s] as number) / sum;
        for (let d = 0; d < D; d++) out[(t * H + h) * D + d] = (out[(t * H + h) * D + d] as number) + p * (v[(s * KV + kvHead) * D + d] as number);
      }
    }
  }
  return out;
}

function silu(x: number): number {
  return x / (1 + Math.exp(-x));
}

/** Logits [T, V] (row-major) for tokens at positions 0..T-1. */
export function referenceForward(config: ModelConfig, params: Params, tokens: readonly number[]): Float64Array {
  const { vocabSize: V, hiddenSize: C, intermediateSize: I, numAttentionHeads: H, numKeyValueHeads: KV, headDim: D, rmsNormEps: eps } = config;
  const T = tokens.length;
  if (T === 0) throw new Error("referenceForward needs at least one token");
  const embed = params.view("model.embed_tokens.weight");
  const x = new Float64Array(T * C); // [T, C] residual stream
  tokens.forEach((tok, t) => {
    if (!Number.isInteger(tok) || tok < 0 || tok >= V) throw new Error(`Token ${tok} at position ${t} is outside the vocabulary [0, ${V})`);
    for (let c = 0; c < C; c++) x[t * C + c] = embed[tok * C + c] as number;
  });
  for (let n = 0; n < config.numHiddenLayers; n++) {
    const w = (suffix: string) => params.view(layerParamName(n, suffix));
    const h = rmsNorm(x, w("input_layernorm.weight"), C, eps);
    let q = linear(h, w("self_attn.q_proj.weight"), T, C, H * D); // [T, H, D]
    let k = linear(h, w("self_attn.k_proj.weight"), T, C, KV * D); // [T, KV, D]
    const v = linear(h, w("self_attn.v_proj.weight"), T, C, KV * D); // [T, KV, D]
    q = rmsNorm(q, w("self_attn.q_norm.weight"), D, eps);
    k = rmsNorm(k, w("self_attn.k_norm.weight"), D, eps);
    applyRope(q, T, H, D, config.ropeTheta);
    applyRope(k, T, KV, D, config.ropeTheta);
    const attn = causalAttention(q, k, v, T, H, KV, D); // [T, H·D]
    const o = linear(attn, w("self_attn.o_proj.weight"), T, H * D, C);
    for (let i = 0; i < x.length; i++) x[i] = (x[i] as number) + (o[i] as number);
    const h2 = rmsNorm(x, w("post_attention_layernorm.weight"), C, eps);
    const gate = linear(h2, w("mlp.gate_proj.weight"), T, C, I); // [T, I]
    const up = linear(h2, w("mlp.up_proj.weight"), T, C, I); // [T, I]
    for (let i = 0; i < gate.length; i++) gate[i] = silu(gate[i] as number) * (up[i] as number);
    const down = linear(gate, w("mlp.down_proj.weight"), T, I, C); // [T, C]
    for (let i = 0; i < x.length; i++) x[i] = (x[i] as number) + (down[i] as number);
  }
  const final = rmsNorm(x, params.view("model.norm.weight"), C, eps);
  const head = config.tieWordEmbeddings ? embed : params.view("lm_head.weight");
  return linear(final, head, T, C, V); // [T, V]
}

/** Log-softmax of each row of logits [T, V], in float64. */
export function logSoftmaxRows(logits: Float64Array, V: number): Float64Array {
  const out = new Float64Array(logits.length);
  for (let r = 0; r < logits.length / V; r++) {
    let max = -Infinity;
    for (let i = 0; i < V; i++) max = Math.max(max, logits[r * V + i] as number);
    let sum = 0;
    for (let i = 0; i < V; i++) sum += Math.exp((logits[r * V + i] as number) - max);
    const lse = max + Math.log(sum);
    for (let i = 0; i < V; i++) out[r * V + i] = (logits[r * V + i] as number) - lse;
  }
  return out;
}

/** log p(tokens[t+1] | tokens[0..t]) for t = 0..T-2: what the learner and the sampler must agree on. */
export function referenceTokenLogProbs(config: ModelConfig, params: Params, tokens: readonly number[]): Float64Array {
  const V = config.vocabSize;
  const logp = logSoftmaxRows(referenceForward(config, params, tokens), V);
  const out = new Float64Array(tokens.length - 1);
  for (let t = 0; t + 1 < tokens.length; t++) out[t] = logp[t * V + (tokens[t + 1] as number)] as number;
  return out;
}
