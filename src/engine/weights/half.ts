/**
 * A frozen base held in 16 bits: the seven projection matrices of every layer (q k v o gate up
 * down: ~90 % of a Qwen3's parameters) stay in bf16 or fp16, as a checkpoint ships them, and the
 * graphs widen each one to float32 just before its Gemm (model.ts `projection`). Embeddings and
 * norms stay float32 in the ordinary `Params` buffer (the embedding doubles as the tied LM head,
 * whose widening per forward would cost more than its 2 bytes per parameter save).
 *
 * onnxruntime-node has no bfloat16 tensors, and its CPU kernels multiply only float32/float64, so
 * the 16-bit words are fed as uint16 and decoded in the graph by a 65,536-entry table lookup
 * (Gather): exact for both formats, NaN and subnormals included. Only a frozen base can live here:
 * nothing writes these words after loading.
 */
import ort from "onnxruntime-node";
import type { Device } from "../graph/device.js";
import type { ModelConfig } from "../model/config.js";
import { bf16BitsToF32, encodeBf16, f16BitsToF32 } from "./bf16.js";
import { f32ToF16Bits } from "./gguf.js";
import { layoutOf, type ParamLayout, Params, paramShapes } from "./params.js";

/** How the frozen base is held: float32 (every kernel's own type), or 16 bits widened in the graph. */
export type BaseDtype = "fp32" | "bf16" | "fp16";
export type HalfDtype = Exclude<BaseDtype, "fp32">;
export const BASE_DTYPES: readonly BaseDtype[] = ["fp32", "bf16", "fp16"];

/** The seven projection weights, the tensors a 16-bit base holds in 16 bits. */
export function isProjectionWeight(name: string): boolean {
  return /\.(self_attn\.[qkvo]_proj|mlp\.(gate|up|down)_proj)\.weight$/.test(name);
}

/** The 16-bit part of a base: projection weights as bf16 or fp16 bit patterns, same aligned layout rules as `Params`. */
export class HalfWeights {
  constructor(
    readonly dtype: HalfDtype,
    readonly layout: ParamLayout,
    readonly data: Uint16Array = new Uint16Array(layout.totalSize),
  ) {
    if (data.length !== layout.totalSize) throw new Error(`16-bit weight buffer has ${data.length} words; the layout needs ${layout.totalSize}`);
  }

  /** A zero-copy subarray of one tensor's words. */
  view(name: string): Uint16Array {
    const v = this.layout.byName.get(name);
    if (v === undefined) throw new Error(`No ${this.dtype} weight named "${name}" in this base`);
    return this.data.subarray(v.offset, v.offset + v.size);
  }
}

/**
 * A 16-bit weight [out, in] on webgpu: two words per uint32 lane, [out, in/2] (WebGPU has no 16-bit
 * integer kernels; model.ts decodes the lanes on the device). Word 2k sits in lane k's low half,
 * as a little-endian Uint32Array over the words reads them.
 */
export function packedShape(name: string, shape: readonly number[]): number[] {
  const [out, inner] = shape as [number, number];
  if (shape.length !== 2 || inner % 2 !== 0) throw new Error(`16-bit weight ${name} [${shape.join(", ")}]: webgpu packs two words per lane, so its last dim must be even`);
  return [out, inner / 2];
}

/**
 * Each 16-bit weight as a graph feed, by name: its words as uint16 [out, in] (zero-copy), or for
 * webgpu as uint32 lanes [out, in/2] over the same bytes (zero-copy where the view is 4-byte
 * aligned, as PARAM_ALIGN makes every view).
 */
export function halfFeeds(half: HalfWeights, device: Device = "cpu"): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const v of half.layout.views) {
    const words = half.view(v.name);
    if (device !== "webgpu") {
      feeds[v.name] = new ort.Tensor("uint16", words, v.shape);
      continue;
    }
    const shape = packedShape(v.name, v.shape);
    const aligned = words.byteOffset % 4 === 0 ? words : words.slice();
    feeds[v.name] = new ort.Tensor("uint32", new Uint32Array(aligned.buffer, aligned.byteOffset, words.length / 2), shape);
  }
  return feeds;
}

/** The layouts of a base whose projections are 16-bit: float32 for the rest, 16-bit for the projections. */
export function splitLayouts(config: ModelConfig): { full: ParamLayout; half: ParamLayout } {
  const shapes = paramShapes(config);
  return { full: layoutOf(shapes.filter((s) => !isProjectionWeight(s.name))), half: layoutOf(shapes.filter((s) => isProjectionWeight(s.name))) };
}

/** An empty base of this shape in `dtype` (float32 `Params`, plus `half` unless fp32). */
export function emptyBase(config: ModelConfig, dtype: BaseDtype): Params {
  if (dtype === "fp32") return new Params(layoutOf(paramShapes(config)));
  const { full, half } = splitLayouts(config);
  return new Params(full, undefined, new HalfWeights(dtype, half));
}

/** float32 → 16-bit words, round to nearest even. */
export function encodeHalf(dtype: HalfDtype, src: Float32Array, dst: Uint16Array): void {
  if (dtype === "bf16") return encodeBf16(src, dst);
  if (dst.length !== src.length) throw new Error(`encodeHalf: ${src.length} inputs but ${dst.length} outputs`);
  for (let i = 0; i < src.length; i++) dst[i] = f32ToF16Bits(src[i] as number);
}

/**
 * A float32 base re-held in `dtype` (its projections rounded to nearest even); other tensors are
 * copied. For benchmarks and explicit `--base-dtype` on a float32 checkpoint.
 */
export function toBaseDtype(config: ModelConfig, params: Params, dtype: BaseDtype): Params {
  if (params.half !== undefined) throw new Error(`toBaseDtype: this base is already held in ${params.half.dtype}`);
  if (dtype === "fp32") return params;
  const out = emptyBase(config, dtype);
  for (const v of out.layout.views) out.view(v.name).set(params.view(v.name));
  const half = out.half as HalfWeights;
  for (const v of half.layout.views) encodeHalf(dtype, params.view(v.name), half.view(v.name));
  return out;
}

const tables = new Map<HalfDtype, Float32Array>();

/** table[bits] = the float32 value of a 16-bit pattern (what the graphs Gather from). */
export function halfTable(dtype: HalfDtype): Float32Array {
  let t = tables.get(dtype);
  if (t === undefined) {
    const decode = dtype === "bf16" ? bf16BitsToF32 : f16BitsToF32;
    t = Float32Array.from({ length: 65536 }, (_, b) => decode(b));
    tables.set(dtype, t);
  }
  return t;
}

/** Bytes of weights a base of this shape holds in `dtype`. */
export function baseBytes(config: ModelConfig, dtype: BaseDtype): number {
  if (dtype === "fp32") return layoutOf(paramShapes(config)).totalSize * 4;
  const { full, half } = splitLayouts(config);
  return full.totalSize * 4 + half.totalSize * 2;
}
