/**
 * Index ops: Gather (embedding lookup), GatherElements (picking token log-probs), ScatterND and
 * ScatterElements with reduction="add" (their gradients), plus the gradient-free builders
 * ConstantOfShape, Range and Trilu used for masks.
 */
import { type Dim, type DType, type Graph, type Tensor, attr, shapeToString } from "../builder.js";
import { unsqueeze, zerosOf } from "./shape.js";
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

// forward: y = Gather(data, idx, axis=0)  ⇒  d_data = ScatterND(zeros, idx[..., None], dy, add)
// (repeated ids, e.g. one token occurring twice, sum their rows)
const gatherVjp: VjpRule = (g, node, dy) => {
  const d = dy[0];
  if (!d) return [undefined, undefined];
  if (intAttr(node, "axis", 0) !== 0) throw new Error("Gather gradient: only axis 0 is supported");
  const data = inputOf(node, 0);
  const idx = inputOf(node, 1);
  return [scatterNDAdd(g, zerosLike(g, data), unsqueeze(g, idx, [-1]), d), undefined];
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
