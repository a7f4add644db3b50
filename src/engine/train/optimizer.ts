/**
 * AdamW over flat Float32Array buffers, in place (PyTorch's torch.optim.AdamW arithmetic).
 *
 * For each element, at step t (1-based):
 *   p ← p − lr·λ·p                                     decoupled weight decay (λ = weightDecay)
 *   m ← β1·m + (1 − β1)·g
 *   v ← β2·v + (1 − β2)·g²
 *   p ← p − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)
 *
 * Defaults are SPIRAL's (β1 0.9, β2 0.95, ε 1e-8, weight decay 0). The moments live in two
 * Float32Arrays of the parameter buffer's length, so one index means one parameter everywhere;
 * `state()` exposes them without copying so a checkpoint can write them, and `fromState` resumes
 * bit for bit (the update reads nothing else).
 */

export interface AdamWOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
}

export interface AdamWHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export interface AdamWState {
  /** Number of steps taken so far. */
  step: number;
  /** [size] first moment. */
  m: Float32Array;
  /** [size] second moment. */
  v: Float32Array;
}

/** What update t needs besides the hyper-parameters: lr/(1 − β1ᵗ), 1/√(1 − β2ᵗ), 1 − lr·λ. */
export interface AdamWScalars {
  /** The step these belong to (1-based). */
  readonly step: number;
  readonly stepSize: number;
  readonly invSqrtBc2: number;
  readonly decay: number;
}

function checkHyper(h: AdamWHyper): void {
  const bad = (what: string, got: number) => {
    throw new Error(`AdamW: ${what}; got ${got}`);
  };
  if (!(h.lr >= 0 && Number.isFinite(h.lr))) bad("lr must be a finite number ≥ 0", h.lr);
  if (!(h.beta1 >= 0 && h.beta1 < 1)) bad("beta1 must be in [0, 1)", h.beta1);
  if (!(h.beta2 >= 0 && h.beta2 < 1)) bad("beta2 must be in [0, 1)", h.beta2);
  if (!(h.eps > 0 && Number.isFinite(h.eps))) bad("eps must be a finite number > 0", h.eps);
  if (!(h.weightDecay >= 0 && Number.isFinite(h.weightDecay))) bad("weightDecay must be a finite number ≥ 0", h.weightDecay);
}

export class AdamW {
  readonly size: number;
  readonly hyper: AdamWHyper;
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private t: number;

  /** `resume` is for fromState: the moments to adopt instead of fresh zeros. */
  constructor(size: number, opts: AdamWOptions, resume?: AdamWState) {
    if (!Number.isInteger(size) || size < 0) throw new Error(`AdamW: size must be a non-negative integer; got ${size}`);
    this.size = size;
    this.hyper = { lr: opts.lr, beta1: opts.beta1 ?? 0.9, beta2: opts.beta2 ?? 0.95, eps: opts.eps ?? 1e-8, weightDecay: opts.weightDecay ?? 0 };
    checkHyper(this.hyper);
    this.m = resume?.m ?? new Float32Array(size);
    this.v = resume?.v ?? new Float32Array(size);
    this.t = resume?.step ?? 0;
    if (this.m.length !== size || this.v.length !== size) {
      throw new Error(`AdamW state: m has ${this.m.length} values and v has ${this.v.length}; expected ${size} each`);
    }
  }

  /** Resumes from a saved state; the moments are adopted, not copied. */
  static fromState(state: AdamWState, opts: AdamWOptions): AdamW {
    if (!Number.isInteger(state.step) || state.step < 0) {
      throw new Error(`AdamW state: step must be a non-negative integer; got ${state.step}`);
    }
    return new AdamW(state.m.length, opts, state);
  }

  /** Number of steps taken so far. */
  get stepsTaken(): number {
    return this.t;
  }

  /** The live moments and step count (not copies: write them out before the next step). */
  state(): AdamWState {
    return { step: this.t, m: this.m, v: this.v };
  }

  /**
   * The scalars of the next update (step t + 1) at learning rate `lr`, computed in float64. The
   * loop below and the graph (optimizer-graph.ts) both use them, so the bias correction is written once.
   */
  nextScalars(lr: number = this.hyper.lr): AdamWScalars {
    if (!(lr >= 0 && Number.isFinite(lr))) throw new Error(`AdamW.step: lr must be a finite number ≥ 0; got ${lr}`);
    const { beta1, beta2, weightDecay } = this.hyper;
    const t = this.t + 1;
    return { step: t, stepSize: lr / (1 - beta1 ** t), invSqrtBc2: 1 / Math.sqrt(1 - beta2 ** t), decay: 1 - lr * weightDecay };
  }

  /** Counts an update another kernel (the graph in optimizer-graph.ts) made to the live moments. */
  recordStep(scalars: AdamWScalars): void {
    if (scalars.step !== this.t + 1) throw new Error(`AdamW.recordStep: expected the scalars of step ${this.t + 1}; got step ${scalars.step}`);
    this.t = scalars.step;
  }

  /**
   * One update of params in place; `lr` overrides the constructor's (for schedules). `gradScale`
   * (a clip factor, `clipFactor`) multiplies each gradient as it is read, rounded to float32 as
   * `clipGradNorm` stores it: the same bits as clipping first, one pass over the gradient fewer.
   */
  step(params: Float32Array, grads: Float32Array, lr: number = this.hyper.lr, gradScale = 1): void {
    if (params.length !== this.size || grads.length !== this.size) {
      throw new Error(`AdamW.step: expected params and grads of length ${this.size}; got ${params.length} and ${grads.length}`);
    }
    const scalars = this.nextScalars(lr);
    const { stepSize, invSqrtBc2, decay } = scalars;
    const { beta1, beta2, eps } = this.hyper;
    this.t = scalars.step;
    const oneMinusB1 = 1 - beta1;
    const oneMinusB2 = 1 - beta2;
    const m = this.m;
    const v = this.v;
    const n = this.size;
    for (let i = 0; i < n; i++) {
      const g = Math.fround((grads[i] as number) * gradScale);
      const mi = beta1 * (m[i] as number) + oneMinusB1 * g;
      const vi = beta2 * (v[i] as number) + oneMinusB2 * g * g;
      m[i] = mi;
      v[i] = vi;
      params[i] = (params[i] as number) * decay - (stepSize * mi) / (Math.sqrt(vi) * invSqrtBc2 + eps);
    }
  }
}

/**
 * Scales grads in place so their global L2 norm is at most maxNorm (PyTorch clip_grad_norm_:
 * factor maxNorm / (norm + 1e-6), only when it is below 1). Returns the norm before clipping,
 * accumulated in float64. A non-finite norm leaves grads untouched so the caller can skip the step.
 */
export function clipGradNorm(grads: Float32Array, maxNorm: number): number {
  clipFactor(0, maxNorm); // checks maxNorm, whatever the gradients
  const norm = gradNorm(grads);
  if (!Number.isFinite(norm)) return norm;
  const factor = clipFactor(norm, maxNorm);
  if (factor < 1) {
    for (let i = 0; i < grads.length; i++) grads[i] = (grads[i] as number) * factor;
  }
  return norm;
}

/** The global L2 norm of grads, accumulated in float64 (clipGradNorm's). */
export function gradNorm(grads: Float32Array): number {
  let sumSq = 0;
  for (let i = 0; i < grads.length; i++) {
    const g = grads[i] as number;
    sumSq += g * g;
  }
  return Math.sqrt(sumSq);
}

/** What clipGradNorm multiplies the gradients by at this norm: maxNorm / (norm + 1e-6), at most 1. */
export function clipFactor(norm: number, maxNorm: number): number {
  if (!(maxNorm > 0)) throw new Error(`clipGradNorm: maxNorm must be > 0; got ${maxNorm}`);
  const factor = maxNorm / (norm + 1e-6);
  return factor < 1 ? factor : 1;
}
