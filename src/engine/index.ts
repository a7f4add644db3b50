/**
 * The public API of `spiral/engine`: the Qwen3 model on onnxruntime-node — configs and presets,
 * the flat parameter buffer, checkpoints, the optimiser, the learner's loss runner, tokenizers,
 * chat templates and batched generation. The graph builder and autodiff are exported for users
 * who build their own graphs; the per-op VJP tables stay internal.
 */
export type { ModelConfig, HfTorchDtype } from "./config.js";
export { parseModelConfig, toHfConfig, parameterCount } from "./config.js";
export type { ModelPresetName } from "./presets.js";
export { modelPreset, modelPresetNames, modelPresets } from "./presets.js";
export type { ParamLayout, ParamView } from "./params.js";
export type { Adapter, LoraConfig, LoraTarget } from "./lora.js";
export { initAdapter, loraLayout, loraScale, LORA_TARGETS, mergeAdapter } from "./lora.js";
export type { BaseFingerprint, LoadedAdapter, SaveAdapterInput } from "./peft.js";
export { baseFingerprint, loadAdapter, saveAdapter } from "./peft.js";
export { Params, initParams, paramLayout } from "./params.js";

export type { LoadedCheckpoint, LoadCheckpointOptions, SaveCheckpointInput } from "./checkpoint.js";
export { loadCheckpoint, loadWeightsInto, saveCheckpoint } from "./checkpoint.js";
export type { ReadableDtype, WritableDtype } from "./safetensors.js";
export { loadSafetensors, readSafetensorsHeader } from "./safetensors.js";

export type { AdamWOptions, AdamWState } from "./optimizer.js";
export { AdamW, clipGradNorm } from "./optimizer.js";
export type { LrSchedule } from "./schedule.js";
export { learningRate, parseLrSchedule } from "./schedule.js";

export type { LossKind } from "./loss.js";
export type { ConstraintBatch, LossBatch, LossRunnerOptions, LossSettings, LossStats, TokenBatch } from "./loss-runner.js";
export { LossRunner } from "./loss-runner.js";
export { referenceForward, referenceTokenLogProbs } from "./reference.js";

export type { ChatMessage, ChatRole, ChatTemplateOptions, Tokenizer } from "./tokenizer/tokenizer.js";
export { createStreamDecoder } from "./tokenizer/tokenizer.js";
export { ByteTokenizer, BYTE_SPECIAL_TOKENS, BYTE_VOCAB_SIZE } from "./tokenizer/byte-tokenizer.js";
export { HfTokenizer } from "./tokenizer/hf-tokenizer.js";
export { loadTokenizer } from "./tokenizer/load.js";
export { ChatTemplate, CHATML_TEMPLATE } from "./chat-template.js";

export type { LogitAdjustments, SampledToken, SamplingParams } from "./sampling.js";
export { adjustLogits, sampleToken, tokenLogprob } from "./sampling.js";
export type { ChoiceConstraint } from "./trie.js";
export { TokenTrie, buildChoiceTrie } from "./trie.js";
export type { Completion, FinishReason, GenerateOptions, GenerationRequest, GenerationStats, GeneratorOptions, RowSampling } from "./generate.js";
export { Generator } from "./generate.js";

export type { DType, Dim, Shape, Tensor } from "./graph/builder.js";
export { Graph } from "./graph/builder.js";
export { gradients } from "./graph/autodiff.js";
export { serialize } from "./graph/serialize.js";
export { GraphSession } from "./graph/session.js";
