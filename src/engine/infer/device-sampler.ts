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
import { Graph, type Tensor } from "../graph/builder.js";
import type { Device } from "../graph/device.js";
import { add, cast, equal, exp, gatherElements, greater, less, lessOrEqual, log, mul, reduceMax, reduceSum, sub, where } from "../graph/ops/index.js";
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
 * inputs: logits [B, V]; inv_temperature, uniform, greedy (1/0), constrained (1/0): [B, 1] float32;
 * allowed_ids [B, A] int64 and allowed_mask [B, A] (1 on a row's allowed ids, 0 on padding).
 * outputs: pick [B, 1] int32 (the id; at a constrained row the index into its allowed ids),
 * logprob [B, 1] float32, host_logits [B, V] (the logits again, fetched only for host draws).
 */
export function buildSamplerGraph(): Graph {
  const g = new Graph("sampler");
  g.target = "webgpu";
  const n = samplerNames;
  const f = "float32";
  const logits = g.input(n.logits, f, ["B", "V"]);
  const invT = g.input(n.invTemperature, f, ["B", 1]);
  const u = g.input(n.uniform, f, ["B", 1]);
  const flag = (name: string): Tensor => greater(g, g.input(name, f, ["B", 1]), g.scalar(0.5, f));
  const greedy = flag(n.greedy);
  const constrained = flag(n.constrained);
  const ids = g.input(n.allowedIds, "int64", ["B", "A"]);
  const allowed = greater(g, g.input(n.allowedMask, f, ["B", "A"]), g.scalar(0.5, f));

  const free = drawRow(g, mul(g, logits, invT), u, greedy);
  const picked = mul(g, gatherElements(g, logits, ids, 1), invT);
  const onAllowed = drawRow(g, where(g, allowed, picked, g.scalar(-Infinity, f)), u, greedy);
  g.output(cast(g, where(g, constrained, onAllowed.pick, free.pick), "int32"), n.pick);
  // 0, or NaN when any logit of the row is not finite (the max ignores NaN): the host then stops.
  const finite = reduceSum(g, mul(g, logits, g.scalar(0, f)), [1], true);
  g.output(add(g, where(g, constrained, onAllowed.logprob, free.logprob), finite), n.logprob);
  g.output(logits, n.hostLogits);
  return g;
}

/** One draw per row over x [B, N] (excluded candidates at −∞): the index picked and its log-prob, [B, 1] each. */
function drawRow(g: Graph, x: Tensor, u: Tensor, greedy: Tensor): { pick: Tensor; logprob: Tensor } {
  const f = "float32";
  const m = reduceMax(g, x, [1], true);
  const e = exp(g, sub(g, x, m));
  const cumsum = (t: Tensor): Tensor => g.op1("CumSum", [t, g.scalar(1, "int64")], {}, { dtype: f, shape: t.shape });
  const cdf = cumsum(e);
  const total = reduceMax(g, cdf, [1], true); // the last entry: a sum of non-negative terms only grows
  const target = mul(g, u, total);
  // Candidate indices as floats (exact below 2²⁴): a cumsum of ones, no int64 arithmetic.
  const index = sub(g, cumsum(add(g, mul(g, e, g.scalar(0, f)), g.scalar(1, f))), g.scalar(1, f));
  const drawn = reduceSum(g, cast(g, lessOrEqual(g, cdf, target), f), [1], true);
  const mode = g.op1("ReduceMin", [where(g, equal(g, x, m), index, g.scalar(2 ** 24, f)), g.ints([1])], { keepdims: { kind: "int", value: 1 } }, { dtype: f, shape: m.shape });
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

  static async create(device: Device): Promise<DeviceSampler> {
    return new DeviceSampler(await GraphSession.fromGraph(buildSamplerGraph(), { device, threads: 1 }));
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
