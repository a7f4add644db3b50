/**
 * Model FLOPs of one training step (forward + backward: 6 per matmul parameter per token, plus
 * attention's score and value products), shared by bench/engine.ts and bench/device.ts. Its own
 * module: importing engine.ts would run that bench.
 */
import type { ModelConfig } from "../src/engine/model/config.js";

function matmulParams(c: ModelConfig): number {
  const { hiddenSize: C, intermediateSize: I, numAttentionHeads: H, numKeyValueHeads: KV, headDim: D, vocabSize: V } = c;
  const perLayer = C * H * D * 2 + C * KV * D * 2 + 3 * C * I;
  return perLayer * c.numHiddenLayers + V * C;
}

export function trainingFlops(c: ModelConfig, B: number, T: number): number {
  const attention = 12 * B * T * T * c.numAttentionHeads * c.headDim * c.numHiddenLayers;
  return 6 * matmulParams(c) * B * T + attention;
}
