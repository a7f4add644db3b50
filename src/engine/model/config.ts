/**
 * The model's shape: a Qwen3 decoder, as described by a Hugging Face `config.json`.
 *
 * Dimension legend used across the engine:
 *   V vocabSize, C hiddenSize, I intermediateSize, L numHiddenLayers,
 *   H numAttentionHeads, KV numKeyValueHeads, D headDim.
 *
 * Invariants of a parsed ModelConfig:
 * - every size is a positive integer; H is a multiple of KV (grouped-query attention);
 * - D is even (RoPE rotates pairs (i, i + D/2));
 * - rmsNormEps and ropeTheta are positive and finite;
 * - D need not equal C/H (Qwen3-0.6B has C=1024, H=16, D=128).
 *
 * `parseModelConfig` reads the snake_case HF keys and ignores keys that do not change the
 * computation (torch_dtype, transformers_version, use_cache, ...). Keys that would change it in a
 * way this engine does not implement (attention_bias: true, hidden_act other than silu,
 * use_sliding_window: true, RoPE scaling other than "default", another model_type) are errors
 * rather than silently wrong numbers.
 */
import { z } from "zod";

export interface ModelConfig {
  /** V: token vocabulary size (rows of the embedding). */
  vocabSize: number;
  /** C: residual stream width. */
  hiddenSize: number;
  /** I: SwiGLU hidden width. */
  intermediateSize: number;
  /** L: number of decoder layers. */
  numHiddenLayers: number;
  /** H: query heads. */
  numAttentionHeads: number;
  /** KV: key/value heads; H % KV === 0. */
  numKeyValueHeads: number;
  /** D: per-head width (even). */
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
  /** When true the LM head reuses model.embed_tokens.weight and no lm_head.weight exists. */
  tieWordEmbeddings: boolean;
  maxPositionEmbeddings: number;
  bosTokenId?: number;
  eosTokenId?: number | number[];
}

/** The dtype names HF writes into config.json's torch_dtype. */
export type HfTorchDtype = "float32" | "bfloat16" | "float16";

const positiveInt = z.number().int().positive();
const positiveFinite = z.number().positive().finite();
const tokenId = z.number().int().nonnegative();

const hfConfigSchema = z.looseObject({
  model_type: z.literal("qwen3").optional(),
  vocab_size: positiveInt,
  hidden_size: positiveInt,
  intermediate_size: positiveInt,
  num_hidden_layers: positiveInt,
  num_attention_heads: positiveInt,
  num_key_value_heads: positiveInt.optional(),
  head_dim: positiveInt.optional(),
  rms_norm_eps: positiveFinite.optional(),
  rope_theta: positiveFinite.optional(),
  tie_word_embeddings: z.boolean().optional(),
  max_position_embeddings: positiveInt.optional(),
  bos_token_id: tokenId.nullable().optional(),
  eos_token_id: z.union([tokenId, z.array(tokenId).nonempty()]).nullable().optional(),
  attention_bias: z.literal(false).optional(),
  hidden_act: z.literal("silu").optional(),
  use_sliding_window: z.literal(false).optional(),
  layer_types: z.array(z.literal("full_attention")).optional(),
  // Plain RoPE only: null, or an explicit {"rope_type": "default"} (newer transformers write
  // rope_parameters = {rope_type, rope_theta} instead of a top-level rope_theta).
  rope_scaling: z.looseObject({ rope_type: z.literal("default") }).nullable().optional(),
  rope_parameters: z.looseObject({ rope_type: z.literal("default").optional(), rope_theta: positiveFinite.optional() }).nullable().optional(),
});

function describeIssue(issue: z.core.$ZodIssue): string {
  const key = issue.path.length > 0 ? issue.path.join(".") : "(root)";
  return `${key}: ${issue.message}`;
}

/**
 * Reads an HF Qwen3 config.json (already JSON-parsed). Defaults follow transformers' Qwen3Config:
 * num_key_value_heads = num_attention_heads, head_dim = hidden_size / num_attention_heads,
 * rms_norm_eps 1e-6, rope_theta 10000, tie_word_embeddings false, max_position_embeddings 32768.
 */
export function parseModelConfig(json: unknown, source = "config.json"): ModelConfig {
  const parsed = hfConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map(describeIssue).join("; ");
    throw new Error(`Invalid Qwen3 model config in ${source}: ${issues}`);
  }
  const c = parsed.data;
  const heads = c.num_attention_heads;
  const kvHeads = c.num_key_value_heads ?? heads;
  const headDim = c.head_dim ?? c.hidden_size / heads;
  const fail = (key: string, expected: string, got: unknown): never => {
    throw new Error(`Invalid Qwen3 model config in ${source}: ${key}: expected ${expected}; got ${JSON.stringify(got)}`);
  };
  if (!Number.isInteger(headDim)) {
    fail("head_dim", "an integer (it defaults to hidden_size / num_attention_heads, which is not)", headDim);
  }
  if (headDim % 2 !== 0) fail("head_dim", "an even number (RoPE rotates pairs of channels)", headDim);
  if (heads % kvHeads !== 0) {
    fail("num_key_value_heads", `a divisor of num_attention_heads (${heads})`, kvHeads);
  }
  const config: ModelConfig = {
    vocabSize: c.vocab_size,
    hiddenSize: c.hidden_size,
    intermediateSize: c.intermediate_size,
    numHiddenLayers: c.num_hidden_layers,
    numAttentionHeads: heads,
    numKeyValueHeads: kvHeads,
    headDim,
    rmsNormEps: c.rms_norm_eps ?? 1e-6,
    ropeTheta: c.rope_theta ?? c.rope_parameters?.rope_theta ?? 10000,
    tieWordEmbeddings: c.tie_word_embeddings ?? false,
    maxPositionEmbeddings: c.max_position_embeddings ?? 32768,
  };
  if (c.bos_token_id != null) config.bosTokenId = c.bos_token_id;
  if (c.eos_token_id != null) config.eosTokenId = c.eos_token_id;
  return config;
}

/** The HF config.json object for a ModelConfig (what transformers needs to load our checkpoints). */
export function toHfConfig(c: ModelConfig, torchDtype: HfTorchDtype = "float32"): Record<string, unknown> {
  const out: Record<string, unknown> = {
    architectures: ["Qwen3ForCausalLM"],
    model_type: "qwen3",
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_hidden_layers: c.numHiddenLayers,
    num_attention_heads: c.numAttentionHeads,
    num_key_value_heads: c.numKeyValueHeads,
    head_dim: c.headDim,
    hidden_act: "silu",
    attention_bias: false,
    attention_dropout: 0,
    rms_norm_eps: c.rmsNormEps,
    rope_theta: c.ropeTheta,
    rope_scaling: null,
    tie_word_embeddings: c.tieWordEmbeddings,
    max_position_embeddings: c.maxPositionEmbeddings,
    initializer_range: 0.02,
    use_cache: true,
    torch_dtype: torchDtype,
  };
  if (c.bosTokenId !== undefined) out.bos_token_id = c.bosTokenId;
  if (c.eosTokenId !== undefined) out.eos_token_id = c.eosTokenId;
  return out;
}

/** Total parameter count of a Qwen3 model of this shape (embedding included, tied head counted once). */
export function parameterCount(c: ModelConfig): number {
  const { vocabSize: V, hiddenSize: C, intermediateSize: I, numAttentionHeads: H, numKeyValueHeads: KV, headDim: D } = c;
  const attention = C * H * D + 2 * C * KV * D + H * D * C + 2 * D;
  const mlp = 3 * C * I;
  const perLayer = attention + mlp + 2 * C;
  const head = c.tieWordEmbeddings ? 0 : V * C;
  return V * C + c.numHiddenLayers * perLayer + C + head;
}
