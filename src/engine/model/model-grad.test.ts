import { describe, expect, it } from "vitest";
import { createRng } from "../../core/rng.js";
import type { Tensor } from "../graph/builder.js";
import { type GradCase, gradCheck } from "../graph/test-gradcheck.js";
import { applyRope, rmsNorm, swiglu } from "./model.js";

// The model's hand-written composite gradients, held to the same float64 central differences
// as the per-op rules.
const x = (a: Tensor[], i: number): Tensor => a[i] as Tensor;
const cases: GradCase[] = [
  {
    name: "rmsNorm (custom VJP), weight shared over batch and time",
    inputs: [{ name: "x", shape: ["B", 3, 4] }, { name: "w", shape: [4] }],
    sizes: { B: 2 },
    build: (g, a) => rmsNorm(g, x(a, 0), x(a, 1), 1e-6),
  },
  {
    name: "rmsNorm (custom VJP) with its input also used outside",
    inputs: [{ name: "x", shape: [2, 4] }, { name: "w", shape: [4] }],
    build: (g, a) => rmsNorm(g, rmsNorm(g, x(a, 0), x(a, 1), 1e-6), x(a, 1), 1e-6),
  },
  {
    name: "swiglu (custom VJP)",
    inputs: [{ name: "gate", shape: [2, 5] }, { name: "up", shape: [2, 5] }],
    build: (g, a) => swiglu(g, x(a, 0), x(a, 1)),
  },
  {
    name: "applyRope (custom VJP), tables broadcast over heads",
    inputs: [
      { name: "x", shape: [2, 3, 2, 4] },
      { name: "cos", shape: [2, 3, 1, 4], differentiable: false },
      { name: "sin", shape: [2, 3, 1, 4], differentiable: false },
    ],
    build: (g, a) => applyRope(g, x(a, 0), { cos: x(a, 1), sinSigned: x(a, 2) }, 4),
  },
];

describe("custom VJPs of the model's composites against float64 central differences", () => {
  const rng = createRng("custom-vjp");
  for (const c of cases) {
    it(c.name, async () => {
      const r = await gradCheck(c, rng.split());
      expect(r.checked).toBeGreaterThan(0);
      expect(r.maxError).toBeLessThan(1e-6);
    });
  }
});
