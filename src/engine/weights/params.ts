/**
 * All model parameters in one flat Float32Array with named views (llm.c style).
 *
 * Names and shapes are Hugging Face Qwen3's, so a checkpoint maps tensor-for-tensor onto the
 * buffer; Linear weights are stored [out, in] as in PyTorch (y = x · Wᵀ).
 *
 * Layout, in order (V vocab, C hidden, I intermediate, H heads, KV kv heads, D head dim):
 *   model.embed_tokens.weight                       [V, C]
 *   for each layer N:
 *     model.layers.N.input_layernorm.weight          [C]
 *     model.layers.N.self_attn.q_proj.weight         [H*D, C]
 *     model.layers.N.self_attn.k_proj.weight         [KV*D, C]
 *     model.layers.N.self_attn.v_proj.weight         [KV*D, C]
 *     model.layers.N.self_attn.o_proj.weight         [C, H*D]
 *     model.layers.N.self_attn.q_norm.weight         [D]
 *     model.layers.N.self_attn.k_norm.weight         [D]
 *     model.layers.N.post_attention_layernorm.weight [C]
 *     model.layers.N.mlp.gate_proj.weight            [I, C]
 *     model.layers.N.mlp.up_proj.weight              [I, C]
 *     model.layers.N.mlp.down_proj.weight            [C, I]
 *   model.norm.weight                                [C]
 *   lm_head.weight                                   [V, C]   (only when the head is not tied)
 *
 * Invariants:
 * - every view's offset is a multiple of PARAM_ALIGN floats (64 bytes), so views are aligned for
 *   SIMD and zero-copy ONNX inputs; the padding between views is zero and stays zero;
 * - views never overlap and each lies inside [0, totalSize);
 * - the same layout is used for gradients and optimiser moments, so one index means one parameter
 *   in every buffer.
 */
import type { Rng } from "../../core/rng.js";
import type { ModelConfig } from "../model/config.js";

/** Alignment of every view, in floats (16 × 4 bytes = 64 bytes, one cache line). */
export const PARAM_ALIGN = 16;

export interface ParamView {
  name: string;
  shape: readonly number[];
  /** Start index in the flat buffer (a multiple of PARAM_ALIGN). */
  offset: number;
  /** Number of elements: the product of shape. */
  size: number;
}

export interface ParamLayout {
  views: readonly ParamView[];
  byName: ReadonlyMap<string, ParamView>;
  /** Length of the flat buffer, padding included (a multiple of PARAM_ALIGN). */
  totalSize: number;
}

/** The HF name of a per-layer parameter, e.g. layerParamName(3, "mlp.up_proj.weight"). */
export function layerParamName(layer: number, suffix: string): string {
  return `model.layers.${layer}.${suffix}`;
}

function alignUp(n: number): number {
  return Math.ceil(n / PARAM_ALIGN) * PARAM_ALIGN;
}

/** Names and shapes in layout order, without offsets. */
export function paramShapes(config: ModelConfig): { name: string; shape: number[] }[] {
  const { vocabSize: V, hiddenSize: C, intermediateSize: I, numAttentionHeads: H, numKeyValueHeads: KV, headDim: D } = config;
  const out: { name: string; shape: number[] }[] = [{ name: "model.embed_tokens.weight", shape: [V, C] }];
  for (let n = 0; n < config.numHiddenLayers; n++) {
    const layer = (suffix: string, shape: number[]) => out.push({ name: layerParamName(n, suffix), shape });
    layer("input_layernorm.weight", [C]);
    layer("self_attn.q_proj.weight", [H * D, C]);
    layer("self_attn.k_proj.weight", [KV * D, C]);
    layer("self_attn.v_proj.weight", [KV * D, C]);
    layer("self_attn.o_proj.weight", [C, H * D]);
    layer("self_attn.q_norm.weight", [D]);
    layer("self_attn.k_norm.weight", [D]);
    layer("post_attention_layernorm.weight", [C]);
    layer("mlp.gate_proj.weight", [I, C]);
    layer("mlp.up_proj.weight", [I, C]);
    layer("mlp.down_proj.weight", [C, I]);
  }
  out.push({ name: "model.norm.weight", shape: [C] });
  if (!config.tieWordEmbeddings) out.push({ name: "lm_head.weight", shape: [V, C] });
  return out;
}

export function paramLayout(config: ModelConfig): ParamLayout {
  return layoutOf(paramShapes(config));
}

/** The aligned flat layout of named tensors, in the order given (shared with LoRA adapters). */
export function layoutOf(shapes: readonly { name: string; shape: readonly number[] }[]): ParamLayout {
  const views: ParamView[] = [];
  let offset = 0;
  for (const { name, shape } of shapes) {
    const size = shape.reduce((a, b) => a * b, 1);
    views.push({ name, shape, offset, size });
    offset = alignUp(offset + size);
  }
  return { views, byName: new Map(views.map((v) => [v.name, v])), totalSize: offset };
}

/** Whether a parameter is a norm gain (initialised to 1; RMSNorm weights are 1-D). */
export function isNormWeight(name: string): boolean {
  return name.endsWith("norm.weight");
}

export class Params {
  readonly layout: ParamLayout;
  /** [totalSize] every parameter, padding zero. */
  readonly data: Float32Array;

  constructor(layout: ParamLayout, data: Float32Array = new Float32Array(layout.totalSize)) {
    if (data.length !== layout.totalSize) {
      throw new Error(`Parameter buffer has ${data.length} floats; the layout needs ${layout.totalSize}`);
    }
    this.layout = layout;
    this.data = data;
  }

  /** A zero-copy subarray: writes go straight into the flat buffer. */
  view(name: string): Float32Array {
    const v = this.layout.byName.get(name);
    if (v === undefined) {
      throw new Error(`No parameter named "${name}" in this model (it has ${this.layout.views.length} tensors, e.g. ${this.layout.views[0]?.name})`);
    }
    return this.data.subarray(v.offset, v.offset + v.size);
  }

  /** A deep copy with its own buffer. */
  clone(): Params {
    return new Params(this.layout, this.data.slice());
  }
}

/** HF initialisation: norm gains 1, every matrix and the embedding ~ N(0, 0.02²). Same seed ⇒ same numbers. */
export function initParams(config: ModelConfig, rng: Rng, std = 0.02): Params {
  const params = new Params(paramLayout(config));
  for (const v of params.layout.views) {
    const w = params.data.subarray(v.offset, v.offset + v.size);
    if (isNormWeight(v.name)) {
      w.fill(1);
    } else {
      for (let i = 0; i < w.length; i++) w[i] = rng.normal() * std;
    }
  }
  return params;
}
