import { describe, expect, it } from "vitest";
import type { ModelConfig } from "../engine/model/config.js";
import { LossRunner, type LossStats } from "../engine/train/loss-runner.js";
import { AdamW } from "../engine/train/optimizer.js";
import { initParams } from "../engine/weights/params.js";
import { modelPreset } from "../engine/model/presets.js";
import { createRng } from "../core/rng.js";
import { ticTacToe } from "../games/tictactoe.js";
import { collectRollout } from "./actor.js";
import { learnStep, packBatch, recomputeLogprobs, type LearnerOptions, type LearnerWorkers } from "./learner.js";
import { referenceLoss } from "./loss-reference.js";
import { randomPolicy } from "../policy/policy.js";
import { compactMode } from "../policy/prompt-mode.js";
import type { ScoredSample } from "./types.js";

/** A byte-level model small enough for unit tests (V = 264). */
const config: ModelConfig = { ...modelPreset("tiny"), hiddenSize: 32, intermediateSize: 64, numHiddenLayers: 1, numAttentionHeads: 2, numKeyValueHeads: 1, headDim: 16 };

async function samples(n: number): Promise<ScoredSample[]> {
  const out = await collectRollout({ games: [{ game: ticTacToe, weight: 1 }], policy: randomPolicy(), mode: compactMode, rolloutBatch: n, envs: 4, maxNewTokens: 8 }, createRng(1));
  // Advantages of both signs and sizes.
  return out.batch.map((s, i) => ({ ...s, advantage: [1, -0.5, 1.5, -1][i % 4] as number }));
}

const options: LearnerOptions = { loss: "ppo", ppoEpochs: 2, clip: 0.2, normalizer: 8, microBatch: 8, minibatches: 1, gradClip: 1, temperature: 1, lr: 1e-2 };

describe("packBatch", () => {
  it("right-pads prompt ++ generation, masks generated tokens, and aligns allowed sets to the token they predict", () => {
    const s: ScoredSample = {
      gameId: "g", seat: 0, actorId: 0, gameIndex: 0, turn: 0, promptIds: [5, 6], generatedIds: [7, 8], logprobs: [-1, -1],
      allowedIds: [[7, 9], null], policyVersion: 0, text: "", advantage: 2,
    };
    const b = packBatch([s, { ...s, promptIds: [5, 6, 6], advantage: -1 }]);
    expect([b.B, b.T]).toEqual([2, 5]);
    expect(Array.from(b.tokens as Int32Array)).toEqual([5, 6, 7, 8, 0, 5, 6, 6, 7, 8]);
    expect(Array.from(b.attentionMask)).toEqual([1, 1, 1, 1, 0, 1, 1, 1, 1, 1]);
    expect(Array.from(b.lossMask)).toEqual([0, 0, 1, 1, 0, 0, 0, 0, 1, 1]);
    expect(Array.from(b.advantages as Float32Array)).toEqual([2, -1]);
    expect(b.constraints?.K).toBe(2);
    expect(Array.from(b.constraints?.constrained as Float32Array)).toEqual([0, 0, 1, 0, 0, 0, 0, 0, 1, 0]);
    expect(Array.from((b.constraints?.allowedIds as Int32Array).subarray(2 * 2, 3 * 2))).toEqual([7, 9]);
  });
});

describe("learner", () => {
  it("the engine's loss graph equals the reference loss on packed real samples (ratios, clipping, normalisation)", async () => {
    const params = initParams(config, createRng("learner"), 0.5);
    const runner = new LossRunner(config, params, { threads: 1 });
    try {
      const batch = await samples(12);
      const { logprobs } = await recomputeLogprobs(runner, batch, 12, 1);
      // Old log-probs off by ±0.3 and ±0.05, so some ratios clip on each side and some do not.
      const shifts = [0.3, -0.3, 0.05, -0.05];
      const old = logprobs.map((lp) => lp.map((x, t) => x + (shifts[t % 4] as number)));
      const ref = referenceLoss(batch.map((s, i) => ({ logprobs: Array.from(logprobs[i]!), oldLogprobs: Array.from(old[i]!), advantage: s.advantage })), { kind: "ppo", clip: 0.2, normalizer: 8 });
      expect(ref.clipFraction).toBeGreaterThan(0.2);
      const grads = new Float32Array(params.data.length);
      const out = await runner.lossAndGrad(packBatch(batch, old), { kind: "ppo", clipEps: 0.2, normalizer: 8, temperature: 1 }, grads);
      // float32 graph vs float64 reference: 1e-5 absolute on O(0.1) quantities.
      expect(Math.abs(out.loss - ref.loss)).toBeLessThan(1e-5);
      expect(Math.abs(out.clipFraction - ref.clipFraction)).toBeLessThan(1e-6);
      expect(Math.abs(out.approxKl - ref.approxKl)).toBeLessThan(1e-5);
    } finally {
      await runner.release();
    }
  });

  it("micro-batching does not change the update (gradient accumulation weights)", async () => {
    const batch = await samples(12);
    const run = async (microBatch: number) => {
      const params = initParams(config, createRng("learner"), 0.5);
      const runner = new LossRunner(config, params, { threads: 1 });
      const optimizer = new AdamW(params.data.length, { lr: 1e-2, beta2: 0.95 });
      const stats = await learnStep({ runner, params, optimizer }, batch, { ...options, microBatch }, createRng(1));
      await runner.release();
      return { params, stats };
    };
    const whole = await run(12);
    const split = await run(5);
    let diff = 0;
    for (let i = 0; i < whole.params.data.length; i++) diff = Math.max(diff, Math.abs((whole.params.data[i] as number) - (split.params.data[i] as number)));
    // Two AdamW steps of lr 1e-2 move weights by ~2e-2; summation order differs only in float32 rounding.
    expect(diff).toBeLessThan(2e-5);
    expect(whole.stats.updates).toBe(2);
    expect(Math.abs(whole.stats.gradNorm - split.stats.gradNorm)).toBeLessThan(1e-4);
    expect(whole.stats.samplerLogprobGap).toBeGreaterThan(0); // the random policy's log-probs are not the model's
  });

  it("micro-batches computed at once on other sessions give the same bits as one after another (workers)", async () => {
    const batch = await samples(12);
    const run = async (withWorkers: boolean) => {
      const params = initParams(config, createRng("learner"), 0.5);
      const runner = new LossRunner(config, params, { threads: 2 });
      // Stand-ins for the worker actors: a one-thread session over a copy of the weights, refreshed
      // per call as the pool's mirror is, finishing the micro-batches in reverse order.
      const copy = initParams(config, createRng("unused"), 0.5);
      const other = new LossRunner(config, copy, { threads: 1 });
      let jobsRun = 0;
      const workers: LearnerWorkers = {
        lossAndGrads: async (jobs) => {
          copy.data.set(params.data);
          const out = jobs.map(() => ({ stats: undefined as unknown as LossStats, grads: new Float32Array(copy.data.length) }));
          for (const j of jobs.keys()) {
            const i = jobs.length - 1 - j;
            const done = out[i] as (typeof out)[number];
            done.stats = await other.lossAndGrad(jobs[i]!.batch, jobs[i]!.settings, done.grads);
            jobsRun++;
          }
          return out;
        },
      };
      const optimizer = new AdamW(params.data.length, { lr: 1e-2 });
      const stats = await learnStep({ runner, params, optimizer, ...(withWorkers ? { workers } : {}) }, batch, { ...options, microBatch: 5, entropyCoef: 0.1 }, createRng(1));
      await runner.release();
      await other.release();
      return { params, stats: { ...stats, seconds: 0 }, jobsRun };
    };
    const alone = await run(false);
    const spread = await run(true);
    expect(alone.jobsRun).toBe(0);
    expect(spread.jobsRun).toBe(6); // 3 micro-batches of 12 rows, 2 epochs
    expect(Buffer.from(spread.params.data.buffer).equals(Buffer.from(alone.params.data.buffer))).toBe(true);
    expect(spread.stats).toEqual(alone.stats);
  });

  // ppoEpochs 1 reports epoch 1's loss, which the fused pass computes from its REINFORCE graph.
  for (const [ppoEpochs, entropyCoef] of [[2, 0], [2, 0.2], [1, 0.2]] as const) it(`taking old log-probs from epoch 1's REINFORCE pass gives the same update as recomputing them first (${ppoEpochs} epochs, entropy bonus ${entropyCoef})`, async () => {
    const batch = await samples(12);
    const run = async (fuseFirstEpoch: boolean) => {
      const params = initParams(config, createRng("learner"), 0.5);
      const runner = new LossRunner(config, params, { threads: 1 });
      const stats = await learnStep({ runner, params, optimizer: new AdamW(params.data.length, { lr: 1e-2 }) }, batch, { ...options, ppoEpochs, fuseFirstEpoch, entropyCoef }, createRng(1));
      await runner.release();
      return { params, stats };
    };
    const fused = await run(true);
    const plain = await run(false);
    let diff = 0;
    for (let i = 0; i < fused.params.data.length; i++) diff = Math.max(diff, Math.abs((fused.params.data[i] as number) - (plain.params.data[i] as number)));
    expect(diff).toBeLessThan(2e-5);
    expect(fused.stats.samplerLogprobGap).toBeCloseTo(plain.stats.samplerLogprobGap, 4);
    expect(Math.abs(fused.stats.loss - plain.stats.loss)).toBeLessThan(1e-5);
    // KL = mean((r − 1) − log r) cancels in float32 inside the graph: compare to 1e-3 relative.
    expect(Math.abs(fused.stats.approxKl - plain.stats.approxKl)).toBeLessThan(1e-3 * plain.stats.approxKl + 1e-7);
  });

  it("a per-game entropy bonus applies to that game's samples only, over the global one", async () => {
    const batch = await samples(8);
    const run = async (extra: Partial<LearnerOptions>) => {
      const params = initParams(config, createRng("learner"), 0.5);
      const runner = new LossRunner(config, params, { threads: 1 });
      await learnStep({ runner, params, optimizer: new AdamW(params.data.length, { lr: 1e-2 }) }, batch, { ...options, ...extra }, createRng(1));
      await runner.release();
      return params.data;
    };
    const maxDiff = (a: Float32Array, b: Float32Array): number => a.reduce((m, x, i) => Math.max(m, Math.abs(x - (b[i] as number))), 0);
    const plain = await run({});
    expect(maxDiff(await run({ entropyCoefByGame: { "KuhnPoker-v1": 0.5 } }), plain)).toBe(0); // no Kuhn samples here
    const global = await run({ entropyCoef: 0.5 });
    expect(maxDiff(global, plain)).toBeGreaterThan(1e-4);
    expect(maxDiff(await run({ entropyCoef: 0.1, entropyCoefByGame: { "TicTacToe-v0": 0.5 } }), global)).toBe(0);
    expect(maxDiff(await run({ entropyCoef: 0.5, entropyCoefByGame: { "TicTacToe-v0": 0 } }), plain)).toBe(0);
  });

  it("raises the log-prob of replies with positive advantage and lowers the others", async () => {
    const batch = await samples(8);
    const params = initParams(config, createRng("learner"), 0.5);
    const runner = new LossRunner(config, params, { threads: 1 });
    try {
      const before = await recomputeLogprobs(runner, batch, 8, 1);
      await learnStep({ runner, params, optimizer: new AdamW(params.data.length, { lr: 3e-3 }) }, batch, options, createRng(1));
      const after = await recomputeLogprobs(runner, batch, 8, 1);
      const sum = (a: Float32Array) => a.reduce((x, y) => x + y, 0);
      let agree = 0;
      batch.forEach((s, i) => {
        if (Math.sign(sum(after.logprobs[i]!) - sum(before.logprobs[i]!)) === Math.sign(s.advantage)) agree++;
      });
      expect(agree).toBeGreaterThanOrEqual(7);
    } finally {
      await runner.release();
    }
  });
});
