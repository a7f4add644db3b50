/**
 * AdamW with global-norm gradient clipping as one ONNX graph over the flat buffers.
 *
 * The same update as `clipGradNorm` + `AdamW.step` (optimizer.ts), for any onnxruntime session:
 *
 *   inputs   params, grads, exp_avg (m), exp_avg_sq (v)       float32 [N], the parameter layout
 *            step_size = lr/(1 − β1ᵗ), inv_sqrt_bc2 = 1/√(1 − β2ᵗ), decay = 1 − lr·λ, max_norm
 *                                                             rank-0, from `AdamW.nextScalars`
 *   outputs  params_out, exp_avg_out, exp_avg_sq_out          float32 [N]
 *            grad_norm                                        rank 0, the norm before clipping
 *
 * β1, β2 and ε are constants of the graph. Nothing per element happens on the host, so a session
 * on an accelerator can keep all four buffers on the device. A non-finite gradient norm leaves
 * the three outputs equal to the inputs (the gates are on scalars: one full-size Where on the
 * gradient), matching the learner, which skips such an update.
 *
 * Precision: "float32" computes in float32 (what a GPU can run). "float64" casts to float64 and
 * follows the JS loop's expression order operation for operation, so it reproduces `AdamW.step`
 * bit for bit; only the norm's summation order differs (a sequential float64 sum there, a
 * vectorised one here), which can move the clip factor by an ulp of float64.
 *
 * The moments are the `AdamW` object's own arrays (same layout, same checkpoint files):
 * `GraphAdamW` writes them in place and counts the step on that object, so the JS loop and the
 * graph can take turns on one state.
 */
import ort from "onnxruntime-node";
import { type DType, Graph, type Tensor, attr } from "../graph/builder.js";
import * as op from "../graph/ops/index.js";
import { GraphSession, type SessionOptions } from "../graph/session.js";
import type { AdamW, AdamWHyper, AdamWScalars } from "./optimizer.js";

export type OptimizerPrecision = "float32" | "float64";

export const optimizerNames = {
  params: "params",
  grads: "grads",
  m: "exp_avg",
  v: "exp_avg_sq",
  stepSize: "step_size",
  invSqrtBc2: "inv_sqrt_bc2",
  decay: "decay",
  maxNorm: "max_norm",
  paramsOut: "params_out",
  mOut: "exp_avg_out",
  vOut: "exp_avg_sq_out",
  gradNorm: "grad_norm",
} as const;

/** The clip's guard against a zero norm, as in PyTorch's clip_grad_norm_ and `clipGradNorm`. */
const CLIP_EPS = 1e-6;

/** The update graph for hyper-parameters β1, β2, ε (lr and λ arrive through the scalars). */
export function buildOptimizerGraph(hyper: Pick<AdamWHyper, "beta1" | "beta2" | "eps">, precision: OptimizerPrecision = "float32"): Graph {
  const g = new Graph("adamw");
  const P: DType = precision;
  const n = optimizerNames;
  const wide = (x: Tensor): Tensor => (P === "float32" ? x : op.cast(g, x, P));
  const narrow = (x: Tensor): Tensor => (P === "float32" ? x : op.cast(g, x, "float32"));
  const params = wide(g.input(n.params, "float32", ["N"]));
  const grads = wide(g.input(n.grads, "float32", ["N"]));
  const m = wide(g.input(n.m, "float32", ["N"]));
  const v = wide(g.input(n.v, "float32", ["N"]));
  const stepSize = g.input(n.stepSize, P, []);
  const invSqrtBc2 = g.input(n.invSqrtBc2, P, []);
  const decay = g.input(n.decay, P, []);
  const maxNorm = g.input(n.maxNorm, P, []);
  const k = (x: number): Tensor => g.scalar(x, P);

  const sumSq = g.op1("ReduceSumSquare", [grads, g.ints([0])], { keepdims: attr.int(0) }, { dtype: P, shape: [] });
  const norm = op.sqrt(g, sumSq);
  // NaN < ∞ and ∞ < ∞ are false: one flag gates every scalar below.
  const finite = op.less(g, norm, k(Infinity));
  const gate = (ok: number, skip: number): Tensor => op.where(g, finite, k(ok), k(skip));
  const factor = op.min(g, op.div(g, maxNorm, op.add(g, norm, k(CLIP_EPS))), k(1));
  let clipped = op.mul(g, grads, factor);
  // The JS clip stores the clipped gradient in float32 before AdamW reads it.
  if (P !== "float32") clipped = wide(narrow(clipped));
  // Where, not a product: 0 · NaN is NaN.
  const grad = op.where(g, finite, clipped, k(0));

  const { beta1, beta2, eps } = hyper;
  const m1 = op.add(g, op.mul(g, m, gate(beta1, 1)), op.mul(g, grad, gate(1 - beta1, 0)));
  const v1 = op.add(g, op.mul(g, v, gate(beta2, 1)), op.mul(g, op.mul(g, grad, gate(1 - beta2, 0)), grad));
  const denom = op.add(g, op.mul(g, op.sqrt(g, v1), invSqrtBc2), k(eps));
  const update = op.div(g, op.mul(g, m1, op.where(g, finite, stepSize, k(0))), denom);
  const p1 = op.sub(g, op.mul(g, params, op.where(g, finite, decay, k(1))), update);

  g.output(narrow(p1), n.paramsOut);
  g.output(narrow(m1), n.mOut);
  g.output(narrow(v1), n.vOut);
  g.output(norm, n.gradNorm);
  return g;
}

export interface GraphAdamWOptions {
  readonly precision?: OptimizerPrecision;
  readonly session?: SessionOptions;
}

/**
 * Runs the graph on an `AdamW`'s state, in place: params, m and v are fed and fetched as the same
 * buffers (safe: each output's last node runs after every reader of the input it overwrites).
 */
export class GraphAdamW {
  private constructor(
    readonly optimizer: AdamW,
    readonly precision: OptimizerPrecision,
    private readonly session: GraphSession,
  ) {}

  static async create(optimizer: AdamW, options: GraphAdamWOptions = {}): Promise<GraphAdamW> {
    const precision = options.precision ?? "float32";
    const session = await GraphSession.fromGraph(buildOptimizerGraph(optimizer.hyper, precision), options.session ?? {});
    return new GraphAdamW(optimizer, precision, session);
  }

  private scalar(x: number): ort.Tensor {
    return this.precision === "float32" ? new ort.Tensor("float32", Float32Array.of(x), []) : new ort.Tensor("float64", Float64Array.of(x), []);
  }

  /**
   * Clips `grads` (left untouched) to global norm `maxNorm` and takes one AdamW step on `params`.
   * Returns the norm before clipping; when it is not finite nothing changes and no step is counted.
   */
  async step(params: Float32Array, grads: Float32Array, maxNorm: number, lr: number = this.optimizer.hyper.lr): Promise<number> {
    const { size } = this.optimizer;
    if (params.length !== size || grads.length !== size) {
      throw new Error(`GraphAdamW.step: expected params and grads of length ${size}; got ${params.length} and ${grads.length}`);
    }
    if (!(maxNorm > 0)) throw new Error(`GraphAdamW.step: maxNorm must be > 0; got ${maxNorm}`);
    const scalars: AdamWScalars = this.optimizer.nextScalars(lr);
    const { m, v } = this.optimizer.state();
    const n = optimizerNames;
    const flat = (data: Float32Array): ort.Tensor => new ort.Tensor("float32", data, [size]);
    const out = await this.session.run(
      {
        [n.params]: flat(params), [n.grads]: flat(grads), [n.m]: flat(m), [n.v]: flat(v),
        [n.stepSize]: this.scalar(scalars.stepSize), [n.invSqrtBc2]: this.scalar(scalars.invSqrtBc2),
        [n.decay]: this.scalar(scalars.decay), [n.maxNorm]: this.scalar(maxNorm),
      },
      { [n.paramsOut]: flat(params), [n.mOut]: flat(m), [n.vOut]: flat(v), [n.gradNorm]: null },
    );
    const norm = Number((out[n.gradNorm] as ort.Tensor).data[0]);
    if (Number.isFinite(norm)) this.optimizer.recordStep(scalars);
    return norm;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
