/**
 * The learner's graphs: per-token log-probs and the policy loss with all parameter gradients, in
 * one ONNX graph per variant (one session run per micro-batch).
 *
 * Dimension legend: B samples, T tokens per row (prompt + generation, padded), V vocab,
 * K allowed ids per constrained position.
 *
 * Alignment: per-token arrays [B, T] are indexed by the token they score. logprobs[b, t] is
 * log p(tokens[b, t] | tokens[b, <t]) under logits / temperature; column 0 (no context) is 0.
 * lossMask[b, t] = 1 on generated tokens; oldLogprobs[b, t] likewise.
 * Positions follow HF: position = (number of real tokens before this one), so left padding is free.
 *
 * Losses (docs/training.md, "One policy step" 4; the same formulas as rl/loss-reference.ts), with r = exp(logp − oldLogp):
 *   ppo        L_bt = −min(r·A_b, clip(r, 1−ε, 1+ε)·A_b)
 *   reinforce  L_bt = −A_b · logp
 *   loss = mean_b ( Σ_t lossMask·L_bt / normalizer )       (Dr.GRPO: a constant, not the length)
 *   with an entropy bonus (off unless built with `entropyBonus`): L_bt −= β_b·H_bt, β_b the
 *   sample's coefficient, H_bt the entropy of the (restricted) next-token distribution at t
 *   xent       loss = Σ lossMask·(−logp) / Σ lossMask      (plain next-token cross-entropy, for tests
 *                                                          and supervised warm-up)
 * Diagnostics over tokens with lossMask = 1: clipFraction (the clipped branch strictly smaller in
 * the min), approxKl = mean((r − 1) − log r).
 *
 * Constrained decoding: where constrained[b, t] = 1 the sampler drew tokens[b, t] from the ids
 * allowedIds[b, t, 0..K) whose allowedMask is 1 (padding entries 0), so the learner uses
 *   logp = z[tok] − logsumexp_{k: mask = 1} z[allowedIds[k]],   z = logits / temperature
 * and the entropy of that restricted distribution; elsewhere the full vocabulary.
 */
import type { ModelConfig } from "../model/config.js";
import { Graph, type Tensor, attr } from "../graph/builder.js";
import { gradients } from "../graph/autodiff.js";
import * as op from "../graph/ops/index.js";
import { type FloatType, MASKED, causalPaddingBias, declareParams, lmHead, qwen3Hidden } from "../model/model.js";
import { declareAdapter, type LoraConfig } from "../model/lora.js";
import type { HalfDtype } from "../weights/half.js";
import { paramShapes } from "../weights/params.js";
import type { Device } from "../graph/device.js";

export type LossKind = "ppo" | "reinforce" | "xent";

export interface LossGraphOptions {
  /** Which loss; `undefined` builds the forward-only log-prob graph (no loss, no gradients). */
  readonly kind?: LossKind;
  /** Adds the allowedIds / allowedMask / constrained inputs. */
  readonly constrained?: boolean;
  /** Adds the per-token entropy output (default true). */
  readonly entropy?: boolean;
  /** ppo / reinforce: adds the `entropy_coef` input and the entropy bonus term (needs `entropy`). */
  readonly entropyBonus?: boolean;
  /** float32 (default) for training; float64 builds the same graph in double for gradient checks. */
  readonly dtype?: FloatType;
  /**
   * A LoRA adapter of this shape on the frozen base (lora.ts): its tensors become inputs and the
   * gradient outputs are `grad.<adapter tensor>` only; the base gets none.
   */
  readonly lora?: LoraConfig;
  /** A frozen base whose projections are held in 16 bits (engine/weights/half.ts); LoRA only. */
  readonly half?: HalfDtype;
  /**
   * The device the graph is for (default "cpu"). "webgpu" records the same maths with no host
   * work: runtime shapes come in as `dims(…)` inputs (filled by GraphSession), int64 picks are
   * replaced by the inputs `score_tokens` [N, 1] and `score_allowed_ids` [N, K] (the runner picks
   * them in JS), and LogSoftmax is z − logsumexp(z) (no WebGPU kernel). docs/device.md.
   */
  readonly device?: Device;
}

/** Graph input and output names (the runner and other engine code feed and fetch by these). */
export const lossNames = {
  tokens: "tokens",
  attentionMask: "attention_mask",
  lossMask: "loss_mask",
  advantages: "advantages",
  oldLogprobs: "old_logprobs",
  temperature: "temperature",
  clipEps: "clip_eps",
  normalizer: "normalizer",
  entropyCoef: "entropy_coef",
  scoreIndex: "score_index",
  scoreTokens: "score_tokens",
  scoreAllowedIds: "score_allowed_ids",
  allowedIds: "allowed_ids",
  allowedMask: "allowed_mask",
  constrained: "constrained",
  loss: "loss",
  logprobs: "logprobs",
  entropy: "entropy",
  clipFraction: "clip_fraction",
  approxKl: "approx_kl",
  /** webgpu only: Σ entropy over the scored tokens (the learner's logged mean, without the [B, T] grid). */
  entropySum: "entropy_sum",
  /** webgpu only, with the entropy bonus: Σ β_b·H_bt over the scored tokens (the fused epoch's PPO loss). */
  entropyBonusSum: "entropy_bonus_sum",
  gradPrefix: "grad.",
} as const;

/**
 * HF positions from a [B, T] 0/1 mask: cumsum − 1, clamped at 0 on leading padding. For webgpu in
 * the mask's float type (exact for integers below 2²⁴; the rotary tables are float anyway): WGSL
 * has no 64-bit integers, so int64 arithmetic would run on the host there.
 */
export function positionsFromMask(g: Graph, mask: Tensor): Tensor {
  const f = g.target === "webgpu" ? mask.dtype : "int64";
  const m = g.target === "webgpu" ? mask : op.cast(g, mask, f);
  const cum = g.op1("CumSum", [m, g.scalar(1, "int64")], {}, { dtype: f, shape: mask.shape });
  return op.max(g, op.sub(g, cum, g.scalar(1, f)), g.scalar(0, f));
}

/** log Σ exp over the last axis, keepdims; stable (max-shifted) and differentiable. */
function logSumExp(g: Graph, z: Tensor): Tensor {
  const m = op.reduceMax(g, z, [-1], true);
  return op.add(g, m, op.log(g, op.reduceSum(g, op.exp(g, op.sub(g, z, m)), [-1], true)));
}

/** Entropy −Σ p·log p of the distribution with log-probs `lp` over the last axis. */
function entropyOf(g: Graph, lp: Tensor): Tensor {
  return op.neg(g, op.reduceSum(g, op.mul(g, op.exp(g, lp), lp), [-1]));
}

/** Pads a [B, T−1] per-token tensor with a zero column in front → [B, T]. */
function padFront(g: Graph, x: Tensor, T: string | number): Tensor {
  return g.op1("Pad", [x, g.ints([0, 1, 0, 0])], { mode: attr.string("constant") }, {
    dtype: x.dtype,
    shape: [x.shape[0] as string | number, T],
  });
}

export interface LossGraph {
  readonly graph: Graph;
  readonly options: LossGraphOptions;
}

export function buildLossGraph(config: ModelConfig, options: LossGraphOptions = {}): LossGraph {
  const n = lossNames;
  const g = new Graph(options.kind ? `loss-${options.kind}` : "logprobs");
  const gpu = options.device === "webgpu";
  if (gpu) g.target = "webgpu";
  const f = options.dtype ?? "float32";
  if (options.half !== undefined && options.kind !== undefined && options.lora === undefined) {
    throw new Error("buildLossGraph: a 16-bit base is frozen; only a LoRA adapter can train on it");
  }
  const params = declareParams(g, config, f, options.half);
  const adapterNames = options.lora ? declareAdapter(g, config, options.lora, f, params) : undefined;
  const tokens = g.input(n.tokens, "int64", ["B", "T"]);
  const mask = g.input(n.attentionMask, f, ["B", "T"]);
  const temperature = g.input(n.temperature, f, []);

  const { hidden } = qwen3Hidden(g, config, params, { tokens, positions: positionsFromMask(g, mask), bias: causalPaddingBias(g, mask) });
  // Position t predicts token t+1: hidden[:, :-1] scores tokens[:, 1:]. Only the N scored
  // positions (score_index into the flattened [B·(T-1)] grid) go through the LM head: prompts are
  // most of an RL batch, and with a 152k vocabulary the head and its [N, V] log-softmax dominate.
  const scoreIndex = g.input(n.scoreIndex, "int64", ["N"]);
  const pick = (t: Tensor): Tensor => op.gather(g, op.flatten2d(g, op.slice(g, t, [1], [op.TO_END], [1])), scoreIndex);
  const pick1 = (t: Tensor): Tensor => op.squeeze(g, pick(op.unsqueeze(g, t, [-1])), [-1]);
  const hs = op.gatherDistinct(g, op.flatten2d(g, op.slice(g, hidden, [0], [-1], [1])), scoreIndex); // [N, C]
  // WGSL has no 64-bit integers: on webgpu the token ids to score come in already picked.
  const scored = gpu ? g.input(n.scoreTokens, "int64", ["N", 1]) : pick1(tokens); // [N, 1] on webgpu, else [N]
  const target1 = (): Tensor => (gpu ? scored : op.unsqueeze(g, scored, [-1])); // [N, 1]
  const z = op.div(g, lmHead(g, config, params, hs), temperature); // [N, V]
  const lsFull = gpu ? op.sub(g, z, logSumExp(g, z)) : op.logSoftmax(g, z, -1); // [N, V]
  let logp = op.squeeze(g, op.gatherElements(g, lsFull, target1(), 1), [-1]); // [N]
  let entropy = options.entropy === false ? undefined : entropyOf(g, lsFull); // [N]

  if (options.constrained) {
    const ids = gpu ? g.input(n.scoreAllowedIds, "int64", ["N", "K"]) : pick(g.input(n.allowedIds, "int64", ["B", "T", "K"])); // [N, K]
    const allowed = pick(g.input(n.allowedMask, f, ["B", "T", "K"])); // [N, K]
    const flag = op.cast(g, pick1(g.input(n.constrained, f, ["B", "T"])), "bool"); // [N]
    // Masked-out entries get a large negative logit; a row with no allowed ids stays finite.
    const penalty = op.mul(g, op.sub(g, allowed, g.scalar(1, f)), g.scalar(-MASKED, f));
    const zc = op.add(g, op.gatherElements(g, z, ids, 1), penalty); // [N, K]
    const lse = op.squeeze(g, logSumExp(g, zc), [-1]); // [N]
    const zTok = op.squeeze(g, op.gatherElements(g, z, target1(), 1), [-1]); // [N]
    logp = op.where(g, flag, op.sub(g, zTok, lse), logp);
    if (entropy) {
      const lpc = op.sub(g, zc, op.unsqueeze(g, lse, [-1])); // [N, K]
      entropy = op.where(g, flag, entropyOf(g, lpc), entropy);
    }
  }

  // Back onto the [B, T] grid (zeros where not scored) for the outputs.
  const grid = op.slice(g, mask, [1], [op.TO_END], [1]); // [B, T-1], only its shape is used
  const unscore = (v: Tensor): Tensor => {
    const flat = op.reshape(g, op.zerosLike(g, grid), ["B*(T-1)"]);
    const scattered = op.scatterNDAdd(g, flat, op.unsqueeze(g, scoreIndex, [-1]), v);
    return padFront(g, op.reshapeLike(g, scattered, grid), "T");
  };
  g.output(unscore(logp), n.logprobs);
  if (entropy) g.output(unscore(entropy), n.entropy);
  // On a GPU the learner reads these scalars instead of bringing the [B, T] grids back.
  if (gpu && entropy) g.output(op.reduceSum(g, entropy, [0]), n.entropySum);
  if (!options.kind) return { graph: g, options };

  const lossMask = pick1(g.input(n.lossMask, f, ["B", "T"])); // [N]
  const tokenCount = op.max(g, op.reduceSum(g, lossMask, [0]), g.scalar(1, f));
  let loss: Tensor;
  if (options.kind === "xent") {
    loss = op.div(g, op.neg(g, op.reduceSum(g, op.mul(g, logp, lossMask), [0])), tokenCount);
  } else {
    const advantages = g.input(n.advantages, f, ["B"]);
    // A_b per scored token: broadcast over the grid, then picked like everything else.
    const adv = pick1(op.expandLike(g, op.unsqueeze(g, advantages, [1]), mask)); // [N]
    const normalizer = g.input(n.normalizer, f, []);
    let perToken: Tensor; // [N]
    if (options.kind === "reinforce") {
      perToken = op.neg(g, op.mul(g, adv, logp));
    } else {
      const old = pick1(g.input(n.oldLogprobs, f, ["B", "T"])); // [N]
      const eps = g.input(n.clipEps, f, []);
      const logRatio = op.sub(g, logp, old);
      const ratio = op.exp(g, logRatio);
      const one = g.scalar(1, f);
      const unclipped = op.mul(g, ratio, adv);
      const clipped = op.mul(g, op.clip(g, ratio, op.sub(g, one, eps), op.add(g, one, eps)), adv);
      perToken = op.neg(g, op.min(g, unclipped, clipped));
      const isClipped = op.cast(g, op.less(g, clipped, unclipped), f);
      g.output(op.div(g, op.reduceSum(g, op.mul(g, isClipped, lossMask), [0]), tokenCount), n.clipFraction);
      const kl = op.sub(g, op.sub(g, ratio, one), logRatio);
      g.output(op.div(g, op.reduceSum(g, op.mul(g, kl, lossMask), [0]), tokenCount), n.approxKl);
    }
    if (options.entropyBonus) {
      if (!entropy) throw new Error("Loss graph: the entropy bonus needs the entropy output");
      // −β_b·H_bt on every generated token (β per sample), normalised like the policy term.
      const coef = pick1(op.expandLike(g, op.unsqueeze(g, g.input(n.entropyCoef, f, ["B"]), [1]), mask)); // [N]
      const bonus = op.mul(g, coef, entropy);
      if (gpu) g.output(op.reduceSum(g, op.mul(g, bonus, lossMask), [0]), n.entropyBonusSum);
      perToken = op.sub(g, perToken, bonus);
    }
    // mean_b (Σ_t L_bt / normalizer) = Σ_all L / (normalizer · B)
    // B as a float: Size is host work on webgpu, where Σ(0·A + 1) gives the same exact integer.
    const batch = gpu
      ? op.reduceSum(g, op.add(g, op.mul(g, advantages, g.scalar(0, f)), g.scalar(1, f)), [0])
      : op.cast(g, g.op1("Size", [advantages], {}, { dtype: "int64", shape: [] }), f);
    loss = op.div(g, op.reduceSum(g, op.mul(g, perToken, lossMask), [0]), op.mul(g, normalizer, batch));
  }
  g.output(loss, n.loss);

  const names = adapterNames ?? paramShapes(config).map((p) => p.name);
  const wrt = names.map((name) => params.get(name) as Tensor);
  const grads = gradients(g, loss, wrt);
  grads.forEach((grad, i) => {
    const name = names[i] as string;
    if (!grad) throw new Error(`Loss graph: no gradient reaches parameter ${name}`);
    g.output(grad, n.gradPrefix + name);
  });
  return { graph: g, options };
}
