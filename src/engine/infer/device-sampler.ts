/**
 * The sampler on the device (--device webgpu, `sampler: device`): one small graph reads the logits
 * [B, V] that the prefill or decode run left in device memory and returns, per row, the drawn
 * candidate and its log-prob: 8 bytes per row per step cross to the host instead of 4·V.
 *
 * Per row b, over the candidates (the whole vocabulary, or the row's allowed ids when its step is
 * constrained, gathered on the device from a padded [B, A] id list):
 *
 *   x_k = z_k · invT_b         (invT = 1/T; 1 when greedy)          float32
 *   e_k = exp(x_k − max x),   c_k = e_0 + … + e_k   (CumSum, in candidate order)
 *   draw   = the first k with c_k > u_b · c_last     (inverse CDF; u_b from the row's seeded Rng)
 *   greedy = the lowest k with x_k = max x
 *   log-prob = x_pick − max x − log c_last           (the learner's log_softmax(z/T), masked to A)
 *
 * which is sampling.ts's `sampleToken` for top-p 1 and no top-k, in float32 instead of float64:
 * the host feeds u = rng.next() (one per sampled token, none when greedy, as the host draw
 * consumes), so the same seed gives the same tokens on the same device, and the host's tokens
 * except where a draw falls within float32 rounding of a CDF boundary (docs/device.md). When
 * u·c_last ≥ c_last after rounding, the mode is drawn, as on the host.
 *
 * What the graph does not do (penalties, logit bias, top-p < 1, top-k) a row gets from the host
 * sampler: `needsHostDraw` says which rows, and the run then also fetches the logits.
 */
import ort from "onnxruntime-node";
import { attr, Graph, type Tensor } from "../graph/builder.js";
import type { Device } from "../graph/device.js";
import { add, cast, equal, exp, gatherElements, greater, less, lessOrEqual, log, mul, reduceMax, reduceSum, reshape, slice, sub, where } from "../graph/ops/index.js";
import { GraphSession, type OrtTensor } from "../graph/session.js";
import type { SamplingParams } from "./sampling.js";

export const samplerNames = {
  logits: "logits",
  invTemperature: "inv_temperature",
  uniform: "uniform",
  greedy: "greedy",
  constrained: "constrained",
  allowedIds: "allowed_ids",
  allowedMask: "allowed_mask",
  pick: "pick",
  logprob: "logprob",
  hostLogits: "host_logits",
} as const;

/**
 * The float32 CDF over a vocabulary is summed in blocks of `bs` ids (bs ≈ √V, a power of two):
 * a cumsum within each block, plus the exclusive cumsum of the block totals. A plain running sum
 * over all V terms drifts by up to V·ε: at Qwen3's V = 151,936 it moved 94 of 480 draws to a
 * neighbouring id and the log-probs by 3.4e-4 (CPU provider, LM-like logits, the host's uniforms);
 * in blocks the error is of order (bs + V/bs)·ε. It is also cheaper where a CumSum kernel sums
 * each prefix afresh (quadratic in the axis length).
 */
export function cdfBlock(V: number): number {
  return 2 ** Math.max(0, Math.ceil(Math.log2(Math.sqrt(V))));
}

/**
 * inputs: logits [B, V] (V = `vocabSize`); inv_temperature, uniform, greedy (1/0), constrained (1/0): [B, 1] float32;
 * allowed_ids [B, A] int64 and allowed_mask [B, A] (1 on a row's allowed ids, 0 on padding).
 * outputs: pick [B, 1] int32 (the id; at a constrained row the index into its allowed ids),
 * logprob [B, 1] float32, host_logits [B, V] (the logits again, fetched only for host draws).
 */
export function buildSamplerGraph(vocabSize: number): Graph {
  const g = new Graph("sampler");
  g.target = "webgpu";
  const n = samplerNames;
  const f = "float32";
  const logits = g.input(n.logits, f, ["B", vocabSize]);
  const invT = g.input(n.invTemperature, f, ["B", 1]);
  const u = g.input(n.uniform, f, ["B", 1]);
  const flag = (name: string): Tensor => greater(g, g.input(name, f, ["B", 1]), g.scalar(0.5, f));
  const greedy = flag(n.greedy);
  const constrained = flag(n.constrained);
  const ids = g.input(n.allowedIds, "int64", ["B", "A"]);
  const allowed = greater(g, g.input(n.allowedMask, f, ["B", "A"]), g.scalar(0.5, f));

  const free = drawRow(g, mul(g, logits, invT), u, greedy, cdfBlock(vocabSize));
  const picked = mul(g, gatherElements(g, logits, ids, 1), invT);
  const onAllowed = drawRow(g, where(g, allowed, picked, g.scalar(-Infinity, f)), u, greedy); // A is small: one running sum
  g.output(cast(g, where(g, constrained, onAllowed.pick, free.pick), "int32"), n.pick);
  // 0, or NaN when any logit of the row is not finite (the max ignores NaN): the host then stops.
  const finite = reduceSum(g, mul(g, logits, g.scalar(0, f)), [1], true);
  g.output(add(g, where(g, constrained, onAllowed.logprob, free.logprob), finite), n.logprob);
  g.output(logits, n.hostLogits);
  return g;
}

/**
 * One draw per row over x [B, N] (excluded candidates at −∞): the index picked and its log-prob,
 * [B, 1] each. `block` (static N only): the CDF is summed in blocks of that many candidates.
 */
function drawRow(g: Graph, scaled: Tensor, u: Tensor, greedy: Tensor, block?: number): { pick: Tensor; logprob: Tensor } {
  const f = "float32";
  const N = scaled.shape[1];
  const blocks = block === undefined || typeof N !== "number" ? 1 : Math.ceil(N / block);
  // Padded to whole blocks with −∞ (probability 0, never the max).
  const padded = blocks * (block ?? 0);
  const x = blocks > 1 && padded > (N as number) ? g.op1("Pad", [scaled, g.ints([0, 0, 0, padded - (N as number)]), g.scalar(-Infinity, f)], { mode: attr.string("constant") }, { dtype: f, shape: [scaled.shape[0] as string, padded] }) : scaled;
  const m = reduceMax(g, x, [1], true);
  const e = exp(g, sub(g, x, m));
  const cumsum = (t: Tensor, axis: number, exclusive = false): Tensor =>
    g.op1("CumSum", [t, g.scalar(axis, "int64")], exclusive ? { exclusive: attr.int(1) } : {}, { dtype: f, shape: t.shape });
  let cdf: Tensor;
  if (blocks > 1) {
    const bs = block as number;
    const e3 = reshape(g, e, [x.shape[0] as string, blocks, bs]);
    const within = cumsum(e3, 2);
    // Each block's total is its running sum's last entry, so the CDF is non-decreasing across blocks.
    const totals = slice(g, within, [bs - 1], [bs], [2]); // [B, blocks, 1]
    cdf = reshape(g, add(g, within, cumsum(totals, 1, true)), x.shape);
  } else {
    cdf = cumsum(e, 1);
  }
  const total = reduceMax(g, cdf, [1], true); // the last entry: the CDF only grows
  const target = mul(g, u, total);
  // Candidate indices as floats (exact below 2²⁴), no int64 arithmetic: a constant row for the
  // vocabulary, a cumsum of ones over a (short) allowed list.
  const width = x.shape[1];
  const index =
    typeof width === "number"
      ? g.constant({ dtype: f, shape: [1, width], values: Array.from({ length: width }, (_, k) => k) }, "index")
      : sub(g, cumsum(add(g, mul(g, e, g.scalar(0, f)), g.scalar(1, f)), 1), g.scalar(1, f));
  const drawn = reduceSum(g, cast(g, lessOrEqual(g, cdf, target), f), [1], true);
  const mode = g.op1("ReduceMin", [where(g, equal(g, x, m), index, g.scalar(2 ** 24, f)), g.ints([1])], { keepdims: attr.int(1) }, { dtype: f, shape: m.shape });
  // Rounding can leave u·c_last at c_last: then no entry exceeds it, and the mode is drawn (as on the host).
  const pick = where(g, greedy, mode, where(g, less(g, target, total), drawn, mode));
  const xPick = reduceSum(g, where(g, equal(g, index, pick), x, g.scalar(0, f)), [1], true);
  return { pick, logprob: sub(g, sub(g, xPick, m), log(g, total)) };
}

/** True when a row's draw needs the host sampler: logit adjustments, top-p < 1 or top-k below the candidates. */
export function needsHostDraw(sampling: SamplingParams, adjusted: boolean, candidates: number): boolean {
  if (sampling.temperature === 0) return adjusted;
  const topK = sampling.topK ?? 0;
  return adjusted || (sampling.topP ?? 1) < 1 || (topK > 0 && topK < candidates);
}

/** The largest float32 below 1: a uniform that rounds up to 1 would always draw the mode. */
const BELOW_ONE = 1 - 2 ** -24;

/** One row of a device draw: its sampling, its allowed ids (constrained step) and its uniform. */
export interface DeviceDrawRow {
  readonly temperature: number;
  readonly allowed: ArrayLike<number> | undefined;
  /** rng.next() for a sampled row, ignored when greedy. */
  readonly u: number;
}

export interface DeviceDrawResult {
  /** Per row: the id (an allowed id at a constrained row) and its log-prob, float32. */
  readonly ids: Int32Array;
  readonly logprobs: Float32Array;
  /** The logits [B, V] on the host, when asked for (rows drawn on the host). */
  readonly logits?: Float32Array;
}

/** The sampler graph's session on a device. */
export class DeviceSampler {
  private constructor(private readonly session: GraphSession) {}

  static async create(device: Device, vocabSize: number): Promise<DeviceSampler> {
    return new DeviceSampler(await GraphSession.fromGraph(buildSamplerGraph(vocabSize), { device, threads: 1 }));
  }

  /** Draws one token per row from `logits` [B, V] (a device tensor, left to the caller). */
  async draw(logits: OrtTensor, rows: readonly DeviceDrawRow[], withLogits: boolean): Promise<DeviceDrawResult> {
    const B = rows.length;
    const n = samplerNames;
    const A = Math.max(1, ...rows.map((r) => r.allowed?.length ?? 0));
    const invT = new Float32Array(B), u = new Float32Array(B), greedy = new Float32Array(B), constrained = new Float32Array(B);
    const ids = new BigInt64Array(B * A), mask = new Float32Array(B * A);
    rows.forEach((r, b) => {
      const g = r.temperature === 0;
      invT[b] = g ? 1 : 1 / r.temperature;
      greedy[b] = g ? 1 : 0;
      u[b] = g ? 0 : Math.min(Math.fround(r.u), BELOW_ONE);
      if (r.allowed === undefined) {
        mask[b * A] = 1; // one valid dummy candidate keeps the unused branch finite
        return;
      }
      constrained[b] = 1;
      for (let k = 0; k < r.allowed.length; k++) {
        ids[b * A + k] = BigInt(r.allowed[k] as number);
        mask[b * A + k] = 1;
      }
    });
    const col = (a: Float32Array) => new ort.Tensor("float32", a, [B, 1]);
    const out = await this.session.run(
      { [n.logits]: logits, [n.invTemperature]: col(invT), [n.uniform]: col(u), [n.greedy]: col(greedy), [n.constrained]: col(constrained), [n.allowedIds]: new ort.Tensor("int64", ids, [B, A]), [n.allowedMask]: new ort.Tensor("float32", mask, [B, A]) },
      { [n.pick]: null, [n.logprob]: null, ...(withLogits ? { [n.hostLogits]: null } : {}) },
    );
    const pick = (out[n.pick] as OrtTensor).data as Int32Array;
    const logprobs = (out[n.logprob] as OrtTensor).data as Float32Array;
    const result = rows.map((r, b) => {
      const k = pick[b] as number;
      const lp = logprobs[b] as number;
      if (!Number.isFinite(lp)) throw new Error(`device sampler: the logits of row ${b} are not finite (log-prob ${lp})`);
      return r.allowed === undefined ? k : (r.allowed[k] as number);
    });
    return { ids: Int32Array.from(result), logprobs, ...(withLogits ? { logits: (out[n.hostLogits] as OrtTensor).data as Float32Array } : {}) };
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
