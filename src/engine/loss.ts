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
 * Losses (SPEC §1.4, the same formulas as rl/loss-reference.ts), with r = exp(logp − oldLogp):
 *   ppo        L_bt = −min(r·A_b, clip(r, 1−ε, 1+ε)·A_b)
 *   reinforce  L_bt = −A_b · logp
 *   loss = mean_b ( Σ_t lossMask·L_bt / normalizer )       (Dr.GRPO: a constant, not the length)
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
import type { ModelConfig } from "./config.js";
import { Graph, type Tensor, attr } from "./graph/builder.js";
import { gradients } from "./graph/autodiff.js";
import * as op from "./graph/ops/index.js";
import { MASKED, causalPaddingBias, declareParams, lmHead, qwen3Hidden } from "./model.js";
import { paramShapes } from "./params.js";

export type LossKind = "ppo" | "reinforce" | "xent";

export interface LossGraphOptions {
  /** Which loss; `undefined` builds the forward-only log-prob graph (no loss, no gradients). */
  readonly kind?: LossKind;
  /** Adds the allowedIds / allowedMask / constrained inputs. */
  readonly constrained?: boolean;
  /** Adds the per-token entropy output (default true). */
  readonly entropy?: boolean;
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
  allowedIds: "allowed_ids",
  allowedMask: "allowed_mask",
  constrained: "constrained",
  loss: "loss",
  logprobs: "logprobs",
  entropy: "entropy",
  clipFraction: "clip_fraction",
  approxKl: "approx_kl",
  gradPrefix: "grad.",
} as const;

/** HF positions from a [B, T] 0/1 mask: cumsum − 1, clamped at 0 on leading padding. */
export function positionsFromMask(g: Graph, mask: Tensor): Tensor {
  const m = op.cast(g, mask, "int64");
  const cum = g.op1("CumSum", [m, g.scalar(1, "int64")], {}, { dtype: "int64", shape: mask.shape });
  return op.max(g, op.sub(g, cum, g.scalar(1, "int64")), g.scalar(0, "int64"));
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
  const params = declareParams(g, config);
  const tokens = g.input(n.tokens, "int64", ["B", "T"]);
  const mask = g.input(n.attentionMask, "float32", ["B", "T"]);
  const temperature = g.input(n.temperature, "float32", []);

  const { hidden } = qwen3Hidden(g, config, params, { tokens, positions: positionsFromMask(g, mask), bias: causalPaddingBias(g, mask) });
  // Position t predicts token t+1: score hidden[:, :-1] against tokens[:, 1:].
  const h = op.slice(g, hidden, [0], [-1], [1]); // [B, T-1, C]
  const target = op.slice(g, tokens, [1], [op.TO_END], [1]); // [B, T-1]
  const z = op.div(g, lmHead(g, config, params, h), temperature); // [B, T-1, V]
  const lsFull = op.logSoftmax(g, z, -1); // [B, T-1, V]
  let logp = op.squeeze(g, op.gatherElements(g, lsFull, op.unsqueeze(g, target, [-1]), 2), [-1]); // [B, T-1]
  let entropy = options.entropy === false ? undefined : entropyOf(g, lsFull); // [B, T-1]

  if (options.constrained) {
    const ids = op.slice(g, g.input(n.allowedIds, "int64", ["B", "T", "K"]), [1], [op.TO_END], [1]); // [B, T-1, K]
    const allowed = op.slice(g, g.input(n.allowedMask, "float32", ["B", "T", "K"]), [1], [op.TO_END], [1]); // [B, T-1, K]
    const flag = op.cast(g, op.slice(g, g.input(n.constrained, "float32", ["B", "T"]), [1], [op.TO_END], [1]), "bool"); // [B, T-1]
    // Masked-out entries get a large negative logit; a row with no allowed ids stays finite.
    const penalty = op.mul(g, op.sub(g, allowed, g.scalar(1, "float32")), g.scalar(-MASKED, "float32"));
    const zc = op.add(g, op.gatherElements(g, z, ids, 2), penalty); // [B, T-1, K]
    const lse = op.squeeze(g, logSumExp(g, zc), [-1]); // [B, T-1]
    const zTok = op.squeeze(g, op.gatherElements(g, z, op.unsqueeze(g, target, [-1]), 2), [-1]); // [B, T-1]
    logp = op.where(g, flag, op.sub(g, zTok, lse), logp);
    if (entropy) {
      const lpc = op.sub(g, zc, op.unsqueeze(g, lse, [-1])); // [B, T-1, K]
      entropy = op.where(g, flag, entropyOf(g, lpc), entropy);
    }
  }

  g.output(padFront(g, logp, "T"), n.logprobs);
  if (entropy) g.output(padFront(g, entropy, "T"), n.entropy);
  if (!options.kind) return { graph: g, options };

  const lossMask = op.slice(g, g.input(n.lossMask, "float32", ["B", "T"]), [1], [op.TO_END], [1]); // [B, T-1]
  const tokenCount = op.max(g, op.reduceSum(g, lossMask, [0, 1]), g.scalar(1, "float32"));
  let loss: Tensor;
  if (options.kind === "xent") {
    loss = op.div(g, op.neg(g, op.reduceSum(g, op.mul(g, logp, lossMask), [0, 1])), tokenCount);
  } else {
    const adv = op.unsqueeze(g, g.input(n.advantages, "float32", ["B"]), [1]); // [B, 1]
    const normalizer = g.input(n.normalizer, "float32", []);
    let perToken: Tensor; // [B, T-1]
    if (options.kind === "reinforce") {
      perToken = op.neg(g, op.mul(g, adv, logp));
    } else {
      const old = op.slice(g, g.input(n.oldLogprobs, "float32", ["B", "T"]), [1], [op.TO_END], [1]); // [B, T-1]
      const eps = g.input(n.clipEps, "float32", []);
      const logRatio = op.sub(g, logp, old);
      const ratio = op.exp(g, logRatio);
      const one = g.scalar(1, "float32");
      const unclipped = op.mul(g, ratio, adv);
      const clipped = op.mul(g, op.clip(g, ratio, op.sub(g, one, eps), op.add(g, one, eps)), adv);
      perToken = op.neg(g, op.min(g, unclipped, clipped));
      const isClipped = op.cast(g, op.less(g, clipped, unclipped), "float32");
      g.output(op.div(g, op.reduceSum(g, op.mul(g, isClipped, lossMask), [0, 1]), tokenCount), n.clipFraction);
      const kl = op.sub(g, op.sub(g, ratio, one), logRatio);
      g.output(op.div(g, op.reduceSum(g, op.mul(g, kl, lossMask), [0, 1]), tokenCount), n.approxKl);
    }
    const perSample = op.div(g, op.reduceSum(g, op.mul(g, perToken, lossMask), [1]), normalizer); // [B]
    loss = op.reduceMean(g, perSample, [0]);
  }
  g.output(loss, n.loss);

  const names = paramShapes(config).map((p) => p.name);
  const wrt = names.map((name) => params.get(name) as Tensor);
  const grads = gradients(g, loss, wrt);
  grads.forEach((grad, i) => {
    const name = names[i] as string;
    if (!grad) throw new Error(`Loss graph: no gradient reaches parameter ${name}`);
    g.output(grad, n.gradPrefix + name);
  });
  return { graph: g, options };
}
