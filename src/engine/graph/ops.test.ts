import { describe, expect, it } from "vitest";
import { createRng, type Rng } from "../../core/rng.js";
import type { Tensor } from "./builder.js";
import * as op from "./ops/index.js";
import { type GradCase, gradCheck } from "./test-gradcheck.js";

// Float64 central differences with h = 1e-6: truncation error ~h² and rounding ~1e-16/h, so an
// error above 1e-6 means a wrong rule, not noise.
const TOL64 = 1e-6;

const positive = (rng: Rng): number => 0.5 + 1.5 * rng.next();
/** Values spaced far apart, so Max/Min/ReduceMax/Clip have no ties or boundary hits within ±h. */
const spread = (rng: Rng): number => (rng.int(2000) - 1000) / 100 + 0.003;
const x = (a: Tensor[], i: number): Tensor => a[i] as Tensor;

const cases: GradCase[] = [
  { name: "Add broadcast", inputs: [{ name: "a", shape: [2, 3] }, { name: "b", shape: [3] }], build: (g, a) => op.add(g, x(a, 0), x(a, 1)) },
  { name: "Sub broadcast both", inputs: [{ name: "a", shape: [2, 1, 3] }, { name: "b", shape: [4, 1] }], build: (g, a) => op.sub(g, x(a, 0), x(a, 1)) },
  { name: "Mul broadcast", inputs: [{ name: "a", shape: [2, 3] }, { name: "b", shape: [2, 1] }], build: (g, a) => op.mul(g, x(a, 0), x(a, 1)) },
  { name: "Mul same tensor", inputs: [{ name: "a", shape: [3] }], build: (g, a) => op.mul(g, x(a, 0), x(a, 0)) },
  {
    name: "Div",
    inputs: [{ name: "a", shape: [2, 3] }, { name: "b", shape: [3], sample: positive }],
    build: (g, a) => op.div(g, x(a, 0), x(a, 1)),
  },
  { name: "Neg", inputs: [{ name: "a", shape: [4] }], build: (g, a) => op.neg(g, x(a, 0)) },
  { name: "Pow 2", inputs: [{ name: "a", shape: [4] }], build: (g, a) => op.pow(g, x(a, 0), 2) },
  { name: "Pow 3", inputs: [{ name: "a", shape: [4] }], build: (g, a) => op.pow(g, x(a, 0), 3) },
  { name: "Sqrt", inputs: [{ name: "a", shape: [4], sample: positive }], build: (g, a) => op.sqrt(g, x(a, 0)) },
  { name: "Reciprocal", inputs: [{ name: "a", shape: [4], sample: positive }], build: (g, a) => op.reciprocal(g, x(a, 0)) },
  { name: "Exp", inputs: [{ name: "a", shape: [4] }], build: (g, a) => op.exp(g, x(a, 0)) },
  { name: "Log", inputs: [{ name: "a", shape: [4], sample: positive }], build: (g, a) => op.log(g, x(a, 0)) },
  { name: "Sigmoid", inputs: [{ name: "a", shape: [4] }], build: (g, a) => op.sigmoid(g, x(a, 0)) },
  { name: "Abs", inputs: [{ name: "a", shape: [5], sample: spread }], build: (g, a) => op.abs(g, x(a, 0)) },
  {
    name: "Where",
    inputs: [
      { name: "c", shape: [2, 3], dtype: "bool", values: [1, 0, 1, 0, 0, 1] },
      { name: "a", shape: [2, 3] },
      { name: "b", shape: [3] },
    ],
    build: (g, a) => op.where(g, x(a, 0), x(a, 1), x(a, 2)),
  },
  { name: "Max", inputs: [{ name: "a", shape: [2, 3], sample: spread }, { name: "b", shape: [3], sample: spread }], build: (g, a) => op.max(g, x(a, 0), x(a, 1)) },
  { name: "Min", inputs: [{ name: "a", shape: [2, 3], sample: spread }, { name: "b", shape: [2, 3], sample: spread }], build: (g, a) => op.min(g, x(a, 0), x(a, 1)) },
  {
    name: "Clip",
    inputs: [{ name: "a", shape: [8], sample: spread }],
    build: (g, a) => op.clip(g, x(a, 0), g.scalar(-3.5, "float64"), g.scalar(4.5, "float64")),
  },
  { name: "ReduceSum keepdims", inputs: [{ name: "a", shape: [2, 3, 2] }], build: (g, a) => op.reduceSum(g, x(a, 0), [1], true) },
  { name: "ReduceSum drop", inputs: [{ name: "a", shape: [2, 3, 2] }], build: (g, a) => op.reduceSum(g, x(a, 0), [0, 2]) },
  { name: "ReduceMean", inputs: [{ name: "a", shape: [2, 3, 2] }], build: (g, a) => op.reduceMean(g, x(a, 0), [-1]) },
  {
    name: "ReduceMean symbolic",
    inputs: [{ name: "a", shape: ["B", 3] }],
    sizes: { B: 2 },
    build: (g, a) => op.reduceMean(g, x(a, 0), [0, 1]),
  },
  { name: "ReduceMax", inputs: [{ name: "a", shape: [2, 4], sample: spread }], build: (g, a) => op.reduceMax(g, x(a, 0), [1], true) },
  { name: "Softmax", inputs: [{ name: "a", shape: [2, 5] }], build: (g, a) => op.softmax(g, x(a, 0)) },
  { name: "LogSoftmax", inputs: [{ name: "a", shape: [2, 5] }], build: (g, a) => op.logSoftmax(g, x(a, 0)) },
  { name: "Softmax axis 0", inputs: [{ name: "a", shape: [3, 2] }], build: (g, a) => op.softmax(g, x(a, 0), 0) },
  { name: "MatMul 2-D", inputs: [{ name: "a", shape: [3, 4] }, { name: "b", shape: [4, 2] }], build: (g, a) => op.matmul(g, x(a, 0), x(a, 1)) },
  {
    name: "MatMul batched × shared weight",
    inputs: [{ name: "a", shape: ["B", 3, 4] }, { name: "b", shape: [4, 2] }],
    sizes: { B: 2 },
    build: (g, a) => op.matmul(g, x(a, 0), x(a, 1)),
  },
  {
    name: "MatMul broadcast batch",
    inputs: [{ name: "a", shape: [2, 1, 3, 4] }, { name: "b", shape: [3, 4, 2] }],
    build: (g, a) => op.matmul(g, x(a, 0), x(a, 1)),
  },
  ...[false, true].flatMap((transA) =>
    [false, true].map(
      (transB): GradCase => ({
        name: `Gemm transA=${transA} transB=${transB}`,
        inputs: [
          { name: "a", shape: transA ? [4, 3] : [3, 4] },
          { name: "b", shape: transB ? [2, 4] : [4, 2] },
          { name: "c", shape: [2] },
        ],
        build: (g, a) => op.gemm(g, x(a, 0), x(a, 1), x(a, 2), { transA, transB, alpha: 0.7, beta: 1.3 }),
      }),
    ),
  ),
  {
    name: "linear (Gemm transB, flattened batch)",
    inputs: [{ name: "x", shape: ["B", "T", 4] }, { name: "w", shape: [3, 4] }],
    sizes: { B: 2, T: 3 },
    build: (g, a) => op.linear(g, x(a, 0), x(a, 1)),
  },
  {
    name: "Gather with repeated ids",
    inputs: [{ name: "w", shape: [5, 3] }, { name: "ids", shape: [2, 2], dtype: "int64", values: [1, 4, 1, 0] }],
    build: (g, a) => op.gather(g, x(a, 0), x(a, 1)),
  },
  {
    name: "GatherElements",
    inputs: [{ name: "a", shape: [2, 4] }, { name: "i", shape: [2, 3], dtype: "int64", values: [0, 3, 3, 2, 1, 0] }],
    build: (g, a) => op.gatherElements(g, x(a, 0), x(a, 1), 1),
  },
  {
    name: "ScatterND add",
    inputs: [
      { name: "d", shape: [4, 2] },
      { name: "i", shape: [3, 1], dtype: "int64", values: [2, 0, 2] },
      { name: "u", shape: [3, 2] },
    ],
    build: (g, a) => op.scatterNDAdd(g, x(a, 0), x(a, 1), x(a, 2)),
  },
  {
    name: "ScatterElements add",
    inputs: [
      { name: "d", shape: [2, 3] },
      { name: "i", shape: [2, 2], dtype: "int64", values: [0, 0, 2, 1] },
      { name: "u", shape: [2, 2] },
    ],
    build: (g, a) => op.scatterElementsAdd(g, x(a, 0), x(a, 1), x(a, 2), 1),
  },
  { name: "Trilu lower", inputs: [{ name: "a", shape: [3, 3] }], build: (g, a) => op.trilu(g, x(a, 0), false) },
  { name: "Trilu upper k=1", inputs: [{ name: "a", shape: [2, 3, 3] }], build: (g, a) => op.trilu(g, x(a, 0), true, 1) },
  { name: "Reshape", inputs: [{ name: "a", shape: [2, 6] }], build: (g, a) => op.reshape(g, x(a, 0), [3, 4]) },
  {
    name: "Reshape symbolic",
    inputs: [{ name: "a", shape: ["B", "T", 4] }],
    sizes: { B: 2, T: 3 },
    build: (g, a) => op.reshape(g, x(a, 0), ["B", "T", 2, 2]),
  },
  { name: "Transpose", inputs: [{ name: "a", shape: [2, 3, 4] }], build: (g, a) => op.transpose(g, x(a, 0), [2, 0, 1]) },
  { name: "Unsqueeze", inputs: [{ name: "a", shape: [2, 3] }], build: (g, a) => op.unsqueeze(g, x(a, 0), [0, -1]) },
  { name: "Squeeze", inputs: [{ name: "a", shape: [2, 1, 3] }], build: (g, a) => op.squeeze(g, x(a, 0), [1]) },
  { name: "Slice static", inputs: [{ name: "a", shape: [3, 6] }], build: (g, a) => op.slice(g, x(a, 0), [1, -4], [3, -1], [0, 1]) },
  {
    name: "Slice symbolic (drop last)",
    inputs: [{ name: "a", shape: ["B", "T", 2] }],
    sizes: { B: 2, T: 4 },
    build: (g, a) => op.slice(g, x(a, 0), [0], [-1], [1]),
  },
  {
    name: "Slice symbolic (fixed end)",
    inputs: [{ name: "a", shape: ["T", 2] }],
    sizes: { T: 5 },
    build: (g, a) => op.slice(g, x(a, 0), [1], [3], [0]),
  },
  {
    name: "Concat static",
    inputs: [{ name: "a", shape: [2, 2] }, { name: "b", shape: [2, 3] }],
    build: (g, a) => op.concat(g, [x(a, 0), x(a, 1)], 1),
  },
  {
    name: "Concat symbolic",
    inputs: [{ name: "a", shape: ["P", 2] }, { name: "b", shape: ["T", 2] }],
    sizes: { P: 2, T: 3 },
    build: (g, a) => op.concat(g, [x(a, 0), x(a, 1), x(a, 0)], 0),
  },
  {
    name: "Split (all parts used)",
    inputs: [{ name: "a", shape: ["B", 7] }],
    sizes: { B: 2 },
    build: (g, a) => {
      const [p, q, r] = op.split(g, x(a, 0), [3, 2, 2], 1) as [Tensor, Tensor, Tensor];
      return op.concat(g, [op.mul(g, p, p), op.exp(g, q), op.neg(g, r)], 1);
    },
  },
  {
    name: "Split (one part unused)",
    inputs: [{ name: "a", shape: [2, 5] }],
    build: (g, a) => op.mul(g, (op.split(g, x(a, 0), [2, 3], 1)[1] as Tensor), g.scalar(3, "float64")),
  },
  { name: "Expand", inputs: [{ name: "a", shape: [3, 1] }], build: (g, a) => op.expand(g, x(a, 0), [2, 3, 4]) },
  {
    name: "Cast float64 → float32 → float64",
    inputs: [{ name: "a", shape: [3] }],
    h: 1e-2,
    build: (g, a) => op.cast(g, op.cast(g, x(a, 0), "float32"), "float64"),
  },
];

describe("VJP rules against float64 central differences", () => {
  const rng = createRng("vjp-fd");
  for (const c of cases) {
    it(c.name, async () => {
      const r = await gradCheck(c, rng.split());
      expect(r.checked).toBeGreaterThan(0);
      // Cast through float32 loses 7 digits: its gradient is checked at float32 precision.
      expect(r.maxError).toBeLessThan(c.name.startsWith("Cast") ? 1e-3 : TOL64);
    });
  }
});

describe("autodiff bookkeeping", () => {
  it("returns no gradient for an input the loss does not depend on", async () => {
    const { Graph } = await import("./builder.js");
    const { gradients } = await import("./autodiff.js");
    const g = new Graph();
    const a = g.input("a", "float32", [3]);
    const b = g.input("b", "float32", [3]);
    const loss = op.reduceSum(g, op.exp(g, a), [0]);
    const [ga, gb] = gradients(g, loss, [a, b]);
    expect(ga?.shape).toEqual([3]);
    expect(gb).toBeUndefined();
  });

  it("rejects broadcasting between different symbolic dims", async () => {
    const { Graph } = await import("./builder.js");
    const g = new Graph();
    const a = g.input("a", "float32", ["T", 3]);
    const b = g.input("b", "float32", ["S", 3]);
    expect(() => op.add(g, a, b)).toThrow(/cannot broadcast/);
  });
});
