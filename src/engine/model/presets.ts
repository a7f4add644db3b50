/**
 * Named model shapes.
 *
 * - `tiny` and `small` are byte-level models trained from scratch on this machine:
 *   V = 264 = 256 byte tokens + 8 special tokens (the byte tokenizer owns which ids those are).
 *   micro ≈ 0.33 M parameters (the default training preset's model: the three training games'
 *   compact prompts need little capacity, and its steps run ~4× faster than tiny's on 2 cores),
 *   tiny ≈ 1.6 M (loop tests), small ≈ 25 M.
 * - `qwen3-0.6b`, `qwen3-1.7b`, `qwen3-4b` are the published Qwen3 shapes (values from the
 *   Qwen/Qwen3-* config.json files), for checking sizes and building graphs without downloading
 *   weights. Real checkpoints bring their own config.json, which always wins over a preset.
 *   Parameter counts (tied head counted once): 596,049,920 / 1,720,574,976 / 4,022,468,096.
 *   (The later Qwen3-4B-*-2507 releases keep these shapes but use rope_theta 5e6 and 262,144
 *   positions; their own config.json says so.)
 */
import type { ModelConfig } from "./config.js";

const byteLevel = { vocabSize: 264, tieWordEmbeddings: true, rmsNormEps: 1e-6, ropeTheta: 10000, maxPositionEmbeddings: 2048 };

const qwen3 = {
  vocabSize: 151936,
  tieWordEmbeddings: true,
  rmsNormEps: 1e-6,
  ropeTheta: 1000000,
  maxPositionEmbeddings: 40960,
  headDim: 128,
  numKeyValueHeads: 8,
  bosTokenId: 151643,
  eosTokenId: 151645,
};

export const modelPresets = {
  micro: {
    ...byteLevel,
    hiddenSize: 128,
    intermediateSize: 256,
    numHiddenLayers: 2,
    numAttentionHeads: 4,
    numKeyValueHeads: 2,
    headDim: 32,
  },
  tiny: {
    ...byteLevel,
    hiddenSize: 192,
    intermediateSize: 512,
    numHiddenLayers: 4,
    numAttentionHeads: 6,
    numKeyValueHeads: 2,
    headDim: 32,
  },
  small: {
    ...byteLevel,
    hiddenSize: 512,
    intermediateSize: 1536,
    numHiddenLayers: 8,
    numAttentionHeads: 8,
    numKeyValueHeads: 4,
    headDim: 64,
  },
  "qwen3-0.6b": { ...qwen3, hiddenSize: 1024, intermediateSize: 3072, numHiddenLayers: 28, numAttentionHeads: 16 },
  "qwen3-1.7b": { ...qwen3, hiddenSize: 2048, intermediateSize: 6144, numHiddenLayers: 28, numAttentionHeads: 16 },
  "qwen3-4b": { ...qwen3, hiddenSize: 2560, intermediateSize: 9728, numHiddenLayers: 36, numAttentionHeads: 32 },
} as const satisfies Record<string, ModelConfig>;

export type ModelPresetName = keyof typeof modelPresets;

export const modelPresetNames = Object.keys(modelPresets) as ModelPresetName[];

/** A fresh copy of a preset, so callers may tweak it without changing the table. */
export function modelPreset(name: string): ModelConfig {
  if (!Object.hasOwn(modelPresets, name)) {
    throw new Error(`Unknown model preset "${name}"; expected one of: ${modelPresetNames.join(", ")}`);
  }
  return { ...modelPresets[name as ModelPresetName] };
}
