/**
 * Matrix products: MatMul (batched, broadcast leading dims), Gemm (2-D with transposes) and
 * `linear` (x @ Wᵀ for HF-layout weights W [out, in], done as one Gemm with transB so the weight is
 * never transposed or expanded in memory).
 */
import { type Dim, type Graph, type Tensor, attr, shapeToString, term } from "../builder.js";
import { sumToShape } from "./reduce.js";
import { broadcastShapes, reshape, transpose } from "./shape.js";
import { type VjpRule, inputOf, intAttr } from "./vjp.js";

export function matmul(g: Graph, a: Tensor, b: Tensor): Tensor {
  if (a.shape.length < 2 || b.shape.length < 2) throw new Error("matmul: both operands need rank ≥ 2");
  const ka = a.shape[a.shape.length - 1];
  const kb = b.shape[b.shape.length - 2];
  if (ka !== kb) throw new Error(`matmul: inner dims differ: ${shapeToString(a.shape)} @ ${shapeToString(b.shape)}`);
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), "MatMul");
  const shape = [...batch, a.shape[a.shape.length - 2] as Dim, b.shape[b.shape.length - 1] as Dim];
  return g.op1("MatMul", [a, b], {}, { dtype: a.dtype, shape });
}

/** Swaps the last two axes. */
export function transposeLast(g: Graph, x: Tensor): Tensor {
  const r = x.shape.length;
  const perm = Array.from({ length: r }, (_, i) => i);
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return transpose(g, x, perm);
}

export interface GemmOptions {
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  beta?: number;
}

/** Y = alpha · op(A) · op(B) + beta · C, all 2-D (C broadcast to Y). */
export function gemm(g: Graph, a: Tensor, b: Tensor, c?: Tensor, o: GemmOptions = {}): Tensor {
  if (a.shape.length !== 2 || b.shape.length !== 2) throw new Error(`gemm: operands must be 2-D; got ${shapeToString(a.shape)}, ${shapeToString(b.shape)}`);
  const [m, ka] = o.transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [kb, n] = o.transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (ka !== kb) throw new Error(`gemm: inner dims differ (${String(ka)} vs ${String(kb)})`);
  const attrs = {
    transA: attr.int(o.transA ? 1 : 0),
    transB: attr.int(o.transB ? 1 : 0),
    alpha: attr.float(o.alpha ?? 1),
    beta: attr.float(o.beta ?? 1),
  };
  return g.op1("Gemm", c ? [a, b, c] : [a, b], attrs, { dtype: a.dtype, shape: [m as Dim, n as Dim] });
}

/**
 * The product of leading dims as a symbolic name ("B*T") or a number. For webgpu the names are
 * evaluated (session.ts `dimsFeeds`), so compound factors get parentheses ("B*(T-1)").
 */
function flatDim(g: Graph, dims: readonly Dim[]): Dim {
  if (dims.every((d) => typeof d === "number")) return (dims as number[]).reduce((p, d) => p * d, 1);
  return g.target === "webgpu" ? dims.map(term).join("*") : dims.join("*");
}

/** x [..., in] → x [N, in] with N the product of the leading dims. */
export function flatten2d(g: Graph, x: Tensor): Tensor {
  const last = x.shape[x.shape.length - 1] as Dim;
  return reshape(g, x, [flatDim(g, x.shape.slice(0, -1)), last]);
}

/** y [N, out] → [...lead(like), out], the runtime leading dims taken from `like`. */
export function unflatten(g: Graph, y: Tensor, like: Tensor): Tensor {
  const out = y.shape[1] as Dim;
  if (g.target === "webgpu") return g.op1("Reshape", [y, g.dimsInput([...like.shape.slice(0, -1), out])], {}, { dtype: y.dtype, shape: [...like.shape.slice(0, -1), out] });
  const lead = g.op1("Shape", [like], { end: attr.int(-1) }, { dtype: "int64", shape: [like.shape.length - 1] });
  const spec = g.op1("Concat", [lead, g.ints([typeof out === "number" ? out : -1])], { axis: attr.int(0) }, {
    dtype: "int64",
    shape: [like.shape.length],
  });
  return g.op1("Reshape", [y, spec], {}, { dtype: y.dtype, shape: [...like.shape.slice(0, -1), out] });
}

/** x [..., in] @ Wᵀ with W [out, in] (the HF nn.Linear layout), as Gemm(transB). */
export function linear(g: Graph, x: Tensor, w: Tensor): Tensor {
  if (x.shape.length === 2) return gemm(g, x, w, undefined, { transB: true });
  return unflatten(g, gemm(g, flatten2d(g, x), w, undefined, { transB: true }), x);
}

// forward: y = a @ b  ⇒  da = dy @ bᵀ, db = aᵀ @ dy (summed over broadcast batch dims).
// A 2-D b under a batched a is a shared weight: both products become one flattened Gemm.
const matmulVjp: VjpRule = (g, node, dy, wants) => {
  const d = dy[0];
  if (!d) return [undefined, undefined];
  const a = inputOf(node, 0);
  const b = inputOf(node, 1);
  if (b.shape.length === 2 && a.shape.length > 2) {
    const d2 = flatten2d(g, d);
    return [
      wants[0] ? unflatten(g, gemm(g, d2, b, undefined, { transB: true }), a) : undefined,
      wants[1] ? gemm(g, flatten2d(g, a), d2, undefined, { transA: true }) : undefined,
    ];
  }
  return [
    wants[0] ? sumToShape(g, matmul(g, d, transposeLast(g, b)), a.shape) : undefined,
    wants[1] ? sumToShape(g, matmul(g, transposeLast(g, a), d), b.shape) : undefined,
  ];
};

// forward: y = α·op(a)·op(b) + β·c  ⇒  with a' = op(a), b' = op(b): da' = α·dy·b'ᵀ, db' = α·a'ᵀ·dy,
// dc = β·dy summed to c's shape; each written as one Gemm with the right transposes.
const gemmVjp: VjpRule = (g, node, dy, wants) => {
  const d = dy[0];
  if (!d) return [undefined, undefined, undefined];
  const a = inputOf(node, 0);
  const b = inputOf(node, 1);
  const tA = intAttr(node, "transA", 0) === 1;
  const tB = intAttr(node, "transB", 0) === 1;
  const alphaAttr = node.attrs.alpha;
  const betaAttr = node.attrs.beta;
  const alpha = alphaAttr?.kind === "float" ? alphaAttr.value : 1;
  const beta = betaAttr?.kind === "float" ? betaAttr.value : 1;
  const da = !wants[0]
    ? undefined
    : tA
      ? gemm(g, b, d, undefined, { transA: tB, transB: true, alpha })
      : gemm(g, d, b, undefined, { transB: !tB, alpha });
  const db = !wants[1]
    ? undefined
    : tB
      ? gemm(g, d, a, undefined, { transA: true, transB: tA, alpha })
      : gemm(g, a, d, undefined, { transA: !tA, alpha });
  let dc: Tensor | undefined;
  const c = node.inputs[2];
  if (c && wants[2]) {
    dc = sumToShape(g, d, c.shape);
    if (beta !== 1) dc = g.op1("Mul", [dc, g.scalar(beta, d.dtype)], {}, { dtype: d.dtype, shape: dc.shape });
  }
  return [da, db, dc];
};

export const linalgVjps: Record<string, VjpRule> = {
  MatMul: matmulVjp,
  Gemm: gemmVjp,
};
