/**
 * Sampling one token from one row of logits, and the log-prob the learner will recompute.
 *
 * Given logits z[V] (a row of the model output), temperature T, and an optional allowed set A
 * (constrained decoding; A = all ids otherwise):
 *
 *   recorded log-prob   log π(i) = z_i/T − logsumexp_{j∈A}(z_j/T)             (float64)
 *   behaviour policy    π restricted to the top-k ids and then to the top-p nucleus, renormalised
 *
 * The recorded quantity is exactly what the learner computes (log_softmax(logits/T), masked to
 * A at constrained steps), so PPO ratios start at 1. Top-p < 1 or top-k make the behaviour policy
 * differ from it: the ratio is then against the untruncated policy — the paper trains with
 * top-p 1.0, where the two agree. Greedy (T = 0) picks the argmax (lowest id on ties) and records
 * the log-prob at T = 1.
 *
 * All randomness comes from the caller's seeded Rng: one `rng.next()` per sampled token
 * (none when greedy), so a run is reproducible draw for draw.
 */
import type { Rng } from "../../core/rng.js";

export interface SamplingParams {
  /** T ≥ 0; 0 means greedy. */
  temperature: number;
  /** Nucleus mass in (0, 1]; 1 disables. */
  topP?: number;
  /** Keep the k most likely ids; 0 or undefined disables. */
  topK?: number;
}

export interface SampledToken {
  id: number;
  /** log π(id) under logits/T (T = 1 when greedy) over the allowed set; see the file comment. */
  logprob: number;
}

export function checkSamplingParams(p: SamplingParams): void {
  if (!(Number.isFinite(p.temperature) && p.temperature >= 0)) {
    throw new Error(`temperature must be a finite number ≥ 0 (0 = greedy); got ${p.temperature}`);
  }
  if (p.topP !== undefined && !(p.topP > 0 && p.topP <= 1)) throw new Error(`topP must be in (0, 1]; got ${p.topP}`);
  if (p.topK !== undefined && !(Number.isInteger(p.topK) && p.topK >= 0)) throw new Error(`topK must be an integer ≥ 0; got ${p.topK}`);
}

/**
 * Samples from `logits` (length V, a view of one batch row). `allowed`, when given, lists the
 * only ids that may be produced (distinct, non-empty).
 */
export function sampleToken(logits: Float32Array, params: SamplingParams, rng: Rng, allowed?: ArrayLike<number>): SampledToken {
  const n = allowed === undefined ? logits.length : allowed.length;
  if (n === 0) throw new Error("sampleToken: the allowed set is empty");
  const idAt = allowed === undefined ? (k: number) => k : (k: number) => allowed[k] as number;
  const greedy = params.temperature === 0;
  const invT = greedy ? 1 : 1 / params.temperature;

  // Scaled logits of the candidates, their max and logsumexp (float64 throughout).
  let best = 0;
  let max = -Infinity;
  for (let k = 0; k < n; k++) {
    const x = (logits[idAt(k)] as number) * invT;
    if (x > max) {
      max = x;
      best = k;
    }
  }
  if (!Number.isFinite(max)) throw new Error(`sampleToken: logits are not finite (max ${max})`);
  let sum = 0;
  for (let k = 0; k < n; k++) sum += Math.exp((logits[idAt(k)] as number) * invT - max);
  const logZ = max + Math.log(sum);
  const logprobOf = (id: number): number => (logits[id] as number) * invT - logZ;

  if (greedy) {
    const id = idAt(best);
    return { id, logprob: logprobOf(id) };
  }
  const topP = params.topP ?? 1;
  const topK = params.topK ?? 0;
  if (topP >= 1 && (topK === 0 || topK >= n)) {
    // Inverse-CDF over the full (or allowed) set in id order.
    let u = rng.next() * sum;
    for (let k = 0; k < n; k++) {
      u -= Math.exp((logits[idAt(k)] as number) * invT - max);
      if (u < 0) {
        const id = idAt(k);
        return { id, logprob: logprobOf(id) };
      }
    }
    const id = idAt(best); // rounding left u ≥ 0 after the last term: the mass sits on the mode
    return { id, logprob: logprobOf(id) };
  }
  return sampleTruncated(n, idAt, logprobOf, topP, topK, rng);
}

/** Top-k then top-p: sort candidates by probability (ties by id) and sample within the head. */
function sampleTruncated(
  n: number,
  idAt: (k: number) => number,
  logprobOf: (id: number) => number,
  topP: number,
  topK: number,
  rng: Rng,
): SampledToken {
  // Ids below (1−p)/n carry less than 1−p in total, so the nucleus lies among the rest.
  const floor = topK === 0 ? Math.log((1 - topP) / n) : -Infinity;
  const cand: { id: number; p: number }[] = [];
  for (let k = 0; k < n; k++) {
    const id = idAt(k);
    const lp = logprobOf(id);
    if (lp >= floor) cand.push({ id, p: Math.exp(lp) });
  }
  cand.sort((a, b) => b.p - a.p || a.id - b.id);
  let keep = topK > 0 ? Math.min(topK, cand.length) : cand.length;
  if (topP < 1) {
    // Nucleus of the top-k renormalised distribution (of the whole distribution without top-k).
    let mass = 1;
    if (topK > 0) {
      mass = 0;
      for (let k = 0; k < keep; k++) mass += (cand[k] as { p: number }).p;
    }
    let cum = 0;
    for (let k = 0; k < keep; k++) {
      cum += (cand[k] as { p: number }).p;
      if (cum >= topP * mass) {
        keep = k + 1;
        break;
      }
    }
  }
  let total = 0;
  for (let k = 0; k < keep; k++) total += (cand[k] as { p: number }).p;
  let u = rng.next() * total;
  for (let k = 0; k < keep; k++) {
    const c = cand[k] as { id: number; p: number };
    u -= c.p;
    if (u < 0) return { id: c.id, logprob: logprobOf(c.id) };
  }
  const c = cand[0] as { id: number };
  return { id: c.id, logprob: logprobOf(c.id) };
}

/**
 * OpenAI's logit adjustments (used by `spiral serve`; training never sets them). For a row that has
 * generated each id j c_j times so far (its prompt not counted):
 *
 *   z_j  ←  z_j + bias_j − c_j · frequencyPenalty − [c_j > 0] · presencePenalty
 *
 * applied to the raw logits, before the temperature divides them.
 */
export interface LogitAdjustments {
  /** Token id → bias added to its logit (OpenAI: −100 … 100; ±100 bans or forces the id). */
  logitBias?: ReadonlyMap<number, number>;
  presencePenalty?: number;
  frequencyPenalty?: number;
}

/** True when `a` changes some logit. */
export function adjustsLogits(a: LogitAdjustments): boolean {
  return (a.logitBias?.size ?? 0) > 0 || (a.presencePenalty ?? 0) !== 0 || (a.frequencyPenalty ?? 0) !== 0;
}

/** Applies `a` to `logits` in place; `counts` holds how often each id was generated so far. */
export function adjustLogits(logits: Float32Array | Float64Array, a: LogitAdjustments, counts: ReadonlyMap<number, number>): void {
  for (const [id, bias] of a.logitBias ?? []) logits[id] = (logits[id] as number) + bias;
  const presence = a.presencePenalty ?? 0;
  const frequency = a.frequencyPenalty ?? 0;
  if (presence === 0 && frequency === 0) return;
  for (const [id, c] of counts) if (c > 0) logits[id] = (logits[id] as number) - c * frequency - presence;
}

/** log_softmax(logits/T)[id] over `allowed` (or all ids), float64: the learner's quantity. */
export function tokenLogprob(logits: Float32Array, temperature: number, id: number, allowed?: ArrayLike<number>): number {
  const invT = temperature === 0 ? 1 : 1 / temperature;
  const n = allowed === undefined ? logits.length : allowed.length;
  let max = -Infinity;
  for (let k = 0; k < n; k++) max = Math.max(max, (logits[allowed === undefined ? k : (allowed[k] as number)] as number) * invT);
  let sum = 0;
  for (let k = 0; k < n; k++) sum += Math.exp((logits[allowed === undefined ? k : (allowed[k] as number)] as number) * invT - max);
  return (logits[id] as number) * invT - max - Math.log(sum);
}
