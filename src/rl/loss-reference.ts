/**
 * The policy losses in plain TypeScript: the reference the engine's ONNX loss graph is tested
 * against, and the definition of every number the learner logs (docs/training.md, "One policy step" 4).
 *
 * For N samples, sample i with advantage A_i and generated tokens t = 1..G_i, with the learner's
 * current log-probs ℓ_it and the "old" log-probs o_it (recomputed by the learner before epoch 1):
 *
 *   r_it        = exp(ℓ_it − o_it)
 *   PPO-clip    L_it = −min(r_it·A_i, clip(r_it, 1−ε, 1+ε)·A_i)            ε = 0.2
 *   REINFORCE   L_it = −A_i·ℓ_it
 *   Dr.GRPO     L    = (1/N) Σ_i (1/C) Σ_t L_it                            C = max new tokens
 *
 * C is a constant, not G_i: dividing by each sample's own length would favour long losing and
 * short winning replies (the length bias Dr.GRPO removes). No KL term, no advantage whitening,
 * and by default (the paper) no entropy bonus. With `optim.entropyCoef` β > 0 every generated
 * token's loss also gets −β·H_it, H_it the entropy of the (allowed-set) next-token distribution,
 * normalised like the rest: L += −(β/(N·C)) Σ_i Σ_t H_it. H needs the whole distribution, so that
 * term lives only in the engine's graph (checked there, engine/train/loss.test.ts).
 *
 * Diagnostics, over all generated tokens of the batch:
 *   clip fraction = share of tokens where the clipped branch is strictly smaller in the min
 *                   (those tokens get zero gradient)
 *   approx KL     = mean of (r − 1) − log r   (non-negative, k3 estimator of KL(old‖new))
 *
 * Gradient: ∂L/∂ℓ_it = −(1/(N·C))·r_it·A_i where the unclipped branch is taken, 0 where clipped;
 * −(1/(N·C))·A_i for REINFORCE.
 */

export type LossKind = "ppo" | "reinforce";

export interface LossSample {
  /** Current log-probs of the generated tokens [G]. */
  readonly logprobs: readonly number[];
  /** Old log-probs [G] (ignored by REINFORCE). */
  readonly oldLogprobs: readonly number[];
  readonly advantage: number;
}

export interface LossOptions {
  readonly kind: LossKind;
  /** ε of PPO-clip. */
  readonly clip: number;
  /** The Dr.GRPO constant C (the max generation length). */
  readonly normalizer: number;
}

export interface LossResult {
  readonly loss: number;
  readonly clipFraction: number;
  readonly approxKl: number;
  /** ∂loss/∂logprobs [N][G]. */
  readonly gradLogprobs: number[][];
  readonly tokens: number;
}

export function referenceLoss(samples: readonly LossSample[], options: LossOptions): LossResult {
  if (!(options.normalizer > 0)) throw new Error(`loss normalizer (max new tokens) must be > 0; got ${options.normalizer}`);
  if (!(options.clip >= 0)) throw new Error(`PPO clip ε must be ≥ 0; got ${options.clip}`);
  const n = samples.length;
  if (n === 0) return { loss: 0, clipFraction: 0, approxKl: 0, gradLogprobs: [], tokens: 0 };
  const scale = 1 / (n * options.normalizer);
  let loss = 0;
  let clipped = 0;
  let kl = 0;
  let tokens = 0;
  const gradLogprobs: number[][] = [];
  for (const s of samples) {
    if (s.logprobs.length !== s.oldLogprobs.length) {
      throw new Error(`loss: a sample has ${s.logprobs.length} log-probs but ${s.oldLogprobs.length} old log-probs`);
    }
    const a = s.advantage;
    const grad: number[] = [];
    s.logprobs.forEach((lp, t) => {
      const logRatio = lp - (s.oldLogprobs[t] as number);
      const r = Math.exp(logRatio);
      kl += r - 1 - logRatio;
      tokens++;
      if (options.kind === "reinforce") {
        loss += -a * lp * scale;
        grad.push(-a * scale);
        return;
      }
      const unclipped = r * a;
      const clippedTerm = Math.min(Math.max(r, 1 - options.clip), 1 + options.clip) * a;
      if (clippedTerm < unclipped) {
        loss += -clippedTerm * scale;
        clipped++;
        grad.push(0);
      } else {
        loss += -unclipped * scale;
        grad.push(-unclipped * scale);
      }
    });
    gradLogprobs.push(grad);
  }
  return {
    loss,
    clipFraction: tokens === 0 ? 0 : clipped / tokens,
    approxKl: tokens === 0 ? 0 : kl / tokens,
    gradLogprobs,
    tokens,
  };
}
