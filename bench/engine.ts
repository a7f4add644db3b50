/**
 * Training-step throughput of the ONNX engine, as a ratio against a plain ORT MatMul measured in
 * the same run, and peak memory of one Qwen3-0.6B-shaped training step.
 *
 *   npm run bench:engine                 all three measurements
 *   npm run bench:engine -- --step-only  only the `small` training step (no PyTorch, no 0.6B run)
 *   SPIRAL_THREADS=n                     intra-op threads for onnxruntime and torch (default: all logical CPUs)
 *   npm run bench:engine -- --device webgpu   the engine's graphs on the GPU (per-CPU-second rates then
 *                                        mean little; bench/device.ts reports wall times for devices)
 *
 * Model FLOPs of a training step = 6·N·tokens (N = parameters used in matmuls, the LM head
 * included) + attention 12·B·T²·H·D·L (QKᵀ and PV, forward + 2× backward; the full T×T is
 * computed, causal masking does not skip work).
 */
import { spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import ort from "onnxruntime-node";
import { createRng } from "../src/core/rng.js";
import type { ModelConfig } from "../src/engine/model/config.js";
import { Graph } from "../src/engine/graph/builder.js";
import * as op from "../src/engine/graph/ops/index.js";
import { parseDevice } from "../src/engine/graph/device.js";
import { GraphSession } from "../src/engine/graph/session.js";
import { LossRunner, type LossBatch } from "../src/engine/train/loss-runner.js";
import { initParams, Params, paramLayout } from "../src/engine/weights/params.js";
import { modelPreset } from "../src/engine/model/presets.js";

const threads = Number(process.env.SPIRAL_THREADS ?? 0) || undefined;
const deviceArg = process.argv.indexOf("--device");
const device = parseDevice(deviceArg >= 0 ? (process.argv[deviceArg + 1] ?? "") : "cpu");

function matmulParams(c: ModelConfig): number {
  const { hiddenSize: C, intermediateSize: I, numAttentionHeads: H, numKeyValueHeads: KV, headDim: D, vocabSize: V } = c;
  const perLayer = C * H * D * 2 + C * KV * D * 2 + 3 * C * I;
  return perLayer * c.numHiddenLayers + V * C;
}

export function trainingFlops(c: ModelConfig, B: number, T: number): number {
  const attention = 12 * B * T * T * c.numAttentionHeads * c.headDim * c.numHiddenLayers;
  return 6 * matmulParams(c) * B * T + attention;
}

/** A batch of random tokens, all real, with the second half of each row "generated". */
function randomBatch(c: ModelConfig, B: number, T: number, seed: string): LossBatch {
  const rng = createRng(seed);
  const tokens = Array.from({ length: B * T }, () => rng.int(c.vocabSize));
  const lossMask = new Float32Array(B * T);
  for (let b = 0; b < B; b++) for (let t = T / 2; t < T; t++) lossMask[b * T + t] = 1;
  return {
    B,
    T,
    tokens,
    attentionMask: new Float32Array(B * T).fill(1),
    lossMask,
    advantages: Float32Array.from({ length: B }, (_, i) => (i % 2 === 0 ? 1 : -1)),
  };
}

interface Timing {
  /** median wall seconds per call */
  readonly wall: number;
  /** median process CPU seconds per call (all threads): robust on a shared machine */
  readonly cpu: number;
}

async function timeIt(fn: () => Promise<unknown>, repeats: number): Promise<Timing> {
  await fn(); // warm-up: session creation, memory planning
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    walls.push((performance.now() - t0) / 1000);
    const c = process.cpuUsage(c0);
    cpus.push((c.user + c.system) / 1e6);
  }
  const median = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  return { wall: median(walls), cpu: median(cpus) };
}

/** Plain ORT MatMul [M, K] @ [K, N] in float32. */
async function matmulRate(M: number, K: number, N: number): Promise<Rates> {
  const g = new Graph("matmul");
  const a = g.input("a", "float32", [M, K]);
  const b = g.input("b", "float32", [K, N]);
  g.output(op.matmul(g, a, b), "y");
  const s = await GraphSession.fromGraph(g, { ...(threads ? { threads } : {}), device });
  const rng = createRng("mm");
  const feeds = {
    a: new ort.Tensor("float32", Float32Array.from({ length: M * K }, () => rng.normal()), [M, K]),
    b: new ort.Tensor("float32", Float32Array.from({ length: K * N }, () => rng.normal()), [K, N]),
  };
  const t = await timeIt(() => s.run(feeds), 20);
  await s.release();
  return rates(2 * M * K * N, t);
}

interface Rates {
  readonly timing: Timing;
  /** GFLOP per wall second */
  readonly wall: number;
  /** GFLOP per CPU second (divide by the thread count for a per-core figure) */
  readonly cpu: number;
}

function rates(flop: number, t: Timing): Rates {
  return { timing: t, wall: flop / t.wall / 1e9, cpu: flop / t.cpu / 1e9 };
}

async function trainingStep(presetName: string, B: number, T: number, repeats: number): Promise<Rates> {
  const c = modelPreset(presetName);
  const params = initParams(c, createRng("bench"));
  const runner = new LossRunner(c, params, { ...(threads ? { threads } : {}), device });
  const batch = randomBatch(c, B, T, "bench-batch");
  const grads = new Float32Array(params.layout.totalSize);
  const t = await timeIt(() => runner.lossAndGrad(batch, { kind: "reinforce", normalizer: T / 2 }, grads), repeats);
  await runner.release();
  return rates(trainingFlops(c, B, T), t);
}

/** Child-process mode: one 0.6B-shaped training step at 1×256, prints peak RSS. */
async function memoryChild(): Promise<void> {
  const c = modelPreset("qwen3-0.6b");
  const params = new Params(paramLayout(c));
  const rng = createRng("mem");
  for (let i = 0; i < params.data.length; i += 7) params.data[i] = 0.02 * rng.normal();
  const memoryArena = !process.argv.includes("--no-arena");
  const runner = new LossRunner(c, params, { ...(threads ? { threads } : {}), memoryArena, device });
  const grads = new Float32Array(params.layout.totalSize);
  const batch = randomBatch(c, 1, 256, "mem-batch");
  const t0 = performance.now();
  const stats = await runner.lossAndGrad(batch, { kind: "reinforce", normalizer: 128 }, grads);
  const sec = (performance.now() - t0) / 1000;
  const peak = process.resourceUsage().maxRSS * 1024;
  console.log(JSON.stringify({ peakRssBytes: peak, sec, loss: stats.loss, paramBytes: params.data.byteLength }));
}

async function main(): Promise<void> {
  if (process.argv.includes("--memory-child")) return memoryChild();
  const stepOnly = process.argv.includes("--step-only");
  const small = modelPreset("small");
  const B = 8;
  const T = 256;
  console.log(`spiral engine bench — onnxruntime-node ${ort.env.versions.common}, intra-op threads: ${threads ?? `default (${availableParallelism()})`}`);
  const step = await trainingStep("small", B, T, 3);
  const [M, K, N] = [B * T, small.hiddenSize, small.intermediateSize];
  const mm = await matmulRate(M, K, N);
  const pct = (a: number, b: number): string => `${((100 * a) / b).toFixed(1)}%`;
  console.log(`small preset, ${B}×${T} tokens, REINFORCE loss + all parameter gradients (${(trainingFlops(small, B, T) / 1e9).toFixed(1)} GFLOP):`);
  console.log(`  step:   ${step.timing.wall.toFixed(3)} s wall, ${step.timing.cpu.toFixed(3)} CPU-s → ${step.wall.toFixed(1)} GFLOP/s, ${step.cpu.toFixed(1)} GFLOP per CPU-s`);
  console.log(`  MatMul [${M}×${K}]·[${K}×${N}]: ${mm.wall.toFixed(1)} GFLOP/s, ${mm.cpu.toFixed(1)} GFLOP per CPU-s`);
  console.log(`  ratio:  ${pct(step.wall, mm.wall)} (wall), ${pct(step.cpu, mm.cpu)} (CPU time) of the plain MatMul rate (target ≥ 40%)`);
  if (!stepOnly) {
    const py = spawnSync("/usr/bin/python3", [fileURLToPath(new URL("./engine.py", import.meta.url)), String(threads ?? availableParallelism())], { encoding: "utf8" });
    const line = py.stdout.trim().split("\n").pop() ?? "";
    if (py.status === 0 && line.startsWith("{")) {
      const t = JSON.parse(line) as { torch: string; secPerStep: number; cpuPerStep: number; modelGflops: number; modelGflopsCpu: number; matmulGflops: number };
      console.log(`  PyTorch ${t.torch} CPU, same model and batch: ${t.secPerStep.toFixed(3)} s wall, ${t.cpuPerStep.toFixed(3)} CPU-s per step`);
      console.log(`  engine vs PyTorch: ${(t.secPerStep / step.timing.wall).toFixed(2)}× (wall), ${(t.cpuPerStep / step.timing.cpu).toFixed(2)}× (CPU time) faster`);
    } else {
      console.log(`  PyTorch comparison unavailable (python3-torch not importable): ${py.stderr.trim().split("\n").pop() ?? ""}`);
    }
  }
  if (stepOnly) return;
  const script = fileURLToPath(import.meta.url);
  const gib = (n: number): string => (n / 2 ** 30).toFixed(2);
  console.log(`qwen3-0.6b shape, 1×256 tokens, one training step (first run, incl. session build), target ≤ 16 GiB:`);
  for (const arena of [true, false]) {
    const args = [...process.execArgv, script, "--memory-child", ...(arena ? [] : ["--no-arena"])];
    const child = spawnSync(process.execPath, args, { encoding: "utf8", env: process.env });
    const line = child.stdout.trim().split("\n").pop() ?? "";
    if (child.status !== 0 || !line.startsWith("{")) {
      console.log(`  memory child failed (status ${child.status}): ${child.stderr.slice(-2000)}`);
      continue;
    }
    const mem = JSON.parse(line) as { peakRssBytes: number; sec: number; paramBytes: number };
    console.log(`  onnxruntime memory arena ${arena ? "on: " : "off:"} peak RSS ${gib(mem.peakRssBytes)} GiB (parameters ${gib(mem.paramBytes)} GiB, gradients the same), ${mem.sec.toFixed(1)} s`);
  }
}

// Run as a script (bench/device.ts imports trainingFlops only).
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) await main();
