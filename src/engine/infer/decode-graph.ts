/**
 * The two inference graphs of the sampler: prefill (a right-padded batch of prompts) and decode
 * (one new token per row against a KV cache held in JS buffers).
 *
 * Dimension legend: B rows, P padded prompt length, S cache capacity (slots), C hidden, I
 * intermediate, V vocab, H query heads, KV kv heads, G = H/KV, D head dim, L layers.
 *
 * Same arithmetic as reference.ts (HF Qwen3): RMSNorm, QK-norm, rotate_half RoPE, GQA, SwiGLU.
 * RoPE cos/sin tables are computed in JS exactly as the reference does (float32 angle, float64
 * cos/sin rounded to float32) and fed as inputs, so positions are free per row.
 *
 * Prefill: tokens [B, P] with every prompt starting at slot 0 (right padding). Causality alone
 * keeps real queries away from the pad keys after them; pad queries compute finite garbage nobody
 * reads. Outputs the logits of each row's last prompt token (`last` = b·P + len_b − 1 picks the
 * row before the final norm, so the head runs on B rows, not B·P) and every layer's K/V
 * [B, KV, P, D], which the caller copies into its cache.
 *
 * Decode: tokens [B] at positions len_b. The cache K/V [B, KV, S, D] is read as is (no concat,
 * no copy): the new token's own key/value enter the softmax as one extra term,
 *   m = max(max_s score_s, score_self)
 *   out = (Σ_s e^{score_s − m} v_s + e^{score_self − m} v_self) / (Σ_s e^{score_s − m} + e^{score_self − m})
 * with `bias` [B, S] = 0 on filled slots and −1e9 elsewhere (exp underflows to exactly 0, and a
 * row whose slots are all empty still has its self term, so nothing is ever NaN). The new K/V
 * [B, KV, 1, D] come out for the caller to write at slot len_b.
 */
import type { ModelConfig } from "../model/config.js";
import type { Device } from "../graph/device.js";
import { type Graph, Graph as GraphBuilder, type Tensor } from "../graph/builder.js";
import { f32, i64, type OrtTensor } from "../graph/session.js";
import {
  add,
  cast,
  concat,
  div,
  exp,
  flatten2d,
  gather,
  linear,
  matmul,
  max,
  mul,
  pow,
  reduceMax,
  reduceMean,
  reduceSum,
  reshape,
  sigmoid,
  slice,
  softmax,
  sqrt,
  sub,
  transpose,
  transposeLast,
  unsqueeze,
  where,
} from "../graph/ops/index.js";
import { declareAdapter, type LoraConfig } from "../model/lora.js";
import { declareParams, projection } from "../model/model.js";
import type { HalfDtype } from "../weights/half.js";
import { layerParamName } from "../weights/params.js";
import { ropeInvFreq } from "../model/reference.js";

/** Additive bias of an empty or future slot: large enough that exp() underflows to 0. */
export const MASKED = -1e9;

type Weights = Map<string, Tensor>;

/**
 * Every weight as an input by its HF name (the projections as 16-bit words with `half`, see
 * engine/weights/half.ts), plus the adapter's tensors when one is given.
 */
function weightInputs(g: Graph, config: ModelConfig, lora: LoraConfig | undefined, half: HalfDtype | undefined): Weights {
  const w: Weights = declareParams(g, config, "float32", half);
  if (lora) declareAdapter(g, config, lora, "float32", w);
  return w;
}

/** x·Wᵀ of layer n's projection `suffix`, with its LoRA path when the weights carry one. */
function proj(g: Graph, w: Weights, n: number, suffix: string, x: Tensor): Tensor {
  return projection(g, w, layerParamName(n, suffix), x);
}

function weight(w: Weights, name: string): Tensor {
  const t = w.get(name);
  if (t === undefined) throw new Error(`decode graph: missing weight ${name}`);
  return t;
}

/**
 * y = w ⊙ x / √(mean(x², last axis) + eps), written as Pow → ReduceMean → Add → Sqrt → Div → Mul,
 * the pattern onnxruntime fuses into one SimplifiedLayerNormalization kernel.
 */
function rmsNorm(g: Graph, x: Tensor, w: Tensor, eps: number): Tensor {
  const ms = reduceMean(g, pow(g, x, 2), [-1], true);
  return mul(g, div(g, x, sqrt(g, add(g, ms, g.scalar(eps, "float32")))), w);
}

/** rotate_half RoPE over the last axis D; cos/sin broadcast to [..., D/2]. */
function rope(g: Graph, x: Tensor, cos: Tensor, sin: Tensor, D: number): Tensor {
  const axis = x.shape.length - 1;
  const x1 = slice(g, x, [0], [D / 2], [axis]);
  const x2 = slice(g, x, [D / 2], [D], [axis]);
  const r1 = sub(g, mul(g, x1, cos), mul(g, x2, sin));
  const r2 = add(g, mul(g, x2, cos), mul(g, x1, sin));
  return concat(g, [r1, r2], axis);
}

function mlp(g: Graph, w: Weights, n: number, x: Tensor, eps: number): Tensor {
  const h = rmsNorm(g, x, weight(w, layerParamName(n, "post_attention_layernorm.weight")), eps);
  const gate = proj(g, w, n, "mlp.gate_proj.weight", h);
  const up = proj(g, w, n, "mlp.up_proj.weight", h);
  const act = mul(g, mul(g, gate, sigmoid(g, gate)), up);
  return add(g, x, proj(g, w, n, "mlp.down_proj.weight", act));
}

function head(g: Graph, w: Weights, config: ModelConfig, x: Tensor): Tensor {
  const final = rmsNorm(g, x, weight(w, "model.norm.weight"), config.rmsNormEps);
  const hw = config.tieWordEmbeddings ? weight(w, "model.embed_tokens.weight") : weight(w, "lm_head.weight");
  return linear(g, final, hw);
}

/**
 * Prefill graph.
 * inputs: tokens [B, P] int64, cos/sin [P, D/2], causal [P, P] (0 at k ≤ q, MASKED above),
 *         last [B] int64, every weight by its HF name, and the adapter's tensors with `lora`.
 * outputs: logits [B, V], present_k_N / present_v_N [B, KV, P, D] for each layer N.
 */
export function buildPrefillGraph(config: ModelConfig, lora?: LoraConfig, half?: HalfDtype, device: Device = "cpu"): Graph {
  const { hiddenSize: C, numAttentionHeads: H, numKeyValueHeads: KV, headDim: D, rmsNormEps: eps } = config;
  const G = H / KV;
  const g = new GraphBuilder("spiral-prefill");
  g.target = device;
  const tokens = g.input("tokens", "int64", ["B", "P"]);
  const cosIn = g.input("cos", "float32", ["P", D / 2]);
  const sinIn = g.input("sin", "float32", ["P", D / 2]);
  const causal = g.input("causal", "float32", ["P", "P"]);
  const last = g.input("last", "int64", ["B"]);
  const w = weightInputs(g, config, lora, half);
  const cos = unsqueeze(g, cosIn, [1]); // [P, 1, D/2]
  const sin = unsqueeze(g, sinIn, [1]);
  const scale = g.scalar(1 / Math.sqrt(D), "float32");

  let x = gather(g, weight(w, "model.embed_tokens.weight"), tokens); // [B, P, C]
  for (let n = 0; n < config.numHiddenLayers; n++) {
    const lw = (s: string) => weight(w, layerParamName(n, s));
    const h = rmsNorm(g, x, lw("input_layernorm.weight"), eps);
    let q = reshape(g, proj(g, w, n, "self_attn.q_proj.weight", h), ["B", "P", H, D]);
    let k = reshape(g, proj(g, w, n, "self_attn.k_proj.weight", h), ["B", "P", KV, D]);
    const v = reshape(g, proj(g, w, n, "self_attn.v_proj.weight", h), ["B", "P", KV, D]);
    q = rope(g, rmsNorm(g, q, lw("self_attn.q_norm.weight"), eps), cos, sin, D);
    k = rope(g, rmsNorm(g, k, lw("self_attn.k_norm.weight"), eps), cos, sin, D);
    const kT = transpose(g, k, [0, 2, 1, 3]); // [B, KV, P, D]
    const vT = transpose(g, v, [0, 2, 1, 3]); // [B, KV, P, D]
    g.output(kT, `present_k_${n}`);
    g.output(vT, `present_v_${n}`);
    // Head h = kv·G + j attends with kv head kv (repeat_kv), batched as [B, KV, G, P, D].
    const q5 = transpose(g, reshape(g, q, ["B", "P", KV, G, D]), [0, 2, 3, 1, 4]); // [B, KV, G, P, D]
    const scores = add(g, mul(g, matmul(g, q5, transposeLast(g, unsqueeze(g, kT, [2]))), scale), causal); // [B, KV, G, P, P]
    const attn = matmul(g, softmax(g, scores, -1), unsqueeze(g, vT, [2])); // [B, KV, G, P, D]
    const merged = reshape(g, transpose(g, attn, [0, 3, 1, 2, 4]), ["B", "P", H * D]); // [B, P, H·D]
    x = add(g, x, proj(g, w, n, "self_attn.o_proj.weight", merged));
    x = mlp(g, w, n, x, eps);
  }
  const rows = gather(g, flatten2d(g, x), last); // [B, C]
  if (rows.shape[1] !== C) throw new Error("prefill graph: unexpected hidden width");
  g.output(head(g, w, config, rows), "logits");
  return g;
}

/**
 * Decode graph.
 * inputs: tokens [B] int64, cos/sin [B, D/2] (row positions), bias [B, S], past_k_N / past_v_N
 *         [B, KV, S, D] for each layer N, every weight by its HF name, and the adapter's tensors
 *         with `lora`.
 * outputs: logits [B, V], new_k_N / new_v_N [B, KV, 1, D].
 * On webgpu also the input slot [B, S] (1 at the slot row b's new K/V go to, len_b), and the
 * outputs present_k_N / present_v_N [B, KV, S, D] instead of new_k_N / new_v_N: the cache with the
 * new K/V written in, so the cache never leaves the device (generate.ts DeviceKvCache).
 */
export function buildDecodeGraph(config: ModelConfig, lora?: LoraConfig, half?: HalfDtype, device: Device = "cpu"): Graph {
  const { numAttentionHeads: H, numKeyValueHeads: KV, headDim: D, rmsNormEps: eps } = config;
  const G = H / KV;
  const g = new GraphBuilder("spiral-decode");
  g.target = device;
  const tokens = g.input("tokens", "int64", ["B"]);
  const cosIn = g.input("cos", "float32", ["B", D / 2]);
  const sinIn = g.input("sin", "float32", ["B", D / 2]);
  const biasIn = g.input("bias", "float32", ["B", "S"]);
  const past: { k: Tensor; v: Tensor }[] = [];
  for (let n = 0; n < config.numHiddenLayers; n++) {
    past.push({ k: g.input(`past_k_${n}`, "float32", ["B", KV, "S", D]), v: g.input(`past_v_${n}`, "float32", ["B", KV, "S", D]) });
  }
  const w = weightInputs(g, config, lora, half);
  const cos = unsqueeze(g, cosIn, [1, 2]); // [B, 1, 1, D/2]
  const sin = unsqueeze(g, sinIn, [1, 2]);
  const bias = unsqueeze(g, biasIn, [1, 2]); // [B, 1, 1, S]
  const slot = device === "webgpu" ? cast(g, unsqueeze(g, g.input("slot", "float32", ["B", "S"]), [1, 3]), "bool") : undefined; // [B, 1, S, 1]
  const scale = g.scalar(1 / Math.sqrt(D), "float32");

  let x = gather(g, weight(w, "model.embed_tokens.weight"), tokens); // [B, C]
  for (let n = 0; n < config.numHiddenLayers; n++) {
    const lw = (s: string) => weight(w, layerParamName(n, s));
    const { k: pastK, v: pastV } = past[n] as { k: Tensor; v: Tensor };
    const h = rmsNorm(g, x, lw("input_layernorm.weight"), eps);
    let q = reshape(g, proj(g, w, n, "self_attn.q_proj.weight", h), ["B", KV, G, D]);
    let k = reshape(g, proj(g, w, n, "self_attn.k_proj.weight", h), ["B", KV, 1, D]);
    const v = reshape(g, proj(g, w, n, "self_attn.v_proj.weight", h), ["B", KV, 1, D]);
    q = rope(g, rmsNorm(g, q, lw("self_attn.q_norm.weight"), eps), cos, sin, D);
    k = rope(g, rmsNorm(g, k, lw("self_attn.k_norm.weight"), eps), cos, sin, D);
    if (slot) {
      g.output(where(g, slot, k, pastK), `present_k_${n}`);
      g.output(where(g, slot, v, pastV), `present_v_${n}`);
    } else {
      g.output(k, `new_k_${n}`);
      g.output(v, `new_v_${n}`);
    }
    const qs = mul(g, q, scale);
    const scores = add(g, matmul(g, qs, transposeLast(g, pastK)), bias); // [B, KV, G, S]
    const self = reduceSum(g, mul(g, qs, k), [-1], true); // [B, KV, G, 1]
    const m = max(g, reduceMax(g, scores, [-1], true), self);
    const ePast = exp(g, sub(g, scores, m)); // [B, KV, G, S]
    const eSelf = exp(g, sub(g, self, m)); // [B, KV, G, 1]
    const z = add(g, reduceSum(g, ePast, [-1], true), eSelf);
    const attn = div(g, add(g, matmul(g, ePast, pastV), mul(g, eSelf, v)), z); // [B, KV, G, D]
    x = add(g, x, proj(g, w, n, "self_attn.o_proj.weight", reshape(g, attn, ["B", H * D])));
    x = mlp(g, w, n, x, eps);
  }
  g.output(head(g, w, config, x), "logits");
  return g;
}

/**
 * The device cache's edits (webgpu): `keep` gathers rows and pads slots, inputs k_N / v_N
 * [B0, KV, S0, D], rows [B1] int64, pads [8] int64 (ONNX Pad layout) → k_N / v_N [B1, KV, S1, D];
 * `append` adds a prefill block after the live rows, inputs k_N / v_N [B0, KV, S, D], block_k_N /
 * block_v_N [R, KV, P, D], pads [8] → [B0 + R, KV, S, D].
 */
export function buildCacheEditGraphs(config: ModelConfig): { keep: Graph; append: Graph } {
  const { numKeyValueHeads: KV, headDim: D, numHiddenLayers: L } = config;
  const keep = new GraphBuilder("spiral-cache-keep");
  keep.target = "webgpu";
  const rows = keep.input("rows", "int64", ["B1"]);
  const keepPads = keep.input("pads", "int64", [8]);
  const append = new GraphBuilder("spiral-cache-append");
  append.target = "webgpu";
  const appendPads = append.input("pads", "int64", [8]);
  for (let n = 0; n < L; n++) {
    for (const kv of ["k", "v"]) {
      const x = keep.input(`${kv}_${n}`, "float32", ["B0", KV, "S0", D]);
      const picked = gather(keep, x, rows); // [B1, KV, S0, D]
      keep.output(keep.op1("Pad", [picked, keepPads], {}, { dtype: "float32", shape: ["B1", KV, "S1", D] }), `out_${kv}_${n}`);
      const old = append.input(`${kv}_${n}`, "float32", ["B0", KV, "S", D]);
      const block = append.input(`block_${kv}_${n}`, "float32", ["R", KV, "P", D]);
      const padded = append.op1("Pad", [block, appendPads], {}, { dtype: "float32", shape: ["R", KV, "S", D] });
      append.output(concat(append, [old, padded], 0), `out_${kv}_${n}`);
    }
  }
  return { keep, append };
}

/** RoPE tables for the given positions, [N, D/2] each, computed as reference.ts does. */
export function ropeTables(config: ModelConfig, positions: ArrayLike<number>): { cos: Float32Array; sin: Float32Array } {
  const half = config.headDim / 2;
  const invFreq = ropeInvFreq(config.headDim, config.ropeTheta);
  const cos = new Float32Array(positions.length * half);
  const sin = new Float32Array(positions.length * half);
  for (let r = 0; r < positions.length; r++) {
    for (let i = 0; i < half; i++) {
      const angle = Math.fround((positions[r] as number) * (invFreq[i] as number));
      cos[r * half + i] = Math.cos(angle);
      sin[r * half + i] = Math.sin(angle);
    }
  }
  return { cos, sin };
}

/**
 * The prefill graph's inputs but the weights, for B rows of P tokens: `tokens` [B·P] row-major,
 * `last` [B] the flat index of each row's last prompt token (whose logits come out).
 */
export function prefillFeeds(config: ModelConfig, tokens: BigInt64Array, last: BigInt64Array, P: number): Record<string, OrtTensor> {
  const B = last.length;
  const { cos, sin } = ropeTables(config, Array.from({ length: P }, (_, t) => t));
  const half = config.headDim / 2;
  return { tokens: i64(tokens, [B, P]), cos: f32(cos, [P, half]), sin: f32(sin, [P, half]), causal: f32(causalBias(P), [P, P]), last: i64(last, [B]) };
}

/** 0 where key ≤ query, MASKED above the diagonal: [P, P]. */
export function causalBias(P: number): Float32Array {
  const m = new Float32Array(P * P);
  for (let q = 0; q < P; q++) for (let k = q + 1; k < P; k++) m[q * P + k] = MASKED;
  return m;
}
