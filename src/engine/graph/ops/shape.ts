/**
 * Shape ops and broadcasting: Reshape, Transpose, Unsqueeze, Squeeze, Slice, Concat, Expand, Shape,
 * Identity, Cast. The gradient of broadcasting (`sumToShape`, Expand's rule) is a sum and lives
 * in reduce.ts, so that this file needs nothing from there (reduce.ts builds on these ops).
 */
import { type Dim, type DType, type Graph, type Shape, type Tensor, attr, isFloat, shapeToString, term } from "../builder.js";
import { type VjpRule, inputOf, intAttr, intsAttr } from "./vjp.js";

/** A slice end meaning "to the end of the axis" (onnxruntime clamps ends to the dim). */
export const TO_END = Number.MAX_SAFE_INTEGER;

function normAxis(axis: number, rank: number, op: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new Error(`${op}: axis ${axis} is out of range for rank ${rank}`);
  return a;
}

/** Numpy-style broadcast of two static/symbolic shapes. */
export function broadcastShapes(a: Shape, b: Shape, op = "broadcast"): Dim[] {
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const da = i - (rank - a.length) >= 0 ? (a[i - (rank - a.length)] as Dim) : 1;
    const db = i - (rank - b.length) >= 0 ? (b[i - (rank - b.length)] as Dim) : 1;
    if (da === db || db === 1) out.push(da);
    else if (da === 1) out.push(db);
    else throw new Error(`${op}: cannot broadcast ${shapeToString(a)} with ${shapeToString(b)}`);
  }
  return out;
}

/**
 * Zeros of x's shape and dtype: ConstantOfShape on the CPU; on webgpu, which has no kernel for it,
 * a broadcast (Expand) of a scalar 0.
 */
export function zerosOf(g: Graph, x: Tensor, dtype: DType = x.dtype): Tensor {
  if (g.target === "webgpu") return g.op1("Expand", [g.scalar(0, dtype), shapeOf(g, x)], {}, { dtype, shape: x.shape });
  return g.op1("ConstantOfShape", [shapeOf(g, x)], { value: attr.tensor({ dtype, shape: [1], values: [0] }) }, { dtype, shape: x.shape });
}

/** The runtime shape of x as an int64 vector. */
export function shapeOf(g: Graph, x: Tensor): Tensor {
  if (g.target === "webgpu") return g.dimsInput(x.shape);
  return g.op1("Shape", [x], {}, { dtype: "int64", shape: [x.shape.length] });
}

export function identity(g: Graph, x: Tensor): Tensor {
  return g.op1("Identity", [x], {}, { dtype: x.dtype, shape: x.shape });
}

/**
 * Reshape to `outShape`. The ONNX shape vector is derived: a static dim is written as is, a
 * symbolic dim equal to the input dim at the same index as 0 (copy), and one other dim as -1.
 * When more than one dim would need inferring, symbolic dims found elsewhere in the input shape
 * are read from its runtime Shape instead.
 */
export function reshape(g: Graph, x: Tensor, outShape: Shape): Tensor {
  const spec: number[] = [];
  let inferred = 0;
  outShape.forEach((d, i) => {
    if (typeof d === "number") spec.push(d);
    else if (x.shape[i] === d) spec.push(0);
    else {
      spec.push(-1);
      inferred++;
    }
  });
  if (inferred <= 1) return g.op1("Reshape", [x, g.ints(spec)], {}, { dtype: x.dtype, shape: outShape });
  if (g.target === "webgpu") return g.op1("Reshape", [x, g.dimsInput(outShape)], {}, { dtype: x.dtype, shape: outShape });
  const shape = shapeOf(g, x);
  let unknown = 0;
  const parts = outShape.map((d) => {
    if (typeof d === "number") return g.ints([d]);
    const j = x.shape.indexOf(d);
    if (j >= 0) return g.op1("Gather", [shape, g.ints([j])], { axis: attr.int(0) }, { dtype: "int64", shape: [1] });
    unknown++;
    return g.ints([-1]);
  });
  if (unknown > 1) throw new Error(`reshape ${shapeToString(x.shape)} → ${shapeToString(outShape)}: more than one dim to infer; use reshapeLike`);
  const spec2 = g.op1("Concat", parts, { axis: attr.int(0) }, { dtype: "int64", shape: [outShape.length] });
  return g.op1("Reshape", [x, spec2], {}, { dtype: x.dtype, shape: outShape });
}

/** Reshape x to the runtime shape of `like` (and its static shape). */
export function reshapeLike(g: Graph, x: Tensor, like: Tensor): Tensor {
  return g.op1("Reshape", [x, shapeOf(g, like)], {}, { dtype: x.dtype, shape: like.shape });
}

const reshapeVjp: VjpRule = (g, node, dy) => {
  const d = dy[0];
  return [d ? reshapeLike(g, d, inputOf(node, 0)) : undefined, undefined];
};

export function transpose(g: Graph, x: Tensor, perm: readonly number[]): Tensor {
  if (perm.length !== x.shape.length) throw new Error(`transpose: perm [${perm.join(",")}] does not match rank ${x.shape.length}`);
  const shape = perm.map((p) => x.shape[p] as Dim);
  return g.op1("Transpose", [x], { perm: attr.ints(perm) }, { dtype: x.dtype, shape });
}

// forward: y = Transpose(x, perm)  ⇒  dx = Transpose(dy, inverse(perm))
const transposeVjp: VjpRule = (g, node, dy) => {
  const d = dy[0];
  if (!d) return [undefined];
  const perm = intsAttr(node, "perm") ?? [];
  const inverse = new Array<number>(perm.length);
  perm.forEach((p, i) => (inverse[p] = i));
  return [transpose(g, d, inverse)];
};

export function unsqueeze(g: Graph, x: Tensor, axes: readonly number[]): Tensor {
  const rank = x.shape.length + axes.length;
  const norm = axes.map((a) => normAxis(a, rank, "Unsqueeze")).sort((a, b) => a - b);
  const shape: Dim[] = [];
  let k = 0;
  for (let i = 0; i < rank; i++) shape.push(norm.includes(i) ? 1 : (x.shape[k++] as Dim));
  // int64 has no WebGPU kernels: an int64 graph input is fed a second time in the new shape.
  if (g.target === "webgpu" && x.dtype === "int64" && g.inputs.includes(x)) return g.viewInput(x, shape);
  return g.op1("Unsqueeze", [x, g.ints(norm)], {}, { dtype: x.dtype, shape });
}

export function squeeze(g: Graph, x: Tensor, axes: readonly number[]): Tensor {
  const norm = axes.map((a) => normAxis(a, x.shape.length, "Squeeze"));
  for (const a of norm) {
    if (x.shape[a] !== 1) throw new Error(`squeeze: axis ${a} of ${shapeToString(x.shape)} is not 1`);
  }
  const shape = x.shape.filter((_, i) => !norm.includes(i));
  return g.op1("Squeeze", [x, g.ints(norm)], {}, { dtype: x.dtype, shape });
}

// forward: y = Unsqueeze/Squeeze(x)  ⇒  dx = Reshape(dy, Shape(x))
const reshapeBackVjp: VjpRule = (g, node, dy) => {
  const d = dy[0];
  return [d ? reshapeLike(g, d, inputOf(node, 0)) : undefined, undefined];
};

function sliceDim(d: Dim, start: number, end: number, paren: boolean): Dim {
  if (typeof d === "number") {
    const s = Math.max(0, Math.min(d, start < 0 ? d + start : start));
    const e = Math.max(0, Math.min(d, end < 0 ? d + end : end));
    return Math.max(0, e - s);
  }
  if (start === 0 && end >= TO_END) return d;
  // webgpu evaluates these names (session.ts `dimsFeeds`): compound ones need parentheses there.
  const t = paren ? term(d) : String(d);
  if (start >= 0 && end < 0 && start === 0) return `${t}${end}`;
  if (start >= 0 && end >= TO_END) return `${t}-${start}`;
  return `${t}[${start}:${end}]`;
}

/** x[..., start:end, ...] along each of `axes` (step 1). Use TO_END for "to the end". */
export function slice(g: Graph, x: Tensor, starts: readonly number[], ends: readonly number[], axes: readonly number[]): Tensor {
  const norm = axes.map((a) => normAxis(a, x.shape.length, "Slice"));
  const shape = [...x.shape];
  norm.forEach((a, i) => (shape[a] = sliceDim(x.shape[a] as Dim, starts[i] as number, ends[i] as number, g.target === "webgpu")));
  return g.op1("Slice", [x, g.ints(starts), g.ints(ends), g.ints(norm)], {}, { dtype: x.dtype, shape });
}

// forward: y = x[start:end] along axes  ⇒  dx = Pad(dy, zeros before start and after end)
const sliceVjp: VjpRule = (g, node, dy) => {
  const d = dy[0];
  if (!d) return [undefined];
  const x = inputOf(node, 0);
  const rank = x.shape.length;
  const starts = constInts(g, inputOf(node, 1));
  const ends = constInts(g, inputOf(node, 2));
  const axes = constInts(g, inputOf(node, 3));
  const before = new Array<number>(rank).fill(0);
  const after = new Array<number>(rank).fill(0);
  let dynamicAfter: { axis: number; end: number } | undefined;
  axes.forEach((a, i) => {
    const dim = x.shape[a] as Dim;
    let s = starts[i] as number;
    let e = ends[i] as number;
    if (typeof dim === "number") {
      s = s < 0 ? Math.max(0, dim + s) : Math.min(s, dim);
      e = e < 0 ? Math.max(0, dim + e) : Math.min(e, dim);
      before[a] = s;
      after[a] = dim - e;
    } else {
      if (s < 0) throw new Error(`Slice gradient: negative start on symbolic dim ${dim} is not supported`);
      before[a] = s;
      if (e < 0) after[a] = -e;
      else if (e >= TO_END) after[a] = 0;
      else dynamicAfter = { axis: a, end: e };
    }
  });
  let pads: Tensor;
  if (dynamicAfter && g.target === "webgpu") {
    const afterDims: Dim[] = [...after];
    afterDims[dynamicAfter.axis] = `${term(x.shape[dynamicAfter.axis] as Dim)}-${dynamicAfter.end}`;
    pads = g.dimsInput([...before, ...afterDims]);
  } else if (dynamicAfter) {
    // after = dim - end, known only at run time.
    const dimT = g.op1("Gather", [shapeOf(g, x), g.ints([dynamicAfter.axis])], { axis: attr.int(0) }, { dtype: "int64", shape: [1] });
    const rest = g.op1("Sub", [dimT, g.ints([dynamicAfter.end])], {}, { dtype: "int64", shape: [1] });
    const head = g.ints([...before, ...after.slice(0, dynamicAfter.axis)]);
    const tail = g.ints(after.slice(dynamicAfter.axis + 1));
    pads = g.op1("Concat", [head, rest, tail], { axis: attr.int(0) }, { dtype: "int64", shape: [2 * rank] });
  } else {
    pads = g.ints([...before, ...after]);
  }
  return [g.op1("Pad", [d, pads], { mode: attr.string("constant") }, { dtype: d.dtype, shape: x.shape })];
};

export function constInts(g: Graph, t: Tensor): number[] {
  const c = g.constants.get(t.name);
  if (!c) throw new Error(`Expected "${t.name}" to be a constant (axes, bounds and exponents must be constants for gradients)`);
  return Array.from(c.values);
}

function concatDim(dims: readonly Dim[]): Dim {
  if (dims.every((d) => typeof d === "number")) return (dims as number[]).reduce((a, b) => a + b, 0);
  return dims.join("+");
}

export function concat(g: Graph, xs: readonly Tensor[], axis: number): Tensor {
  const first = xs[0];
  if (!first) throw new Error("concat: no inputs");
  const a = normAxis(axis, first.shape.length, "Concat");
  const shape = [...first.shape];
  shape[a] = concatDim(xs.map((x) => x.shape[a] as Dim));
  return g.op1("Concat", xs, { axis: attr.int(a) }, { dtype: first.dtype, shape });
}

// forward: y = Concat(x₀, x₁, …, axis)  ⇒  dxᵢ = the slice of dy that xᵢ occupies
const concatVjp: VjpRule = (g, node, dy, wants) => {
  const d = dy[0];
  if (!d) return node.inputs.map(() => undefined);
  const axis = intAttr(node, "axis", 0);
  const sizes = node.inputs.map((x) => (x as Tensor).shape[axis] as Dim);
  let splitSizes: Tensor;
  if (sizes.every((s) => typeof s === "number")) splitSizes = g.ints(sizes as number[]);
  else if (g.target === "webgpu") splitSizes = g.dimsInput(sizes);
  else {
    const parts = node.inputs.map((x) =>
      g.op1("Gather", [shapeOf(g, x as Tensor), g.ints([axis])], { axis: attr.int(0) }, { dtype: "int64", shape: [1] }),
    );
    splitSizes = g.op1("Concat", parts, { axis: attr.int(0) }, { dtype: "int64", shape: [parts.length] });
  }
  const outs = g.node(
    "Split",
    [d, splitSizes],
    { axis: attr.int(axis) },
    node.inputs.map((x) => ({ dtype: d.dtype, shape: (x as Tensor).shape })),
  );
  return outs.map((o, i) => (wants[i] ? o : undefined));
};

/** Splits x along `axis` into static sizes (their sum must be the axis length). */
export function split(g: Graph, x: Tensor, sizes: readonly number[], axis: number): Tensor[] {
  const a = normAxis(axis, x.shape.length, "Split");
  const total = sizes.reduce((p, n) => p + n, 0);
  if (typeof x.shape[a] === "number" && x.shape[a] !== total) {
    throw new Error(`split: sizes [${sizes.join(", ")}] do not add up to axis ${a} of ${shapeToString(x.shape)}`);
  }
  return g.node(
    "Split",
    [x, g.ints(sizes)],
    { axis: attr.int(a) },
    sizes.map((n) => ({ dtype: x.dtype, shape: x.shape.map((d, i) => (i === a ? n : d)) })),
  );
}

// forward: (y₀, y₁, …) = Split(x, sizes, axis)  ⇒  dx = Concat(dy₀, dy₁, …) with zeros for unused parts
const splitVjp: VjpRule = (g, node, dy) => {
  if (dy.every((d) => d === undefined)) return [undefined, undefined];
  const axis = intAttr(node, "axis", 0);
  const parts = node.outputs.map((o, i) => dy[i] ?? zerosOf(g, o));
  return [g.op1("Concat", parts, { axis: attr.int(axis) }, { dtype: inputOf(node, 0).dtype, shape: inputOf(node, 0).shape }), undefined];
};

export function expand(g: Graph, x: Tensor, shape: Shape): Tensor {
  const out = broadcastShapes(x.shape, shape, "Expand");
  const spec = shape.map((d) => (typeof d === "number" ? d : 1));
  if (shape.some((d) => typeof d !== "number")) {
    throw new Error(`expand: target ${shapeToString(shape)} must be static; use expandLike for symbolic shapes`);
  }
  return g.op1("Expand", [x, g.ints(spec)], {}, { dtype: x.dtype, shape: out });
}

/** Broadcast x to the runtime shape of `like`. */
export function expandLike(g: Graph, x: Tensor, like: Tensor): Tensor {
  const out = broadcastShapes(x.shape, like.shape, "Expand");
  return g.op1("Expand", [x, shapeOf(g, like)], {}, { dtype: x.dtype, shape: out });
}

const onnxDType: Record<DType, number> = { float32: 1, float64: 11, int64: 7, int32: 6, uint16: 4, uint32: 12, bool: 9 };

export function cast(g: Graph, x: Tensor, to: DType): Tensor {
  return g.op1("Cast", [x], { to: attr.int(onnxDType[to]) }, { dtype: to, shape: x.shape });
}

// forward: y = Cast(x, to)  ⇒  dx = Cast(dy, dtype(x)), only between float types
const castVjp: VjpRule = (g, node, dy) => {
  const d = dy[0];
  const x = inputOf(node, 0);
  if (!d || !isFloat(x.dtype)) return [undefined];
  return [x.dtype === d.dtype ? d : cast(g, d, x.dtype)];
};

const identityVjp: VjpRule = (_g, _node, dy) => [dy[0]];

/** Rules that pass gradients through unchanged or reshape them, keyed by op type. */
export const shapeVjps: Record<string, VjpRule> = {
  Reshape: reshapeVjp,
  Transpose: transposeVjp,
  Unsqueeze: reshapeBackVjp,
  Squeeze: reshapeBackVjp,
  Slice: sliceVjp,
  Concat: concatVjp,
  Split: splitVjp,
  Cast: castVjp,
  Identity: identityVjp,
};
