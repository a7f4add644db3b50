/**
 * WebGPU (onnxruntime's WebGPU EP) against CPU on the same graphs and weights. Kept small: in CI
 * the device is Mesa's lavapipe, a Vulkan driver on CPU cores. See docs/device.md.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ort from "onnxruntime-node";
import { describe, expect, it, vi } from "vitest";
import { createRng } from "../core/rng.js";
import type { Graph } from "./graph/builder.js";
import { profilePlacement } from "./graph/device.js";
import { serialize } from "./graph/serialize.js";
import { dimsFeeds, GraphSession } from "./graph/session.js";
import { buildAppendGraph, buildGapGraph, buildGatherGraph } from "./train/device-logprobs.js";
import { buildCacheEditGraphs, buildDecodeGraph, buildPrefillGraph } from "./infer/decode-graph.js";
import { buildSamplerGraph } from "./infer/device-sampler.js";
import { type Completion, Generator, type GenerationRequest } from "./infer/generate.js";
import { modelPreset } from "./model/presets.js";
import { halfModelGraph } from "./model/precision.js";
import { ByteTokenizer } from "./tokenizer/byte-tokenizer.js";
import { buildLossGraph, lossNames } from "./train/loss.js";
import { LossRunner } from "./train/loss-runner.js";
import { AdamW } from "./train/optimizer.js";
import { buildOptimizerGraph } from "./train/optimizer-graph.js";
import { buildGradientSumGraph, buildWeightViewsGraph, DeviceTraining } from "./train/device-training.js";
import { initParams, paramLayout, type Params } from "./weights/params.js";
import { learnStep, type LearnerOptions } from "../rl/learner.js";
import { parseTrainConfig } from "../rl/config.js";
import { train } from "../rl/loop.js";
import { loadCheckpoint } from "./weights/checkpoint.js";
import type { ScoredSample } from "../rl/types.js";
import { initAdapter, type LoraConfig } from "./model/lora.js";
import { toBaseDtype } from "./weights/half.js";
import { requireWebgpu, skipWebgpu } from "./graph/test-webgpu.js";

const tok = new ByteTokenizer();
const loraOf = (): LoraConfig => ({ r: 2, alpha: 4, targets: ["q_proj", "v_proj", "down_proj"] });
/** precision fp16: the KV cache read and written in fp16 (as the generator records it). */
const fp16Cache = { halfInputs: (n: string) => n.startsWith("past_"), halfOutputs: (n: string) => n.startsWith("present_") };

/** Tokens the generator drew so far (each prefill or decode row draws one). */
function drawnTokens(gen: Generator): number {
  return gen.stats.deviceDraws + gen.stats.hostFallbackDraws;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

/**
 * Records what every session run in `body` brings back to the host (outputs not left on the
 * device), by output name: the number of runs and the largest element count seen.
 */
async function hostOutputs<T>(body: () => Promise<T>): Promise<{ result: T; crossed: Map<string, { runs: number; maxSize: number; bytes: number }>; wordsFed: string[] }> {
  const crossed = new Map<string, { runs: number; maxSize: number; bytes: number }>();
  const wordsFed: string[] = [];
  const original = GraphSession.prototype.run;
  const spy = vi.spyOn(GraphSession.prototype, "run").mockImplementation(async function (this: GraphSession, ...args: Parameters<GraphSession["run"]>) {
    // 16-bit base words fed from host memory (they should be read where they were uploaded).
    for (const [name, t] of Object.entries(args[0])) if ((t.type === "uint16" || t.type === "uint32") && t.location !== "gpu-buffer") wordsFed.push(name);
    const out = await original.apply(this, args);
    for (const [name, t] of Object.entries(out)) {
      if (t.location === "gpu-buffer") continue;
      const seen = crossed.get(name) ?? { runs: 0, maxSize: 0, bytes: 0 };
      crossed.set(name, { runs: seen.runs + 1, maxSize: Math.max(seen.maxSize, t.size), bytes: seen.bytes + t.size * (t.type === "int64" || t.type === "float64" ? 8 : 4) });
    }
    return out;
  });
  try {
    return { result: await body(), crossed, wordsFed };
  } finally {
    spy.mockRestore();
  }
}

/** Feeds of the right shapes (values do not matter for placement): B = 2, T = 6, N = 3, K = 3, S = 8. */
function placementFeeds(graph: Graph): Record<string, ort.Tensor> {
  const sizes: Record<string, number> = { B: 2, T: 6, N: 3, K: 3, S: 8, P: 6, B0: 2, B1: 2, S0: 8, R: 1, V: 264, A: 3 };
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of graph.inputs) {
    if (input.name.startsWith("dims(") || input.name.includes("@[")) continue;
    const dims = input.shape.map((d) => (typeof d === "number" ? d : (sizes[d] as number)));
    const n = dims.reduce((a, b) => a * b, 1);
    feeds[input.name] =
      input.dtype === "int64"
        ? new ort.Tensor("int64", new BigInt64Array(n).fill(1n), dims)
        : input.dtype === "uint32"
          ? new ort.Tensor("uint32", new Uint32Array(n).fill(0x3f003f80), dims) // bf16 0.5 and 1.0
          : input.dtype === "float16"
            ? new ort.Tensor("float16", new Uint16Array(n).fill(0x3800), dims) // 0.5
            : new ort.Tensor("float32", new Float32Array(n).fill(0.5), dims);
  }
  if (feeds[lossNames.scoreIndex]) feeds[lossNames.scoreIndex] = new ort.Tensor("int64", BigInt64Array.of(0n, 4n, 9n), [3]);
  if (feeds.last) feeds.last = new ort.Tensor("int64", BigInt64Array.of(5n, 11n), [2]);
  if (feeds.rows) feeds.rows = new ort.Tensor("int64", BigInt64Array.of(1n, 0n), [2]);
  if (feeds.pads) feeds.pads = new ort.Tensor("int64", BigInt64Array.of(0n, 0n, 0n, 0n, 0n, 0n, 2n, 0n), [8]);
  return { ...feeds, ...dimsFeeds(graph.inputs, feeds) };
}

describe.skipIf(skipWebgpu)("webgpu: every node of the hot graphs runs on the device", { timeout: 180_000 }, () => {
  const config = modelPreset("micro");
  const graphs: Record<string, () => Graph> = {
    "ppo loss + gradients": () => buildLossGraph(config, { kind: "ppo", entropyBonus: true, device: "webgpu" }).graph,
    "ppo loss, constrained": () => buildLossGraph(config, { kind: "ppo", constrained: true, device: "webgpu" }).graph,
    "log-probs": () => buildLossGraph(config, { constrained: true, device: "webgpu" }).graph,
    "ppo loss, LoRA on a bf16 base": () => buildLossGraph(config, { kind: "ppo", lora: loraOf(), half: "bf16", device: "webgpu" }).graph,
    "decode, LoRA on a bf16 base": () => buildDecodeGraph(config, loraOf(), "bf16", "webgpu"),
    "fp16 ppo loss, LoRA on a float32 base": () => halfModelGraph(buildLossGraph(config, { kind: "ppo", lora: loraOf(), device: "webgpu", lossScale: true }).graph, config),
    "fp16 ppo loss, LoRA on a bf16 base": () => halfModelGraph(buildLossGraph(config, { kind: "ppo", lora: loraOf(), half: "bf16", device: "webgpu", lossScale: true }).graph, config),
    "fp16 prefill, LoRA on a bf16 base": () => halfModelGraph(buildPrefillGraph(config, loraOf(), "bf16", "webgpu"), config, fp16Cache),
    "fp16 decode, LoRA on a float32 base": () => halfModelGraph(buildDecodeGraph(config, loraOf(), undefined, "webgpu"), config, fp16Cache),
    "fp16 decode, LoRA on a bf16 base": () => halfModelGraph(buildDecodeGraph(config, loraOf(), "bf16", "webgpu"), config, fp16Cache),
    prefill: () => buildPrefillGraph(config, undefined, undefined, "webgpu"),
    decode: () => buildDecodeGraph(config, undefined, undefined, "webgpu"),
    sampler: () => buildSamplerGraph(config.vocabSize),
    "cache keep": () => buildCacheEditGraphs(config).keep,
    "cache append": () => buildCacheEditGraphs(config).append,
    "AdamW update (clip included)": () => buildOptimizerGraph({ beta1: 0.9, beta2: 0.95, eps: 1e-8 }, "float32"),
    "gradient sum": () => buildGradientSumGraph(paramLayout(config), false),
    "weight views": () => buildWeightViewsGraph(paramLayout(config)),
    "old log-probs: gap": () => buildGapGraph(),
    "old log-probs: append": () => buildAppendGraph(false),
    "old log-probs: gather": () => buildGatherGraph(),
  };
  // Fewest nodes each graph runs (a floor, so that an empty profile cannot pass).
  const least = (name: string): number =>
    name.startsWith("old") ? 0 : name.startsWith("cache") ? 3 : name === "sampler" ? 40 : name.startsWith("AdamW") ? 20 : name.startsWith("gradient") || name.startsWith("weight") ? 10 : 100;
  for (const [name, build] of Object.entries(graphs)) {
    it(`${name}: no node placed on the CPU (onnxruntime's profile)`, async () => {
      await requireWebgpu();
      const graph = build();
      const placement = await profilePlacement(serialize(graph), "webgpu", placementFeeds(graph));
      console.log(`${name}: ${placement.length} nodes run, ${placement.filter((p) => p.provider !== "WebGpuExecutionProvider").length} on the CPU`);
      expect(placement.length).toBeGreaterThan(least(name));
      expect(placement.filter((p) => p.provider !== "WebGpuExecutionProvider")).toEqual([]);
    });
  }

  it("the placement check sees a CPU node when there is one (LogSoftmax has no WebGPU kernel)", async () => {
    await requireWebgpu();
    const graph = buildLossGraph(config, {}).graph; // recorded for the CPU: LogSoftmax, int64 shape arithmetic
    const placement = await profilePlacement(serialize(graph), "webgpu", placementFeeds(graph));
    expect(placement.filter((p) => p.provider === "CPUExecutionProvider").map((p) => p.op)).toContain("LogSoftmax");
  });
});

describe.skipIf(skipWebgpu)("webgpu vs cpu", { timeout: 300_000 }, () => {
  for (const preset of ["micro", "small"] as const) {
    it(`${preset}: greedy generation (KV cache on the device) gives the same tokens, log-probs within 1e-4`, async () => {
      await requireWebgpu();
      const config = modelPreset(preset);
      const params = initParams(config, createRng(7), 0.1);
      const prompts = ["Hi", "The board:\n 0 | 1 | 2", "Play."].map((s) => ({ prompt: tok.encode(s) }));
      // micro: 70 tokens, at most 2 rows at a time: the device cache grows past its first 64 slots,
      // drops finished rows and takes a waiting prompt in (continuous batching).
      const opts = preset === "micro" ? { temperature: 0, maxNewTokens: 70, maxBatch: 2, ignoreEos: true, rng: createRng(1) } : { temperature: 0, maxNewTokens: 6, rng: createRng(1) };
      const out: Record<string, { tokens: number[]; logprobs: number[] }[]> = {};
      for (const device of ["cpu", "webgpu"] as const) {
        const gen = await Generator.create(config, params, tok, { device, threads: 1 });
        if (device === "cpu") out[device] = await gen.generate(prompts, opts);
        else {
          const { result, crossed } = await hostOutputs(() => gen.generate(prompts, opts));
          out[device] = result;
          // Per prefill and decode step only the drawn ids and their log-probs come back (the
          // sampler graph reads the logits on the device); the KV cache and its edits stay there.
          const [pick, logprob] = [crossed.get("pick"), crossed.get("logprob")];
          const bytes = (pick?.bytes ?? 0) + (logprob?.bytes ?? 0);
          const tokens = drawnTokens(gen);
          console.log(`${preset} generation on webgpu: device → host: ids and log-probs only, ${pick?.runs} draws of ≤ ${pick?.maxSize} rows, ${bytes} bytes in all for ${tokens} tokens (${(bytes / tokens).toFixed(0)} per token; the logits would be ${4 * config.vocabSize})`);
          expect([...crossed.keys()].sort()).toEqual(["logprob", "pick"]);
          expect(bytes).toBe(8 * tokens);
          expect(gen.stats.hostFallbackDraws).toBe(0);
        }
        await gen.release();
      }
      const [cpu, gpu] = [out.cpu ?? [], out.webgpu ?? []];
      let diff = 0;
      cpu.forEach((c, i) => {
        expect(gpu[i]?.tokens).toEqual(c.tokens);
        diff = Math.max(diff, maxAbsDiff(c.logprobs, gpu[i]?.logprobs ?? []));
      });
      console.log(`${preset} generation: max |Δ log-prob| webgpu vs cpu = ${diff.toExponential(2)}`);
      expect(diff).toBeLessThan(1e-4);
    });
  }

  it("micro, sampled (T = 1; free, constrained and top-p rows): the device sampler repeats itself for a seed, agrees with the host draw on the same device (same tokens on this seed, log-probs 1e-4), and counts the top-p row's host fallbacks", async () => {
    await requireWebgpu();
    const config = modelPreset("micro");
    const params = initParams(config, createRng(7), 0.1);
    const requests: GenerationRequest[] = [
      { prompt: tok.encode("Hi") },
      { prompt: tok.encode("Pick:"), constraint: { choices: ["[0]", "[1]", "[12]", "[2]"] } },
      { prompt: tok.encode("Play."), sampling: { temperature: 1, topP: 0.9 } },
    ];
    const opts = { temperature: 1, maxNewTokens: 12, ignoreEos: true };
    const run = async (sampler: "device" | "host") => {
      const gen = await Generator.create(config, params, tok, { device: "webgpu", threads: 1, sampler });
      const { result, crossed } = await hostOutputs(() => gen.generate(requests, { ...opts, rng: createRng(5) }));
      const stats = { ...gen.stats };
      await gen.release();
      return { completions: result, crossed, stats };
    };
    const [a, b, host] = [await run("device"), await run("device"), await run("host")];
    const tokens = (cs: Completion[]) => cs.map((c) => c.tokens);
    expect(tokens(b.completions)).toEqual(tokens(a.completions)); // same seed, same device: same tokens
    expect(b.completions.map((c) => c.logprobs)).toEqual(a.completions.map((c) => c.logprobs));
    expect(tokens(host.completions)).toEqual(tokens(a.completions));
    const dLogprob = maxAbsDiff(a.completions.flatMap((c) => c.logprobs), host.completions.flatMap((c) => c.logprobs));
    const [free, constrained, topP] = a.completions as [Completion, Completion, Completion];
    expect(["[0]", "[1]", "[12]", "[2]"]).toContain(constrained.text);
    expect(constrained.allowed.every((x) => x !== null)).toBe(true);
    // The top-p row is drawn on the host from logits fetched with the ids; the others on the device.
    expect(a.stats.hostFallbackDraws).toBe(topP.tokens.length);
    expect(a.stats.deviceDraws).toBe(free.tokens.length + constrained.tokens.length);
    expect(a.crossed.get("host_logits")?.runs).toBe(topP.tokens.length);
    expect(host.stats.deviceDraws).toBe(0);
    expect([...host.crossed.keys()]).toEqual(["logits"]);
    console.log(`micro sampled generation on webgpu: device vs host draw ${tokens(a.completions).flat().length} tokens identical, max |Δ log-prob| ${dLogprob.toExponential(2)}; ${a.stats.hostFallbackDraws} host fallback draws (top-p row)`);
    expect(dLogprob).toBeLessThan(1e-4);
  });

  it("micro: learner log-probs, loss and every gradient agree (1e-4 abs, gradients 1e-3 relative to their max)", async () => {
    await requireWebgpu();
    const config = modelPreset("micro");
    const params = initParams(config, createRng(3), 0.1);
    const B = 2, T = 9;
    const rng = createRng(5);
    const tokens = Array.from({ length: B * T }, () => Math.floor(rng.next() * 200));
    const attentionMask = new Float32Array(B * T).fill(1);
    attentionMask[T] = 0; // row 1 left-padded by one
    const lossMask = new Float32Array(B * T).map((_, i) => (i % T >= 5 ? 1 : 0));
    const batch = { B, T, tokens, attentionMask, lossMask, advantages: Float32Array.of(1, -0.5) };
    const results: Record<string, { loss: number; logprobs: Float32Array; grads: Float32Array }> = {};
    for (const device of ["cpu", "webgpu"] as const) {
      const runner = new LossRunner(config, params, { device, threads: 1 });
      const { logprobs } = await runner.computeLogprobs(batch);
      const grads = new Float32Array(params.layout.totalSize);
      const stats = await runner.lossAndGrad({ ...batch, oldLogprobs: logprobs }, { kind: "ppo", normalizer: 8 }, grads);
      results[device] = { loss: stats.loss, logprobs: stats.logprobs, grads };
      await runner.release();
    }
    const [cpu, gpu] = [results.cpu, results.webgpu];
    if (!cpu || !gpu) throw new Error("missing results");
    const gmax = cpu.grads.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    const dl = Math.abs(cpu.loss - gpu.loss), dp = maxAbsDiff(cpu.logprobs, gpu.logprobs), dg = maxAbsDiff(cpu.grads, gpu.grads) / gmax;
    console.log(`micro learner: |Δ loss| ${dl.toExponential(2)}, max |Δ log-prob| ${dp.toExponential(2)}, max |Δ grad|/max|grad| ${dg.toExponential(2)}`);
    expect(dl).toBeLessThan(1e-4);
    expect(dp).toBeLessThan(1e-4);
    expect(dg).toBeLessThan(1e-3);
  });

  it("micro: 12 AdamW steps of PPO give per-step losses within 1e-4 of the largest and a final evaluation within 1e-3", async () => {
    await requireWebgpu();
    const config = modelPreset("micro");
    const B = 4, T = 12;
    const rng = createRng(11);
    const tokens = Array.from({ length: B * T }, () => 32 + Math.floor(rng.next() * 95));
    const attentionMask = new Float32Array(B * T).fill(1);
    const lossMask = new Float32Array(B * T).map((_, i) => (i % T >= 6 ? 1 : 0));
    const batch = { B, T, tokens, attentionMask, lossMask, advantages: Float32Array.of(1, -1, 0.5, -0.5) };
    const heldOut = { B: 2, T: 10, tokens: Array.from({ length: 20 }, () => 32 + Math.floor(rng.next() * 95)), attentionMask: new Float32Array(20).fill(1) };
    const runs: Record<string, { losses: number[]; evalLogprobs: Float32Array }> = {};
    for (const device of ["cpu", "webgpu"] as const) {
      const params = initParams(config, createRng(13), 0.02);
      const runner = new LossRunner(config, params, { device, threads: 1 });
      const adam = new AdamW(params.layout.totalSize, { lr: 3e-3 });
      const grads = new Float32Array(params.layout.totalSize);
      const { logprobs: old } = await runner.computeLogprobs(batch);
      const losses: number[] = [];
      for (let step = 0; step < 12; step++) {
        losses.push((await runner.lossAndGrad({ ...batch, oldLogprobs: old }, { kind: "ppo", normalizer: 6 }, grads)).loss);
        adam.step(params.data, grads);
      }
      runs[device] = { losses, evalLogprobs: (await runner.computeLogprobs(heldOut)).logprobs };
      await runner.release();
    }
    const [cpu, gpu] = [runs.cpu, runs.webgpu];
    if (!cpu || !gpu) throw new Error("missing runs");
    // Relative to the run's largest loss: PPO losses pass near 0 (advantages of both signs).
    const scale = Math.max(...cpu.losses.map(Math.abs));
    const rel = maxAbsDiff(cpu.losses, gpu.losses) / scale;
    const dEval = maxAbsDiff(cpu.evalLogprobs, gpu.evalLogprobs);
    console.log(`micro PPO, 12 steps: losses ${cpu.losses.map((l) => l.toFixed(5)).join(" ")}; max |Δ loss| / max |loss| ${rel.toExponential(2)}; final eval max |Δ log-prob| ${dEval.toExponential(2)}`);
    expect(Math.abs((cpu.losses[11] as number) - (cpu.losses[0] as number))).toBeGreaterThan(10 * rel * scale); // the run moved
    expect(rel).toBeLessThan(1e-4);
    expect(dEval).toBeLessThan(1e-3);
  });

  // One update per epoch (epoch 1 fused: its log-probs are the old ones, kept on the device), and
  // two reshuffled minibatches with the entropy bonus (old log-probs recomputed first, then
  // gathered on the device into each epoch's micro-batches).
  const learnerCases: { name: string; options: Partial<LearnerOptions> }[] = [
    { name: "one update per epoch", options: {} },
    { name: "2 shuffled minibatches, entropy bonus", options: { minibatches: 2, entropyCoef: 0.01 } },
    // Old log-probs recomputed before epoch 1 (kept whole), and the sampler's (fed from the host).
    { name: "old log-probs recomputed", options: { fuseFirstEpoch: false } },
    { name: "behaviour log-probs", options: { behaviourLogprobs: true } },
  ];
  for (const { name, options: extra } of learnerCases) {
    it(`micro learner, 3 steps of PPO (2 epochs, micro-batches of 2 and 4 rows; ${name}): parameters, gradients, moments and old log-probs on the device give the CPU learner's losses and weights; only scalars come back`, async () => {
      await requireWebgpu();
      const config = modelPreset("micro");
      const rng = createRng(17);
      // Eight samples of two lengths (two micro-batches of four), advantages of both signs.
      const samples: ScoredSample[] = Array.from({ length: 8 }, (_, i) => {
        const prompt = Array.from({ length: 6 + (i % 2) * 3 }, () => 32 + Math.floor(rng.next() * 95));
        const generated = Array.from({ length: 4 }, () => 32 + Math.floor(rng.next() * 95));
        return {
          gameId: "g", seat: 0, actorId: 0, gameIndex: i, turn: 0, promptIds: prompt, generatedIds: generated, logprobs: generated.map(() => -4),
          policyVersion: 0, text: "", advantage: [1, -0.5, 1.5, -1][i % 4] as number,
        };
      });
      const options: LearnerOptions = { loss: "ppo", ppoEpochs: 2, clip: 0.2, normalizer: 8, microBatch: extra.minibatches === undefined ? 4 : 2, minibatches: 1, gradClip: 1, temperature: 1, lr: 1e-4, ...extra };
      const updates = 3 * options.ppoEpochs * options.minibatches;
      type Run = { losses: number[]; norms: number[]; entropies: number[]; gaps: number[]; params: Float32Array; m: Float32Array; hostUntouched?: boolean };
      const runs: Record<string, Run> = {};
      let crossed = new Map<string, { runs: number; maxSize: number; bytes: number }>();
      for (const device of ["cpu", "webgpu"] as const) {
        const params = initParams(config, createRng(13), 0.02);
        const start = params.data.slice();
        const runner = new LossRunner(config, params, { device, threads: 1 });
        const optimizer = new AdamW(params.layout.totalSize, { lr: options.lr });
        const state = device === "webgpu" ? await DeviceTraining.create({ trained: params, optimizer }) : undefined;
        if (state !== undefined) runner.useDeviceWeights(() => state.weights());
        const run: Run = { losses: [], norms: [], entropies: [], gaps: [], params: params.data, m: optimizer.state().m };
        for (let step = 0; step < 3; step++) {
          const learn = () => learnStep({ runner, params, optimizer, ...(state === undefined ? {} : { device: state }) }, samples, options, createRng(step));
          const stats = device === "cpu" ? await learn() : await hostOutputs(learn).then((r) => ((crossed = r.crossed), r.result));
          run.losses.push(stats.loss);
          run.norms.push(stats.gradNorm);
          run.entropies.push(stats.entropy);
          run.gaps.push(stats.samplerLogprobGap);
        }
        // On the device nothing wrote the host copy during the steps.
        if (state !== undefined) run.hostUntouched = params.data.every((x, i) => x === start[i]);
        await state?.toHost();
        runs[device] = run;
        expect(optimizer.stepsTaken).toBe(updates);
        await state?.release();
        await runner.release();
      }
      const [cpu, gpu] = [runs.cpu, runs.webgpu];
      if (!cpu || !gpu) throw new Error("missing runs");
      expect(gpu.hostUntouched).toBe(true);
      // The last learner step on the device brought back scalars only (loss, diagnostics, entropy
      // sums, gradient norm, sampler gap): no [B, T] grid, no logits, no gradient.
      const perStep = [...crossed].map(([k, c]) => `${k} ×${c.runs}`).join(", ");
      const bytes = [...crossed.values()].reduce((a, c) => a + c.bytes, 0);
      console.log(`device learner step (${name}): device → host ${bytes} bytes: ${perStep}`);
      expect([...crossed].filter(([, c]) => c.maxSize > 1)).toEqual([]);
      expect(crossed.has("loss")).toBe(true);
      const moved = maxAbsDiff(cpu.params, initParams(config, createRng(13), 0.02).data);
      const dParams = maxAbsDiff(cpu.params, gpu.params);
      // Adam divides by √v: where a gradient entry is near rounding noise, the two devices' updates
      // differ by up to a step's size, so the largest difference is judged against how far the
      // weights moved, and nearly all entries must agree far more closely.
      const diffs = Float64Array.from(cpu.params, (x, i) => Math.abs(x - (gpu.params[i] as number))).sort();
      const p999 = diffs[Math.floor(diffs.length * 0.999)] as number;
      const dM = maxAbsDiff(cpu.m, gpu.m) / cpu.m.reduce((a, x) => Math.max(a, Math.abs(x)), 0);
      const dLoss = maxAbsDiff(cpu.losses, gpu.losses) / Math.max(...cpu.losses.map(Math.abs));
      const dNorm = maxAbsDiff(cpu.norms, gpu.norms) / Math.max(...cpu.norms);
      const dEntropy = maxAbsDiff(cpu.entropies, gpu.entropies) / Math.max(...cpu.entropies);
      const dGap = maxAbsDiff(cpu.gaps, gpu.gaps);
      console.log(`micro device learner, 3 steps (${name}): losses ${cpu.losses.map((l) => l.toFixed(6)).join(" ")}; max |Δ loss|/max|loss| ${dLoss.toExponential(2)}, |Δ grad norm|/max ${dNorm.toExponential(2)}, |Δ entropy|/max ${dEntropy.toExponential(2)}, |Δ sampler gap| ${dGap.toExponential(2)}, max |Δ param| ${dParams.toExponential(2)} (weights moved up to ${moved.toExponential(2)}), 99.9th percentile |Δ param| ${p999.toExponential(2)}, max |Δ m|/max|m| ${dM.toExponential(2)}`);
      expect(moved).toBeGreaterThan(1e-4);
      // Every step's loss differs: the ratios are not all clipped (against the sampler's made-up
      // log-probs of −4 they are).
      if (extra.behaviourLogprobs !== true) expect(new Set(cpu.losses).size).toBe(3);
      expect(dLoss).toBeLessThan(1e-4);
      expect(dNorm).toBeLessThan(1e-4);
      expect(dEntropy).toBeLessThan(1e-4);
      expect(dGap).toBeLessThan(1e-4);
      expect(dParams).toBeLessThan(0.05 * moved);
      expect(p999).toBeLessThan(1e-6);
      expect(dM).toBeLessThan(1e-3);
    });
  }

  it("LoRA on a bf16 base: the 16-bit words are uploaded once and read on the device; 2 learner steps and generation agree with the CPU (losses 1e-4 relative, adapter within 5 % of how far it moved, same greedy tokens, log-probs 1e-4)", async () => {
    await requireWebgpu();
    const config = modelPreset("micro");
    const lora = loraOf();
    const base = toBaseDtype(config, initParams(config, createRng(21), 0.1), "bf16");
    const rng = createRng(23);
    const samples: ScoredSample[] = Array.from({ length: 4 }, (_, i) => {
      const prompt = Array.from({ length: 5 + i }, () => 32 + Math.floor(rng.next() * 95));
      const generated = Array.from({ length: 3 }, () => 32 + Math.floor(rng.next() * 95));
      return { gameId: "g", seat: 0, actorId: 0, gameIndex: i, turn: 0, promptIds: prompt, generatedIds: generated, logprobs: generated.map(() => -4), policyVersion: 0, text: "", advantage: [1, -1, 0.5, -0.5][i] as number };
    });
    const options: LearnerOptions = { loss: "ppo", ppoEpochs: 2, clip: 0.2, normalizer: 4, microBatch: 2, minibatches: 1, gradClip: 1, temperature: 1, lr: 1e-2 };
    const prompts = ["Hi", "Play."].map((s) => ({ prompt: tok.encode(s) }));
    const genOpts = { temperature: 0, maxNewTokens: 5, rng: createRng(1) };
    const runs: Record<string, { losses: number[]; adapter: Float32Array; tokens: number[][]; logprobs: number[] }> = {};
    let fed: string[] = [];
    for (const device of ["cpu", "webgpu"] as const) {
      const adapter = initAdapter(config, lora, createRng(5));
      const runner = new LossRunner(config, base, { device, threads: 1, adapter });
      const gen = await Generator.create(config, base, tok, { device, threads: 1, adapter });
      const optimizer = new AdamW(adapter.params.layout.totalSize, { lr: options.lr });
      const state = device === "webgpu" ? await DeviceTraining.create({ trained: adapter.params, optimizer, frozen: base }) : undefined;
      if (state !== undefined) {
        runner.useDeviceWeights(() => state.weights());
        gen.useDeviceWeights(() => state.weights());
      }
      const work = async () => {
        const losses: number[] = [];
        for (let step = 0; step < 2; step++) losses.push((await learnStep({ runner, params: adapter.params, optimizer, ...(state === undefined ? {} : { device: state }) }, samples, options, createRng(step))).loss);
        return { losses, completions: await gen.generate(prompts, genOpts) };
      };
      const { losses, completions } = device === "cpu" ? await work() : await hostOutputs(work).then((r) => ((fed = r.wordsFed), r.result));
      await state?.toHost();
      runs[device] = { losses, adapter: adapter.params.data.slice(), tokens: completions.map((c) => c.tokens), logprobs: completions.flatMap((c) => c.logprobs) };
      await state?.release();
      await gen.release();
      await runner.release();
    }
    const [cpu, gpu] = [runs.cpu, runs.webgpu];
    if (!cpu || !gpu) throw new Error("missing runs");
    // Every run on the device read the words it was given at DeviceTraining.create.
    expect(fed).toEqual([]);
    const moved = maxAbsDiff(cpu.adapter, initAdapter(config, lora, createRng(5)).params.data);
    const dAdapter = maxAbsDiff(cpu.adapter, gpu.adapter);
    const dLoss = maxAbsDiff(cpu.losses, gpu.losses) / Math.max(...cpu.losses.map(Math.abs));
    const dLogprob = maxAbsDiff(cpu.logprobs, gpu.logprobs);
    console.log(`LoRA on a bf16 base (micro), 2 learner steps: losses cpu ${cpu.losses.map((l) => l.toFixed(6)).join(" ")}; max |Δ loss|/max ${dLoss.toExponential(2)}, max |Δ adapter| ${dAdapter.toExponential(2)} (moved up to ${moved.toExponential(2)}); generation max |Δ log-prob| ${dLogprob.toExponential(2)}`);
    expect(moved).toBeGreaterThan(1e-3);
    expect(dLoss).toBeLessThan(1e-4);
    expect(dAdapter).toBeLessThan(0.05 * moved); // Adam's √v amplifies rounding noise (see the learner test above)
    expect(gpu.tokens).toEqual(cpu.tokens);
    expect(dLogprob).toBeLessThan(1e-4);
  });

  it("spiral train on webgpu: 2 steps of the loop, full and LoRA, agree with the CPU run (losses 1e-3 relative, trained weights 1e-4; this seed draws the same games with the device sampler, sampler host always does), repeat themselves exactly, sampler gap below 1e-4, checkpoint written from the device; actors > 1 refused", async () => {
    await requireWebgpu();
    const root = mkdtempSync(join(tmpdir(), "spiral-webgpu-train-"));
    try {
      const base = {
        steps: 2, games: [{ id: "TicTacToe-v0" }], rolloutBatch: 4, envs: 2, maxNewTokens: 6,
        model: { preset: "tiny", overrides: { hiddenSize: 32, intermediateSize: 64, numHiddenLayers: 1, numAttentionHeads: 2, numKeyValueHeads: 1, headDim: 16 } },
        optim: { lr: 1e-2, microBatch: 2 }, eval: { every: 0 }, checkpointEvery: 2, transcripts: 0, threads: 1,
      };
      await expect(train(parseTrainConfig({ ...base, device: "webgpu", actors: 2 }), { runDir: join(root, "k2") })).rejects.toThrow(/actors: --device webgpu runs one actor/);
      // A full run, and a LoRA run whose adapter (and its moments) live on the device over a
      // frozen base copied there once.
      // webgpu draws on the device by default; the full run also repeats it (same seed: same
      // losses and weights) and runs with the host's float64 draw (sampler: host).
      for (const lora of [undefined, { r: 2, alpha: 4 }]) {
        type Run = { losses: number[]; gaps: number[]; params: Float32Array; saved?: Float32Array };
        const runs: Record<string, Run> = {};
        const variants = lora ? (["cpu", "webgpu"] as const) : (["cpu", "webgpu", "webgpu again", "webgpu, sampler host"] as const);
        for (const variant of variants) {
          const device = variant === "cpu" ? "cpu" : "webgpu";
          const losses: number[] = [], gaps: number[] = [];
          const dir = join(root, `${variant.replace(/[ ,:]+/g, "-")}${lora ? "-lora" : ""}`);
          const sampler = variant.endsWith("host") ? { sampler: "host" } : {};
          const summary = await train(parseTrainConfig({ ...base, device, ...sampler, ...(lora ? { lora } : {}) }), { runDir: dir, hooks: { onStep: (m) => (losses.push(m.learner.loss), gaps.push(m.learner.samplerLogprobGap)) } });
          const saved = lora ? undefined : (await loadCheckpoint(join(dir, "step-2"))).params.data;
          runs[variant] = { losses, gaps, params: lora ? (summary.adapter as Params).data : summary.params.data, ...(saved ? { saved } : {}) };
        }
        const [cpu, gpu] = [runs.cpu, runs.webgpu];
        if (!cpu || !gpu) throw new Error("missing runs");
        // The learner recomputes the device sampler's float32 log-probs: the gap stays at rounding.
        console.log(`train loop${lora ? " (LoRA r 2)" : ""} on webgpu, device sampler: samplerLogprobGap per step ${gpu.gaps.map((x) => x.toExponential(2)).join(" ")}`);
        expect(Math.max(...gpu.gaps)).toBeLessThan(1e-4);
        if (!lora) {
          expect(runs["webgpu again"]?.losses).toEqual(gpu.losses);
          expect(runs["webgpu again"]?.params).toEqual(gpu.params);
          const host = runs["webgpu, sampler host"] as Run;
          expect(maxAbsDiff(cpu.losses, host.losses) / Math.max(1e-6, ...cpu.losses.map(Math.abs))).toBeLessThan(1e-3);
          expect(maxAbsDiff(cpu.params, host.params)).toBeLessThan(1e-4);
        }
        if (!lora) expect(gpu.saved).toEqual(gpu.params); // the checkpoint holds the device's weights
        const dLoss = maxAbsDiff(cpu.losses, gpu.losses) / Math.max(1e-6, ...cpu.losses.map(Math.abs));
        const dParams = maxAbsDiff(cpu.params, gpu.params);
        console.log(`train loop${lora ? " (LoRA r 2)" : ""}, 2 steps (tiny): losses cpu ${cpu.losses.map((l) => l.toFixed(6)).join(" ")}, webgpu ${gpu.losses.map((l) => l.toFixed(6)).join(" ")}; max |Δ trained weight| ${dParams.toExponential(2)}`);
        expect(dLoss).toBeLessThan(1e-3);
        expect(dParams).toBeLessThan(1e-4);
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
