/** Small model shapes and weights for engine tests (test helper, not shipped). */
import { createRng } from "../../core/rng.js";
import type { ModelConfig } from "./config.js";
import { initParams, isNormWeight, type Params } from "../weights/params.js";

/** D ≠ C/H on purpose (as in Qwen3-0.6B), G = 2. */
export const testConfig = (tie: boolean): ModelConfig => ({
  vocabSize: 37,
  hiddenSize: 32,
  intermediateSize: 48,
  numHiddenLayers: 2,
  numAttentionHeads: 4,
  numKeyValueHeads: 2,
  headDim: 16,
  rmsNormEps: 1e-6,
  ropeTheta: 10000,
  tieWordEmbeddings: tie,
  maxPositionEmbeddings: 128,
});

/** Weights large enough that attention is far from uniform and norm gains matter. */
export function randomParams(config: ModelConfig, seed: string): Params {
  const rng = createRng(seed);
  const p = initParams(config, rng, 0.3);
  for (const v of p.layout.views) {
    if (!isNormWeight(v.name)) continue;
    const w = p.data.subarray(v.offset, v.offset + v.size);
    for (let i = 0; i < w.length; i++) w[i] = 1 + 0.3 * rng.normal();
  }
  return p;
}
