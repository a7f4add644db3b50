import { describe, expect, it } from "vitest";
import { createRng, type Rng } from "../../core/rng.js";
import { referenceLoss } from "../../rl/loss-reference.js";
import ort from "onnxruntime-node";
import { GraphSession } from "../graph/session.js";
import { buildLossGraph, lossNames } from "./loss.js";
import { LossRunner, scoreIndex, type LossBatch, type TokenBatch } from "./loss-runner.js";
import { randomParams, testConfig } from "../model/test-models.js";
import { AdamW } from "./optimizer.js";
import { initParams } from "../weights/params.js";
import { logSoftmaxRows, referenceForward } from "../model/reference.js";

const config = testConfig(true);
const V = config.vocabSize;

/** Right-padded rows: prompt tokens then generated tokens then padding. */
function makeBatch(rng: Rng, rows: { prompt: number; gen: number }[]): LossBatch & { seqs: number[][] } {
  const T = Math.max(...rows.map((r) => r.prompt + r.gen));
  const B = rows.length;
  const tokens = new Array<number>(B * T).fill(0);
  const attentionMask = new Float32Array(B * T);
  const lossMask = new Float32Array(B * T);
  const seqs: number[][] = [];
  rows.forEach((r, b) => {
    const seq = Array.from({ length: r.prompt + r.gen }, () => rng.int(V));
    seqs.push(seq);
    seq.forEach((tok, t) => {
      tokens[b * T + t] = tok;
      attentionMask[b * T + t] = 1;
      if (t >= r.prompt) lossMask[b * T + t] = 1;
    });
  });
  return { B, T, tokens, attentionMask, lossMask, seqs };
}

/** Reference log p(seq[t] | seq[<t]) under logits / temperature, t ≥ 1. */
function refLogprobs(seq: number[], params: ReturnType<typeof randomParams>, temperature: number): number[] {
  const logits = referenceForward(config, params, seq).map((z) => z / temperature);
  const lp = logSoftmaxRows(logits, V);
  return seq.map((tok, t) => (t === 0 ? 0 : (lp[(t - 1) * V + tok] as number)));
}

describe("LossRunner log-probs", () => {
  it("equal the reference forward's token log-probs under temperature (right padding), 1e-4", async () => {
    const params = randomParams(config, "lp");
    const runner = new LossRunner(config, params, { threads: 1 });
    const batch = makeBatch(createRng("lp-batch"), [
      { prompt: 3, gen: 4 },
      { prompt: 2, gen: 1 },
      { prompt: 5, gen: 3 },
    ]);
    for (const temperature of [1, 0.7]) {
      const { logprobs, entropy } = await runner.computeLogprobs(batch, temperature);
      batch.seqs.forEach((seq, b) => {
        const ref = refLogprobs(seq, params, temperature);
        ref.forEach((r, t) => expect(Math.abs((logprobs[b * batch.T + t] as number) - r)).toBeLessThan(1e-4));
      });
      expect(entropy[1] as number).toBeGreaterThan(0);
      expect(entropy[1] as number).toBeLessThan(Math.log(V) + 1e-5);
    }
    await runner.release();
  });

  it("do not depend on the padding side (positions come from the attention mask)", async () => {
    const params = randomParams(config, "pad-side");
    const runner = new LossRunner(config, params, { threads: 1 });
    const right = makeBatch(createRng("pad-side-batch"), [
      { prompt: 2, gen: 5 },
      { prompt: 1, gen: 2 },
    ]);
    const { B, T } = right;
    const tokens = new Array<number>(B * T).fill(0);
    const attentionMask = new Float32Array(B * T);
    right.seqs.forEach((seq, b) => seq.forEach((tok, j) => {
      tokens[b * T + T - seq.length + j] = tok;
      attentionMask[b * T + T - seq.length + j] = 1;
    }));
    const r = await runner.computeLogprobs(right);
    const l = await runner.computeLogprobs({ B, T, tokens, attentionMask });
    right.seqs.forEach((seq, b) => {
      for (let j = 1; j < seq.length; j++) {
        expect(Math.abs((l.logprobs[b * T + T - seq.length + j] as number) - (r.logprobs[b * T + j] as number))).toBeLessThan(1e-5);
      }
    });
    await runner.release();
  });

  it("renormalise over the allowed ids at constrained positions only", async () => {
    const params = randomParams(config, "lp-c");
    const runner = new LossRunner(config, params, { threads: 1 });
    const batch = makeBatch(createRng("c-batch"), [
      { prompt: 2, gen: 3 },
      { prompt: 3, gen: 2 },
    ]);
    const K = 3;
    const { B, T } = batch;
    const allowedIds = new Array<number>(B * T * K).fill(0);
    const allowedMask = new Float32Array(B * T * K);
    const constrained = new Float32Array(B * T);
    // Row 0, token 3: drawn from {tok, 5, 9}; row 1, token 4: from {tok, 11} (third entry padding).
    const set = (b: number, t: number, ids: number[]): void => {
      const tok = batch.tokens[b * T + t] as number;
      constrained[b * T + t] = 1;
      [tok, ...ids].forEach((id, k) => {
        allowedIds[(b * T + t) * K + k] = id;
        allowedMask[(b * T + t) * K + k] = 1;
      });
    };
    set(0, 3, [(batch.tokens[3] as number) === 5 ? 6 : 5, 9 === batch.tokens[3] ? 10 : 9]);
    set(1, 4, [(batch.tokens[T + 4] as number) === 11 ? 12 : 11]);
    const withC: TokenBatch = { ...batch, constraints: { K, allowedIds, allowedMask, constrained } };
    const temperature = 0.8;
    const { logprobs } = await runner.computeLogprobs(withC, temperature);
    batch.seqs.forEach((seq, b) => {
      const logits = referenceForward(config, params, seq);
      seq.forEach((tok, t) => {
        if (t === 0) return;
        let want: number;
        if (constrained[b * T + t] === 1) {
          const ids = [0, 1, 2].filter((k) => allowedMask[(b * T + t) * K + k] === 1).map((k) => allowedIds[(b * T + t) * K + k] as number);
          const z = (id: number): number => (logits[(t - 1) * V + id] as number) / temperature;
          const lse = Math.log(ids.reduce((s, id) => s + Math.exp(z(id)), 0));
          want = z(tok) - lse;
        } else {
          want = refLogprobs(seq, params, temperature)[t] as number;
        }
        expect(Math.abs((logprobs[b * T + t] as number) - want)).toBeLessThan(1e-4);
      });
    });
    await runner.release();
  });
});

/** Σ grad·u against the central difference of the loss along u (float32 graph: h and tolerance chosen for it). */
async function directionalCheck(kind: "ppo" | "reinforce" | "xent"): Promise<{ analytic: number; numeric: number }> {
  const params = randomParams(config, `dir-${kind}`);
  const runner = new LossRunner(config, params, { threads: 1 });
  const rng = createRng(`dir-batch-${kind}`);
  const batch = makeBatch(rng, [
    { prompt: 3, gen: 4 },
    { prompt: 2, gen: 5 },
  ]);
  const { logprobs } = await runner.computeLogprobs(batch);
  // Old log-probs a little off the current ones: ratios in about [0.9, 1.1], away from the clip kinks.
  const oldLogprobs = logprobs.map((lp) => lp + 0.1 * (rng.next() - 0.5));
  const full: LossBatch = { ...batch, advantages: Float32Array.of(1.3, -0.7), oldLogprobs };
  const settings = { kind, normalizer: 8, clipEps: 0.2, temperature: 0.9 };
  const grads = new Float32Array(params.layout.totalSize);
  await runner.lossAndGrad(full, settings, grads);
  const u = new Float32Array(grads.length);
  for (const v of params.layout.views) for (let i = 0; i < v.size; i++) u[v.offset + i] = rng.normal();
  let analytic = 0;
  for (let i = 0; i < u.length; i++) analytic += (u[i] as number) * (grads[i] as number);
  const h = 1e-3;
  const base = params.data.slice();
  const lossAt = async (s: number): Promise<number> => {
    for (let i = 0; i < base.length; i++) params.data[i] = (base[i] as number) + s * (u[i] as number);
    return (await runner.lossAndGrad(full, settings, new Float32Array(grads.length))).loss;
  };
  const numeric = ((await lossAt(h)) - (await lossAt(-h))) / (2 * h);
  params.data.set(base);
  await runner.release();
  return { analytic, numeric };
}

/**
 * The same check on the float64 build of the loss graph (identical recording, double dtype):
 * h = 1e-5 leaves only ~1e-10 of truncation and rounding error, so a tolerance of 1e-6 is tight.
 */
async function directionalCheck64(kind: "ppo" | "reinforce" | "xent", config = testConfig(true), entropyCoef = 0): Promise<{ analytic: number; numeric: number }> {
  const params = randomParams(config, `dir64-${kind}`);
  const rng = createRng(`dir64-batch-${kind}`);
  const batch = makeBatch(rng, [
    { prompt: 3, gen: 4 },
    { prompt: 2, gen: 5 },
  ]);
  const { B, T } = batch;
  const runner = new LossRunner(config, params, { threads: 1 });
  const { logprobs } = await runner.computeLogprobs(batch);
  await runner.release();
  const { graph } = buildLossGraph(config, { kind, dtype: "float64", entropyBonus: entropyCoef > 0 });
  const session = await GraphSession.fromGraph(graph, { threads: 1, optimization: "basic" });
  const d = (xs: ArrayLike<number>, dims: number[]): ort.Tensor => new ort.Tensor("float64", Float64Array.from(xs), dims);
  const idx = scoreIndex(B, T, batch.lossMask);
  const fixed: Record<string, ort.Tensor> = {
    [lossNames.tokens]: new ort.Tensor("int64", BigInt64Array.from(batch.tokens as number[], (t) => BigInt(t)), [B, T]),
    [lossNames.attentionMask]: d(batch.attentionMask, [B, T]),
    [lossNames.temperature]: d([0.9], []),
    [lossNames.scoreIndex]: new ort.Tensor("int64", idx, [idx.length]),
    [lossNames.lossMask]: d(batch.lossMask, [B, T]),
    [lossNames.advantages]: d([1.3, -0.7], [B]),
    [lossNames.normalizer]: d([8], []),
    [lossNames.oldLogprobs]: d(logprobs.map((lp) => lp + 0.1 * (rng.next() - 0.5)), [B, T]),
    [lossNames.clipEps]: d([0.2], []),
    [lossNames.entropyCoef]: d([entropyCoef, entropyCoef / 2], [B]),
  };
  const feeds = (theta: Float64Array): Record<string, ort.Tensor> => {
    const f: Record<string, ort.Tensor> = {};
    for (const name of session.inputNames) if (fixed[name]) f[name] = fixed[name];
    for (const v of params.layout.views) f[v.name] = new ort.Tensor("float64", theta.subarray(v.offset, v.offset + v.size), v.shape);
    return f;
  };
  const theta = Float64Array.from(params.data);
  const u = new Float64Array(theta.length);
  for (const v of params.layout.views) for (let i = 0; i < v.size; i++) u[v.offset + i] = rng.normal();
  const out = await session.run(feeds(theta));
  let analytic = 0;
  for (const v of params.layout.views) {
    const grad = (out[lossNames.gradPrefix + v.name] as ort.Tensor).data as Float64Array;
    for (let i = 0; i < v.size; i++) analytic += (grad[i] as number) * (u[v.offset + i] as number);
  }
  const h = 1e-5;
  const lossAt = async (s: number): Promise<number> => {
    const shifted = theta.map((x, i) => x + s * (u[i] as number));
    return Number(((await session.run(feeds(shifted)))[lossNames.loss] as ort.Tensor).data[0]);
  };
  const numeric = ((await lossAt(h)) - (await lossAt(-h))) / (2 * h);
  await session.release();
  return { analytic, numeric };
}

describe("LossRunner loss and gradients", () => {
  it("loss, clip fraction and approx KL equal rl/loss-reference on the same log-probs", async () => {
    const params = randomParams(config, "ref-loss");
    const runner = new LossRunner(config, params, { threads: 1 });
    const rng = createRng("ref-loss-batch");
    const batch = makeBatch(rng, [
      { prompt: 2, gen: 4 },
      { prompt: 4, gen: 2 },
      { prompt: 1, gen: 5 },
    ]);
    const { logprobs } = await runner.computeLogprobs(batch);
    // Ratios cycle through e^0.4, 1, e^-0.4: clipped where A > 0 and r > 1.2, or A < 0 and r < 0.8.
    const oldLogprobs = logprobs.map((lp, i) => lp + 0.4 * ((i % 3) - 1));
    const advantages = Float32Array.of(1, -1.5, 0.5);
    const grads = new Float32Array(params.layout.totalSize);
    for (const kind of ["ppo", "reinforce"] as const) {
      const stats = await runner.lossAndGrad({ ...batch, advantages, oldLogprobs }, { kind, normalizer: 6, clipEps: 0.2 }, grads);
      const samples = batch.seqs.map((_, b) => {
        const idx = Array.from({ length: batch.T }, (_, t) => b * batch.T + t).filter((i) => batch.lossMask[i] === 1);
        return {
          logprobs: idx.map((i) => logprobs[i] as number),
          oldLogprobs: idx.map((i) => oldLogprobs[i] as number),
          advantage: advantages[b] as number,
        };
      });
      const ref = referenceLoss(samples, { kind, clip: 0.2, normalizer: 6 });
      expect(stats.loss).toBeCloseTo(ref.loss, 5);
      if (kind === "ppo") {
        expect(ref.clipFraction).toBeGreaterThan(0);
        expect(stats.clipFraction).toBeCloseTo(ref.clipFraction, 6);
        expect(stats.approxKl).toBeCloseTo(ref.approxKl, 5);
      }
    }
    await runner.release();
  });

  it("scores only generated positions: learner log-probs equal the full computation there, 0 elsewhere", async () => {
    const params = randomParams(config, "score");
    const runner = new LossRunner(config, params, { threads: 1 });
    const batch = makeBatch(createRng("score-batch"), [
      { prompt: 4, gen: 2 },
      { prompt: 1, gen: 5 },
    ]);
    const all = await runner.computeLogprobs(batch, 0.9);
    const masked = await runner.computeLogprobs(batch, 0.9, batch.lossMask);
    const grads = new Float32Array(params.layout.totalSize);
    const stats = await runner.lossAndGrad({ ...batch, advantages: Float32Array.of(1, -1) }, { kind: "reinforce", normalizer: 5, temperature: 0.9 }, grads);
    for (let i = 0; i < batch.B * batch.T; i++) {
      const want = batch.lossMask[i] === 1 ? (all.logprobs[i] as number) : 0;
      expect(Math.abs((stats.logprobs[i] as number) - want)).toBeLessThan(1e-5);
      expect(Math.abs((masked.logprobs[i] as number) - want)).toBeLessThan(1e-5);
    }
    await expect(runner.computeLogprobs({ ...batch, tokens: Array.from(batch.tokens as readonly number[], (t, i) => (i === 3 ? V : t)) })).rejects.toThrow(/tokens\[3\] = 37 is not a token id in \[0, 37\)/);
    grads.fill(7);
    const empty = await runner.lossAndGrad({ ...batch, lossMask: new Float32Array(batch.B * batch.T), advantages: Float32Array.of(1, -1) }, { kind: "reinforce", normalizer: 5 }, grads);
    expect(empty.loss).toBe(0);
    expect(grads.every((v) => v === 0)).toBe(true);
    await runner.release();
  });

  for (const kind of ["ppo", "reinforce", "xent"] as const) {
    it(`${kind}: the gradient matches a directional finite difference (float32, 1e-2 relative)`, async () => {
      const { analytic, numeric } = await directionalCheck(kind);
      expect(Math.abs(analytic)).toBeGreaterThan(1e-3);
      expect(Math.abs(analytic - numeric) / Math.abs(numeric)).toBeLessThan(1e-2);
    });
  }

  for (const kind of ["ppo", "reinforce", "xent"] as const) {
    it(`${kind}: the float64 graph's gradient matches a directional finite difference to 1e-6`, async () => {
      const { analytic, numeric } = await directionalCheck64(kind);
      expect(Math.abs(analytic)).toBeGreaterThan(1e-3);
      expect(Math.abs(analytic - numeric) / Math.abs(numeric)).toBeLessThan(1e-6);
    });
  }

  it("ppo with an entropy bonus: the float64 gradient matches a directional finite difference to 1e-6", async () => {
    const { analytic, numeric } = await directionalCheck64("ppo", testConfig(true), 0.3);
    const plain = await directionalCheck64("ppo", testConfig(true), 0);
    expect(Math.abs(analytic - plain.analytic)).toBeGreaterThan(1e-4); // the bonus term is really there
    expect(Math.abs(analytic - numeric) / Math.abs(numeric)).toBeLessThan(1e-6);
  });

  it("entropy bonus: loss = policy loss − Σ_b β_b·Σ_t H_bt / (N·C) over generated tokens, 1e-5", async () => {
    const params = randomParams(config, "entropy-bonus");
    const runner = new LossRunner(config, params, { threads: 1 });
    const batch = makeBatch(createRng("entropy-bonus-batch"), [
      { prompt: 2, gen: 4 },
      { prompt: 3, gen: 3 },
    ]);
    const { logprobs } = await runner.computeLogprobs(batch);
    const full: LossBatch = { ...batch, advantages: Float32Array.of(0.8, -0.4), oldLogprobs: logprobs };
    const grads = new Float32Array(params.layout.totalSize);
    const plain = await runner.lossAndGrad(full, { kind: "ppo", normalizer: 6 }, grads);
    const plainGrads = grads.slice();
    const zero = await runner.lossAndGrad({ ...full, entropyCoefs: Float32Array.of(0, 0) }, { kind: "ppo", normalizer: 6 }, grads);
    expect(zero.loss).toBe(plain.loss);
    const coefs = Float32Array.of(0.05, 0.2);
    const bonus = await runner.lossAndGrad({ ...full, entropyCoefs: coefs }, { kind: "ppo", normalizer: 6 }, grads);
    let weighted = 0;
    let total = 0;
    for (let i = 0; i < batch.lossMask.length; i++) {
      if (batch.lossMask[i] !== 1) continue;
      weighted += (coefs[Math.floor(i / batch.T)] as number) * (bonus.entropy[i] as number);
      total += bonus.entropy[i] as number;
    }
    expect(total).toBeGreaterThan(1);
    expect(Math.abs(bonus.loss - (plain.loss - weighted / (2 * 6)))).toBeLessThan(1e-5);
    expect(grads.some((g, i) => Math.abs(g - (plainGrads[i] as number)) > 1e-6)).toBe(true);
    await expect(runner.lossAndGrad({ ...full, entropyCoefs: Float32Array.of(0.1, -1) }, { kind: "ppo", normalizer: 6 }, grads)).rejects.toThrow(/entropyCoefs\[1\] must be ≥ 0; got -1/);
    await expect(runner.lossAndGrad({ ...full, entropyCoefs: Float32Array.of(0.1) }, { kind: "ppo", normalizer: 6 }, grads)).rejects.toThrow(/entropyCoefs: expected 2 values/);
    await runner.release();
  });

  it("untied head: the float64 gradient (lm_head and embedding separately) matches a directional finite difference to 1e-6", async () => {
    const { analytic, numeric } = await directionalCheck64("reinforce", testConfig(false));
    expect(Math.abs(analytic)).toBeGreaterThan(1e-3);
    expect(Math.abs(analytic - numeric) / Math.abs(numeric)).toBeLessThan(1e-6);
  });

  it("memorises a fixed sequence with AdamW: cross-entropy from ~ln V to < 0.05", async () => {
    const params = initParams(config, createRng("memorise"));
    const runner = new LossRunner(config, params, { threads: 1 });
    const rng = createRng("memorise-seq");
    const batch = makeBatch(rng, [
      { prompt: 1, gen: 15 },
      { prompt: 1, gen: 15 },
    ]);
    const grads = new Float32Array(params.layout.totalSize);
    const adam = new AdamW(params.layout.totalSize, { lr: 1e-2 });
    const first = (await runner.lossAndGrad(batch, { kind: "xent" }, grads)).loss;
    let last = first;
    for (let step = 0; step < 150; step++) {
      last = (await runner.lossAndGrad(batch, { kind: "xent" }, grads)).loss;
      adam.step(params.data, grads);
    }
    expect(first).toBeGreaterThan(Math.log(V) - 0.5);
    expect(last).toBeLessThan(0.05);
    await runner.release();
  });
});
