/**
 * Generation throughput: prefill and decode tokens/s of the `small` preset at batch 1, 16 and 64,
 * with model FLOP/s as a fraction of a plain ORT MatMul (Gemm, transB) measured in the same run at
 * the shape of the model's largest projection for that batch ([B·T, C] × [I, C]ᵀ); then time per
 * decode step of a Qwen3-0.6B-shaped model (random weights) at batch 1 and 16.
 *
 * Rates are per CPU-second of this process (the machine is shared; with BENCH_THREADS=1 a CPU-second
 * is a second of one core's work), wall times printed beside them.
 *
 * Run: npx tsc -p tsconfig.json --noEmit false --outDir bench/out/build && node bench/out/build/bench/generate.js
 * Options (env): BENCH_SMALL=0 / BENCH_QWEN=0 skip a part; BENCH_THREADS sets ORT intra-op threads;
 * `-- --device webgpu` runs the graphs on the GPU (then read the wall times).
 */
import { createRng } from "../src/core/rng.js";
import type { ModelConfig } from "../src/engine/model/config.js";
import { Generator } from "../src/engine/infer/generate.js";
import { Graph } from "../src/engine/graph/builder.js";
import { linear } from "../src/engine/graph/ops/index.js";
import { parseDevice } from "../src/engine/graph/device.js";
import { f32, GraphSession } from "../src/engine/graph/session.js";
import { initParams, Params, paramLayout } from "../src/engine/weights/params.js";
import { modelPreset } from "../src/engine/model/presets.js";
import { ByteTokenizer } from "../src/engine/tokenizer/byte-tokenizer.js";

const threads = process.env.BENCH_THREADS === undefined ? undefined : Number(process.env.BENCH_THREADS);
const deviceArg = process.argv.indexOf("--device");
const device = parseDevice(deviceArg >= 0 ? (process.argv[deviceArg + 1] ?? "") : "cpu");
const sessionOptions = { ...(threads === undefined ? {} : { threads }), device };

/** FLOPs of the matrix products for one token attending to `ctx` keys. */
function flopsPerToken(c: ModelConfig, ctx: number): number {
  const { hiddenSize: C, intermediateSize: I, numAttentionHeads: H, numKeyValueHeads: KV, headDim: D, numHiddenLayers: L, vocabSize: V } = c;
  const linearParams = L * (C * H * D + 2 * C * KV * D + H * D * C + 3 * C * I);
  return 2 * linearParams + 4 * L * H * D * ctx + 2 * C * V;
}

/** Wall and CPU milliseconds of an async call (CPU: this process, all threads). */
async function timed(f: () => Promise<unknown>): Promise<{ wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await f();
  const c = process.cpuUsage(c0);
  return { wall: performance.now() - t0, cpu: (c.user + c.system) / 1000 };
}

/** GFLOP/s (per CPU-second) of a plain ORT Gemm [M, K] × [N, K]ᵀ, best of a few timed batches. */
async function matmulRate(M: number, K: number, N: number): Promise<number> {
  const g = new Graph("matmul-bench");
  const x = g.input("x", "float32", [M, K]);
  const w = g.input("w", "float32", [N, K]);
  g.output(linear(g, x, w), "y");
  const session = await GraphSession.fromGraph(g, sessionOptions);
  const feeds = { x: f32(new Float32Array(M * K).fill(0.01), [M, K]), w: f32(new Float32Array(N * K).fill(0.01), [N, K]) };
  const flops = 2 * M * K * N;
  const reps = Math.max(3, Math.ceil(2e9 / flops));
  await session.run(feeds);
  let best = Infinity;
  for (let trial = 0; trial < 3; trial++) {
    const { cpu } = await timed(async () => {
      for (let r = 0; r < reps; r++) await session.run(feeds);
    });
    best = Math.min(best, cpu / reps);
  }
  await session.release();
  return flops / (best / 1000) / 1e9;
}

function randomPrompt(len: number, seed: number): number[] {
  const rng = createRng(seed);
  return Array.from({ length: len }, () => 32 + rng.int(95));
}

async function benchSmall(): Promise<void> {
  const config = modelPreset("small");
  const params = initParams(config, createRng(1));
  const gen = await Generator.create(config, params, new ByteTokenizer(), sessionOptions);
  const promptLen = 128;
  const newTokens = 64;
  console.log(`small: ${(paramLayout(config).totalSize / 1e6).toFixed(1)} M params, prompt ${promptLen}, ${newTokens} new tokens per row`);
  console.log("rates per CPU-second of this process (all ORT threads); MatMul = plain Gemm [B·T, C] × [I, C]ᵀ in the same run");
  console.log("batch | prefill tok/s | prefill GFLOP/s (% of MatMul) | decode tok/s | decode GFLOP/s (% of MatMul) | decode ms/step CPU / wall");
  for (const B of [1, 16, 64]) {
    const requests = Array.from({ length: B }, (_, b) => ({ prompt: randomPrompt(promptLen, b) }));
    const opts = { temperature: 1, maxNewTokens: newTokens, ignoreEos: true, rng: createRng(2) };
    await gen.generate(requests.slice(0, Math.min(B, 2)), { ...opts, maxNewTokens: 4 }); // warm-up
    // Prefill alone (one new token), then the whole run: decode = whole − prefill.
    const prefill = await timed(() => gen.generate(requests, { ...opts, maxNewTokens: 1 }));
    const whole = await timed(() => gen.generate(requests, opts));
    const decodeCpu = whole.cpu - prefill.cpu;
    const decodeWall = whole.wall - prefill.wall;
    const steps = newTokens - 1;
    const prefillRate = (B * promptLen) / (prefill.cpu / 1000);
    const decodeRate = (B * steps) / (decodeCpu / 1000);
    // Prefill attends to P/2 keys on average (causal); decode to ~promptLen + newTokens/2.
    const prefillGflops = (prefillRate * flopsPerToken(config, promptLen / 2)) / 1e9;
    const decodeGflops = (decodeRate * flopsPerToken(config, promptLen + newTokens / 2)) / 1e9;
    const mmPrefill = await matmulRate(B * promptLen, config.hiddenSize, config.intermediateSize);
    const mmDecode = await matmulRate(B, config.hiddenSize, config.intermediateSize);
    console.log(
      `${B} | ${prefillRate.toFixed(0)} | ${prefillGflops.toFixed(1)} (${((100 * prefillGflops) / mmPrefill).toFixed(0)}% of ${mmPrefill.toFixed(1)}) | ` +
        `${decodeRate.toFixed(0)} | ${decodeGflops.toFixed(1)} (${((100 * decodeGflops) / mmDecode).toFixed(0)}% of ${mmDecode.toFixed(1)}) | ` +
        `${(decodeCpu / steps).toFixed(2)} / ${(decodeWall / steps).toFixed(2)}`,
    );
  }
  // Baked weights (initializers, prepacked by ORT) against live weights, decode only.
  const baked = await Generator.create(config, params, new ByteTokenizer(), { ...sessionOptions, bakeWeights: true });
  const decodeMs = async (g: Generator, B: number): Promise<number> => {
    const requests = Array.from({ length: B }, (_, b) => ({ prompt: randomPrompt(promptLen, b) }));
    const opts = { temperature: 1, ignoreEos: true, rng: createRng(2) };
    const prefill = await timed(() => g.generate(requests, { ...opts, maxNewTokens: 1 }));
    const whole = await timed(() => g.generate(requests, { ...opts, maxNewTokens: 33 }));
    return (whole.cpu - prefill.cpu) / 32;
  };
  for (const B of [1, 16, 64]) {
    await decodeMs(baked, 1); // warm-up
    const [l, b] = [await decodeMs(gen, B), await decodeMs(baked, B)];
    console.log(`bakeWeights, batch ${B}: decode ${l.toFixed(2)} ms/step live → ${b.toFixed(2)} ms/step baked (${(l / b).toFixed(2)}×)`);
  }
  await baked.release();
  await gen.release();
}

async function benchQwen(): Promise<void> {
  const config = modelPreset("qwen3-0.6b");
  const layout = paramLayout(config);
  // Random-looking weights from a fast LCG (the 596 M normals of initParams take minutes).
  const data = new Float32Array(layout.totalSize);
  let s = 12345;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = (s / 4294967296 - 0.5) * 0.04;
  }
  for (const v of layout.views) if (v.name.endsWith("norm.weight")) data.fill(1, v.offset, v.offset + v.size);
  const gen = await Generator.create(config, new Params(layout, data), new ByteTokenizer(), sessionOptions);
  console.log(`qwen3-0.6b shape: ${(layout.totalSize / 1e6).toFixed(0)} M params (fp32), prompt 32, 8 new tokens per row`);
  for (const B of [1, 16]) {
    const requests = Array.from({ length: B }, (_, b) => ({ prompt: randomPrompt(32, b) }));
    const opts = { temperature: 1, ignoreEos: true, rng: createRng(2) };
    await gen.generate(requests.slice(0, 1), { ...opts, maxNewTokens: 2 }); // warm-up
    const prefill = await timed(() => gen.generate(requests, { ...opts, maxNewTokens: 1 }));
    const whole = await timed(() => gen.generate(requests, { ...opts, maxNewTokens: 8 }));
    const steps = 7;
    console.log(
      `batch ${B}: decode step ${((whole.cpu - prefill.cpu) / steps).toFixed(0)} ms CPU / ${((whole.wall - prefill.wall) / steps).toFixed(0)} ms wall ` +
        `(${((B * steps) / ((whole.wall - prefill.wall) / 1000)).toFixed(1)} tok/s wall); prefill ${B * 32} tokens ${prefill.wall.toFixed(0)} ms wall`,
    );
  }
  await gen.release();
}

if (process.env.BENCH_SMALL !== "0") await benchSmall();
if (process.env.BENCH_QWEN !== "0") await benchQwen();
