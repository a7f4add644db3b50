import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createRng } from "../../core/rng.js";
import { f16BitsToF32 } from "./bf16.js";
import { encodeTensor, f32ToF16Bits, type GgufValue, ggufTensorValues, parseGguf, qwen3Gguf, qwen3GgufTensorName, readGguf, TokenType, vocabFromTokenizerJson, writeGguf, byteLevelVocab } from "./gguf.js";
import { randomParams, testConfig } from "../model/test-models.js";
import { BYTE_SPECIAL_TOKENS } from "../tokenizer/byte-tokenizer.js";

const tmp = () => mkdtempSync(join(tmpdir(), "spiral-gguf-unit-"));

describe("f32ToF16Bits", () => {
  it("round-trips every f16 value exactly and rounds halfway cases to even", () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const x = f16BitsToF32(bits);
      if (Number.isNaN(x)) expect(Number.isNaN(f16BitsToF32(f32ToF16Bits(x)))).toBe(true);
      else expect(f32ToF16Bits(x)).toBe(bits);
    }
    expect(f32ToF16Bits(1 + 2 ** -11)).toBe(0x3c00); // halfway between 1 and its successor: even (1)
    expect(f32ToF16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // halfway, odd below: up
    expect(f32ToF16Bits(65520)).toBe(0x7c00); // rounds past the largest half: inf
    expect(f32ToF16Bits(2 ** -25)).toBe(0); // half the smallest subnormal: even (0)
    expect(f32ToF16Bits(-(2 ** -24))).toBe(0x8001);
  });

  it("is within half an f16 step of random values", () => {
    const rng = createRng(1);
    for (let i = 0; i < 10000; i++) {
      const x = Math.fround(rng.normal() * 10);
      const y = f16BitsToF32(f32ToF16Bits(x));
      expect(Math.abs(y - x)).toBeLessThanOrEqual(Math.abs(x) * 2 ** -11 + 2 ** -25);
    }
  });
});

describe("Q8_0 blocks", () => {
  it("store d = max|x|/127 as f16 and q = round(x/d), halves away from zero", () => {
    const x = new Float32Array(64);
    for (let i = 0; i < 32; i++) x[i] = (i - 16) / 4; // max |x| = 4 → d = 4/127
    x[5] = 2 / 127; // x/d = 0.5 → rounds away from zero to 1
    // second block all zeros: d = 0, q = 0
    const b = encodeTensor("Q8_0", x);
    expect(b.length).toBe(2 * 34);
    expect(f16BitsToF32(b.readUInt16LE(0))).toBe(f16BitsToF32(f32ToF16Bits(4 / 127)));
    expect(b.readInt8(2 + 0)).toBe(-127);
    expect(b.readInt8(2 + 5)).toBe(1);
    expect(b.readInt8(2 + 20)).toBe(Math.round(1 / (4 / 127)));
    expect(b.readUInt16LE(34)).toBe(0);
    expect([...b.subarray(36, 68)].every((v) => v === 0)).toBe(true);
  });

  it("dequantise within half a step (d/2, plus the f16 rounding of d) of the input", () => {
    const rng = createRng(2);
    const x = Float32Array.from({ length: 32 * 50 }, () => rng.normal());
    const path = join(tmp(), "q.gguf");
    return writeGguf(path, new Map(), [{ name: "w", ne: [32, 50], type: "Q8_0", data: x }]).then(async () => {
      const { file, bytes } = await readGguf(path);
      const y = ggufTensorValues(bytes, file.tensors[0]!);
      for (let blk = 0; blk < 50; blk++) {
        const row = x.subarray(blk * 32, blk * 32 + 32);
        const d = Math.max(...row.map(Math.abs)) / 127;
        for (let j = 0; j < 32; j++) expect(Math.abs((y[blk * 32 + j] as number) - (row[j] as number))).toBeLessThanOrEqual(d * 0.5 + d * 127 * 2 ** -11);
      }
    });
  });

  it("refuses rows that are not a multiple of 32", async () => {
    await expect(writeGguf(join(tmp(), "bad.gguf"), new Map(), [{ name: "w", ne: [48, 2], type: "Q8_0", data: new Float32Array(96) }])).rejects.toThrow(/multiple of 32; got 48/);
  });
});

describe("writeGguf / parseGguf", () => {
  it("parses back every metadata type, tensor shapes, types and 32-byte aligned offsets", async () => {
    const meta = new Map<string, GgufValue>([
      ["a.u8", { type: "u8", value: 200 }],
      ["a.i8", { type: "i8", value: -5 }],
      ["a.u16", { type: "u16", value: 60000 }],
      ["a.i16", { type: "i16", value: -30000 }],
      ["a.u32", { type: "u32", value: 4_000_000_000 }],
      ["a.i32", { type: "i32", value: -2_000_000_000 }],
      ["a.f32", { type: "f32", value: 0.5 }],
      ["a.f64", { type: "f64", value: Math.PI }],
      ["a.bool", { type: "bool", value: true }],
      ["a.u64", { type: "u64", value: 2n ** 40n }],
      ["a.i64", { type: "i64", value: -(2n ** 40n) }],
      ["a.str", { type: "string", value: "naïve 🤔" }],
      ["a.strs", { type: "array", itemType: "string", value: ["x", "", "ÿ"] }],
      ["a.ints", { type: "array", itemType: "i32", value: [1, -2, 3] }],
    ]);
    const rng = createRng(3);
    const w = Float32Array.from({ length: 3 * 5 }, () => rng.normal());
    const n = Float32Array.from({ length: 7 }, () => rng.normal());
    const dir = tmp();
    const path = join(dir, "t.gguf");
    const { bytes: written } = await writeGguf(path, meta, [
      { name: "w.f16", ne: [5, 3], type: "F16", data: w },
      { name: "n.f32", ne: [7], type: "F32", data: n },
      { name: "w.bf16", ne: [5, 3], type: "BF16", data: w },
    ]);
    expect(readdirSync(dir)).toEqual(["t.gguf"]); // no temporary file left behind
    const { file, bytes } = await readGguf(path);
    expect(bytes.length).toBe(written);
    expect(bytes.toString("latin1", 0, 4)).toBe("GGUF");
    expect(file.version).toBe(3);
    for (const [k, v] of meta) expect(file.metadata.get(k)).toEqual(v);
    expect(file.metadata.get("general.alignment")).toEqual({ type: "u32", value: 32 });
    expect(file.tensors.map((t) => [t.name, t.ne, t.type])).toEqual([["w.f16", [5, 3], "F16"], ["n.f32", [7], "F32"], ["w.bf16", [5, 3], "BF16"]]);
    for (const t of file.tensors) expect(t.fileOffset % 32).toBe(0);
    expect([...ggufTensorValues(bytes, file.tensors[1]!)]).toEqual([...n]);
    const f16 = ggufTensorValues(bytes, file.tensors[0]!);
    const bf16 = ggufTensorValues(bytes, file.tensors[2]!);
    w.forEach((x, i) => {
      expect(Math.abs((f16[i] as number) - x)).toBeLessThanOrEqual(Math.abs(x) * 2 ** -11);
      expect(Math.abs((bf16[i] as number) - x)).toBeLessThanOrEqual(Math.abs(x) * 2 ** -8);
    });
  });

  it("says what was wrong with a file that is not GGUF, or is cut short", () => {
    expect(() => parseGguf(Buffer.from("GGML\x03\x00\x00\x00"), "x.bin")).toThrow(/x.bin: expected the GGUF magic "GGUF"; got "GGML"/);
    expect(() => parseGguf(Buffer.from("GGUF\x02\x00\x00\x00"), "x.bin")).toThrow(/expected GGUF version 3; got 2/);
    expect(() => parseGguf(Buffer.from("GGUF\x03\x00\x00\x00\x01"), "x.bin")).toThrow(/truncated at byte 8/);
  });
});

describe("qwen3Gguf", () => {
  it("writes llama.cpp's qwen3 keys and tensor names, [out, in] matrices as ne [in, out], norms f32", () => {
    const config = testConfig(false);
    const params = randomParams(config, "q");
    const vocab = byteLevelVocab(BYTE_SPECIAL_TOKENS, "{{ x }}");
    const { metadata, tensors, fallbacks } = qwen3Gguf({ config, params, vocab: { ...vocab, tokens: vocab.tokens.slice(0, 37), types: vocab.types.slice(0, 37) }, dtype: "q8_0", name: "t" });
    const get = (k: string) => metadata.get(k)?.value;
    expect(get("general.architecture")).toBe("qwen3");
    expect(get("general.file_type")).toBe(7);
    expect([get("qwen3.embedding_length"), get("qwen3.block_count"), get("qwen3.feed_forward_length")]).toEqual([32, 2, 48]);
    expect([get("qwen3.attention.head_count"), get("qwen3.attention.head_count_kv"), get("qwen3.attention.key_length"), get("qwen3.attention.value_length")]).toEqual([4, 2, 16, 16]);
    expect(metadata.get("qwen3.rope.freq_base")).toEqual({ type: "f32", value: 10000 });
    expect(metadata.get("qwen3.attention.layer_norm_rms_epsilon")).toEqual({ type: "f32", value: 1e-6 });
    expect([get("tokenizer.ggml.model"), get("tokenizer.ggml.pre"), get("tokenizer.chat_template")]).toEqual(["gpt2", "qwen2", "{{ x }}"]);
    const byName = new Map(tensors.map((t) => [t.name, t]));
    expect(byName.get("token_embd.weight")?.ne).toEqual([32, 37]);
    expect(byName.get("blk.1.attn_q.weight")?.ne).toEqual([32, 64]);
    expect(byName.get("blk.1.attn_output.weight")?.ne).toEqual([64, 32]);
    expect(byName.get("blk.0.ffn_down.weight")?.ne).toEqual([48, 32]);
    expect(byName.get("blk.0.attn_q_norm.weight")?.type).toBe("F32");
    expect(byName.get("output.weight")?.ne).toEqual([32, 37]);
    // ffn_down's rows are 48 long: not a multiple of 32, so F16 as llama.cpp's converter does.
    expect(fallbacks).toEqual(["model.layers.0.mlp.down_proj.weight", "model.layers.1.mlp.down_proj.weight"]);
    expect(byName.get("blk.0.ffn_down.weight")?.type).toBe("F16");
    expect(byName.get("blk.0.ffn_up.weight")?.type).toBe("Q8_0");
    expect(tensors.map((t) => t.name)).toContain("output_norm.weight");
    expect(qwen3Gguf({ config: testConfig(true), params: randomParams(testConfig(true), "q"), vocab: { ...vocab, tokens: vocab.tokens.slice(0, 37), types: vocab.types.slice(0, 37) }, dtype: "f32", name: "t" }).tensors.map((t) => t.name)).not.toContain("output.weight");
  });

  it("names every parameter, and refuses a vocabulary that does not match the embedding rows", () => {
    expect(qwen3GgufTensorName("model.layers.12.self_attn.k_norm.weight")).toBe("blk.12.attn_k_norm.weight");
    expect(qwen3GgufTensorName("model.layers.3.post_attention_layernorm.weight")).toBe("blk.3.ffn_norm.weight");
    expect(() => qwen3GgufTensorName("model.layers.0.mlp.experts.weight")).toThrow(/no llama.cpp qwen3 tensor/);
    const config = testConfig(true);
    expect(() => qwen3Gguf({ config, params: randomParams(config, "q"), vocab: byteLevelVocab(BYTE_SPECIAL_TOKENS, ""), dtype: "f32", name: "t" })).toThrow(/264 tokens; the model has 37 embedding rows/);
  });
});

describe("vocabularies", () => {
  const tokenizerJson = {
    model: { type: "BPE", vocab: { a: 0, b: 1, ab: 2 }, merges: [["a", "b"]] },
    decoder: { type: "ByteLevel" },
    added_tokens: [{ id: 3, content: "<|endoftext|>", special: true }, { id: 4, content: "<think>", special: false }],
  };

  it("pads to the embedding rows with unused tokens; special added tokens are control, others user-defined", () => {
    const v = vocabFromTokenizerJson(tokenizerJson, { eos_token: "<|endoftext|>", chat_template: "T" }, 7, { bosId: 3 });
    expect(v.tokens).toEqual(["a", "b", "ab", "<|endoftext|>", "<think>", "[PAD5]", "[PAD6]"]);
    expect(v.types).toEqual([1, 1, 1, TokenType.CONTROL, TokenType.USER_DEFINED, TokenType.UNUSED, TokenType.UNUSED]);
    expect(v.merges).toEqual(["a b"]);
    expect([v.eosId, v.padId, v.bosId, v.chatTemplate]).toEqual([3, 3, 3, "T"]);
  });

  it("refuses a tokenizer larger than the model, or one that is not byte-level BPE", () => {
    expect(() => vocabFromTokenizerJson(tokenizerJson, {}, 4)).toThrow(/token id 4 .* only 4 embedding rows/);
    expect(() => vocabFromTokenizerJson({ ...tokenizerJson, model: { type: "WordPiece", vocab: {} } }, {}, 8)).toThrow(/byte-level BPE tokenizer.json/);
  });

  it("maps the byte tokenizer to the 256 GPT-2 byte symbols plus control tokens", () => {
    const v = byteLevelVocab(BYTE_SPECIAL_TOKENS, "T");
    expect(v.tokens).toHaveLength(264);
    expect([v.tokens[65], v.tokens[32], v.tokens[10], v.tokens[256]]).toEqual(["A", "Ġ", "Ċ", "<|endoftext|>"]);
    expect(new Set(v.tokens.slice(0, 256)).size).toBe(256);
    expect(v.types.slice(255, 258)).toEqual([TokenType.NORMAL, TokenType.CONTROL, TokenType.CONTROL]);
    expect([v.eosId, v.padId]).toEqual([256, 256]);
  });
});
