import { describe, expect, it } from "vitest";
import { parameterCount, parseModelConfig, toHfConfig } from "./config.js";
import { modelPresets } from "./presets.js";

// The published Qwen/Qwen3-0.6B config.json (keys abridged to those that matter plus a few that do not).
const qwen3_06b = {
  architectures: ["Qwen3ForCausalLM"],
  attention_bias: false,
  attention_dropout: 0.0,
  bos_token_id: 151643,
  eos_token_id: 151645,
  head_dim: 128,
  hidden_act: "silu",
  hidden_size: 1024,
  initializer_range: 0.02,
  intermediate_size: 3072,
  max_position_embeddings: 40960,
  max_window_layers: 28,
  model_type: "qwen3",
  num_attention_heads: 16,
  num_hidden_layers: 28,
  num_key_value_heads: 8,
  rms_norm_eps: 1e-6,
  rope_scaling: null,
  rope_theta: 1000000,
  sliding_window: null,
  tie_word_embeddings: true,
  torch_dtype: "bfloat16",
  transformers_version: "4.51.0",
  use_cache: true,
  use_sliding_window: false,
  vocab_size: 151936,
};

describe("parseModelConfig", () => {
  it("reads the published Qwen3-0.6B config and matches the preset", () => {
    expect(parseModelConfig(qwen3_06b)).toEqual(modelPresets["qwen3-0.6b"]);
  });

  it("applies transformers' defaults for missing optional keys", () => {
    const c = parseModelConfig({ vocab_size: 10, hidden_size: 8, intermediate_size: 16, num_hidden_layers: 1, num_attention_heads: 2 });
    expect(c).toEqual({
      vocabSize: 10, hiddenSize: 8, intermediateSize: 16, numHiddenLayers: 1, numAttentionHeads: 2,
      numKeyValueHeads: 2, headDim: 4, rmsNormEps: 1e-6, ropeTheta: 10000, tieWordEmbeddings: false,
      maxPositionEmbeddings: 32768,
    });
  });

  it("accepts plain RoPE written the newer ways (rope_parameters, rope_scaling default)", () => {
    const { rope_theta: _t, ...rest } = qwen3_06b;
    expect(parseModelConfig({ ...rest, rope_parameters: { rope_type: "default", rope_theta: 1000000 } }).ropeTheta).toBe(1000000);
    expect(parseModelConfig({ ...qwen3_06b, rope_scaling: { rope_type: "default" } }).ropeTheta).toBe(1000000);
    expect(() => parseModelConfig({ ...rest, rope_parameters: { rope_type: "yarn", rope_theta: 1 } })).toThrow(/rope_parameters\.rope_type/);
  });

  it("round-trips through toHfConfig for every preset", () => {
    for (const preset of Object.values(modelPresets)) {
      const hf = toHfConfig(preset, "bfloat16");
      expect(hf.architectures).toEqual(["Qwen3ForCausalLM"]);
      expect(hf.model_type).toBe("qwen3");
      expect(hf.torch_dtype).toBe("bfloat16");
      expect(parseModelConfig(JSON.parse(JSON.stringify(hf)))).toEqual(preset);
    }
  });

  it("names the key, the expectation and the source in errors", () => {
    const bad = { ...qwen3_06b, hidden_size: "1024" };
    expect(() => parseModelConfig(bad, "/ckpt/config.json")).toThrow(/\/ckpt\/config\.json.*hidden_size.*number/);
    const { vocab_size: _omit, ...missing } = qwen3_06b;
    expect(() => parseModelConfig(missing)).toThrow(/vocab_size/);
    expect(() => parseModelConfig({ ...qwen3_06b, num_key_value_heads: 5 })).toThrow(/num_key_value_heads: expected a divisor of num_attention_heads \(16\); got 5/);
    expect(() => parseModelConfig({ ...qwen3_06b, head_dim: 127 })).toThrow(/head_dim.*even/);
    expect(() => parseModelConfig({ ...qwen3_06b, head_dim: undefined, hidden_size: 1000, num_attention_heads: 16 })).toThrow(/head_dim/);
    expect(() => parseModelConfig({ ...qwen3_06b, model_type: "qwen2" })).toThrow(/model_type/);
    expect(() => parseModelConfig({ ...qwen3_06b, attention_bias: true })).toThrow(/attention_bias/);
    expect(() => parseModelConfig({ ...qwen3_06b, rope_scaling: { rope_type: "yarn", factor: 4 } })).toThrow(/rope_scaling\.rope_type/);
    expect(() => parseModelConfig({ ...qwen3_06b, use_sliding_window: true })).toThrow(/use_sliding_window/);
    expect(() => parseModelConfig({ ...qwen3_06b, layer_types: ["full_attention", "sliding_attention"] })).toThrow(/layer_types\.1/);
    expect(parseModelConfig({ ...qwen3_06b, layer_types: Array(28).fill("full_attention") }).numHiddenLayers).toBe(28);
    expect(() => parseModelConfig(null)).toThrow(/Invalid Qwen3 model config/);
  });
});

describe("parameterCount", () => {
  it("matches the published Qwen3 sizes", () => {
    // 0.6B: embedding 151936·1024 = 155,582,464; 28 layers × 15,730,944; final norm 1024.
    expect(parameterCount(modelPresets["qwen3-0.6b"])).toBe(155_582_464 + 28 * 15_730_944 + 1024);
    expect(parameterCount(modelPresets["qwen3-0.6b"])).toBe(596_049_920);
    // Published non-embedding counts: 0.44B, 1.4B, 3.6B.
    const nonEmbedding = (name: "qwen3-0.6b" | "qwen3-1.7b" | "qwen3-4b") =>
      parameterCount(modelPresets[name]) - modelPresets[name].vocabSize * modelPresets[name].hiddenSize;
    expect(nonEmbedding("qwen3-0.6b") / 1e9).toBeCloseTo(0.44, 2);
    expect(nonEmbedding("qwen3-1.7b") / 1e9).toBeCloseTo(1.41, 2);
    expect(nonEmbedding("qwen3-4b") / 1e9).toBeCloseTo(3.63, 2);
    expect(parameterCount(modelPresets["qwen3-1.7b"])).toBe(1_720_574_976);
    expect(parameterCount(modelPresets["qwen3-4b"])).toBe(4_022_468_096);
  });

  it("puts tiny in 1–3 M and small in 20–30 M", () => {
    expect(parameterCount(modelPresets.tiny)).toBe(1_625_536);
    expect(parameterCount(modelPresets.small)).toBe(25_310_720);
  });

  it("counts an untied head", () => {
    const untied = { ...modelPresets.tiny, tieWordEmbeddings: false };
    expect(parameterCount(untied) - parameterCount(modelPresets.tiny)).toBe(264 * 192);
  });
});
