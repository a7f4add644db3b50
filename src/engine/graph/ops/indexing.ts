/**
 * Index ops: Gather (embedding lookup), GatherElements (picking token log-probs), ScatterND and
 * ScatterElements with reduction="add" (their gradients), plus the gradient-free builders
 * ConstantOfShape, Range and Trilu used for masks.
 */
import { type Dim, type DType, type Graph, type Tensor, attr, shapeToString } from "../builder.js";
import { flatten2d } from "./linalg.js";
import { expandLike, squeeze, unsqueeze, zerosOf } from "./shape.js";
import { type VjpRule, inputOf, intAttr } from "./vjp.js";

/** Zeros with the runtime shape of `like`. */
export function zerosLike(g: Graph, like: Tensor, dtype: DType = like.dtype): Tensor {
  return zerosOf(g, like, dtype);
}

/** data[indices] along axis 0: [V, C] gathered by [B, T] → [B, T, C]. */
export function gather(g: Graph, data: Tensor, indices: Tensor): Tensor {
  if (indices.dtype !== "int64") throw new Error(`gather: indices must be int64; got ${indices.dtype}`);
  return g.op1("Gather", [data, indices], { axis: attr.int(0) }, { dtype: data.dtype, shape: [...indices.shape, ...data.shape.slice(1)] });
}

/**
 * `gather` for indices the caller knows to be distinct (rows picked by position): its gradient is
 * the parallel ScatterND, which is deterministic when no two updates meet.
 */
export function gatherDistinct(g: Graph, data: Tensor, indices: Tensor): Tensor {
  const y = gather(g, data, indices);
  return g.setCustomVjp(y, [data], (g2, dy, wants) => [wants[0] ? scatterNDAdd(g2, zerosLike(g2, data), unsqueeze(g2, indices, [-1]), dy) : undefined]);
}

// forward: y = Gather(data, idx, axis=0)  ⇒  d_data[i] = Σ over positions r with idx[r] = i of dy[r]
// (an embedding's rows, one token occurring many times). Written as ScatterElements(add) with the
// ids broadcast along each row, not ScatterND(add): onnxruntime's ScatterND splits the rows over
// its threads and sums repeated ids in a varying order (two threads, one batch, 16 runs: the
// embedding gradient differed between runs; every other gradient was identical), while
// ScatterElements adds in index order on one thread, the same sum bit for bit as one-thread
// ScatterND and the same on every run.
const gatherVjp: VjpRule = (g, node, dy) => {
  const d = dy[0];
  if (!d) return [undefined, undefined];
  if (intAttr(node, "axis", 0) !== 0) throw new Error("Gather gradient: only axis 0 is supported");
  const data = inputOf(node, 0);
  const idx = inputOf(node, 1);
  // On webgpu the ordered form's reshapes fall back to the CPU; the device's ScatterND stays on it.
  if (g.target === "webgpu") return [scatterNDAdd(g, zerosLike(g, data), unsqueeze(g, idx, [-1]), d), undefined];
  if (data.shape.length === 1) {
    const flat = flatten2d(g, unsqueeze(g, idx, [-1]));
    return [scatterElementsAdd(g, zerosLike(g, data), squeeze(g, flat, [-1]), squeeze(g, flatten2d(g, unsqueeze(g, d, [-1])), [-1]), 0), undefined];
  }
  if (data.shape.length !== 2) throw new Error(`Gather gradient: data must be rank 1 or 2; got ${shapeToString(data.shape)}`);
  const rows = idx.shape.length === 1 ? d : flatten2d(g, d); // [n, C]
  const ids = expandLike(g, idx.shape.length === 1 ? unsqueeze(g, idx, [-1]) : flatten2d(g, unsqueeze(g, idx, [-1])), rows); // [n, C]
  return [scatterElementsAdd(g, zerosLike(g, data), ids, rows, 0), undefined];
};

/** data[..., idx[...], ...] along `axis`, idx having data's rank. */
export function gatherElements(g: Graph, data: Tensor, idx: Tensor, axis: number): Tensor {
  if (idx.dtype !== "int64") throw new Error(`gatherElements: indices must be int64; got ${idx.dtype}`);
  if (idx.shape.length !== data.shape.length) {
    throw new Error(`gatherElements: index rank ${idx.shape.length} must equal data rank ${data.shape.length}`);
  }
  return g.op1("GatherElements", [data, idx], { axis: attr.int(axis) }, { dtype: data.dtype, shape: idx.shape });
}

// forward: y = GatherElements(data, idx, axis)  ⇒  d_data = ScatterElements(zeros, idx, dy, axis, add)
const gatherElementsVjp: VjpRule = (g, node, dy) => {
  const d = dy[0];
  if (!d) return [undefined, undefined];
  const data = inputOf(node, 0);
  return [scatterElementsAdd(g, zerosLike(g, data), inputOf(node, 1), d, intAttr(node, "axis", 0)), undefined];
};

/** data with updates added at the index tuples in `indices` [..., k] (duplicates accumulate). */
export function scatterNDAdd(g: Graph, data: Tensor, indices: Tensor, updates: Tensor): Tensor {
  return g.op1("ScatterND", [data, indices, updates], { reduction: attr.string("add") }, { dtype: data.dtype, shape: data.shape });
}

// forward: y = ScatterND(data, idx, upd, add)  ⇒  d_data = dy, d_upd = GatherND(dy, idx)
const scatterNDVjp: VjpRule = (g, node, dy, wants) => {
  const d = dy[0];
  if (!d) return [undefined, undefined, undefined];
  const reduction = node.attrs.reduction;
  if (reduction?.kind !== "string" || reduction.value !== "add") throw new Error("ScatterND gradient: only reduction=add is supported");
  const upd = inputOf(node, 2);
  const dUpd = wants[2] ? g.op1("GatherND", [d, inputOf(node, 1)], {}, { dtype: d.dtype, shape: upd.shape }) : undefined;
  return [wants[0] ? d : undefined, undefined, dUpd];
};

export function scatterElementsAdd(g: Graph, data: Tensor, idx: Tensor, updates: Tensor, axis: number): Tensor {
  return g.op1("ScatterElements", [data, idx, updates], { axis: attr.int(axis), reduction: attr.string("add") }, {
    dtype: data.dtype,
    shape: data.shape,
  });
}

// forward: y = ScatterElements(data, idx, upd, axis, add)  ⇒  d_data = dy, d_upd = GatherElements(dy, idx)
const scatterElementsVjp: VjpRule = (g, node, dy, wants) => {
  const d = dy[0];
  if (!d) return [undefined, undefined, undefined];
  const reduction = node.attrs.reduction;
  if (reduction?.kind !== "string" || reduction.value !== "add") throw new Error("ScatterElements gradient: only reduction=add is supported");
  const dUpd = wants[2] ? gatherElements(g, d, inputOf(node, 1), intAttr(node, "axis", 0)) : undefined;
  return [wants[0] ? d : undefined, undefined, dUpd];
};

/** [start, start+1, …, limit) as int64; `limit` is a rank-0 int64 tensor, `name` its symbolic length. */
export function range(g: Graph, start: Tensor, limit: Tensor, length: Dim): Tensor {
  return g.op1("Range", [start, limit, g.scalar(1, "int64")], {}, { dtype: "int64", shape: [length] });
}

/** Lower (upper=false) or upper triangle of the last two axes; k shifts the diagonal. */
export function trilu(g: Graph, x: Tensor, upper: boolean, k = 0): Tensor {
  if (x.shape.length < 2) throw new Error(`trilu: needs rank ≥ 2; got ${shapeToString(x.shape)}`);
  return g.op1("Trilu", [x, g.scalar(k, "int64")], { upper: attr.int(upper ? 1 : 0) }, { dtype: x.dtype, shape: x.shape });
}

// forward: y = Trilu(x, k, upper)  ⇒  dx = Trilu(dy, k, upper) (a fixed 0/1 mask)
const triluVjp: VjpRule = (g, node, dy) => {
  const d = dy[0];
  if (!d) return [undefined, undefined];
  return [g.op1("Trilu", [d, node.inputs[1]], node.attrs, { dtype: d.dtype, shape: d.shape }), undefined];
};

export const indexingVjps: Record<string, VjpRule> = {
  Gather: gatherVjp,
  GatherElements: gatherElementsVjp,
  ScatterND: scatterNDVjp,
  ScatterElements: scatterElementsVjp,
  Trilu: triluVjp,
};
