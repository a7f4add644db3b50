/**
 * Elementwise ops with numpy broadcasting: arithmetic, unary maths, comparisons, Where, Max/Min, Clip.
 * Each VJP quotes its forward and sums broadcast gradients back with `sumToShape`.
 */
import type { DType, Graph, Tensor } from "../builder.js";
import { sumToShape } from "./reduce.js";
import { broadcastShapes, cast, constInts } from "./shape.js";
import { type VjpRule, inputOf, outputOf } from "./vjp.js";

function binary(op: string, g: Graph, a: Tensor, b: Tensor, dtype: DType = a.dtype): Tensor {
  if (a.dtype !== b.dtype) throw new Error(`${op}: dtypes differ (${a.dtype} vs ${b.dtype})`);
  return g.op1(op, [a, b], {}, { dtype, shape: broadcastShapes(a.shape, b.shape, op) });
}

function unary(op: string, g: Graph, x: Tensor): Tensor {
  return g.op1(op, [x], {}, { dtype: x.dtype, shape: x.shape });
}

/** A scalar constant of x's dtype. */
const k = (g: Graph, x: Tensor, v: number): Tensor => g.scalar(v, x.dtype);

export const add = (g: Graph, a: Tensor, b: Tensor): Tensor => binary("Add", g, a, b);
export const sub = (g: Graph, a: Tensor, b: Tensor): Tensor => binary("Sub", g, a, b);
export const mul = (g: Graph, a: Tensor, b: Tensor): Tensor => binary("Mul", g, a, b);
export const div = (g: Graph, a: Tensor, b: Tensor): Tensor => binary("Div", g, a, b);
export const max = (g: Graph, a: Tensor, b: Tensor): Tensor => binary("Max", g, a, b);
export const min = (g: Graph, a: Tensor, b: Tensor): Tensor => binary("Min", g, a, b);
export const equal = (g: Graph, a: Tensor, b: Tensor): Tensor => binary("Equal", g, a, b, "bool");
export const less = (g: Graph, a: Tensor, b: Tensor): Tensor => binary("Less", g, a, b, "bool");
export const greater = (g: Graph, a: Tensor, b: Tensor): Tensor => binary("Greater", g, a, b, "bool");
export const lessOrEqual = (g: Graph, a: Tensor, b: Tensor): Tensor => binary("LessOrEqual", g, a, b, "bool");
export const and = (g: Graph, a: Tensor, b: Tensor): Tensor => binary("And", g, a, b, "bool");
export const not = (g: Graph, x: Tensor): Tensor => unary("Not", g, x);
export const neg = (g: Graph, x: Tensor): Tensor => unary("Neg", g, x);
export const sqrt = (g: Graph, x: Tensor): Tensor => unary("Sqrt", g, x);
export const reciprocal = (g: Graph, x: Tensor): Tensor => unary("Reciprocal", g, x);
export const exp = (g: Graph, x: Tensor): Tensor => unary("Exp", g, x);
export const log = (g: Graph, x: Tensor): Tensor => unary("Log", g, x);
export const sigmoid = (g: Graph, x: Tensor): Tensor => unary("Sigmoid", g, x);
export const abs = (g: Graph, x: Tensor): Tensor => unary("Abs", g, x);

/** x ** p for a constant exponent p (the exponent gets no gradient). */
export function pow(g: Graph, x: Tensor, p: number): Tensor {
  return g.op1("Pow", [x, g.scalar(p, x.dtype)], {}, { dtype: x.dtype, shape: x.shape });
}

export function where(g: Graph, cond: Tensor, a: Tensor, b: Tensor): Tensor {
  if (cond.dtype !== "bool") throw new Error(`where: condition must be bool; got ${cond.dtype}`);
  const shape = broadcastShapes(broadcastShapes(cond.shape, a.shape, "Where"), b.shape, "Where");
  return g.op1("Where", [cond, a, b], {}, { dtype: a.dtype, shape });
}

/** clamp(x, lo, hi) with scalar tensor bounds. */
export function clip(g: Graph, x: Tensor, lo: Tensor, hi: Tensor): Tensor {
  if (lo.shape.length !== 0 || hi.shape.length !== 0) throw new Error("clip: bounds must be scalars (rank 0)");
  return g.op1("Clip", [x, lo, hi], {}, { dtype: x.dtype, shape: x.shape });
}

/** Helper for rules: a node whose shape is the broadcast of its inputs. */
const bmul = (g: Graph, a: Tensor, b: Tensor): Tensor => mul(g, a, b);

// forward: y = a + b  ⇒  da = dy, db = dy (summed over broadcast axes)
const addVjp: VjpRule = (g, node, dy, wants) => {
  const d = dy[0];
  if (!d) return [undefined, undefined];
  return [
    wants[0] ? sumToShape(g, d, inputOf(node, 0).shape) : undefined,
    wants[1] ? sumToShape(g, d, inputOf(node, 1).shape) : undefined,
  ];
};

// forward: y = a − b  ⇒  da = dy, db = −dy
const subVjp: VjpRule = (g, node, dy, wants) => {
  const d = dy[0];
  if (!d) return [undefined, undefined];
  return [
    wants[0] ? sumToShape(g, d, inputOf(node, 0).shape) : undefined,
    wants[1] ? neg(g, sumToShape(g, d, inputOf(node, 1).shape)) : undefined,
  ];
};

// forward: y = a · b  ⇒  da = dy · b, db = dy · a
const mulVjp: VjpRule = (g, node, dy, wants) => {
  const d = dy[0];
  if (!d) return [undefined, undefined];
  const a = inputOf(node, 0);
  const b = inputOf(node, 1);
  return [
    wants[0] ? sumToShape(g, bmul(g, d, b), a.shape) : undefined,
    wants[1] ? sumToShape(g, bmul(g, d, a), b.shape) : undefined,
  ];
};

// forward: y = a / b  ⇒  da = dy / b, db = −dy · y / b
const divVjp: VjpRule = (g, node, dy, wants) => {
  const d = dy[0];
  if (!d) return [undefined, undefined];
  const a = inputOf(node, 0);
  const b = inputOf(node, 1);
  const da = div(g, d, b);
  return [
    wants[0] ? sumToShape(g, da, a.shape) : undefined,
    wants[1] ? neg(g, sumToShape(g, bmul(g, da, outputOf(node)), b.shape)) : undefined,
  ];
};

// forward: y = −x  ⇒  dx = −dy
const negVjp: VjpRule = (g, _node, dy) => [dy[0] ? neg(g, dy[0]) : undefined];

// forward: y = x ** p (p constant)  ⇒  dx = dy · p · x ** (p − 1)
const powVjp: VjpRule = (g, node, dy) => {
  const d = dy[0];
  if (!d) return [undefined, undefined];
  const x = inputOf(node, 0);
  const [p] = constInts(g, inputOf(node, 1)) as [number];
  const dx = p === 2 ? bmul(g, d, mul(g, x, k(g, x, 2))) : bmul(g, d, mul(g, pow(g, x, p - 1), k(g, x, p)));
  return [dx, undefined];
};

// forward: y = √x  ⇒  dx = dy · 0.5 / y
const sqrtVjp: VjpRule = (g, node, dy) => {
  const d = dy[0];
  if (!d) return [undefined];
  const y = outputOf(node);
  return [div(g, mul(g, d, k(g, y, 0.5)), y)];
};

// forward: y = 1 / x  ⇒  dx = −dy · y²
const reciprocalVjp: VjpRule = (g, node, dy) => {
  const d = dy[0];
  if (!d) return [undefined];
  const y = outputOf(node);
  return [neg(g, mul(g, d, mul(g, y, y)))];
};

// forward: y = eˣ  ⇒  dx = dy · y
const expVjp: VjpRule = (g, node, dy) => [dy[0] ? mul(g, dy[0], outputOf(node)) : undefined];

// forward: y = ln x  ⇒  dx = dy / x
const logVjp: VjpRule = (g, node, dy) => [dy[0] ? div(g, dy[0], inputOf(node, 0)) : undefined];

// forward: y = σ(x)  ⇒  dx = dy · y · (1 − y)
const sigmoidVjp: VjpRule = (g, node, dy) => {
  const d = dy[0];
  if (!d) return [undefined];
  const y = outputOf(node);
  return [mul(g, d, mul(g, y, sub(g, k(g, y, 1), y)))];
};

// forward: y = |x|  ⇒  dx = dy · sign(x)
const absVjp: VjpRule = (g, node, dy) => {
  const d = dy[0];
  if (!d) return [undefined];
  return [mul(g, d, g.op1("Sign", [inputOf(node, 0)], {}, { dtype: d.dtype, shape: d.shape }))];
};

// forward: y = Where(c, a, b)  ⇒  da = Where(c, dy, 0), db = Where(c, 0, dy)
const whereVjp: VjpRule = (g, node, dy, wants) => {
  const d = dy[0];
  if (!d) return [undefined, undefined, undefined];
  const c = inputOf(node, 0);
  const zero = k(g, d, 0);
  return [
    undefined,
    wants[1] ? sumToShape(g, where(g, c, d, zero), inputOf(node, 1).shape) : undefined,
    wants[2] ? sumToShape(g, where(g, c, zero, d), inputOf(node, 2).shape) : undefined,
  ];
};

// forward: y = Max(a, b)  ⇒  da = dy · [a ≥ b], db = dy · [a < b]   (Min: the mirror image)
function selectVjp(firstWins: "GreaterOrEqual" | "LessOrEqual"): VjpRule {
  return (g, node, dy, wants) => {
    const d = dy[0];
    if (!d) return [undefined, undefined];
    const a = inputOf(node, 0);
    const b = inputOf(node, 1);
    const pick = g.op1(firstWins, [a, b], {}, { dtype: "bool", shape: broadcastShapes(a.shape, b.shape) });
    const zero = k(g, d, 0);
    return [
      wants[0] ? sumToShape(g, where(g, pick, d, zero), a.shape) : undefined,
      wants[1] ? sumToShape(g, where(g, pick, zero, d), b.shape) : undefined,
    ];
  };
}

// forward: y = Clip(x, lo, hi)  ⇒  dx = dy · [lo ≤ x ≤ hi]; the bounds get no gradient
const clipVjp: VjpRule = (g, node, dy) => {
  const d = dy[0];
  if (!d) return [undefined, undefined, undefined];
  const x = inputOf(node, 0);
  const lo = inputOf(node, 1);
  const hi = inputOf(node, 2);
  const inside = and(g, lessOrEqual(g, lo, x), lessOrEqual(g, x, hi));
  return [mul(g, d, cast(g, inside, d.dtype)), undefined, undefined];
};

export const elementwiseVjps: Record<string, VjpRule> = {
  Add: addVjp,
  Sub: subVjp,
  Mul: mulVjp,
  Div: divVjp,
  Neg: negVjp,
  Pow: powVjp,
  Sqrt: sqrtVjp,
  Reciprocal: reciprocalVjp,
  Exp: expVjp,
  Log: logVjp,
  Sigmoid: sigmoidVjp,
  Abs: absVjp,
  Where: whereVjp,
  Max: selectVjp("GreaterOrEqual"),
  Min: selectVjp("LessOrEqual"),
  Clip: clipVjp,
};
