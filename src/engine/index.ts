/**
 * The public API of `spiral/engine`: the Qwen3 model on onnxruntime-node — configs and presets,
 * the flat parameter buffer, checkpoints, the optimiser, the learner's loss runner, tokenizers,
 * chat templates and batched generation. The graph builder and autodiff are exported for users
 * who build their own graphs; the per-op VJP tables stay internal.
 */
export type { ModelConfig, HfTorchDtype } from "./model/config.js";
export { parseModelConfig, toHfConfig, parameterCount } from "./model/config.js";
export type { ModelPresetName } from "./model/presets.js";
export { modelPreset, modelPresetNames, modelPresets } from "./model/presets.js";
export type { ParamLayout, ParamView } from "./weights/params.js";
export type { Adapter, LoraConfig, LoraTarget } from "./model/lora.js";
export { initAdapter, loraLayout, loraScale, LORA_TARGETS, mergeAdapter } from "./model/lora.js";
export type { BaseFingerprint, LoadedAdapter, SaveAdapterInput } from "./weights/peft.js";
export { baseFingerprint, loadAdapter, saveAdapter } from "./weights/peft.js";
export { Params, initParams, paramLayout } from "./weights/params.js";

export type { LoadedCheckpoint, LoadCheckpointOptions, SaveCheckpointInput } from "./weights/checkpoint.js";
export { loadCheckpoint, loadWeightsInto, saveCheckpoint } from "./weights/checkpoint.js";
export type { ReadableDtype, WritableDtype } from "./weights/safetensors.js";
export { loadSafetensors, readSafetensorsHeader } from "./weights/safetensors.js";

export type { AdamWOptions, AdamWScalars, AdamWState } from "./train/optimizer.js";
export { AdamW, clipGradNorm } from "./train/optimizer.js";
export type { GraphAdamWOptions, OptimizerPrecision } from "./train/optimizer-graph.js";
export { GraphAdamW, buildOptimizerGraph, optimizerNames } from "./train/optimizer-graph.js";
export type { DeviceTrainingOptions } from "./train/device-training.js";
export { DeviceTraining } from "./train/device-training.js";
export type { LrSchedule } from "./train/schedule.js";
export { learningRate, parseLrSchedule } from "./train/schedule.js";

export type { LossKind } from "./train/loss.js";
export type { ConstraintBatch, LossBatch, LossRunnerOptions, LossSettings, LossStats, TokenBatch } from "./train/loss-runner.js";
export { LossRunner } from "./train/loss-runner.js";
export { referenceForward, referenceTokenLogProbs } from "./model/reference.js";

export type { ChatMessage, ChatRole, ChatTemplateOptions, Tokenizer } from "./tokenizer/tokenizer.js";
export { createStreamDecoder } from "./tokenizer/tokenizer.js";
export { ByteTokenizer, BYTE_SPECIAL_TOKENS, BYTE_VOCAB_SIZE } from "./tokenizer/byte-tokenizer.js";
export { HfTokenizer } from "./tokenizer/hf-tokenizer.js";
export { loadTokenizer } from "./tokenizer/load.js";
export { ChatTemplate, CHATML_TEMPLATE } from "./infer/chat-template.js";

export type { LogitAdjustments, SampledToken, SamplingParams } from "./infer/sampling.js";
export { adjustLogits, sampleToken, tokenLogprob } from "./infer/sampling.js";
export type { ChoiceConstraint } from "./infer/trie.js";
export { TokenTrie, buildChoiceTrie } from "./infer/trie.js";
export type { Completion, FinishReason, GenerateOptions, GenerationRequest, GenerationStats, GeneratorOptions, RowSampling } from "./infer/generate.js";
export { Generator } from "./infer/generate.js";

export type { DType, Dim, Shape, Tensor } from "./graph/builder.js";
export { Graph } from "./graph/builder.js";
export { gradients } from "./graph/autodiff.js";
export { serialize } from "./graph/serialize.js";
export { GraphSession } from "./graph/session.js";
