/**
 * The Qwen3 decoder as an ONNX graph (HF modeling_qwen3 semantics), built with engine/graph.
 *
 * Dimension legend: B batch, T query time, S key time (= P past + T new), C hidden, I intermediate,
 * V vocab, H query heads, KV key/value heads, G = H / KV query heads per kv head, D head dim.
 *
 *   x = embed_tokens[tokens]                                        [B, T, C]
 *   per layer (`decoderLayer`):
 *     h = rmsNorm(x) · input_layernorm
 *     q = h·q_projᵀ [B,T,H,D], k = h·k_projᵀ, v = h·v_projᵀ [B,T,KV,D]   (one Gemm each, transB)
 *     q, k = rmsNorm over D (q_norm, k_norm); q, k = RoPE(q, k; positions)  rotate_half convention
 *     k, v = concat(past, new) along time when a KV cache is given
 *     attention per kv head with its G query heads stacked along time: [B,KV,G·T,D] @ [B,KV,D,S]
 *     (no repeat_kv copy of K or V), + additive bias (causal + padding, expanded once to
 *     [B,KV,G·T,S]), softmax
 *     x = x + o_proj(attn);  x = x + down(silu(gate(h2)) ⊙ up(h2)), h2 = rmsNorm(x) · post_attention_layernorm
 *   final rmsNorm; logits = x · headᵀ (head = embed_tokens when tied)
 *
 * Positions are an input [B, T] so that left padding and KV-cache offsets only change numbers.
 * Parameters are graph inputs named by their HF names (fed as zero-copy views of the flat buffer).
 */
import type { ModelConfig } from "./config.js";
import { attr, type Graph, type Tensor } from "../graph/builder.js";
import * as op from "../graph/ops/index.js";
import { LORA_SCALING_KEY, loraNames } from "./lora.js";
import { type HalfDtype, halfTable, isProjectionWeight, packedShape } from "../weights/half.js";
import { layerParamName, paramShapes } from "../weights/params.js";

export type ParamTensors = ReadonlyMap<string, Tensor>;

/** Float dtype of a model graph: float32 for real use, float64 for gradient checks in tests. */
export type FloatType = "float32" | "float64";

/** Graph key under which `projection` finds the 16-bit decoding table of a half base (half.ts). */
export const HALF_TABLE_KEY = "base.half_table";

/** Whether a graph constant is a 16-bit base's decoding table (`declareParams` names it so). */
export function isHalfTable(name: string): boolean {
  return /^half_table_\d+$/.test(name);
}

/**
 * Every parameter as a graph input named by its HF name. With `half` (a frozen base held in 16
 * bits, half.ts) the projection weights are uint16 inputs holding bf16/fp16 bit patterns, and the
 * map also holds their decoding table under HALF_TABLE_KEY.
 */
export function declareParams(g: Graph, config: ModelConfig, dtype: FloatType = "float32", half?: HalfDtype): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const { name, shape } of paramShapes(config)) {
    if (half === undefined || !isProjectionWeight(name)) out.set(name, g.input(name, dtype, shape));
    else if (g.target !== "webgpu") out.set(name, g.input(name, "uint16", shape));
    else out.set(name, g.input(name, "uint32", packedShape(name, shape)));
  }
  if (half !== undefined) out.set(HALF_TABLE_KEY, g.constant({ dtype, shape: [65536], values: halfTable(half) }, "half_table"));
  return out;
}

function param(p: ParamTensors, name: string): Tensor {
  const t = p.get(name);
  if (!t) throw new Error(`Model graph: parameter "${name}" was not declared`);
  return t;
}

/**
 * The float values of 16-bit weight words [out, in]: table[bits], computed only once `after` is.
 * onnxruntime runs a node as soon as its inputs exist, and the words are a graph input from the
 * start, so without this every layer's float copy could be made (and held) up front. The words
 * therefore pass through a Reshape to their own shape whose shape tensor is read off `after`
 * ([min(reduce(shape of after), 0), in] = [0, in]: a 0 keeps that dim; no copy, not foldable).
 * The forward reads it with ReduceMin and the backward with ReduceMax: onnxruntime merges equal
 * subexpressions (and Shape nodes of equal symbolic shapes), and merged, the backward would reuse
 * the forward's float copy and keep it alive across the whole pass.
 */
function widen(g: Graph, table: Tensor, bits: Tensor, after: Tensor, reduce: "ReduceMin" | "ReduceMax"): Tensor {
  if (bits.dtype === "uint32") return widenPacked(g, table, bits, after, reduce === "ReduceMin" ? "Less" : "Greater");
  const size = g.op1(reduce, [op.shapeOf(g, after)], { keepdims: attr.int(1) }, { dtype: "int64", shape: [1] }); // never known in advance
  const shape = op.concat(g, [g.op1("Min", [size, g.ints([0])], {}, { dtype: "int64", shape: [1] }), g.ints([bits.shape[1] as number])], 0);
  const ordered = g.op1("Reshape", [bits, shape], {}, { dtype: bits.dtype, shape: bits.shape });
  return g.op1("Gather", [table, op.cast(g, ordered, "int32")], { axis: attr.int(0) }, { dtype: table.dtype, shape: bits.shape });
}

/**
 * `widen` on webgpu, for words packed two per uint32 lane ([out, in/2], `packedShape`), with device
 * kernels only: hi = w / 65536, lo = w − 65536·hi (uint32), interleaved back to [out, in] as int32
 * indices into the table. The wait for `after` is + (s < s) = 0 for one element s of it (false
 * for NaN too), Less in the forward and Greater in the backward so that the two stay distinct.
 */
function widenPacked(g: Graph, table: Tensor, packed: Tensor, after: Tensor, compare: "Less" | "Greater"): Tensor {
  const [out, half] = packed.shape as [number, number];
  const s = op.slice(g, after, [0, 0], [1, 1], [0, 1]);
  const zero = op.cast(g, g.op1(compare, [s, s], {}, { dtype: "bool", shape: [1, 1] }), "uint32");
  const words = op.add(g, packed, zero);
  const lane = g.scalar(65536, "uint32");
  const hi = op.div(g, words, lane);
  const lo = op.sub(g, words, op.mul(g, hi, lane));
  const pairs = op.concat(g, [op.unsqueeze(g, lo, [-1]), op.unsqueeze(g, hi, [-1])], -1); // [out, in/2, 2]
  const index = op.cast(g, op.reshape(g, pairs, [out, 2 * half]), "int32");
  return g.op1("Gather", [table, index], { axis: attr.int(0) }, { dtype: table.dtype, shape: [out, 2 * half] });
}

/**
 * x·Wᵀ for a 16-bit frozen W [out, in], x [N, in]: W is widened right before its Gemm (after x
 * exists) and dropped after it. The backward (dx = dy·W) widens W again once dy exists, instead of
 * keeping the forward's float copy alive until then (which would hold every layer's float weights
 * at once).
 */
function halfLinear(g: Graph, flat: Tensor, bits: Tensor, table: Tensor): Tensor {
  const y = op.gemm(g, flat, widen(g, table, bits, flat, "ReduceMin"), undefined, { transB: true });
  return g.setCustomVjp(y, [flat], (g2, dy) => [op.matmul(g2, dy, widen(g2, table, bits, dy, "ReduceMax"))]);
}

/**
 * x·Wᵀ for the weight named `weightName`; where the map also holds a LoRA adapter for it (lora.ts),
 * plus s·(x·Aᵀ)·Bᵀ: the scale goes on the rank-r product and the sum is the third operand of the
 * B Gemm, so the adapter adds two thin Gemms and one [N, r] Mul. A 16-bit base weight (uint16
 * input) is widened first (`halfLinear`). Without an adapter, on a float base, this is exactly
 * `op.linear`.
 */
export function projection(g: Graph, params: ParamTensors, weightName: string, x: Tensor): Tensor {
  const w = param(params, weightName);
  const names = loraNames(weightName);
  const a = params.get(names.a);
  const half = w.dtype === "uint16" || w.dtype === "uint32" ? param(params, HALF_TABLE_KEY) : undefined;
  if (!a && half === undefined) return op.linear(g, x, w);
  const flat = x.shape.length === 2 ? x : op.flatten2d(g, x);
  const base = half === undefined ? op.gemm(g, flat, w, undefined, { transB: true }) : halfLinear(g, flat, w, half); // [N, out]
  if (!a) return x.shape.length === 2 ? base : op.unflatten(g, base, x);
  const b = param(params, names.b);
  const s = param(params, LORA_SCALING_KEY);
  const low = op.mul(g, op.gemm(g, flat, a, undefined, { transB: true }), s); // [N, r]
  const y = op.gemm(g, low, b, base, { transB: true }); // [N, out]
  return x.shape.length === 2 ? y : op.unflatten(g, y, x);
}

/**
 * RMSNorm over the last axis: y = w ⊙ x̂, x̂ = x · r, r = 1/√(mean(x²) + eps).
 * Hand-written gradient (5 full-size backward ops instead of ~11 from the per-op rules):
 *   dw = Σ_rows dy ⊙ x̂,   gx = dy ⊙ w,   dx = r · (gx − x̂ · mean(gx ⊙ x̂))
 */
export function rmsNorm(g: Graph, x: Tensor, w: Tensor, eps: number): Tensor {
  const ms = op.reduceMean(g, op.mul(g, x, x), [-1], true); // [..., 1]
  const r = op.reciprocal(g, op.sqrt(g, op.add(g, ms, g.scalar(eps, x.dtype)))); // [..., 1]
  const xhat = op.mul(g, x, r); // [..., C]
  const y = op.mul(g, xhat, w);
  return g.setCustomVjp(y, [x, w], (g2, dy, wants) => {
    let dx: Tensor | undefined;
    if (wants[0]) {
      const gx = op.mul(g2, dy, w);
      const m = op.reduceMean(g2, op.mul(g2, gx, xhat), [-1], true);
      dx = op.mul(g2, op.sub(g2, gx, op.mul(g2, xhat, m)), r);
    }
    const dw = wants[1] ? op.sumToShape(g2, op.mul(g2, dy, xhat), w.shape) : undefined;
    return [dx, dw];
  });
}

/**
 * SwiGLU activation silu(gate) ⊙ up, silu(x) = x·σ(x). Hand-written gradient with a = silu(gate),
 * s = σ(gate):  d_up = dy ⊙ a,  d_gate = dy ⊙ up ⊙ s ⊙ (1 + gate − a)   (= dy·up·silu'(gate)).
 */
export function swiglu(g: Graph, gate: Tensor, up: Tensor): Tensor {
  const s = op.sigmoid(g, gate);
  const a = op.mul(g, gate, s);
  const y = op.mul(g, a, up);
  return g.setCustomVjp(y, [gate, up], (g2, dy, wants) => {
    const dUp = wants[1] ? op.mul(g2, dy, a) : undefined;
    let dGate: Tensor | undefined;
    if (wants[0]) {
      const slope = op.mul(g2, s, op.add(g2, op.sub(g2, gate, a), g2.scalar(1, gate.dtype)));
      dGate = op.mul(g2, op.mul(g2, dy, up), slope);
    }
    return [dGate, dUp];
  });
}

export interface RopeTables {
  /** [B, T, 1, D] cos(angle), angle = position · inv_freq, duplicated over the two halves */
  readonly cos: Tensor;
  /** [B, T, 1, D] sin(angle) with the first half negated, so rope(x) = x·cos + swapHalves(x)·sinSigned */
  readonly sinSigned: Tensor;
}

/** RoPE inverse frequencies [D/2] as HF computes them in float32: 1 / θ^(2i/D). */
export function ropeInvFreq(config: ModelConfig): number[] {
  const D = config.headDim;
  return Array.from({ length: D / 2 }, (_, i) => Math.fround(1 / Math.fround(config.ropeTheta ** Math.fround((2 * i) / D))));
}

/** cos/sin tables from positions [B, T] int64 (computed once per forward, shared by all layers). */
export function ropeTables(g: Graph, config: ModelConfig, positions: Tensor, dtype: FloatType = "float32"): RopeTables {
  const D = config.headDim;
  const invFreq = ropeInvFreq(config);
  const both = g.constant({ dtype, shape: [D], values: [...invFreq, ...invFreq] }, "rope_inv_freq");
  const sign = g.constant({ dtype, shape: [D], values: [...invFreq.map(() => -1), ...invFreq.map(() => 1)] }, "rope_sign");
  const pos = op.unsqueeze(g, op.cast(g, positions, dtype), [-1, -2]); // [B, T, 1, 1]
  const angle = op.mul(g, pos, both); // [B, T, 1, D]
  const cos = g.op1("Cos", [angle], {}, { dtype, shape: angle.shape });
  const sin = g.op1("Sin", [angle], {}, { dtype, shape: angle.shape });
  return { cos, sinSigned: op.mul(g, sin, sign) };
}

/** [x₂, x₁]: the two halves of the last axis swapped (its own inverse). */
function swapHalves(g: Graph, x: Tensor, D: number): Tensor {
  const half = D / 2;
  return op.concat(g, [op.slice(g, x, [half], [D], [-1]), op.slice(g, x, [0], [half], [-1])], -1);
}

/**
 * x·cos + rotate_half(x)·sin for x [B, T, heads, D]; rotate_half(x) = [−x₂, x₁] = swap(x)·sign.
 * Gradient (swap is an involution): dx = dy·cos + swap(dy·sinSigned); the tables get none.
 */
export function applyRope(g: Graph, x: Tensor, rope: RopeTables, D: number): Tensor {
  const y = op.add(g, op.mul(g, x, rope.cos), op.mul(g, swapHalves(g, x, D), rope.sinSigned));
  return g.setCustomVjp(y, [x], (g2, dy) => [op.add(g2, op.mul(g2, dy, rope.cos), swapHalves(g2, op.mul(g2, dy, rope.sinSigned), D))]);
}

/** Large negative bias for masked scores: exp underflows to 0, and a fully masked row stays finite. */
export const MASKED = -1e9;

/** Key indices 0..T−1 (int64) from the mask's runtime length. */
function keyPositions(g: Graph, keyMask: Tensor): Tensor {
  const lenT = g.op1("Gather", [op.shapeOf(g, keyMask), g.scalar(1, "int64")], {}, { dtype: "int64", shape: [] });
  return op.range(g, g.scalar(0, "int64"), lenT, keyMask.shape[1] as string | number);
}

/**
 * Key indices 1..T in the mask's float type, as a cumsum of ones over row 0 of the mask: no int64
 * shape arithmetic, which would run on the host under --device webgpu (WGSL has no 64-bit
 * integers). Only the order of the indices matters to the causal test below.
 */
function keyPositionsOnDevice(g: Graph, keyMask: Tensor): Tensor {
  const dtype = keyMask.dtype;
  const ones = op.add(g, op.mul(g, op.gather(g, keyMask, g.scalar(0, "int64")), g.scalar(0, dtype)), g.scalar(1, dtype)); // [T]
  return g.op1("CumSum", [ones, g.scalar(0, "int64")], {}, { dtype, shape: [keyMask.shape[1] as string | number] });
}

/**
 * Additive attention bias [B, 1, 1, T, T] for a batch without cache: query t sees key s when
 * s ≤ t and keyMask[b, s] = 1 (keyMask [B, T] float32, 0 on padding).
 */
export function causalPaddingBias(g: Graph, keyMask: Tensor): Tensor {
  const dtype = keyMask.dtype;
  const idx = g.target === "webgpu" ? keyPositionsOnDevice(g, keyMask) : keyPositions(g, keyMask); // [T]
  const causal = op.lessOrEqual(g, op.unsqueeze(g, idx, [0]), op.unsqueeze(g, idx, [1])); // [T(query), T(key)]
  const keyOk = op.unsqueeze(g, op.cast(g, keyMask, "bool"), [1]); // [B, 1, T]
  const ok = op.and(g, causal, keyOk); // [B, T, T]
  const bias = op.where(g, ok, g.scalar(0, dtype), g.scalar(MASKED, dtype)); // [B, T, T]
  return op.unsqueeze(g, bias, [1, 2]); // [B, 1, 1, T, T]
}

export interface LayerCache {
  /** [B, KV, P, D] keys/values of earlier positions (already normed and rotated). */
  readonly k: Tensor;
  readonly v: Tensor;
}

export interface LayerResult {
  /** [B, T, C] residual stream after this layer */
  readonly x: Tensor;
  /** [B, KV, S, D] keys/values including this call's positions (the new cache) */
  readonly k: Tensor;
  readonly v: Tensor;
}

/**
 * One Qwen3 decoder layer. `bias` is the additive attention bias in the scores' layout
 * [B, KV, G·T, S] (S = P + T with a cache, T without), as `expandAttentionBias` makes it once for
 * all layers from [B, 1, 1, T, S]; `rope` the tables for this call's positions.
 */
export function decoderLayer(
  g: Graph,
  config: ModelConfig,
  params: ParamTensors,
  layer: number,
  x: Tensor,
  rope: RopeTables,
  bias: Tensor,
  past?: LayerCache,
): LayerResult {
  const { numAttentionHeads: H, numKeyValueHeads: KV, headDim: D, rmsNormEps: eps } = config;
  const G = H / KV;
  const w = (suffix: string): Tensor => param(params, layerParamName(layer, suffix));
  const [B, T] = x.shape as [string | number, string | number];

  const h = rmsNorm(g, x, w("input_layernorm.weight"), eps); // [B, T, C]
  let q = op.reshape(g, projection(g, params, layerParamName(layer, "self_attn.q_proj.weight"), h), [B, T, H, D]); // [B, T, H, D]
  let k = op.reshape(g, projection(g, params, layerParamName(layer, "self_attn.k_proj.weight"), h), [B, T, KV, D]); // [B, T, KV, D]
  let v = op.reshape(g, projection(g, params, layerParamName(layer, "self_attn.v_proj.weight"), h), [B, T, KV, D]); // [B, T, KV, D]
  q = applyRope(g, rmsNorm(g, q, w("self_attn.q_norm.weight"), eps), rope, D);
  k = applyRope(g, rmsNorm(g, k, w("self_attn.k_norm.weight"), eps), rope, D);
  // The 1/√D score scale is folded into q (T·H·D multiplies instead of T·S·H).
  q = op.mul(g, q, g.scalar(1 / Math.sqrt(D), x.dtype));

  q = op.reshape(g, q, [B, T, KV, G, D]);
  q = op.transpose(g, q, [0, 2, 3, 1, 4]); // [B, KV, G, T, D]
  q = op.reshape(g, q, [B, KV, `${G}*${T}`, D]); // [B, KV, G·T, D]
  k = op.transpose(g, k, [0, 2, 1, 3]); // [B, KV, T, D]
  v = op.transpose(g, v, [0, 2, 1, 3]); // [B, KV, T, D]
  if (past) {
    k = op.concat(g, [past.k, k], 2); // [B, KV, S, D]
    v = op.concat(g, [past.v, v], 2);
  }

  if (bias.shape.length !== 4) throw new Error("decoderLayer: give the bias as expandAttentionBias returns it, [B, KV, G·T, S]");
  const scores = op.matmul(g, q, op.transposeLast(g, k)); // [B, KV, G·T, S]
  const probs = op.softmax(g, op.add(g, scores, bias), -1); // [B, KV, G·T, S]
  let attn = op.matmul(g, probs, v); // [B, KV, G·T, D]
  attn = op.reshape(g, attn, [B, KV, G, T, D]);
  attn = op.transpose(g, attn, [0, 3, 1, 2, 4]); // [B, T, KV, G, D]
  attn = op.reshape(g, attn, [B, T, H * D]); // [B, T, H·D]
  x = op.add(g, x, projection(g, params, layerParamName(layer, "self_attn.o_proj.weight"), attn)); // [B, T, C]

  const h2 = rmsNorm(g, x, w("post_attention_layernorm.weight"), eps);
  const gate = projection(g, params, layerParamName(layer, "mlp.gate_proj.weight"), h2); // [B, T, I]
  const up = projection(g, params, layerParamName(layer, "mlp.up_proj.weight"), h2); // [B, T, I]
  const act = swiglu(g, gate, up); // [B, T, I]
  x = op.add(g, x, projection(g, params, layerParamName(layer, "mlp.down_proj.weight"), act)); // [B, T, C]
  return { x, k, v };
}

/**
 * [B, 1, 1, T, S] → [B, KV, G·T, S], the layout of the scores (G query heads of a kv head stacked
 * along time). Done once per forward: a broadcast Add inside every layer is slower in onnxruntime,
 * and adding in the scores' own layout needs no reshape around the softmax.
 */
export function expandAttentionBias(g: Graph, config: ModelConfig, bias: Tensor): Tensor {
  const KV = config.numKeyValueHeads;
  const G = config.numAttentionHeads / KV;
  const [B, , , T, S] = bias.shape as (string | number)[];
  if (bias.shape.length !== 5 || B === undefined || T === undefined || S === undefined) {
    throw new Error(`expandAttentionBias: expected a bias [B, 1, 1, T, S]; got rank ${bias.shape.length}`);
  }
  const shape = g.target === "webgpu" ? g.dimsInput([B, KV, G, T, S]) : op.mul(g, op.shapeOf(g, bias), g.ints([1, KV, G, 1, 1]));
  const full = g.op1("Expand", [bias, shape], {}, { dtype: bias.dtype, shape: [B, KV, G, T, S] });
  return op.reshape(g, full, [B, KV, `${G}*${T}`, S]);
}

export interface ForwardInputs {
  /** [B, T] int64 token ids */
  readonly tokens: Tensor;
  /** [B, T] int64 RoPE positions (0-based among real tokens; anything on padding) */
  readonly positions: Tensor;
  /** [B, 1, 1, T, S] additive attention bias */
  readonly bias: Tensor;
  /** per-layer caches (decode); omitted for a plain forward */
  readonly past?: readonly LayerCache[];
}

export interface ForwardResult {
  /** [B, T, C] final-normed hidden states */
  readonly hidden: Tensor;
  /** per layer, [B, KV, S, D] */
  readonly present: LayerResult[];
}

/** Embedding → layers → final norm. */
export function qwen3Hidden(g: Graph, config: ModelConfig, params: ParamTensors, inputs: ForwardInputs): ForwardResult {
  let x = op.gather(g, param(params, "model.embed_tokens.weight"), inputs.tokens); // [B, T, C]
  const dtype = inputs.bias.dtype as FloatType;
  const rope = ropeTables(g, config, inputs.positions, dtype);
  const bias = expandAttentionBias(g, config, inputs.bias);
  const present: LayerResult[] = [];
  for (let n = 0; n < config.numHiddenLayers; n++) {
    const r = decoderLayer(g, config, params, n, x, rope, bias, inputs.past?.[n]);
    present.push(r);
    x = r.x;
  }
  return { hidden: rmsNorm(g, x, param(params, "model.norm.weight"), config.rmsNormEps), present };
}

/** logits = hidden · headᵀ, [..., C] → [..., V]. */
export function lmHead(g: Graph, config: ModelConfig, params: ParamTensors, hidden: Tensor): Tensor {
  const head = param(params, config.tieWordEmbeddings ? "model.embed_tokens.weight" : "lm_head.weight");
  return op.linear(g, hidden, head);
}
