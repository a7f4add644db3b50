/**
 * Reductions and normalisers: ReduceSum, ReduceMean, ReduceMax, Softmax, LogSoftmax.
 * Axes are constant int64 inputs (opset 18); keepdims is an attribute. Also the gradient of
 * broadcasting, `sumToShape`, with Expand's rule: it is a sum (and reductions' own gradients are
 * expands, which is why this file imports shape.ts and not the other way round).
 */
import { type Dim, type Graph, type Shape, type Tensor, attr, shapeToString } from "../builder.js";
import { cast, constInts, expandLike, reshape, squeeze, unsqueeze } from "./shape.js";
import { type VjpRule, inputOf, intAttr, outputOf } from "./vjp.js";

function reducedShape(x: Tensor, axes: readonly number[], keepdims: boolean): Dim[] {
  const rank = x.shape.length;
  const norm = axes.map((a) => (a < 0 ? a + rank : a));
  const out: Dim[] = [];
  x.shape.forEach((d, i) => {
    if (!norm.includes(i)) out.push(d);
    else if (keepdims) out.push(1);
  });
  return out;
}

function reduce(op: string, g: Graph, x: Tensor, axes: readonly number[], keepdims: boolean): Tensor {
  if (axes.length === 0) throw new Error(`${op}: give the axes explicitly`);
  const rank = x.shape.length;
  const norm = axes.map((a) => (a < 0 ? a + rank : a)).sort((a, b) => a - b);
  return g.op1(op, [x, g.ints(norm)], { keepdims: attr.int(keepdims ? 1 : 0) }, { dtype: x.dtype, shape: reducedShape(x, norm, keepdims) });
}

export const reduceSum = (g: Graph, x: Tensor, axes: readonly number[], keepdims = false): Tensor =>
  reduce("ReduceSum", g, x, axes, keepdims);
export const reduceMean = (g: Graph, x: Tensor, axes: readonly number[], keepdims = false): Tensor =>
  reduce("ReduceMean", g, x, axes, keepdims);
export const reduceMax = (g: Graph, x: Tensor, axes: readonly number[], keepdims = false): Tensor =>
  reduce("ReduceMax", g, x, axes, keepdims);

/**
 * Sums a gradient of shape `grad.shape` back to `target` (the shape before broadcasting):
 * over leading axes `target` lacks and over axes where `target` has 1 and the gradient does not.
 */
export function sumToShape(g: Graph, grad: Tensor, target: Shape): Tensor {
  const extra = grad.shape.length - target.length;
  if (extra < 0) throw new Error(`sumToShape: gradient ${shapeToString(grad.shape)} has lower rank than ${shapeToString(target)}`);
  const axes: number[] = [];
  for (let i = 0; i < grad.shape.length; i++) {
    if (i < extra) axes.push(i);
    else if (target[i - extra] === 1 && grad.shape[i] !== 1) axes.push(i);
  }
  if (axes.length === 0) return grad;
  if (axes.length === extra && extra > 1 && target.every((d) => typeof d === "number")) {
    // Reducing exactly the leading axes (a weight shared by every position): one 2-D column sum
    // [N, target] → [target], which onnxruntime does far faster than a multi-axis reduce.
    const flat = reshape(g, grad, [grad.shape.slice(0, extra).join("*"), ...target]);
    return reduceSum(g, flat, [0]);
  }
  let out = reduceSum(g, grad, axes, true);
  if (extra > 0) out = squeeze(g, out, Array.from({ length: extra }, (_, i) => i));
  return out;
}

// forward: y = Expand(x, shape)  ⇒  dx = sumToShape(dy, shape(x))
const expandVjp: VjpRule = (g, node, dy) => {
  const d = dy[0];
  return [d ? sumToShape(g, d, inputOf(node, 0).shape) : undefined, undefined];
};

/** dy of a reduction, brought back to x's rank (size-1 reduced axes), not yet expanded. */
function keepDimsGrad(g: Graph, node: Parameters<VjpRule>[1], d: Tensor): Tensor {
  if (intAttr(node, "keepdims", 1) === 1) return d;
  return unsqueeze(g, d, constInts(g, inputOf(node, 1)));
}

// forward: y = ReduceSum(x, axes)  ⇒  dx = Expand(dy, Shape(x))
const reduceSumVjp: VjpRule = (g, node, dy) => {
  const d = dy[0];
  if (!d) return [undefined, undefined];
  return [expandLike(g, keepDimsGrad(g, node, d), inputOf(node, 0)), undefined];
};

function sizeAsFloat(g: Graph, t: Tensor, like: Tensor): Tensor {
  const n = g.op1("Size", [t], {}, { dtype: "int64", shape: [] });
  return cast(g, n, like.dtype);
}

// forward: y = ReduceMean(x, axes)  ⇒  dx = Expand(dy, Shape(x)) · size(y) / size(x)
const reduceMeanVjp: VjpRule = (g, node, dy) => {
  const d = dy[0];
  if (!d) return [undefined, undefined];
  const x = inputOf(node, 0);
  const y = outputOf(node);
  const ratio = g.op1("Div", [sizeAsFloat(g, y, d), sizeAsFloat(g, x, d)], {}, { dtype: d.dtype, shape: [] });
  const scaled = g.op1("Mul", [keepDimsGrad(g, node, d), ratio], {}, { dtype: d.dtype, shape: reducedShape(x, constInts(g, inputOf(node, 1)), true) });
  return [expandLike(g, scaled, x), undefined];
};

// forward: y = ReduceMax(x, axes)  ⇒  dx = dy · [x == max] / (number of maxima), ties share
const reduceMaxVjp: VjpRule = (g, node, dy) => {
  const d = dy[0];
  if (!d) return [undefined, undefined];
  const x = inputOf(node, 0);
  const axes = constInts(g, inputOf(node, 1));
  const yKeep = keepDimsGrad(g, node, outputOf(node));
  const isMax = cast(g, g.op1("Equal", [x, yKeep], {}, { dtype: "bool", shape: x.shape }), x.dtype);
  const count = reduceSum(g, isMax, axes, true);
  const share = g.op1("Div", [keepDimsGrad(g, node, d), count], {}, { dtype: x.dtype, shape: count.shape });
  return [g.op1("Mul", [isMax, share], {}, { dtype: x.dtype, shape: x.shape }), undefined];
};

export function softmax(g: Graph, x: Tensor, axis = -1): Tensor {
  return g.op1("Softmax", [x], { axis: attr.int(axis) }, { dtype: x.dtype, shape: x.shape });
}

export function logSoftmax(g: Graph, x: Tensor, axis = -1): Tensor {
  return g.op1("LogSoftmax", [x], { axis: attr.int(axis) }, { dtype: x.dtype, shape: x.shape });
}

// forward: y = Softmax(x, axis)  ⇒  dx = y · (dy − Σ_axis(dy · y))
const softmaxVjp: VjpRule = (g, node, dy) => {
  const d = dy[0];
  if (!d) return [undefined];
  const y = outputOf(node);
  const axis = intAttr(node, "axis", -1);
  const dyy = g.op1("Mul", [d, y], {}, { dtype: y.dtype, shape: y.shape });
  const s = reduceSum(g, dyy, [axis], true);
  // y·dy − y·s: reuses dy·y instead of a second full-size Sub then Mul.
  const ys = g.op1("Mul", [y, s], {}, { dtype: y.dtype, shape: y.shape });
  return [g.op1("Sub", [dyy, ys], {}, { dtype: y.dtype, shape: y.shape })];
};

// forward: y = LogSoftmax(x, axis)  ⇒  dx = dy − exp(y) · Σ_axis dy
const logSoftmaxVjp: VjpRule = (g, node, dy) => {
  const d = dy[0];
  if (!d) return [undefined];
  const y = outputOf(node);
  const axis = intAttr(node, "axis", -1);
  const s = reduceSum(g, d, [axis], true);
  const p = g.op1("Exp", [y], {}, { dtype: y.dtype, shape: y.shape });
  const ps = g.op1("Mul", [p, s], {}, { dtype: y.dtype, shape: y.shape });
  return [g.op1("Sub", [d, ps], {}, { dtype: y.dtype, shape: y.shape })];
};

export const reduceVjps: Record<string, VjpRule> = {
  ReduceSum: reduceSumVjp,
  ReduceMean: reduceMeanVjp,
  ReduceMax: reduceMaxVjp,
  Softmax: softmaxVjp,
  LogSoftmax: logSoftmaxVjp,
  Expand: expandVjp,
};

