/**
 * Batched generation: prefill a batch of prompts, then decode one token per live row per ORT run,
 * with the KV cache in preallocated JS buffers passed zero-copy.
 *
 * Contract (what callers and the learner rely on):
 * - `Completion.logprobs[j]` = log_softmax(logits_j / T)[tokens[j]] over the whole model vocabulary,
 *   or over `allowed[j]` when that step was constrained (T = 1 when greedy); top-p/top-k truncation
 *   is not reflected (see sampling.ts). The learner reproduces it from (prompt, tokens, allowed, T).
 * - Where tokens are drawn: on the host (sampling.ts, float64) on the CPU and with `sampler: "host"`;
 *   on webgpu by default by the device sampler (device-sampler.ts: the same draw in float32 from the
 *   same uniforms, only ids and log-probs leave the device; rows with logit adjustments, top-p < 1 or
 *   top-k fall back to the host draw). Same seed, same device: same tokens.
 * - Rows are independent: each request gets its own RNG split from `options.rng` in request order,
 *   and attention never mixes rows, so a prompt yields the same completion (greedy: the same
 *   tokens; sampled: the same draws) whatever else is in the batch and in whichever order —
 *   up to float rounding of batched matrix products (~1e-6 in logits).
 * - A row stops at the first of: an eos id (free text), the end of its constraint, a stop string
 *   in its text, or `maxNewTokens`. The stopping token is kept in `tokens` (eos included); `text`
 *   is the decoded completion without that final eos (other special tokens rendered as markup
 *   unless `skipSpecialTokens`). A constrained row cut by `maxNewTokens` before its choice is
 *   complete ends with "length" and a partial choice: give constrained rows enough tokens.
 * - Finished rows leave the batch at once (the cache is compacted), so they cost no compute, and
 *   waiting requests (beyond `maxBatch`) take their place.
 * - Opt-in per-row settings (`spiral serve`; training sets none of them, so its rows draw and
 *   sample exactly as described above): a request's own `sampling` (temperature, top-p, stop
 *   strings, OpenAI logit bias and penalties; log-probs are then of the adjusted logits), its own
 *   `rng` (then `options.rng` is not split for it), and a `signal` whose abort ends the row at
 *   once ("cancelled": it leaves the batch, or is never prefilled if still waiting).
 *
 * Layout: prompts are right-padded (every prompt starts at cache slot 0 and position 0; see
 * decode-graph.ts). The cache per layer is [Bcap, KV, S, D] for K and V; S grows in chunks of
 * CACHE_CHUNK slots as the longest live row needs it, so attention reads at most one chunk of
 * empty slots.
 */
import { TextDecoder } from "node:util";
import onnxProto from "onnx-proto";
import ort from "onnxruntime-node";
import type { Rng } from "../../core/rng.js";
import type { ModelConfig } from "../model/config.js";
import { buildCacheEditGraphs, buildDecodeGraph, buildPrefillGraph, MASKED, prefillFeeds, ropeTables } from "./decode-graph.js";
import type { Graph } from "../graph/builder.js";
import { checkPrecision, checkPrecisionDevice, checkSamplerDevice, defaultSampler, type Device, deviceError, executionProviders, type Precision, type SamplerPlace } from "../graph/device.js";
import { toHalfPrecision } from "../graph/half-precision.js";
import { checkHalfRange, halfModelGraph, halfTensor, halfWeightNames } from "../model/precision.js";
import { encodeF16 } from "../weights/bf16.js";
import { toModelProto } from "../graph/serialize.js";
import { DeviceCopy, dimsFeeds, disposeAll, type Feeds, f32, GraphSession, i64, type OrtTensor, outputLocation } from "../graph/session.js";
import type { Adapter } from "../model/lora.js";
import { halfFeeds } from "../weights/half.js";
import type { Params } from "../weights/params.js";
import { adjustLogits, adjustsLogits, checkSamplingParams, type LogitAdjustments, sampleToken, type SamplingParams } from "./sampling.js";
import { DeviceSampler, needsHostDraw } from "./device-sampler.js";
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import { buildChoiceTrie, type ChoiceConstraint, type TokenTrie } from "./trie.js";

/** Cache slots are added this many at a time. */
export const CACHE_CHUNK = 64;

/** Attention-score floats one prefill run may hold ([rows, H, P, P]): 64 M floats = 256 MB. */
export const PREFILL_SCORE_BUDGET = 64 * 2 ** 20;

/** Rows decoded together unless `maxBatch` says otherwise. */
export const DEFAULT_MAX_BATCH = 64;

export type FinishReason = "eos" | "stop" | "length" | "constraint" | "cancelled";

export interface GenerationRequest {
  /** Prompt token ids (non-empty). */
  prompt: readonly number[];
  /** Restrict the completion (or its tail after a trigger) to a set of strings. */
  constraint?: ChoiceConstraint;
  /** This request's limit, overriding `GenerateOptions.maxNewTokens`. */
  maxNewTokens?: number;
  /** This row's sampling in place of the options' (temperature, topP, topK, stopStrings): see `RowSampling`. */
  sampling?: RowSampling;
  /** This row's randomness; without it the row gets the next split of `GenerateOptions.rng`. */
  rng?: Rng;
  /** Aborted: the row ends where it is, finish "cancelled" (a client went away). */
  signal?: AbortSignal;
}

/** One row's own sampling (`spiral serve`: each request of a batch brings its own). */
export interface RowSampling extends SamplingParams, LogitAdjustments {
  stopStrings?: readonly string[];
}

export interface GenerateOptions extends SamplingParams {
  maxNewTokens: number;
  /** Source of all randomness; split once per request, in request order. */
  rng: Rng;
  /** Stop a row when its generated text contains one of these (free phase only). */
  stopStrings?: readonly string[];
  /** Render special tokens in `text`? Default false: they appear as their markup. */
  skipSpecialTokens?: boolean;
  /**
   * At most this many rows decode together (default 64); further requests wait and take the rows
   * of finished ones (continuous batching), each admission one prefill run.
   */
  maxBatch?: number;
  /** Keep generating past eos ids (benchmarks: fixed-length rows). Default false. */
  ignoreEos?: boolean;
  /** Called with each row's newly completed text as it is generated (streaming). */
  onText?: (request: number, delta: string) => void;
}

export interface Completion {
  tokens: number[];
  /** Per generated token; see the file comment for the exact quantity. */
  logprobs: number[];
  /** Per generated token: the sorted allowed ids at a constrained step, null at a free step. */
  allowed: (Int32Array | null)[];
  text: string;
  finishReason: FinishReason;
}

export interface GenerationStats {
  prefillTokens: number;
  prefillMs: number;
  decodeSteps: number;
  decodeTokens: number;
  decodeMs: number;
  /** Tokens drawn by the device sampler (webgpu, sampler "device"). */
  deviceDraws: number;
  /** With the device sampler: tokens drawn on the host instead (penalties, logit bias, top-p < 1, top-k). */
  hostFallbackDraws: number;
}

export interface GeneratorOptions {
  /** ORT intra-op threads (default: onnxruntime's choice). */
  threads?: number;
  /** Attention-score floats per prefill run (default PREFILL_SCORE_BUDGET). */
  prefillScoreBudget?: number;
  /**
   * Bake the weights into the sessions as initializers (default false). onnxruntime then prepacks
   * them for its Gemm kernels (faster decode, see docs/generation.md), but in-place weight updates
   * are seen only after `refreshWeights()`. For evaluation and the CLI, where weights are fixed.
   */
  bakeWeights?: boolean;
  /**
   * A LoRA adapter applied beside the base weights (never merged into them): its tensors are fed
   * zero-copy at every run (live, also with `bakeWeights`, which bakes only the base).
   */
  adapter?: Adapter;
  /** Where the graphs run (default "cpu"); docs/device.md. */
  device?: Device;
  /**
   * "fp16" (webgpu only): the graphs rewritten for half precision, the weights held as fp16 copies
   * and the KV cache in fp16 (model/precision.ts; docs/device.md "Precision"). Default "fp32".
   */
  precision?: Precision;
  /**
   * webgpu: where tokens are drawn (device-sampler.ts). "device" (default on webgpu): the logits stay
   * on the device and a sampler graph returns each row's id and log-prob; "host": the logits come
   * back and sampling.ts draws in float64, as on the CPU (a seed then names the same completion on
   * both devices). The CPU always draws on the host.
   */
  sampler?: SamplerPlace;
}

/** One row's draw: the token, its log-prob and the allowed ids at a constrained step. */
interface Draw {
  readonly id: number;
  readonly logprob: number;
  readonly allowed: Int32Array | undefined;
}

interface Row {
  request: number;
  prompt: readonly number[];
  tokens: number[];
  logprobs: number[];
  allowed: (Int32Array | null)[];
  /** Filled cache slots = position of the next token fed. */
  len: number;
  text: string;
  utf8: TextDecoder;
  rng: Rng;
  sampling: SamplingParams;
  stopStrings: readonly string[] | undefined;
  /** Logit adjustments and the per-id counts of generated tokens they need; undefined when none. */
  adjust: { readonly by: LogitAdjustments; readonly counts: Map<number, number> } | undefined;
  signal: AbortSignal | undefined;
  trie: TokenTrie | undefined;
  trigger: string | undefined;
  maxNewTokens: number;
  /** Current trie node, or -1 while writing freely. */
  node: number;
  finish: FinishReason | undefined;
}

/** K and V per layer, [Bcap, KV, S, D]; only the first `rows` rows are live. */
class KvCache {
  k: Float32Array[] = [];
  v: Float32Array[] = [];
  constructor(
    readonly layers: number,
    readonly rowCap: number,
    readonly kv: number,
    readonly d: number,
    public slots: number,
  ) {
    for (let n = 0; n < layers; n++) {
      this.k.push(new Float32Array(rowCap * kv * slots * d));
      this.v.push(new Float32Array(rowCap * kv * slots * d));
    }
  }

  /** Moves row keep[i] to row i (keep ascending), in place. */
  compact(keep: readonly number[]): void {
    const stride = this.kv * this.slots * this.d;
    keep.forEach((from, to) => {
      if (from === to) return;
      for (let n = 0; n < this.layers; n++) {
        (this.k[n] as Float32Array).copyWithin(to * stride, from * stride, (from + 1) * stride);
        (this.v[n] as Float32Array).copyWithin(to * stride, from * stride, (from + 1) * stride);
      }
    });
  }

  /** Re-lays the first `rows` rows out with `slots` slots each. */
  grow(rows: number, slots: number): void {
    const { kv, d } = this;
    const copy = (old: Float32Array): Float32Array => {
      const out = new Float32Array(this.rowCap * kv * slots * d);
      for (let r = 0; r < rows * kv; r++) out.set(old.subarray(r * this.slots * d, (r + 1) * this.slots * d), r * slots * d);
      return out;
    };
    this.k = this.k.map(copy);
    this.v = this.v.map(copy);
    this.slots = slots;
  }

  /** Writes src [rows, KV, T, D] into rows firstRow.., slots 0..T-1. */
  writeBlock(n: number, srcK: Float32Array, srcV: Float32Array, firstRow: number, rows: number, T: number): void {
    const { kv, d, slots } = this;
    for (let r = 0; r < rows * kv; r++) {
      const dst = (firstRow * kv + r) * slots * d;
      (this.k[n] as Float32Array).set(srcK.subarray(r * T * d, (r + 1) * T * d), dst);
      (this.v[n] as Float32Array).set(srcV.subarray(r * T * d, (r + 1) * T * d), dst);
    }
  }

  /** Writes new K/V [rows, KV, 1, D] of row b at slot lens[b]. */
  writeStep(n: number, newK: Float32Array, newV: Float32Array, lens: readonly number[]): void {
    const { kv, d, slots } = this;
    lens.forEach((slot, b) => {
      for (let h = 0; h < kv; h++) {
        const src = (b * kv + h) * d;
        const dst = ((b * kv + h) * slots + slot) * d;
        (this.k[n] as Float32Array).set(newK.subarray(src, src + d), dst);
        (this.v[n] as Float32Array).set(newV.subarray(src, src + d), dst);
      }
    });
  }

  feeds(rows: number): Feeds {
    const feeds: Feeds = {};
    const dims = [rows, this.kv, this.slots, this.d];
    const size = rows * this.kv * this.slots * this.d;
    for (let n = 0; n < this.layers; n++) {
      feeds[`past_k_${n}`] = f32((this.k[n] as Float32Array).subarray(0, size), dims);
      feeds[`past_v_${n}`] = f32((this.v[n] as Float32Array).subarray(0, size), dims);
    }
    return feeds;
  }
}

/** The cache edits' sessions (webgpu). */
interface CacheEdits {
  readonly keep: GraphSession;
  readonly append: GraphSession;
}

/**
 * The KV cache in device memory (webgpu): K and V per layer [rows, KV, S, D] for exactly the live
 * rows, as "gpu-buffer" tensors. The decode graph returns it with the step's K/V written in; row
 * removal, slot growth and appending prefilled rows are small graphs on the device
 * (decode-graph.ts buildCacheEditGraphs). Nothing of it crosses to the host.
 */
class DeviceKvCache {
  private k: OrtTensor[] = [];
  private v: OrtTensor[] = [];
  rows = 0;
  constructor(
    private readonly edits: CacheEdits,
    readonly layers: number,
    public slots: number,
  ) {}

  private take(out: Record<string, OrtTensor>, prefix: string): void {
    const old = [...this.k, ...this.v];
    this.k = Array.from({ length: this.layers }, (_, n) => out[`${prefix}k_${n}`] as OrtTensor);
    this.v = Array.from({ length: this.layers }, (_, n) => out[`${prefix}v_${n}`] as OrtTensor);
    for (const t of old) t.dispose();
  }

  /** ONNX Pad amounts adding `extra` empty slots at the end of axis 2 of [B, KV, S, D]. */
  private static pads(extra: number): OrtTensor {
    return i64([0, 0, 0, 0, 0, 0, extra, 0], [8]);
  }

  private layerFeeds(prefix = ""): Feeds {
    const feeds: Feeds = {};
    for (let n = 0; n < this.layers; n++) {
      feeds[`${prefix}k_${n}`] = this.k[n] as OrtTensor;
      feeds[`${prefix}v_${n}`] = this.v[n] as OrtTensor;
    }
    return feeds;
  }

  private fetches(): Record<string, null> {
    const names: Record<string, null> = {};
    for (let n = 0; n < this.layers; n++) names[`out_k_${n}`] = names[`out_v_${n}`] = null;
    return names;
  }

  async compact(keep: readonly number[]): Promise<void> {
    if (keep.length === 0) {
      for (const t of [...this.k, ...this.v]) t.dispose();
      [this.k, this.v, this.rows] = [[], [], 0];
      return;
    }
    this.take(await this.edits.keep.run({ ...this.layerFeeds(), rows: i64(keep, [keep.length]), pads: DeviceKvCache.pads(0) }, this.fetches()), "out_");
    this.rows = keep.length;
  }

  async grow(rows: number, slots: number): Promise<void> {
    if (this.rows > 0) {
      const all = Array.from({ length: rows }, (_, i) => i);
      this.take(await this.edits.keep.run({ ...this.layerFeeds(), rows: i64(all, [rows]), pads: DeviceKvCache.pads(slots - this.slots) }, this.fetches()), "out_");
    }
    this.slots = slots;
  }

  /** Appends a prefill's present_k_N / present_v_N [R, KV, P, D] (device tensors) after the live rows. */
  async append(out: Record<string, OrtTensor>, R: number, P: number): Promise<void> {
    const block: Feeds = {};
    for (let n = 0; n < this.layers; n++) {
      block[`block_k_${n}`] = out[`present_k_${n}`] as OrtTensor;
      block[`block_v_${n}`] = out[`present_v_${n}`] as OrtTensor;
    }
    const pads = DeviceKvCache.pads(this.slots - P);
    const result =
      this.rows === 0
        ? await this.edits.keep.run({ ...renamed(block, "block_", ""), rows: i64(Array.from({ length: R }, (_, i) => i), [R]), pads }, this.fetches())
        : await this.edits.append.run({ ...this.layerFeeds(), ...block, pads }, this.fetches());
    this.take(result, "out_");
    for (const t of Object.values(block)) t.dispose();
    this.rows += R;
  }

  /** The decode step's cache (present_k_N / present_v_N) replaces the current one. */
  step(out: Record<string, OrtTensor>): void {
    this.take(out, "present_");
  }

  feeds(rows: number): Feeds {
    if (rows !== this.rows) throw new Error(`device KV cache holds ${this.rows} rows; the decode step has ${rows}`);
    return renamed(this.layerFeeds(), "", "past_");
  }

  release(): void {
    for (const t of [...this.k, ...this.v]) t.dispose();
    [this.k, this.v] = [[], []];
  }
}

function renamed(feeds: Feeds, from: string, to: string): Feeds {
  return Object.fromEntries(Object.entries(feeds).map(([k, t]) => [to + k.slice(from.length), t]));
}

function roundUp(n: number, m: number): number {
  return Math.ceil(n / m) * m;
}

/** Constraint tries kept per generator (cleared when full). */
const TRIE_CACHE_SIZE = 256;

export class Generator {
  private readonly tries = new Map<string, TokenTrie>();
  /** Adjusted logits of one row (rows with logit adjustments only). */
  private scratch: Float32Array | undefined;
  readonly stats: GenerationStats = { prefillTokens: 0, prefillMs: 0, decodeSteps: 0, decodeTokens: 0, decodeMs: 0, deviceDraws: 0, hostFallbackDraws: 0 };

  private constructor(
    readonly config: ModelConfig,
    readonly params: Params,
    readonly tokenizer: Tokenizer,
    private prefill: InferenceRunner,
    private decode: InferenceRunner,
    private readonly weights: Feeds,
    private readonly options: GeneratorOptions,
    /** webgpu with live weights: copies them to the device once per `generate` call. */
    private readonly uploader: DeviceCopy | undefined,
    /** webgpu: the KV cache stays on the device, edited by these sessions. */
    private readonly edits: CacheEdits | undefined,
    /** webgpu with sampler "device": draws from the logits left on the device. */
    private readonly sampler: DeviceSampler | undefined,
  ) {}

  private deviceWeights: (() => Feeds) | undefined;

  /**
   * Builds the prefill and decode sessions. Unless `bakeWeights`, weights are read from
   * `params.data` at every run (zero-copy), so in-place optimiser updates are seen without
   * rebuilding.
   */
  static async create(config: ModelConfig, params: Params, tokenizer: Tokenizer, options: GeneratorOptions = {}): Promise<Generator> {
    if (tokenizer.vocabSize > config.vocabSize) {
      throw new Error(`tokenizer has ${tokenizer.vocabSize} ids but the model only ${config.vocabSize} embedding rows`);
    }
    const fp16 = options.precision === "fp16";
    checkSamplerDevice(options.device ?? "cpu", options.sampler, "sampler");
    if (fp16) {
      checkPrecisionDevice(options.device ?? "cpu", options.precision);
      await checkPrecision(options.device ?? "cpu", options.precision);
      checkHalfRange(config, params);
    }
    const weights: Feeds = {};
    if (options.bakeWeights !== true) for (const v of params.layout.views) weights[v.name] = f32(params.view(v.name), v.shape);
    // A 16-bit frozen base (engine/weights/half.ts) is never baked: its words are fed live.
    if (params.half !== undefined) Object.assign(weights, halfFeeds(params.half, options.device));
    const adapter = options.adapter?.params;
    for (const v of adapter?.layout.views ?? []) weights[v.name] = f32((adapter as Params).view(v.name), v.shape);
    const [prefill, decode] = await buildRunners(config, params, options);
    const device = options.device ?? "cpu";
    const half16 = halfWeightNames(config);
    const uploader =
      device === "cpu" || Object.keys(weights).length === 0
        ? undefined
        : await DeviceCopy.create(Object.entries(weights).map(([name, t]) => ({ name, dtype: fp16 && isHalfCopy(half16, name, t) ? ("float16" as const) : (t.type as "float32" | "uint32"), shape: t.dims })), device);
    let edits: CacheEdits | undefined;
    if (device !== "cpu") {
      const graphs = buildCacheEditGraphs(config);
      // fp16: the cache is float16, so its edits are too.
      const typed = (g: Graph): Graph => (fp16 ? toHalfPrecision(g, { halfInputs: () => true, halfOutputs: () => true }) : g);
      const session = { device, outputsOnDevice: true, threads: 1 } as const;
      edits = { keep: await GraphSession.fromGraph(typed(graphs.keep), session), append: await GraphSession.fromGraph(typed(graphs.append), session) };
    }
    const sampler = samplesOnDevice(options) ? await DeviceSampler.create(device, config.vocabSize) : undefined;
    return new Generator(config, params, tokenizer, prefill, decode, weights, options, uploader, edits, sampler);
  }

  /**
   * Reads the weights `source()` returns (device tensors, by weight name) instead of the host
   * buffers: the learner's parameters on a GPU (engine/train/device-training.ts), shared in device
   * memory. Weights it lacks are still fed from the host.
   */
  useDeviceWeights(source: () => Feeds): void {
    this.deviceWeights = source;
  }

  /**
   * With `bakeWeights`, rebuilds the sessions from the current `params.data` (call after the
   * weights changed). Without it, weights are always live and this does nothing.
   */
  async refreshWeights(): Promise<void> {
    if (this.options.bakeWeights !== true) return;
    const [prefill, decode] = await buildRunners(this.config, this.params, this.options);
    await this.release();
    this.prefill = prefill;
    this.decode = decode;
  }

  async release(): Promise<void> {
    await Promise.all([this.prefill.release(), this.decode.release(), this.uploader?.release(), this.edits?.keep.release(), this.edits?.append.release(), this.sampler?.release()]);
  }

  /** Generates one completion per request (results in request order), up to `maxBatch` rows at a time. */
  async generate(requests: readonly GenerationRequest[], options: GenerateOptions): Promise<Completion[]> {
    checkSamplingParams(options);
    if (!(Number.isInteger(options.maxNewTokens) && options.maxNewTokens >= 1)) {
      throw new Error(`maxNewTokens must be an integer ≥ 1; got ${options.maxNewTokens}`);
    }
    if (requests.length === 0) return [];
    const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
    if (!(Number.isInteger(maxBatch) && maxBatch >= 1)) throw new Error(`maxBatch must be an integer ≥ 1; got ${maxBatch}`);
    const rows = requests.map((req, i) => this.newRow(req, i, options));
    const { numHiddenLayers: L, numKeyValueHeads: KV, headDim: D } = this.config;
    const cache = this.edits === undefined ? new KvCache(L, Math.min(maxBatch, rows.length), KV, D, CACHE_CHUNK) : new DeviceKvCache(this.edits, L, CACHE_CHUNK);
    // On a GPU, live weights cross to the device once per call, not once per run, or not at all
    // when the learner's device state lends them (useDeviceWeights).
    const shared = this.deviceWeights?.();
    const uploaded = shared === undefined && this.uploader !== undefined ? await this.uploader.upload(this.uploadFeeds()) : undefined;
    const weights = shared !== undefined ? { ...this.weights, ...shared } : (uploaded ?? this.weights);
    try {
      return await this.generateRows(rows, weights, cache, maxBatch, options);
    } finally {
      disposeAll(uploaded);
      if (cache instanceof DeviceKvCache) cache.release();
    }
  }

  /** The live host weights as the device copy takes them: fp16 copies of the half weights with fp16. */
  private uploadFeeds(): Feeds {
    if (this.options.precision !== "fp16") return this.weights;
    const half = halfWeightNames(this.config);
    return Object.fromEntries(Object.entries(this.weights).map(([name, t]) => [name, isHalfCopy(half, name, t) ? halfTensor(t.data as Float32Array, t.dims) : t]));
  }

  private async generateRows(rows: Row[], weights: Feeds, cache: KvCache | DeviceKvCache, maxBatch: number, options: GenerateOptions): Promise<Completion[]> {
    const queue = rows.slice();
    let live: Row[] = [];

    for (;;) {
      // Rows whose client went away end now; waiting ones are never prefilled.
      for (const row of [...live, ...queue]) if (row.finish === undefined && row.signal?.aborted === true) row.finish = "cancelled";
      if (queue.some((row) => row.finish !== undefined)) queue.splice(0, queue.length, ...queue.filter((row) => row.finish === undefined));
      // Finished rows leave the batch.
      const keep = live.flatMap((row, b) => (row.finish === undefined ? [b] : []));
      if (keep.length < live.length) {
        await cache.compact(keep);
        live = keep.map((b) => live[b] as Row);
      }
      // Free rows take waiting prompts: one prefill for all of them, appended after the live rows.
      if (queue.length > 0 && live.length < maxBatch) {
        // Shortest prompts first, so each prefill group pads little.
        const admitted = queue.splice(0, maxBatch - live.length).sort((a, b) => a.prompt.length - b.prompt.length);
        const need = Math.max(...admitted.map((r) => r.prompt.length), ...live.map((r) => r.len)) + 1;
        if (need > cache.slots) await cache.grow(live.length, roundUp(need, CACHE_CHUNK));
        for (const group of this.prefillGroups(admitted)) {
          const logits = await this.runPrefill(weights, group, (group.at(-1) as Row).prompt.length, cache, live.length);
          (await this.draw(group, logits)).forEach((d, b) => this.advance(group[b] as Row, d, options));
          live = [...live, ...group];
        }
        continue;
      }
      if (live.length === 0) break;
      const maxLen = Math.max(...live.map((r) => r.len));
      if (maxLen >= cache.slots) await cache.grow(live.length, roundUp(maxLen + 1, CACHE_CHUNK));
      const logits = await this.runDecode(weights, live, cache);
      (await this.draw(live, logits)).forEach((d, b) => this.advance(live[b] as Row, d, options));
    }
    return rows.map((row) => ({
      tokens: row.tokens,
      logprobs: row.logprobs,
      allowed: row.allowed,
      text: row.text + row.utf8.decode(),
      finishReason: row.finish as FinishReason,
    }));
  }

  /**
   * Splits rows (sorted by prompt length) into prefill runs whose attention scores
   * [rows, H, P, P] stay under the score budget (a long prompt runs alone).
   */
  private prefillGroups(sorted: readonly Row[]): Row[][] {
    const H = this.config.numAttentionHeads;
    const groups: Row[][] = [];
    for (const row of sorted) {
      const group = groups.at(-1);
      const P = row.prompt.length;
      if (group !== undefined && (group.length + 1) * H * P * P <= (this.options.prefillScoreBudget ?? PREFILL_SCORE_BUDGET)) group.push(row);
      else groups.push([row]);
    }
    return groups;
  }

  /**
   * The trie of a constraint, cached by content: an actor sends the same legal-move set for many
   * rows and steps, and tokenising thousands of offers per row would cost more than decoding.
   */
  private trieFor(constraint: ChoiceConstraint): TokenTrie {
    const key = JSON.stringify([constraint.suffix ?? "", constraint.choices]);
    let trie = this.tries.get(key);
    if (trie === undefined) {
      if (this.tries.size >= TRIE_CACHE_SIZE) this.tries.clear();
      trie = buildChoiceTrie(this.tokenizer, { choices: constraint.choices, ...(constraint.suffix !== undefined && { suffix: constraint.suffix }) });
      this.tries.set(key, trie);
    }
    return trie;
  }

  private newRow(req: GenerationRequest, index: number, options: GenerateOptions): Row {
    const V = this.config.vocabSize;
    if (req.prompt.length === 0) throw new Error(`request ${index}: the prompt is empty; give at least one token`);
    for (const id of req.prompt) {
      if (!Number.isInteger(id) || id < 0 || id >= V) throw new Error(`request ${index}: prompt token ${id} is outside the vocabulary [0, ${V})`);
    }
    const maxNewTokens = req.maxNewTokens ?? options.maxNewTokens;
    if (!(Number.isInteger(maxNewTokens) && maxNewTokens >= 1)) throw new Error(`request ${index}: maxNewTokens must be an integer ≥ 1; got ${maxNewTokens}`);
    if (req.prompt.length + maxNewTokens > this.config.maxPositionEmbeddings) {
      throw new Error(
        `request ${index}: prompt (${req.prompt.length}) + maxNewTokens (${maxNewTokens}) exceeds the model's ${this.config.maxPositionEmbeddings} positions`,
      );
    }
    if (req.sampling !== undefined) checkRowSampling(req.sampling, V, index);
    const trie = req.constraint === undefined ? undefined : this.trieFor(req.constraint);
    const trigger = req.constraint?.trigger;
    return {
      request: index,
      prompt: req.prompt,
      tokens: [],
      logprobs: [],
      allowed: [],
      len: req.prompt.length,
      text: "",
      utf8: new TextDecoder("utf-8", { fatal: false }),
      rng: req.rng ?? options.rng.split(),
      sampling: req.sampling ?? options,
      stopStrings: req.sampling === undefined ? options.stopStrings : req.sampling.stopStrings,
      adjust: req.sampling !== undefined && adjustsLogits(req.sampling) ? { by: req.sampling, counts: new Map() } : undefined,
      signal: req.signal,
      trie,
      trigger,
      maxNewTokens,
      node: trie !== undefined && (trigger === undefined || trigger === "") ? trie.root : -1,
      finish: undefined,
    };
  }

  /** Prefills `rows` into cache rows firstRow.. ; returns their next-token logits [rows, V] (on the device with its sampler). */
  private async runPrefill(weights: Feeds, rows: readonly Row[], P: number, cache: KvCache | DeviceKvCache, firstRow: number): Promise<OrtTensor> {
    const t0 = performance.now();
    const B = rows.length;
    const tokens = new BigInt64Array(B * P).fill(BigInt(this.tokenizer.padId));
    const last = new BigInt64Array(B);
    rows.forEach((row, b) => {
      row.prompt.forEach((id, t) => (tokens[b * P + t] = BigInt(id)));
      last[b] = BigInt(b * P + row.prompt.length - 1);
    });
    const out = await this.prefill.run({ ...weights, ...prefillFeeds(this.config, tokens, last, P) });
    if (cache instanceof DeviceKvCache) await cache.append(out, B, P);
    else {
      for (let n = 0; n < this.config.numHiddenLayers; n++) {
        cache.writeBlock(n, tensorData(out, `present_k_${n}`), tensorData(out, `present_v_${n}`), firstRow, B, P);
      }
    }
    this.stats.prefillTokens += rows.reduce((a, r) => a + r.prompt.length, 0);
    this.stats.prefillMs += performance.now() - t0;
    return tensorOf(out, "logits");
  }

  private async runDecode(weights: Feeds, rows: readonly Row[], cache: KvCache | DeviceKvCache): Promise<OrtTensor> {
    const t0 = performance.now();
    const B = rows.length;
    const S = cache.slots;
    const lens = rows.map((r) => r.len);
    const bias = new Float32Array(B * S).fill(MASKED);
    lens.forEach((len, b) => bias.fill(0, b * S, b * S + len));
    const { cos, sin } = ropeTables(this.config, lens);
    const half = this.config.headDim / 2;
    const out = await this.decode.run({
      ...weights,
      ...cache.feeds(B),
      tokens: i64(BigInt64Array.from(rows, (r) => BigInt(r.tokens.at(-1) as number)), [B]),
      cos: f32(cos, [B, half]),
      sin: f32(sin, [B, half]),
      bias: f32(bias, [B, S]),
      ...(cache instanceof DeviceKvCache ? { slot: f32(slotOneHot(lens, S), [B, S]) } : {}),
    });
    if (cache instanceof DeviceKvCache) cache.step(out);
    else {
      for (let n = 0; n < this.config.numHiddenLayers; n++) {
        cache.writeStep(n, tensorData(out, `new_k_${n}`), tensorData(out, `new_v_${n}`), lens);
      }
    }
    for (const row of rows) row.len++;
    this.stats.decodeSteps++;
    this.stats.decodeTokens += B;
    this.stats.decodeMs += performance.now() - t0;
    return tensorOf(out, "logits");
  }

  /**
   * Draws each row's next token from `logits` [B, V]: on the host (sampling.ts, float64), or with
   * the device sampler, where only the ids and log-probs come back and a row the sampler graph does
   * not cover (`needsHostDraw`) is drawn on the host from the logits fetched with them.
   */
  private async draw(rows: readonly Row[], logits: OrtTensor): Promise<Draw[]> {
    if (this.sampler === undefined) {
      const data = logits.data as Float32Array;
      return rows.map((row, b) => this.drawOnHost(row, data, b, this.allowedAt(row)));
    }
    try {
      const V = this.config.vocabSize;
      const plan = rows.map((row) => {
        const allowed = this.allowedAt(row);
        const host = needsHostDraw(row.sampling, row.adjust !== undefined, allowed?.length ?? V);
        // One uniform per sampled token from the row's own Rng, as the host draw takes it.
        const u = host || row.sampling.temperature === 0 ? 0 : row.rng.next();
        return { allowed, host, temperature: row.sampling.temperature, u };
      });
      const out = await this.sampler.draw(logits, plan, plan.some((p) => p.host));
      return rows.map((row, b) => {
        const { allowed, host } = plan[b] as (typeof plan)[number];
        if (host) {
          this.stats.hostFallbackDraws++;
          return this.drawOnHost(row, out.logits as Float32Array, b, allowed);
        }
        this.stats.deviceDraws++;
        return { id: out.ids[b] as number, logprob: out.logprobs[b] as number, allowed };
      });
    } finally {
      logits.dispose();
    }
  }

  /** The allowed ids of row's next token (a constrained step), else undefined. */
  private allowedAt(row: Row): Int32Array | undefined {
    return row.trie !== undefined && row.node >= 0 ? row.trie.allowed(row.node) : undefined;
  }

  /** sampling.ts's draw from row b of logits [B, V] (the CPU path, and the device sampler's fallback). */
  private drawOnHost(row: Row, logits: Float32Array, b: number, allowed: Int32Array | undefined): Draw {
    const V = this.config.vocabSize;
    let z = logits.subarray(b * V, (b + 1) * V);
    if (row.adjust !== undefined) {
      z = (this.scratch ??= new Float32Array(V));
      z.set(logits.subarray(b * V, (b + 1) * V));
      adjustLogits(z, row.adjust.by, row.adjust.counts);
    }
    const { id, logprob } = sampleToken(z, row.sampling, row.rng, allowed);
    return { id, logprob, allowed };
  }

  /** Takes row's drawn token and updates its state. */
  private advance(row: Row, draw: Draw, options: GenerateOptions): void {
    const { id, logprob, allowed } = draw;
    const constrained = allowed !== undefined;
    if (row.adjust !== undefined) row.adjust.counts.set(id, (row.adjust.counts.get(id) ?? 0) + 1);
    row.tokens.push(id);
    row.logprobs.push(logprob);
    row.allowed.push(allowed ?? null);

    // The eos that ends a row (free text, or a trie's explicit end) is a stop signal, not text.
    const endsRow = constrained ? id === (row.trie as TokenTrie).endId : options.ignoreEos !== true && this.tokenizer.eosIds.includes(id);
    const skip = endsRow || (options.skipSpecialTokens === true && id < this.tokenizer.vocabSize && this.tokenizer.isSpecial(id));
    // Ids past the tokenizer's vocabulary (embedding padding rows) have no text.
    const delta = skip || id >= this.tokenizer.vocabSize ? "" : row.utf8.decode(this.tokenizer.tokenBytes(id), { stream: true });
    row.text += delta;
    if (delta !== "") options.onText?.(row.request, delta);

    if (constrained) {
      row.node = (row.trie as TokenTrie).next(row.node, id);
      if ((row.trie as TokenTrie).isEnd(row.node)) row.finish = "constraint";
    } else if (endsRow) {
      row.finish = "eos";
    } else if (row.stopStrings?.some((s) => s !== "" && row.text.includes(s, Math.max(0, row.text.length - delta.length - s.length + 1)))) {
      row.finish = "stop";
    } else if (row.trie !== undefined && row.trigger !== undefined && delta !== "" && row.text.endsWith(row.trigger)) {
      row.node = row.trie.root;
    }
    if (row.finish === undefined && row.tokens.length >= row.maxNewTokens) row.finish = "length";
  }
}

function checkRowSampling(s: RowSampling, vocabSize: number, index: number): void {
  try {
    checkSamplingParams(s);
  } catch (e) {
    throw new Error(`request ${index}: ${(e as Error).message}`, { cause: e });
  }
  for (const [name, v] of [["presencePenalty", s.presencePenalty], ["frequencyPenalty", s.frequencyPenalty]] as const) {
    if (v !== undefined && !Number.isFinite(v)) throw new Error(`request ${index}: ${name} must be a finite number; got ${v}`);
  }
  for (const [id, bias] of s.logitBias ?? []) {
    if (!(Number.isInteger(id) && id >= 0 && id < vocabSize)) throw new Error(`request ${index}: logitBias id ${id} is outside the vocabulary [0, ${vocabSize})`);
    if (!Number.isFinite(bias)) throw new Error(`request ${index}: logitBias of id ${id} must be a finite number; got ${bias}`);
  }
}

/** 1 at each row's slot lens[b], [B, S]: where the decode graph writes the step's K/V (device cache). */
function slotOneHot(lens: readonly number[], S: number): Float32Array {
  const m = new Float32Array(lens.length * S);
  lens.forEach((len, b) => (m[b * S + len] = 1));
  return m;
}

/** What the generator needs of a session. */
interface InferenceRunner {
  /** `fetches`: the outputs to return (default all). */
  run(feeds: Feeds, fetches?: Record<string, null>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}

/** Name under which the baked weights are handed to onnxruntime as in-memory external data. */
const WEIGHTS_FILE = "spiral-weights.bin";

async function buildRunners(config: ModelConfig, params: Params, options: GeneratorOptions): Promise<[InferenceRunner, InferenceRunner]> {
  const lora = options.adapter?.config;
  const half = params.half?.dtype;
  const device = options.device ?? "cpu";
  const presents = Array.from({ length: config.numHiddenLayers }, (_, n) => [`present_k_${n}`, `present_v_${n}`]).flat();
  const fp16 = options.precision === "fp16";
  // fp16: the weights but the head and the KV cache (past in, present out) in half precision.
  const typed = (g: Graph): Graph => (fp16 ? halfModelGraph(g, config, { halfInputs: (n) => n.startsWith("past_"), halfOutputs: (n) => n.startsWith("present_") }) : g);
  const graphs = [buildPrefillGraph(config, lora, half, device), buildDecodeGraph(config, lora, half, device)].map(typed);
  // On a GPU the cache outputs stay in device memory (DeviceKvCache), and the logits too when the
  // device draws (device-sampler.ts).
  const onDevice = device === "cpu" ? undefined : samplesOnDevice(options) ? ["logits", ...presents] : presents;
  if (options.bakeWeights === true) {
    const halfData = fp16 ? halfCopy(params) : undefined;
    const [a, b] = await Promise.all(graphs.map((g) => bakedSession(g, params, options.threads, device, onDevice, halfData === undefined ? undefined : { data: halfData, names: halfWeightNames(config) })));
    return [a as InferenceRunner, b as InferenceRunner];
  }
  const session = { ...(options.threads !== undefined && { threads: options.threads }), device, ...(onDevice !== undefined && { outputsOnDevice: onDevice }) };
  const [a, b] = await Promise.all(graphs.map((g) => GraphSession.fromGraph(g, session)));
  return [a as InferenceRunner, b as InferenceRunner];
}

/** params.data as float16 bit patterns, same layout (the baked fp16 weights). */
function halfCopy(params: Params): Uint16Array {
  const bits = new Uint16Array(params.data.length);
  encodeF16(params.data, bits);
  return bits;
}

/** Whether a live weight feed goes to the device as an fp16 copy: a float32 weight in `half` (a 16-bit base's words stay words). */
function isHalfCopy(half: ReadonlySet<string>, name: string, t: OrtTensor): boolean {
  return t.type === "float32" && half.has(name);
}

/** Name of the baked fp16 weights' in-memory external data. */
const HALF_WEIGHTS_FILE = "spiral-weights-f16.bin";

/**
 * A session whose weight inputs became initializers stored as external data: each points at its
 * byte range of `params.data`, handed over in memory (no protobuf copy, no file).
 */
async function bakedSession(
  graph: Graph,
  params: Params,
  threads: number | undefined,
  device: Device,
  outputsOnDevice?: readonly string[],
  /** fp16: these weights are baked from `data` (params' layout as float16). */
  half?: { readonly data: Uint16Array; readonly names: ReadonlySet<string> },
): Promise<InferenceRunner> {
  const { onnx } = onnxProto;
  const proto = toModelProto(graph);
  const g = proto.graph;
  if (g === null || g === undefined) throw new Error("bakedSession: the model has no graph");
  const views = params.layout.byName;
  g.input = (g.input ?? []).filter((i) => !views.has(i.name ?? ""));
  g.initializer = [
    ...(g.initializer ?? []),
    ...params.layout.views.map((v) => {
      const h = half?.names.has(v.name) === true;
      return {
        name: v.name,
        dims: [...v.shape],
        dataType: h ? onnx.TensorProto.DataType.FLOAT16 : onnx.TensorProto.DataType.FLOAT,
        dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [
          { key: "location", value: h ? HALF_WEIGHTS_FILE : WEIGHTS_FILE },
          { key: "offset", value: String(h ? v.offset * 2 : params.data.byteOffset + v.offset * 4) },
          { key: "length", value: String(v.size * (h ? 2 : 4)) },
        ],
      };
    }),
  ];
  const session = await ort.InferenceSession.create(onnx.ModelProto.encode(proto).finish(), {
    ...(device === "cpu" ? {} : { executionProviders: executionProviders(device) }),
    ...(outputsOnDevice === undefined ? {} : { preferredOutputLocation: outputLocation(outputsOnDevice) }),
    graphOptimizationLevel: "all",
    intraOpNumThreads: threads ?? 0,
    interOpNumThreads: 1,
    executionMode: "sequential",
    externalData: [{ path: WEIGHTS_FILE, data: new Uint8Array(params.data.buffer) }, ...(half === undefined ? [] : [{ path: HALF_WEIGHTS_FILE, data: new Uint8Array(half.data.buffer) }])],
  }).catch((e: unknown) => {
    throw deviceError(device, e);
  });
  return {
    run: async (feeds, fetches) => {
      const all = { ...feeds, ...dimsFeeds(graph.inputs, feeds) };
      return (fetches === undefined ? await session.run(all) : await session.run(all, fetches)) as Record<string, OrtTensor>;
    },
    release: () => session.release(),
  };
}

function tensorOf(out: Record<string, OrtTensor>, name: string): OrtTensor {
  const t = out[name];
  if (t === undefined) throw new Error(`generation graph did not return "${name}"`);
  return t;
}

function tensorData(out: Record<string, OrtTensor>, name: string): Float32Array {
  return tensorOf(out, name).data as Float32Array;
}

/** Whether the generator draws on the device: webgpu unless `sampler: "host"`. */
function samplesOnDevice(options: GeneratorOptions): boolean {
  const device = options.device ?? "cpu";
  return device !== "cpu" && (options.sampler ?? defaultSampler(device)) === "device";
}

/**
 * The learner's view of a batch of completions (loss-runner.ts `TokenBatch`), right-padded:
 * row b = prompt_b + tokens_b, so `logprobs[b, prompt_b.length + j]` recomputes
 * `completions[b].logprobs[j]` (with the same temperature; 1 for greedy), and constrained steps
 * carry their allowed ids (K = the largest allowed set, padded with mask 0).
 */
export function completionBatch(
  prompts: readonly (readonly number[])[],
  completions: readonly Completion[],
  padId: number,
): {
  B: number;
  T: number;
  tokens: BigInt64Array;
  attentionMask: Float32Array;
  /** [B·T] 1 on generated tokens. */
  lossMask: Float32Array;
  constraints?: { K: number; allowedIds: BigInt64Array; allowedMask: Float32Array; constrained: Float32Array };
} {
  if (prompts.length !== completions.length) throw new Error(`completionBatch: ${prompts.length} prompts but ${completions.length} completions`);
  const B = prompts.length;
  const T = Math.max(2, ...prompts.map((p, b) => p.length + (completions[b] as Completion).tokens.length));
  const tokens = new BigInt64Array(B * T).fill(BigInt(padId));
  const attentionMask = new Float32Array(B * T);
  const lossMask = new Float32Array(B * T);
  const K = Math.max(0, ...completions.flatMap((c) => c.allowed.map((a) => a?.length ?? 0)));
  const allowedIds = new BigInt64Array(B * T * K);
  const allowedMask = new Float32Array(B * T * K);
  const constrained = new Float32Array(B * T);
  prompts.forEach((prompt, b) => {
    const c = completions[b] as Completion;
    [...prompt, ...c.tokens].forEach((id, t) => {
      tokens[b * T + t] = BigInt(id);
      attentionMask[b * T + t] = 1;
    });
    c.tokens.forEach((_, j) => {
      const t = prompt.length + j;
      lossMask[b * T + t] = 1;
      const allowed = c.allowed[j];
      if (allowed === null || allowed === undefined) return;
      constrained[b * T + t] = 1;
      allowed.forEach((id, k) => {
        allowedIds[(b * T + t) * K + k] = BigInt(id);
        allowedMask[(b * T + t) * K + k] = 1;
      });
    });
  });
  return { B, T, tokens, attentionMask, lossMask, ...(K > 0 && { constraints: { K, allowedIds, allowedMask, constrained } }) };
}
