/**
 * The learner step: PPO-clip with Dr.GRPO normalisation (or REINFORCE) over one step's scored
 * samples (docs/training.md, "One policy step" 4). The loss itself is the engine's graph (engine/train/loss.ts); its formulas are
 * stated, and checked, in `loss-reference.ts`.
 *
 * One call of `learnStep`:
 * 1. Pack: each sample is one row, prompt ++ generated tokens, right-padded to the micro-batch's
 *    longest row; loss mask 1 on generated tokens; constrained steps carry their allowed ids.
 * 2. Old log-probs: recomputed by the learner under the current weights, before epoch 1 (not the
 *    sampler's: the ratio starts at exactly 1 whatever the numerical differences between the
 *    sampler's and the learner's graphs; their gap is logged as `samplerLogprobGap`). With one
 *    update per epoch they come out of epoch 1's own pass (see `fused` below). On a GPU
 *    (`engine.device`) they stay in device memory for the later epochs, and the logged per-token
 *    statistics are reduced there: a learner step brings back scalars only (docs/device.md).
 * 3. `ppoEpochs` epochs; each splits the batch into `minibatches` shuffled minibatches, one AdamW
 *    update per minibatch. A minibatch is run in micro-batches of `microBatch` rows whose
 *    gradients are summed with weight (rows in micro-batch / rows in minibatch), so the update
 *    equals the one full-minibatch graph would give: loss = (1/N) Σ_i (1/C) Σ_t L_it. Rows are
 *    grouped by length first, so a micro-batch of short TicTacToe prompts is not padded to the
 *    length of a negotiation prompt.
 * 4. The summed gradient is clipped to global norm `gradClip`, then AdamW (β 0.9/0.95, wd 0).
 *    A non-finite gradient norm skips the update (counted in `skippedUpdates`).
 */
import { byLength, chunks, generatedSlice, packRows, recomputeLogprobs, type LossBatch, type LossRunner, type LossSettings, type LossStats } from "../engine/train/loss-runner.js";
import type { DeviceTraining } from "../engine/train/device-training.js";
import type { DynamicLossScale } from "../engine/train/loss-scale.js";
import type { LogprobStore } from "../engine/train/device-logprobs.js";
import type { OrtTensor } from "../engine/graph/session.js";
import { clipFactor, gradNorm, type AdamW } from "../engine/train/optimizer.js";
import type { Params } from "../engine/weights/params.js";
import type { Rng } from "../core/rng.js";
import type { ScoredSample } from "./types.js";

export interface LearnerOptions {
  readonly loss: "ppo" | "reinforce";
  readonly ppoEpochs: number;
  readonly clip: number;
  /** The Dr.GRPO constant C: the max generation length. */
  readonly normalizer: number;
  readonly microBatch: number;
  readonly minibatches: number;
  readonly gradClip: number;
  /** The sampling temperature the log-probs are taken under. */
  readonly temperature: number;
  readonly lr: number;
  /** Entropy bonus β (0: none, the paper): −β·H per generated token, normalised like the loss. */
  readonly entropyCoef?: number;
  /** β for the samples of particular games, over `entropyCoef`. */
  readonly entropyCoefByGame?: Readonly<Record<string, number>>;
  /** Take the old log-probs from epoch 1's own pass when that is exact (default true); see `learnStep`. */
  readonly fuseFirstEpoch?: boolean;
  /**
   * PPO's old log-probs are the sampler's (`Sample.logprobs`, the behaviour policy that produced
   * each sample) instead of recomputed under the current weights: asynchronous acting, where a
   * sample may come from an older version. `samplerLogprobGap` then compares them with epoch 1's
   * log-probs under the current weights (staleness plus engine mismatch).
   */
  readonly behaviourLogprobs?: boolean;
}

/**
 * Other learner sessions that run micro-batches in parallel (the worker-thread actors between
 * collects, actor-pool.ts `lossAndGrads`): results in job order, gradients in the trained layout.
 */
export interface LearnerWorkers {
  lossAndGrads(jobs: readonly { readonly batch: LossBatch; readonly settings: LossSettings }[]): Promise<readonly { readonly stats: LossStats; readonly grads: Float32Array }[]>;
}

export interface LearnerEngine {
  readonly runner: LossRunner;
  /**
   * CPU only: a minibatch's micro-batches run at once on these sessions (one thread each) instead
   * of one after another on `runner`; the summed gradient is the same bits (see `learnStep`).
   */
  readonly workers?: LearnerWorkers;
  readonly params: Params;
  readonly optimizer: AdamW;
  /**
   * On a GPU: parameters, gradients and moments in device memory, the update a graph there
   * (device-training.ts). `params.data` and the optimiser's moments are then stale until `toHost`.
   */
  readonly device?: DeviceTraining;
  /**
   * precision fp16 (with `device`): the dynamic loss scale; the backward is seeded with its S, the
   * gradients are summed with weight w/S, and an update whose norm is not finite halves it
   * (engine/train/loss-scale.ts).
   */
  readonly lossScale?: DynamicLossScale;
}

export interface LearnerStats {
  readonly loss: number;
  readonly clipFraction: number;
  readonly approxKl: number;
  /** Mean entropy of the next-token distribution over generated tokens (last epoch). */
  readonly entropy: number;
  /** Mean pre-clip global gradient norm over updates. */
  readonly gradNorm: number;
  readonly updates: number;
  readonly skippedUpdates: number;
  /** precision fp16: the loss scale after this step (absent in fp32). */
  readonly lossScale?: number;
  /** Largest |sampler log-prob − learner log-prob| over generated tokens, before any update. */
  readonly samplerLogprobGap: number;
  readonly tokens: number;
  readonly seconds: number;
}

/** Packs samples into one right-padded batch (see the file comment and the engine's `packRows`). */
export function packBatch(samples: readonly ScoredSample[], oldLogprobs?: readonly Float32Array[], entropyCoefOf?: (s: ScoredSample) => number): LossBatch {
  if (samples.length === 0) throw new Error("packBatch needs at least one sample");
  samples.forEach((s, b) => {
    if (s.generatedIds.length === 0) throw new Error(`sample ${b} (${s.gameId}) has no generated tokens`);
  });
  return packRows(samples, {
    advantages: samples.map((s) => s.advantage),
    ...(oldLogprobs === undefined ? {} : { oldLogprobs }),
    ...(entropyCoefOf === undefined ? {} : { entropyCoefs: samples.map(entropyCoefOf) }),
  });
}

/** Learner log-probs of every sample's generated tokens under the current weights (the engine's). */
export { recomputeLogprobs } from "../engine/train/loss-runner.js";

export async function learnStep(engine: LearnerEngine, samples: readonly ScoredSample[], options: LearnerOptions, rng: Rng): Promise<LearnerStats> {
  // On the device the old log-probs stay there for the step's epochs (device-logprobs.ts).
  const store = engine.device?.logprobs.store<ScoredSample>();
  try {
    return await learn(engine, samples, options, rng, store);
  } finally {
    store?.release();
  }
}

async function learn(engine: LearnerEngine, samples: readonly ScoredSample[], options: LearnerOptions, rng: Rng, store: LogprobStore<ScoredSample> | undefined): Promise<LearnerStats> {
  const started = performance.now();
  if (samples.length === 0) {
    return { loss: 0, clipFraction: 0, approxKl: 0, entropy: 0, gradNorm: 0, updates: 0, skippedUpdates: 0, samplerLogprobGap: 0, tokens: 0, seconds: 0 };
  }
  const { runner, params, optimizer, workers } = engine;
  const entropyCoefOf = (s: ScoredSample): number => options.entropyCoefByGame?.[s.gameId] ?? options.entropyCoef ?? 0;

  // With one update per epoch, the first epoch runs entirely on the pre-update weights, where
  // every PPO ratio is exactly 1 and the PPO gradient equals the REINFORCE gradient −A·∇logp/(N·C).
  // So epoch 1 runs the REINFORCE graph, whose log-prob output IS the recomputed old log-probs:
  // one forward pass per sample saved, same update.
  const behaviour = options.behaviourLogprobs === true;
  const fused = !behaviour && options.minibatches === 1 && options.fuseFirstEpoch !== false;
  const device = engine.device;
  const oldOf = new Map<ScoredSample, Float32Array>();
  let gap = 0;
  const noteOld = (s: ScoredSample, lp: Float32Array): void => {
    oldOf.set(s, lp);
    s.logprobs.forEach((x, t) => (gap = Math.max(gap, Math.abs(x - (lp[t] as number)))));
  };
  const noteOldOnDevice = async (part: readonly ScoredSample[], batch: LossBatch, lp: OrtTensor, keep: boolean): Promise<void> => {
    const { ref, mask } = samplerGrid(part, batch.T);
    gap = Math.max(gap, await (store as LogprobStore<ScoredSample>).gap(lp, ref, mask));
    if (keep) (store as LogprobStore<ScoredSample>).keep(part, batch.T, lp);
    else lp.dispose();
  };
  if (!fused && device === undefined) {
    const before = await recomputeLogprobs(runner, samples, options.microBatch, options.temperature);
    samples.forEach((s, i) => noteOld(s, before.logprobs[i] as Float32Array));
  } else if (!fused) {
    for (const part of chunks(byLength(samples), options.microBatch)) {
      const batch = packRows(part);
      const { logprobs } = await runner.computeLogprobsOnDevice(batch, options.temperature, batch.lossMask);
      if (logprobs !== undefined) await noteOldOnDevice(part, batch, logprobs, !behaviour);
    }
  }
  // The recomputation only measured the gap: the ratio is taken against the behaviour policy.
  if (behaviour) for (const s of samples) oldOf.set(s, Float32Array.from(s.logprobs));

  // On the device the gradients are summed there (DeviceTraining); these stay empty.
  const grads = new Float32Array(device === undefined ? params.data.length : 0);
  const micro = new Float32Array(device === undefined ? params.data.length : 0);
  const sums = { loss: 0, clip: 0, kl: 0, entropy: 0, tokens: 0, statTokens: 0, gradNorm: 0, updates: 0, skipped: 0 };
  const lastEpoch = options.loss === "ppo" ? options.ppoEpochs : 1;
  for (let epoch = 1; epoch <= lastEpoch; epoch++) {
    const order = options.minibatches > 1 ? rng.shuffle(samples) : samples.slice();
    const size = Math.ceil(order.length / options.minibatches);
    for (const minibatch of chunks(order, size)) {
      grads.fill(0);
      const firstFused = fused && epoch === 1;
      const scale = engine.lossScale?.scale;
      const settings = { kind: firstFused ? "reinforce" : options.loss, temperature: options.temperature, clipEps: options.clip, normalizer: options.normalizer, ...(scale === undefined ? {} : { lossScale: scale }) } as const;
      const jobs = chunks(byLength(minibatch), options.microBatch).map((part) => {
        // Old log-probs from the host: the CPU's, and the behaviour policy's on any device.
        const hostOld = firstFused || (device !== undefined && !behaviour) ? undefined : part.map((s) => oldOf.get(s) as Float32Array);
        return { part, hostOld, batch: packBatch(part, hostOld, entropyCoefOf), settings };
      });
      // Micro-batches are independent until their gradients are summed: the workers compute them
      // at once, and the sum below runs in the same order either way, so the update is the same bits.
      const parallel = device === undefined && workers !== undefined && jobs.length > 1 ? await workers.lossAndGrads(jobs) : undefined;
      for (const [j, { part, batch, hostOld }] of jobs.entries()) {
        const w = part.length / minibatch.length;
        let out: { loss: number; clipFraction: number; approxKl: number; entropySum: number };
        if (device === undefined) {
          const done = parallel?.[j];
          let run: LossStats;
          let g: Float32Array = micro;
          if (done === undefined) {
            micro.fill(0);
            run = await runner.lossAndGrad(batch, settings, micro);
          } else {
            ({ stats: run, grads: g } = done);
          }
          for (let i = 0; i < grads.length; i++) grads[i] = (grads[i] as number) + w * (g[i] as number);
          if (firstFused) generatedSlice(part, batch.T, run.logprobs).forEach((lp, i) => noteOld(part[i] as ScoredSample, lp));
          const loss = firstFused && options.loss === "ppo" ? reinforceAsPpoLoss(part, batch, run.entropy, options.normalizer) : run.loss;
          out = { loss, clipFraction: run.clipFraction, approxKl: run.approxKl, entropySum: run.entropy.reduce((a, h) => a + h, 0) };
        } else {
          const old = settings.kind === "ppo" && hostOld === undefined ? await (store as LogprobStore<ScoredSample>).batch(part, batch.T) : undefined;
          const run = await runner.lossAndGradOnDevice(batch, settings, old?.tensor);
          if (old?.owned === true) old.tensor.dispose();
          // fp16: the gradients came out scaled by S; w/S unscales them as they are summed in float32.
          if (run.grads !== undefined) await device.addGradients(run.grads, scale === undefined ? w : w / scale);
          if (firstFused && run.logprobs !== undefined) await noteOldOnDevice(part, batch, run.logprobs, true);
          else run.logprobs?.dispose();
          const { stats } = run;
          const loss = firstFused && options.loss === "ppo" ? reinforceAsPpoLossFromSums(part, stats.entropyBonusSum, options.normalizer) : stats.loss;
          out = { loss, clipFraction: stats.clipFraction, approxKl: stats.approxKl, entropySum: stats.entropySum };
        }
        const tokens = part.reduce((n, s) => n + s.generatedIds.length, 0);
        if (epoch === lastEpoch) {
          sums.loss += out.loss * w;
          sums.clip += out.clipFraction * tokens;
          sums.kl += out.approxKl * tokens;
          sums.statTokens += tokens;
          sums.entropy += out.entropySum;
          sums.tokens += tokens;
        }
      }
      // On the device, clip and update are one graph, which leaves everything as it was on a
      // non-finite norm.
      const norm = device === undefined ? gradNorm(grads) : await device.step(options.gradClip, options.lr);
      engine.lossScale?.update(Number.isFinite(norm));
      if (!Number.isFinite(norm)) {
        sums.skipped++;
        continue;
      }
      sums.gradNorm += norm;
      // The clip is applied as AdamW reads each gradient: clipGradNorm + step, one pass fewer.
      if (device === undefined) optimizer.step(params.data, grads, options.lr, clipFactor(norm, options.gradClip));
      sums.updates++;
    }
  }
  const minibatchesPerEpoch = Math.ceil(samples.length / Math.ceil(samples.length / options.minibatches));
  return {
    loss: sums.loss / minibatchesPerEpoch,
    clipFraction: sums.statTokens === 0 ? 0 : sums.clip / sums.statTokens,
    approxKl: sums.statTokens === 0 ? 0 : sums.kl / sums.statTokens,
    entropy: sums.tokens === 0 ? 0 : sums.entropy / sums.tokens,
    gradNorm: sums.updates === 0 ? 0 : sums.gradNorm / sums.updates,
    updates: sums.updates,
    skippedUpdates: sums.skipped,
    ...(engine.lossScale === undefined ? {} : { lossScale: engine.lossScale.scale }),
    samplerLogprobGap: gap,
    tokens: samples.reduce((n, s) => n + s.generatedIds.length, 0),
    seconds: (performance.now() - started) / 1000,
  };
}

/** The sampler's log-probs of each row's generated tokens on the [B, T] grid, and where they are. */
function samplerGrid(part: readonly ScoredSample[], T: number): { ref: Float32Array; mask: Float32Array } {
  const ref = new Float32Array(part.length * T);
  const mask = new Float32Array(part.length * T);
  part.forEach((s, b) => {
    const at = b * T + s.promptIds.length;
    s.logprobs.forEach((x, j) => {
      ref[at + j] = x;
      mask[at + j] = 1;
    });
  });
  return { ref, mask };
}

/** `reinforceAsPpoLoss` from the graph's Σ β_b·H_bt (a GPU run, where only scalars come back). */
function reinforceAsPpoLossFromSums(part: readonly ScoredSample[], entropyBonusSum: number, normalizer: number): number {
  return -(part.reduce((a, s) => a + s.advantage * s.generatedIds.length, 0) + entropyBonusSum) / (part.length * normalizer);
}

/**
 * The PPO loss of a fused first-epoch micro-batch, where every ratio is 1: −(1/N)·Σ_i (A_i·G_i +
 * β_i·Σ_t H_it) / C (the REINFORCE graph reports −A·logp instead). The entropy output is 0 off the
 * generated tokens, so a row sums to Σ_t H_it.
 */
function reinforceAsPpoLoss(part: readonly ScoredSample[], batch: LossBatch, entropy: Float32Array, normalizer: number): number {
  const rowEntropy = (b: number): number => entropy.subarray(b * batch.T, (b + 1) * batch.T).reduce((a, h) => a + h, 0);
  return -part.reduce((a, s, b) => a + s.advantage * s.generatedIds.length + (batch.entropyCoefs?.[b] ?? 0) * rowEntropy(b), 0) / (part.length * normalizer);
}
