/**
 * Which weights a half-precision run (`--precision fp16`, docs/device.md "Precision") holds in
 * float16, and the model graphs rewritten for it (graph/half-precision.ts).
 *
 * Every weight is an fp16 copy except the output head (`lm_head.weight`, or `embed_tokens` when the
 * embeddings are tied): it stays float32, so the logits are computed in float32 from a float32
 * final hidden state, and the residual stream that starts at the embedding gather stays float32
 * (the products' fp16 outputs are added into it). The fp32 master copy of every weight stays where
 * it was (the host, or DeviceTraining's flat buffer); the fp16 copies are made from it.
 */
import { toHalfPrecision } from "../graph/half-precision.js";
import type { Graph } from "../graph/builder.js";
import type { Feeds } from "../graph/session.js";
import ort from "onnxruntime-node";
import type { ModelConfig } from "./config.js";
import { encodeF16 } from "../weights/bf16.js";
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
 * the head become float16 inputs; `halfInputs` / `halfOutputs` name further values kept in fp16 (the
 * KV cache).
 */
export function halfModelGraph(g: Graph, config: ModelConfig, more: { halfInputs?: (name: string) => boolean; halfOutputs?: (name: string) => boolean } = {}): Graph {
  const half = halfWeightNames(config);
  const extra = more.halfInputs ?? (() => false);
  return toHalfPrecision(g, { halfInputs: (n) => half.has(n) || extra(n), ...(more.halfOutputs === undefined ? {} : { halfOutputs: more.halfOutputs }) });
}

/** Host feeds of the weights as a half-precision graph reads them: fp16 copies, the head as is. */
export function halfWeightFeeds(config: ModelConfig, params: Params): Feeds {
  const half = halfWeightNames(config);
  const feeds: Feeds = {};
  for (const v of params.layout.views) {
    const data = params.view(v.name);
    if (!half.has(v.name)) {
      feeds[v.name] = new ort.Tensor("float32", data, v.shape);
      continue;
    }
    const bits = new Uint16Array(data.length);
    encodeF16(data, bits);
    feeds[v.name] = new ort.Tensor("float16", bits, v.shape);
  }
  return feeds;
}

/** Throws when a half-precision run is asked of weights it does not cover yet. */
export function checkHalfSupport(what: { readonly lora?: unknown; readonly halfBase?: unknown }): void {
  if (what.lora !== undefined) throw new Error("--precision fp16 does not cover LoRA runs yet (an adapter trains beside a float32 or 16-bit base); use --precision fp32");
  if (what.halfBase !== undefined) throw new Error("--precision fp16 does not cover a 16-bit frozen base (--base-dtype); use --precision fp32");
}
