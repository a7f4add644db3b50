/**
 * Finite-difference checking of the autodiff (test helper, not shipped).
 *
 * For a function y = f(x₀, x₁, …) recorded in a graph, the scalar L = Σ y ⊙ R with a fixed random R
 * has ∂L/∂xᵢ = VJP(R). The analytic gradients from `gradients()` are compared element by element
 * with central differences (L(x + h·e) − L(x − h·e)) / 2h, all in one dtype (float64 where
 * onnxruntime's CPU kernels exist for it, so h = 1e-6 and the tolerance can be tight).
 */
import type { Rng } from "../../core/rng.js";
import { type DType, Graph, type Shape, type Tensor } from "./builder.js";
import { gradients } from "./autodiff.js";
import { mul, reduceSum } from "./ops/index.js";
import { GraphSession, resolveShape } from "./session.js";
import ort from "onnxruntime-node";

export interface GradInput {
  readonly name: string;
  readonly shape: Shape;
  /** Differentiated (default true); false for e.g. int64 indices or a bool condition. */
  readonly differentiable?: boolean;
  readonly dtype?: DType;
  /** Fixed values (indices, conditions); otherwise drawn by `sample`. */
  readonly values?: readonly number[];
  /** Draws one value; default standard normal. */
  readonly sample?: (rng: Rng) => number;
}

export interface GradCase {
  readonly name: string;
  readonly inputs: readonly GradInput[];
  readonly sizes?: Readonly<Record<string, number>>;
  readonly build: (g: Graph, xs: Tensor[]) => Tensor;
  readonly dtype?: "float32" | "float64";
  /** Finite-difference step (default 1e-6 in float64, 1e-2 in float32). */
  readonly h?: number;
}

export interface GradCheckResult {
  /** max |analytic − numeric| / max(1, |numeric|) over all checked elements. */
  readonly maxError: number;
  readonly checked: number;
}

function makeTensor(dtype: DType, values: readonly number[], dims: number[]): ort.Tensor {
  switch (dtype) {
    case "float64":
      return new ort.Tensor("float64", Float64Array.from(values), dims);
    case "float32":
      return new ort.Tensor("float32", Float32Array.from(values), dims);
    case "int64":
      return new ort.Tensor("int64", BigInt64Array.from(values, (v) => BigInt(v)), dims);
    case "int32":
      return new ort.Tensor("int32", Int32Array.from(values), dims);
    case "uint16":
      return new ort.Tensor("uint16", Uint16Array.from(values), dims);
    case "uint32":
      return new ort.Tensor("uint32", Uint32Array.from(values), dims);
    case "bool":
      return new ort.Tensor("bool", Uint8Array.from(values), dims);
  }
}

export async function gradCheck(c: GradCase, rng: Rng): Promise<GradCheckResult> {
  const fdtype = c.dtype ?? "float64";
  const step = c.h ?? (fdtype === "float64" ? 1e-6 : 1e-2);
  const sizes = c.sizes ?? {};
  // Basic optimisation only: onnxruntime's extended fusions (e.g. x·σ(x) → QuickGelu) have no
  // float64 kernels, and the rules, not the optimiser, are under test.
  const sessionOptions = { threads: 1, optimization: "basic" as const };
  const values = c.inputs.map((inp) => {
    const n = resolveShape(inp.shape, sizes).reduce((a, b) => a * b, 1);
    return inp.values ? [...inp.values] : Array.from({ length: n }, () => (inp.sample ? inp.sample(rng) : rng.normal()));
  });
  const inputFeeds = (vals: number[][]): Record<string, ort.Tensor> => {
    const f: Record<string, ort.Tensor> = {};
    c.inputs.forEach((inp, i) => (f[inp.name] = makeTensor(inp.dtype ?? fdtype, vals[i] as number[], resolveShape(inp.shape, sizes))));
    return f;
  };

  // Output dims may be derived symbols ("T-1", "P+T"): take them from a probe run of f alone.
  const pg = new Graph(`${c.name}-probe`);
  pg.output(c.build(pg, c.inputs.map((i) => pg.input(i.name, i.dtype ?? fdtype, i.shape))), "y");
  const probe = await GraphSession.fromGraph(pg, sessionOptions);
  const yDims = [...((await probe.run(inputFeeds(values))).y as ort.Tensor).dims];
  await probe.release();
  const rVals = Array.from({ length: yDims.reduce((a, b) => a * b, 1) }, () => rng.normal());

  const g = new Graph(c.name);
  const xs = c.inputs.map((i) => g.input(i.name, i.dtype ?? fdtype, i.shape));
  const y = c.build(g, xs);
  const r = g.input("R", fdtype, y.shape);
  const yr = mul(g, y, r);
  const loss = y.shape.length === 0 ? yr : reduceSum(g, yr, y.shape.map((_, i) => i));
  g.output(loss, "loss");
  const diffIdx = c.inputs.map((inp, i) => (inp.differentiable ?? inp.values === undefined ? i : -1)).filter((i) => i >= 0);
  const grads = gradients(g, loss, diffIdx.map((i) => xs[i] as Tensor));
  grads.forEach((gr, k) => {
    if (!gr) throw new Error(`${c.name}: no gradient reached input ${(c.inputs[diffIdx[k] as number] as GradInput).name}`);
    g.output(gr, `grad_${k}`);
  });
  const session = await GraphSession.fromGraph(g, sessionOptions);
  const feeds = (vals: number[][]): Record<string, ort.Tensor> => ({ ...inputFeeds(vals), R: makeTensor(fdtype, rVals, yDims) });
  const lossAt = async (vals: number[][]): Promise<number> => {
    const out = await session.run(feeds(vals));
    return Number((out.loss as ort.Tensor).data[0]);
  };
  const out = await session.run(feeds(values));
  let maxError = 0;
  let checked = 0;
  for (let k = 0; k < diffIdx.length; k++) {
    const i = diffIdx[k] as number;
    const analytic = (out[`grad_${k}`] as ort.Tensor).data as Float64Array | Float32Array;
    const base = values[i] as number[];
    if (analytic.length !== base.length) throw new Error(`${c.name}: gradient of input ${i} has ${analytic.length} values, expected ${base.length}`);
    for (let e = 0; e < base.length; e++) {
      const orig = base[e] as number;
      base[e] = orig + step;
      const up = await lossAt(values);
      base[e] = orig - step;
      const down = await lossAt(values);
      base[e] = orig;
      const numeric = (up - down) / (2 * step);
      const err = Math.abs((analytic[e] as number) - numeric) / Math.max(1, Math.abs(numeric));
      maxError = Math.max(maxError, err);
      checked++;
    }
  }
  await session.release();
  return { maxError, checked };
}
