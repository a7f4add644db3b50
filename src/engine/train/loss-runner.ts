/**
 * Runs the learner's graphs (loss.ts) over a parameter buffer.
 *
 * One compiled session per graph variant (loss kind × constrained or not), created on first use and
 * reused for every batch shape (B and T are symbolic). Parameters are fed as zero-copy views of
 * `params.data`, so the optimiser's in-place updates are seen by the next call; gradients are
 * written by onnxruntime straight into their slots of the caller's flat gradient buffer (same layout
 * as the parameters; padding between views is left untouched).
 */
import ort from "onnxruntime-node";
import type { ModelConfig } from "../model/config.js";
import { checkPrecisionDevice, type Device, type Precision } from "../graph/device.js";
import { checkHalfRange, halfModelGraph, halfWeightFeeds } from "../model/precision.js";
import { GraphSession } from "../graph/session.js";
import { type LossKind, buildLossGraph, lossNames } from "./loss.js";
import type { Adapter } from "../model/lora.js";
import { halfFeeds } from "../weights/half.js";
import type { Params } from "../weights/params.js";

/** Rows of tokens, left- or right-padded to one length T. Arrays are row-major [B, T]. */
export interface TokenBatch {
  readonly B: number;
  readonly T: number;
  /** [B·T] token ids */
  readonly tokens: BigInt64Array | Int32Array | readonly number[];
  /** [B·T] 1 on real tokens, 0 on padding */
  readonly attentionMask: Float32Array;
  /** Restricted next-token sets where the sampler used constrained decoding. */
  readonly constraints?: ConstraintBatch;
}

export interface ConstraintBatch {
  /** K: allowed ids per position (rows padded with mask 0). */
  readonly K: number;
  /** [B·T·K] allowed ids for predicting token t (aligned like logprobs) */
  readonly allowedIds: BigInt64Array | Int32Array | readonly number[];
  /** [B·T·K] 1 where the id is allowed */
  readonly allowedMask: Float32Array;
  /** [B·T] 1 where token t was drawn from its allowed set */
  readonly constrained: Float32Array;
}

export interface LossBatch extends TokenBatch {
  /** [B·T] 1 on generated tokens (the ones the loss scores) */
  readonly lossMask: Float32Array;
  /** [B] per-sample advantage (ppo, reinforce) */
  readonly advantages?: Float32Array;
  /** [B·T] log-probs recomputed before the first epoch (ppo) */
  readonly oldLogprobs?: Float32Array;
  /** [B] entropy bonus coefficient β per sample (ppo, reinforce); absent or all 0: no bonus term. */
  readonly entropyCoefs?: Float32Array;
}

export interface LossSettings {
  readonly kind: LossKind;
  /** Sampling temperature the log-probs are taken under (default 1). */
  readonly temperature?: number;
  /** PPO clip ε (default 0.2). */
  readonly clipEps?: number;
  /** Dr.GRPO constant: the max generation length (required for ppo and reinforce). */
  readonly normalizer?: number;
  /** precision fp16: the loss scale S the gradients come out multiplied by (default 1; loss-scale.ts). */
  readonly lossScale?: number;
}

export interface LossStats {
  readonly loss: number;
  /** [B·T] log-probs under the current parameters (0 in column 0) */
  readonly logprobs: Float32Array;
  /** [B·T] entropy of the next-token distribution */
  readonly entropy: Float32Array;
  /** ppo only, else 0 */
  readonly clipFraction: number;
  readonly approxKl: number;
}

/** `LossStats` of a run on a GPU: scalars only, the [B, T] grids stay on the device. */
export interface DeviceLossStats {
  readonly loss: number;
  readonly clipFraction: number;
  readonly approxKl: number;
  /** Σ entropy over the scored tokens. */
  readonly entropySum: number;
  /** Σ β_b·H_bt over the scored tokens (0 without the entropy bonus). */
  readonly entropyBonusSum: number;
}

export interface LossRunnerOptions {
  /** Intra-op threads for onnxruntime (default: every logical CPU). */
  readonly threads?: number;
  /** onnxruntime's CPU memory arena (default true); off saves ~25 % peak memory on large models. */
  readonly memoryArena?: boolean;
  /**
   * Train a LoRA adapter on the frozen `params`: its tensors are fed like the base's (zero-copy
   * views, in-place updates seen), and `lossAndGrad` writes gradients in the adapter's layout.
   */
  readonly adapter?: Adapter;
  /** Where the graphs run (default "cpu"); docs/device.md. */
  readonly device?: Device;
  /**
   * "fp16" (webgpu): the graphs rewritten for half precision (model/precision.ts), the gradient
   * graphs scaled by `LossSettings.lossScale`. The host weights are converted to fp16 copies once,
   * at the first run that reads them: none when a GPU learner lends every weight
   * (`useDeviceWeights`), as it must when they change. A LoRA adapter stays float32
   * (cast in the graph); a base value beyond fp16's range is refused (precision.ts checkHalfRange).
   */
  readonly precision?: Precision;
}

/** Token ids as int64, each checked to lie in [0, V) (onnxruntime's Gather error would not say which). */
function tokenIds(what: string, data: BigInt64Array | Int32Array | readonly number[], V: number): BigInt64Array {
  const out = data instanceof BigInt64Array ? data : new BigInt64Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = Number(data[i]);
    if (!Number.isInteger(v) || v < 0 || v >= V) throw new Error(`${what}[${i}] = ${v} is not a token id in [0, ${V})`);
    if (!(data instanceof BigInt64Array)) out[i] = BigInt(v);
  }
  return out;
}

/** Flat indices b·(T−1) + (t−1) of positions t ≥ 1 where `mask` is set (all of them without a mask). */
export function scoreIndex(B: number, T: number, mask?: Float32Array): BigInt64Array {
  const idx: bigint[] = [];
  for (let b = 0; b < B; b++) {
    for (let t = 1; t < T; t++) if (!mask || mask[b * T + t] !== 0) idx.push(BigInt(b * (T - 1) + t - 1));
  }
  return BigInt64Array.from(idx);
}

function expectLength(what: string, got: number, want: number, shape: string): void {
  if (got !== want) throw new Error(`${what}: expected ${want} values (${shape}); got ${got}`);
}

export class LossRunner {
  private readonly sessions = new Map<string, Promise<GraphSession>>();
  private readonly paramFeeds: Record<string, ort.Tensor> = {};
  /** Device tensors that replace host weights of the same names (DeviceTraining.weights). */
  private deviceWeights: (() => Record<string, ort.Tensor>) | undefined;
  /** fp16: the weights' fp16 host copies are still to be made (only if a run needs them: a GPU learner lends every weight). */
  private halfCopiesPending = false;

  constructor(
    readonly config: ModelConfig,
    readonly params: Params,
    readonly options: LossRunnerOptions = {},
  ) {
    if (options.precision === "fp16") {
      checkPrecisionDevice(options.device ?? "cpu", options.precision);
      checkHalfRange(config, params);
      this.halfCopiesPending = true;
    } else {
      for (const v of params.layout.views) {
        this.paramFeeds[v.name] = new ort.Tensor("float32", params.data.subarray(v.offset, v.offset + v.size), v.shape);
      }
    }
    // A 16-bit frozen base (engine/weights/half.ts): its words go in as they are, decoded in the graph.
    if (params.half !== undefined) Object.assign(this.paramFeeds, halfFeeds(params.half, options.device));
    const adapter = options.adapter?.params;
    for (const v of adapter?.layout.views ?? []) {
      this.paramFeeds[v.name] = new ort.Tensor("float32", (adapter as Params).data.subarray(v.offset, v.offset + v.size), v.shape);
    }
  }

  /**
   * Reads the weights `source()` returns (device tensors, by weight name) instead of the host
   * buffers: the learner's state on a GPU (device-training.ts). Weights it lacks stay host feeds.
   */
  useDeviceWeights(source: () => Record<string, ort.Tensor>): void {
    this.deviceWeights = source;
  }

  /** The layout gradients are written in: the adapter's when training one, else the model's. */
  get trainedLayout(): Params["layout"] {
    return (this.options.adapter?.params ?? this.params).layout;
  }

  /** `onDevice`: every output but the scalars stays in device memory (webgpu). */
  private session(kind: LossKind | undefined, constrained: boolean, entropyBonus = false, onDevice = false): Promise<GraphSession> {
    const key = `${kind ?? "logprobs"}|${constrained}|${entropyBonus}|${onDevice}`;
    let s = this.sessions.get(key);
    if (!s) {
      const fp16 = this.options.precision === "fp16";
      const built = buildLossGraph(this.config, {
        ...(kind ? { kind } : {}), constrained, entropyBonus, ...(this.options.adapter ? { lora: this.options.adapter.config } : {}), ...(this.params.half ? { half: this.params.half.dtype } : {}),
        ...(this.options.device === undefined ? {} : { device: this.options.device }),
        ...(fp16 && kind !== undefined ? { lossScale: true } : {}),
      }).graph;
      const graph = fp16 ? halfModelGraph(built, this.config) : built;
      s = GraphSession.fromGraph(graph, {
        // A 16-bit base: onnxruntime's graph optimisations (already at "basic") made the backward
        // reuse the forward's widened float weights, holding ~¾ of every layer's float copy at
        // once (Qwen3-0.6B shape, 10 layers, 1×256: peak 2.27 GiB optimised, 1.92 GiB not, 2.13 GiB
        // for the float32 base; CPU time 12.4 s vs 10.1 s). Unoptimised is both leaner and faster.
        ...(this.params.half === undefined ? {} : { optimization: "disabled" as const }),
        ...(this.options.threads === undefined ? {} : { threads: this.options.threads }),
        ...(this.options.memoryArena === undefined ? {} : { memoryArena: this.options.memoryArena }),
        ...(this.options.device === undefined ? {} : { device: this.options.device }),
        ...(onDevice ? { outputsOnDevice: [lossNames.logprobs, lossNames.entropy, ...(kind === undefined ? [] : this.trainedLayout.views.map((v) => lossNames.gradPrefix + v.name))] } : {}),
      });
      this.sessions.set(key, s);
    }
    return s;
  }

  /** The weights as the graphs read them: the device's where it lends them, else the host feeds. */
  private weightFeeds(): Record<string, ort.Tensor> {
    const lent = this.deviceWeights?.() ?? {};
    if (this.halfCopiesPending && this.params.layout.views.some((v) => !(v.name in lent))) {
      Object.assign(this.paramFeeds, halfWeightFeeds(this.config, this.params));
      this.halfCopiesPending = false;
    }
    return { ...this.paramFeeds, ...lent };
  }

  private tokenFeeds(batch: TokenBatch, temperature: number): Record<string, ort.Tensor> {
    const { B, T } = batch;
    if (!(B >= 1 && T >= 2)) throw new Error(`Token batch needs B ≥ 1 and T ≥ 2; got B=${B}, T=${T}`);
    expectLength("tokens", batch.tokens.length, B * T, "[B·T]");
    expectLength("attentionMask", batch.attentionMask.length, B * T, "[B·T]");
    if (!(temperature > 0)) throw new Error(`temperature must be > 0; got ${temperature}`);
    const feeds: Record<string, ort.Tensor> = {
      ...this.weightFeeds(),
      [lossNames.tokens]: new ort.Tensor("int64", tokenIds("tokens", batch.tokens, this.config.vocabSize), [B, T]),
      [lossNames.attentionMask]: new ort.Tensor("float32", batch.attentionMask, [B, T]),
      [lossNames.temperature]: new ort.Tensor("float32", Float32Array.of(temperature), []),
    };
    const c = batch.constraints;
    if (c) {
      expectLength("allowedIds", c.allowedIds.length, B * T * c.K, "[B·T·K]");
      expectLength("allowedMask", c.allowedMask.length, B * T * c.K, "[B·T·K]");
      expectLength("constrained", c.constrained.length, B * T, "[B·T]");
      feeds[lossNames.allowedIds] = new ort.Tensor("int64", tokenIds("allowedIds", c.allowedIds, this.config.vocabSize), [B, T, c.K]);
      feeds[lossNames.allowedMask] = new ort.Tensor("float32", c.allowedMask, [B, T, c.K]);
      feeds[lossNames.constrained] = new ort.Tensor("float32", c.constrained, [B, T]);
    }
    return feeds;
  }

  /**
   * `score_index`, and on webgpu the int64 values it picks (`score_tokens`, `score_allowed_ids`),
   * gathered here because the device has no 64-bit integer arithmetic (loss.ts).
   */
  private scoreFeeds(feeds: Record<string, ort.Tensor>, batch: TokenBatch, idx: BigInt64Array): void {
    feeds[lossNames.scoreIndex] = new ort.Tensor("int64", idx, [idx.length]);
    if (this.options.device !== "webgpu") return;
    const { T } = batch;
    const tokens = feeds[lossNames.tokens]?.data as BigInt64Array;
    // Flat index i = b·(T−1) + (t−1) scores token t of row b.
    const at = (i: number): number => Math.floor(i / (T - 1)) * T + (i % (T - 1)) + 1;
    const picked = BigInt64Array.from(idx, (i) => tokens[at(Number(i))] as bigint);
    feeds[lossNames.scoreTokens] = new ort.Tensor("int64", picked, [idx.length, 1]);
    const c = batch.constraints;
    if (c) {
      const ids = feeds[lossNames.allowedIds]?.data as BigInt64Array;
      const out = new BigInt64Array(idx.length * c.K);
      idx.forEach((i, r) => out.set(ids.subarray(at(Number(i)) * c.K, (at(Number(i)) + 1) * c.K), r * c.K));
      feeds[lossNames.scoreAllowedIds] = new ort.Tensor("int64", out, [idx.length, c.K]);
      delete feeds[lossNames.allowedIds];
    }
  }

  /**
   * Per-token log-probs and entropies [B·T] under the current parameters (no gradients).
   * With `scoreMask` [B·T] only positions where it is non-zero are computed (others read 0).
   */
  async computeLogprobs(batch: TokenBatch, temperature = 1, scoreMask?: Float32Array): Promise<{ logprobs: Float32Array; entropy: Float32Array }> {
    const s = await this.session(undefined, batch.constraints !== undefined);
    const feeds = this.tokenFeeds(batch, temperature);
    if (scoreMask) expectLength("scoreMask", scoreMask.length, batch.B * batch.T, "[B·T]");
    const idx = scoreIndex(batch.B, batch.T, scoreMask);
    if (idx.length === 0) return { logprobs: new Float32Array(batch.B * batch.T), entropy: new Float32Array(batch.B * batch.T) };
    this.scoreFeeds(feeds, batch, idx);
    const out = await s.run(feeds);
    return {
      logprobs: (out[lossNames.logprobs] as ort.Tensor).data as Float32Array,
      entropy: (out[lossNames.entropy] as ort.Tensor).data as Float32Array,
    };
  }

  /**
   * Loss, diagnostics and ∂loss/∂params written into `gradsOut` (the parameter layout, overwritten).
   * Only positions with lossMask = 1 are scored: `logprobs` and `entropy` are 0 elsewhere. A batch
   * with no generated token has loss 0 and zero gradients (no run).
   */
  async lossAndGrad(batch: LossBatch, settings: LossSettings, gradsOut: Float32Array): Promise<LossStats> {
    const layout = this.trainedLayout;
    expectLength("gradsOut", gradsOut.length, layout.totalSize, this.options.adapter ? "the adapter layout's totalSize" : "the parameter layout's totalSize");
    return (await this.lossRun(batch, settings, gradsOut)).stats;
  }

  /**
   * `lossAndGrad` with everything but scalars left in device memory (webgpu): the gradients, one
   * tensor per trained weight (`grad.<name>`, for DeviceTraining.addGradients), and the [B, T]
   * log-probs (old log-probs for later PPO epochs); undefined when the batch scores no token (a
   * zero gradient). `old` replaces `batch.oldLogprobs` with a [B, T] device tensor. Only the loss,
   * its diagnostics and the entropy sums come back.
   */
  async lossAndGradOnDevice(batch: LossBatch, settings: LossSettings, old?: ort.Tensor): Promise<{ stats: DeviceLossStats; grads: Record<string, ort.Tensor> | undefined; logprobs: ort.Tensor | undefined }> {
    if (this.options.device !== "webgpu") throw new Error("lossAndGradOnDevice needs a runner on a GPU device (device: webgpu)");
    const layout = this.trainedLayout;
    const prepared = this.lossFeeds(batch, settings, old);
    if (prepared === undefined) return { stats: { loss: 0, clipFraction: 0, approxKl: 0, entropySum: 0, entropyBonusSum: 0 }, grads: undefined, logprobs: undefined };
    const s = await this.session(settings.kind, batch.constraints !== undefined, prepared.bonus, true);
    const out = await s.run(prepared.feeds);
    out[lossNames.entropy]?.dispose();
    const scalar = (name: string): number => (out[name] ? Number((out[name] as ort.Tensor).data[0]) : 0);
    return {
      stats: {
        loss: scalar(lossNames.loss), clipFraction: scalar(lossNames.clipFraction), approxKl: scalar(lossNames.approxKl),
        entropySum: scalar(lossNames.entropySum), entropyBonusSum: scalar(lossNames.entropyBonusSum),
      },
      grads: Object.fromEntries(layout.views.map((v) => [lossNames.gradPrefix + v.name, out[lossNames.gradPrefix + v.name] as ort.Tensor])),
      logprobs: out[lossNames.logprobs] as ort.Tensor,
    };
  }

  /**
   * `computeLogprobs` on a GPU with the [B, T] log-probs left in device memory (undefined when no
   * position is scored); only the entropy's sum over the scored positions comes back.
   */
  async computeLogprobsOnDevice(batch: TokenBatch, temperature = 1, scoreMask?: Float32Array): Promise<{ logprobs: ort.Tensor | undefined; entropySum: number }> {
    if (this.options.device !== "webgpu") throw new Error("computeLogprobsOnDevice needs a runner on a GPU device (device: webgpu)");
    const feeds = this.tokenFeeds(batch, temperature);
    if (scoreMask) expectLength("scoreMask", scoreMask.length, batch.B * batch.T, "[B·T]");
    const idx = scoreIndex(batch.B, batch.T, scoreMask);
    if (idx.length === 0) return { logprobs: undefined, entropySum: 0 };
    this.scoreFeeds(feeds, batch, idx);
    const s = await this.session(undefined, batch.constraints !== undefined, false, true);
    const out = await s.run(feeds);
    out[lossNames.entropy]?.dispose();
    return { logprobs: out[lossNames.logprobs] as ort.Tensor, entropySum: Number((out[lossNames.entropySum] as ort.Tensor).data[0]) };
  }

  /** The loss graph's feeds for a batch; undefined when it scores no token. */
  private lossFeeds(batch: LossBatch, settings: LossSettings, old?: ort.Tensor): { feeds: Record<string, ort.Tensor>; bonus: boolean } | undefined {
    const { B, T } = batch;
    const feeds = this.tokenFeeds(batch, settings.temperature ?? 1);
    expectLength("lossMask", batch.lossMask.length, B * T, "[B·T]");
    feeds[lossNames.lossMask] = new ort.Tensor("float32", batch.lossMask, [B, T]);
    const idx = scoreIndex(B, T, batch.lossMask);
    if (idx.length === 0) return undefined;
    this.scoreFeeds(feeds, batch, idx);
    if (settings.kind !== "xent") {
      const normalizer = settings.normalizer;
      if (normalizer === undefined || !(normalizer > 0)) throw new Error(`${settings.kind} loss needs normalizer > 0 (the max generation length); got ${normalizer}`);
      if (!batch.advantages) throw new Error(`${settings.kind} loss needs advantages [B]`);
      expectLength("advantages", batch.advantages.length, B, "[B]");
      feeds[lossNames.advantages] = new ort.Tensor("float32", batch.advantages, [B]);
      feeds[lossNames.normalizer] = new ort.Tensor("float32", Float32Array.of(normalizer), []);
    }
    const coefs = batch.entropyCoefs;
    if (coefs) {
      expectLength("entropyCoefs", coefs.length, B, "[B]");
      const bad = coefs.findIndex((c) => !(c >= 0));
      if (bad >= 0) throw new Error(`entropyCoefs[${bad}] must be ≥ 0; got ${coefs[bad]}`);
    }
    const bonus = settings.kind !== "xent" && coefs !== undefined && coefs.some((c) => c > 0);
    if (bonus) feeds[lossNames.entropyCoef] = new ort.Tensor("float32", coefs, [B]);
    if (settings.kind === "ppo") {
      if (old !== undefined) {
        if (old.dims[0] !== B || old.dims[1] !== T) throw new Error(`old log-probs on the device: expected [${B}, ${T}]; got [${old.dims.join(", ")}]`);
        feeds[lossNames.oldLogprobs] = old;
      } else {
        if (!batch.oldLogprobs) throw new Error("ppo loss needs oldLogprobs [B·T] (recompute them with computeLogprobs before the first epoch)");
        expectLength("oldLogprobs", batch.oldLogprobs.length, B * T, "[B·T]");
        feeds[lossNames.oldLogprobs] = new ort.Tensor("float32", batch.oldLogprobs, [B, T]);
      }
      feeds[lossNames.clipEps] = new ort.Tensor("float32", Float32Array.of(settings.clipEps ?? 0.2), []);
    }
    if (this.options.precision === "fp16") feeds[lossNames.lossScale] = new ort.Tensor("float32", Float32Array.of(settings.lossScale ?? 1), []);
    return { feeds, bonus };
  }

  /** One run of the loss graph on the host, gradients written into `gradsOut`. */
  private async lossRun(batch: LossBatch, settings: LossSettings, gradsOut: Float32Array): Promise<{ stats: LossStats }> {
    const { B, T } = batch;
    const layout = this.trainedLayout;
    const prepared = this.lossFeeds(batch, settings);
    if (prepared === undefined) {
      gradsOut.fill(0);
      const zeros = new Float32Array(B * T);
      return { stats: { loss: 0, logprobs: zeros, entropy: zeros.slice(), clipFraction: 0, approxKl: 0 } };
    }
    const fetches: Record<string, ort.Tensor | null> = {
      [lossNames.loss]: null,
      [lossNames.logprobs]: null,
      [lossNames.entropy]: null,
    };
    if (settings.kind === "ppo") {
      fetches[lossNames.clipFraction] = null;
      fetches[lossNames.approxKl] = null;
    }
    for (const v of layout.views) fetches[lossNames.gradPrefix + v.name] = new ort.Tensor("float32", gradsOut.subarray(v.offset, v.offset + v.size), v.shape);
    const s = await this.session(settings.kind, batch.constraints !== undefined, prepared.bonus);
    const out = await s.run(prepared.feeds, fetches);
    const scalar = (name: string): number => (out[name] ? Number((out[name] as ort.Tensor).data[0]) : 0);
    return {
      stats: {
        loss: scalar(lossNames.loss),
        logprobs: (out[lossNames.logprobs] as ort.Tensor).data as Float32Array,
        entropy: (out[lossNames.entropy] as ort.Tensor).data as Float32Array,
        clipFraction: scalar(lossNames.clipFraction),
        approxKl: scalar(lossNames.approxKl),
      },
    };
  }

  async release(): Promise<void> {
    for (const s of this.sessions.values()) await (await s).release();
    this.sessions.clear();
  }
}

/**
 * One sequence to score: a prompt and the tokens generated after it. Only the generated tokens are
 * scored; `allowedIds[j]` is the set generated token j was drawn from (constrained decoding), null
 * at free steps.
 */
export interface GeneratedRow {
  readonly promptIds: readonly number[];
  readonly generatedIds: readonly number[];
  readonly allowedIds?: readonly (readonly number[] | null)[];
}

/** Per-row values a loss batch may carry besides the tokens. */
export interface RowValues {
  /** [B] advantage per row. */
  readonly advantages?: readonly number[];
  /** [B][G] log-probs of each row's generated tokens before the first epoch. */
  readonly oldLogprobs?: readonly Float32Array[];
  /** [B] entropy bonus coefficient per row. */
  readonly entropyCoefs?: readonly number[];
}

/**
 * Packs rows into one right-padded batch: each row is prompt ++ generated tokens, padded to the
 * longest row; loss mask 1 on generated tokens; constrained steps carry their allowed ids (K = the
 * largest allowed set, shorter sets padded with mask 0).
 */
export function packRows(rows: readonly GeneratedRow[], values: RowValues = {}): LossBatch {
  const B = rows.length;
  if (B === 0) throw new Error("packRows needs at least one row");
  const T = Math.max(2, ...rows.map((s) => s.promptIds.length + s.generatedIds.length));
  const tokens = new Int32Array(B * T);
  const attentionMask = new Float32Array(B * T);
  const lossMask = new Float32Array(B * T);
  const advantages = values.advantages === undefined ? undefined : Float32Array.from(values.advantages);
  const oldLogprobs = values.oldLogprobs;
  const old = oldLogprobs === undefined ? undefined : new Float32Array(B * T);
  let K = 0;
  for (const s of rows) for (const a of s.allowedIds ?? []) if (a !== null) K = Math.max(K, a.length);
  const allowedIds = K > 0 ? new Int32Array(B * T * K) : undefined;
  const allowedMask = K > 0 ? new Float32Array(B * T * K) : undefined;
  const constrained = K > 0 ? new Float32Array(B * T) : undefined;
  rows.forEach((s, b) => {
    if (s.generatedIds.length === 0) throw new Error(`row ${b} has no generated tokens`);
    const P = s.promptIds.length;
    const row = b * T;
    s.promptIds.forEach((id, t) => (tokens[row + t] = id));
    s.generatedIds.forEach((id, j) => {
      const t = row + P + j;
      tokens[t] = id;
      lossMask[t] = 1;
      if (old !== undefined) old[t] = (oldLogprobs?.[b] as Float32Array)[j] as number;
      const allowed = s.allowedIds?.[j];
      if (allowed !== undefined && allowed !== null && allowedIds !== undefined) {
        (constrained as Float32Array)[t] = 1;
        allowed.forEach((a, k) => {
          allowedIds[t * K + k] = a;
          (allowedMask as Float32Array)[t * K + k] = 1;
        });
      }
    });
    attentionMask.fill(1, row, row + P + s.generatedIds.length);
  });
  const coefs = values.entropyCoefs === undefined ? undefined : Float32Array.from(values.entropyCoefs);
  return {
    B, T, tokens, attentionMask, lossMask,
    ...(advantages === undefined ? {} : { advantages }),
    ...(old === undefined ? {} : { oldLogprobs: old }),
    ...(coefs === undefined ? {} : { entropyCoefs: coefs }),
    ...(K > 0 ? { constraints: { K, allowedIds: allowedIds as Int32Array, allowedMask: allowedMask as Float32Array, constrained: constrained as Float32Array } } : {}),
  };
}

/** The generated tokens' values of a [B·T] array, per row. */
export function generatedSlice(rows: readonly GeneratedRow[], T: number, values: Float32Array): Float32Array[] {
  return rows.map((s, b) => values.slice(b * T + s.promptIds.length, b * T + s.promptIds.length + s.generatedIds.length));
}

/** Rows sorted by length (stable), so micro-batches pad little; a summed update is unchanged. */
export function byLength<R extends GeneratedRow>(rows: readonly R[]): R[] {
  const len = (s: R) => s.promptIds.length + s.generatedIds.length;
  return rows.map((s, i) => ({ s, i })).sort((a, b) => len(a.s) - len(b.s) || a.i - b.i).map((x) => x.s);
}

export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Log-probs and entropies of every row's generated tokens under the runner's current weights, at
 * `temperature`, masked to the rows' constrained sets; rows are run `microBatch` at a time,
 * grouped by length. Used by the learner (old log-probs) and by a model policy's exact choice
 * probabilities.
 */
export async function recomputeLogprobs(runner: LossRunner, rows: readonly GeneratedRow[], microBatch: number, temperature: number): Promise<{ logprobs: Float32Array[]; entropy: Float32Array[] }> {
  const logprobs: Float32Array[] = [];
  const entropy: Float32Array[] = [];
  const index = new Map(rows.map((s, i) => [s, i]));
  for (const part of chunks(byLength(rows), microBatch)) {
    const batch = packRows(part);
    const out = await runner.computeLogprobs(batch, temperature);
    const lp = generatedSlice(part, batch.T, out.logprobs);
    const en = generatedSlice(part, batch.T, out.entropy);
    part.forEach((s, j) => {
      const i = index.get(s) as number;
      logprobs[i] = lp[j] as Float32Array;
      entropy[i] = en[j] as Float32Array;
    });
  }
  return { logprobs, entropy };
}
