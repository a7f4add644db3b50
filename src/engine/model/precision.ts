/**
 * Which weights a half-precision run (`--precision fp16`, docs/device.md "Precision") holds in
 * float16, and the model graphs rewritten for it (graph/half-precision.ts).
 *
 * Every weight is an fp16 copy except the output head (`lm_head.weight`, or `embed_tokens` when the
 * embeddings are tied): it stays float32, so the logits are computed in float32 from a float32
 * final hidden state, and the residual stream that starts at the embedding gather stays float32
 * (the products' fp16 outputs are added into it). The fp32 master copy of every weight stays where
 * it was (the host, or DeviceTraining's flat buffer); the fp16 copies are made from it.
 *
 * A LoRA run's frozen base is held the same way (fp16 copies, head float32); the adapter's A and B
 * stay float32 masters, cast to fp16 where the products read them. A 16-bit base's words are
 * decoded straight into fp16 (its decoding table becomes a float16 constant). A base value beyond
 * fp16's range would become ±inf, so `checkHalfRange` refuses such a base at load, naming the weight.
 */
import { HALF_MAX, toHalfPrecision } from "../graph/half-precision.js";
import type { Graph } from "../graph/builder.js";
import type { Feeds } from "../graph/session.js";
import ort from "onnxruntime-node";
import type { ModelConfig } from "./config.js";
import { isAdapterWeight } from "./lora.js";
import { isHalfTable } from "./model.js";
import { encodeF16 } from "../weights/bf16.js";
import { halfTable } from "../weights/half.js";
import { paramShapes, type Params } from "../weights/params.js";

/** The output head's weight name. */
export function outputHeadName(config: ModelConfig): string {
  return config.tieWordEmbeddings ? "model.embed_tokens.weight" : "lm_head.weight";
}

/** The model's weights held in float16 in a half-precision run: every one but the output head. */
export function halfWeightNames(config: ModelConfig): Set<string> {
  const head = outputHeadName(config);
  return new Set(paramShapes(config).map((p) => p.name).filter((n) => n !== head));
}

/**
 * `g` (a model graph recorded in float32) rewritten for half precision: the model's weights except
 * the head become float16 inputs, an adapter's float32 A and B are read in fp16 by its products,
 * a 16-bit base decodes into fp16; `halfInputs` / `halfOutputs` name further values kept in fp16
 * (the KV cache).
 */
export function halfModelGraph(g: Graph, config: ModelConfig, more: { halfInputs?: (name: string) => boolean; halfOutputs?: (name: string) => boolean } = {}): Graph {
  const half = halfWeightNames(config);
  const extra = more.halfInputs ?? (() => false);
  return toHalfPrecision(g, {
    halfInputs: (n) => half.has(n) || extra(n),
    castInputs: isAdapterWeight,
    halfConstants: isHalfTable,
    ...(more.halfOutputs === undefined ? {} : { halfOutputs: more.halfOutputs }),
  });
}

/** Host feeds of the weights as a half-precision graph reads them: fp16 copies, the head as is. */
export function halfWeightFeeds(config: ModelConfig, params: Params): Feeds {
  checkHalfRange(config, params);
  const half = halfWeightNames(config);
  const feeds: Feeds = {};
  for (const v of params.layout.views) {
    const data = params.view(v.name);
    feeds[v.name] = half.has(v.name) ? halfTensor(data, v.shape) : new ort.Tensor("float32", data, v.shape);
  }
  return feeds;
}

/** An fp16 copy of float32 values (round to nearest even). */
export function halfTensor(data: Float32Array, dims: readonly number[]): ort.Tensor {
  const bits = new Uint16Array(data.length);
  encodeF16(data, bits);
  return new ort.Tensor("float16", bits, dims);
}

/** The largest |value| of `data` (each decoded through `table` if given) when it exceeds fp16's range; NaN is not counted. */
function beyondHalf(data: ArrayLike<number>, table?: Float32Array): number | undefined {
  let max = 0;
  for (let i = 0; i < data.length; i++) {
    const v = Math.abs(table === undefined ? (data[i] as number) : (table[data[i] as number] as number));
    if (v > max) max = v;
  }
  return max > HALF_MAX ? max : undefined;
}

/**
 * Throws, naming the first weight, when a weight a half-precision run holds in fp16 (every one but
 * the head; a 16-bit base's projections) has a value beyond ±65504: its fp16 copy would be ±inf.
 * bf16 has float32's range, so a bf16 checkpoint can; such a run needs fp32.
 */
export function checkHalfRange(config: ModelConfig, params: Params): void {
  const fail = (name: string, worst: number, held: string): never => {
    throw new Error(`--precision fp16: weight ${name} (${held}) holds a value of magnitude ${worst.toPrecision(4)}, beyond float16's range (±${HALF_MAX}); its fp16 copy would be infinite. Use --precision fp32 for this model.`);
  };
  const half = halfWeightNames(config);
  for (const v of params.layout.views) {
    if (!half.has(v.name)) continue;
    const worst = beyondHalf(params.view(v.name));
    if (worst !== undefined) fail(v.name, worst, "float32");
  }
  const words = params.half;
  if (words === undefined || words.dtype === "fp16") return;
  const table = halfTable(words.dtype);
  for (const v of words.layout.views) {
    const worst = beyondHalf(words.view(v.name), table);
    if (worst !== undefined) fail(v.name, worst, words.dtype);
  }
}
