/**
 * Half precision on the device (`--precision fp16`, docs/device.md "Precision"): a graph recorded
 * in float32 is rewritten so that its matrix products and most activations run in float16 (WGSL's
 * shader-f16), while the values fp16's range or precision cannot hold stay float32.
 *
 * Each node gets a compute type; a float input of the other type is cast first (one Cast per value
 * and type, shared by every consumer; float constants are converted at build time instead):
 *
 *   half    MatMul, Gemm: float16 (the weights are held in fp16; the bulk of the work), except a
 *           product reading a float32 graph input directly (an input the caller kept float32:
 *           the output head, so the logits are float32 products)
 *   float   reductions and transcendental ops: ReduceSum/Mean, Softmax, LogSoftmax, Exp, Log, Pow,
 *           Sqrt, Reciprocal, CumSum, Cos, Sin, Erf, and a square Mul(x, x): float32. So RMSNorm's
 *           mean of squares and its 1/√, attention's softmax, the log-softmax and the loss are
 *           float32 (a residual stream past 256 squares past fp16's largest value, 65504).
 *   other   the widest type among its float inputs (float32 wins), as autocast's "promote": a
 *           value that became float32 stays float32 until the next matrix product casts it down
 *           (RMSNorm's output, softmax weights, the logits' log-softmax and everything after it).
 *           Float constants that fit fp16 (ε, scales) do not vote: they take the others' type; one
 *           beyond ±65504 (a −1e9 mask) votes float32 and is never converted.
 *
 * A node that produces an output the caller keeps in float16 (`halfOutputs`, e.g. the KV cache;
 * through the Identity that names it) computes in float16 unless it is a `float` op. Graph inputs named by `halfInputs` are declared
 * float16 (the weights, uploaded once as fp16 copies); other float inputs stay float32 and are cast
 * where a half node reads them (`castInputs` names float32 inputs that a product reads in float16 too,
 * the LoRA adapter's master weights; `halfConstants` float constants held in float16 from the start,
 * a 16-bit base's decoding table). Outputs keep their float32 type unless named by `halfOutputs`.
 * Gradients of a rewritten loss graph therefore come out float32, cast from the fp16 backward.
 *
 * Dead nodes are dropped (as serialize.ts does); value names are kept, so feeds and fetches are
 * those of the float32 graph.
 */
import { type ConstantData, type DType, Graph, type NodeRecord, type Tensor } from "./builder.js";
import { liveNodes } from "./serialize.js";

export interface HalfPrecisionOptions {
  /** Float inputs declared float16 (fed fp16 tensors). */
  readonly halfInputs?: (name: string) => boolean;
  /** Float outputs left in float16. */
  readonly halfOutputs?: (name: string) => boolean;
  /**
   * Float32 inputs that a matrix product reads in float16 all the same (cast where read), where by
   * default a product reading a float32 input directly runs in float32: a LoRA adapter's float32
   * master A and B.
   */
  readonly castInputs?: (name: string) => boolean;
  /**
   * Float constants held in float16 whatever their values (beyond ±65504: ±inf): a 16-bit base's
   * decoding table, whose entries beyond fp16's range the caller has checked are never read.
   */
  readonly halfConstants?: (name: string) => boolean;
}

const HALF_OPS = new Set(["MatMul", "Gemm"]);
const FLOAT_OPS = new Set(["ReduceSum", "ReduceMean", "ReduceSumSquare", "ReduceL2", "ReduceLogSumExp", "Softmax", "LogSoftmax", "Exp", "Log", "Pow", "Sqrt", "Reciprocal", "CumSum", "Cos", "Sin", "Erf"]);

type Float = "float32" | "float16";

const isFloatType = (d: DType): d is Float => d === "float32" || d === "float16";

/** fp16's largest finite value: a constant beyond it stays float32 (−1e9 masks would become −∞). */
export const HALF_MAX = 65504;

/**
 * The compute type of `node` given the current types of its inputs. `neutral` inputs (float
 * constants that fit fp16, such as ε or a scale) take the type of the others instead of choosing it;
 * `kept` inputs are float32 graph inputs the caller kept in float32 (the output head's weight):
 * a matrix product reading one runs in float32.
 */
function computeType(node: NodeRecord, inputs: readonly (Tensor | undefined)[], halfOut: boolean, neutral: (t: Tensor) => boolean, kept: (t: Tensor) => boolean): Float | undefined {
  const floats = inputs.filter((t): t is Tensor => t !== undefined && isFloatType(t.dtype));
  if (floats.length === 0) return undefined;
  const a = node.inputs[0];
  const square = node.opType === "Mul" && a !== undefined && a.name === node.inputs[1]?.name;
  if (FLOAT_OPS.has(node.opType) || square) return "float32";
  if (HALF_OPS.has(node.opType)) return floats.some(kept) ? "float32" : "float16";
  if (halfOut) return "float16";
  const deciding = floats.some((t) => !neutral(t)) ? floats.filter((t) => !neutral(t)) : floats;
  return deciding.some((t) => t.dtype === "float32") ? "float32" : "float16";
}

/** Rewrites the float32 graph `src` for half precision (see the file comment); `src` is left unchanged. */
export function toHalfPrecision(src: Graph, options: HalfPrecisionOptions = {}): Graph {
  const halfIn = options.halfInputs ?? (() => false);
  const halfOut = options.halfOutputs ?? (() => false);
  const castIn = options.castInputs ?? (() => false);
  const halfConst = options.halfConstants ?? (() => false);
  if (src.inputs.some((i) => i.dtype === "float64")) throw new Error(`toHalfPrecision: graph "${src.name}" is float64; half precision rewrites float32 graphs`);
  const g = new Graph(`${src.name}-fp16`);
  g.target = src.target;
  const outputNames = new Set(src.outputs.map((o) => o.name));
  /** The value of each source name in each float type it was needed in. */
  const versions = new Map<string, Map<Float, Tensor>>();
  const current = new Map<string, Tensor>();
  const constants = new Map<string, ConstantData>();
  const set = (name: string, t: Tensor): void => {
    current.set(name, t);
    if (isFloatType(t.dtype)) versions.set(name, new Map([[t.dtype, t]]));
  };

  for (const input of src.inputs) {
    set(input.name, g.input(input.name, input.dtype === "float32" && halfIn(input.name) ? "float16" : input.dtype, input.shape));
  }
  for (const [name, given] of src.constants) {
    const data = given.dtype === "float32" && halfConst(name) ? { ...given, dtype: "float16" as const } : given;
    constants.set(name, data);
    g.constants.set(name, data);
    set(name, { name, dtype: data.dtype, shape: data.shape });
  }

  const neutral = (t: Tensor): boolean => {
    const data = constants.get(t.name);
    return data !== undefined && Array.from(data.values).every((v) => Math.abs(v) <= HALF_MAX || !Number.isFinite(v));
  };
  const inputNames = new Set(src.inputs.map((i) => i.name));
  const kept = (t: Tensor): boolean => t.dtype === "float32" && inputNames.has(t.name) && !castIn(t.name);

  /** `name` in type `to`: the value itself, a converted constant, or a (shared) Cast. */
  const as = (t: Tensor, to: Float): Tensor => {
    const have = versions.get(t.name);
    const hit = have?.get(to);
    if (hit !== undefined) return hit;
    const converted = `${t.name}:${to === "float16" ? "f16" : "f32"}`;
    const data = constants.get(t.name);
    let out: Tensor;
    if (data !== undefined) {
      g.constants.set(converted, { ...data, dtype: to });
      out = { name: converted, dtype: to, shape: t.shape };
    } else {
      out = g.node("Cast", [current.get(t.name) ?? t], { to: { kind: "int", value: to === "float16" ? 10 : 1 } }, [{ dtype: to, shape: t.shape }], [converted])[0] as Tensor;
    }
    have?.set(to, out);
    return out;
  };

  const live = liveNodes(src);
  // Values fetched in fp16, and what an Identity renames into one (builder.ts names outputs that way).
  const wantHalf = new Set(src.outputs.filter((o) => o.dtype === "float32" && halfOut(o.name)).map((o) => o.name));
  for (let i = live.length - 1; i >= 0; i--) {
    const node = live[i] as NodeRecord;
    const from = node.inputs[0];
    if (node.opType === "Identity" && from !== undefined && wantHalf.has(node.outputs[0]?.name ?? "")) wantHalf.add(from.name);
  }

  for (const node of live) {
    const inputs = node.inputs.map((i) => (i === undefined ? undefined : (current.get(i.name) ?? i)));
    const producesHalf = node.outputs.some((o) => wantHalf.has(o.name));
    const type = computeType(node, inputs, producesHalf, neutral, kept);
    const cast = node.opType === "Cast";
    const fed = inputs.map((t) => (t === undefined || type === undefined || cast || !isFloatType(t.dtype) ? t : as(t, type)));
    // An output keeps its declared type unless it is a float value computed in the other float type.
    const outType = (o: Tensor): DType => (type !== undefined && !cast && o.dtype === "float32" ? type : o.dtype);
    // A graph output computed in a type other than the one it is fetched in gets a renamed value and a Cast to its name.
    const wanted = (o: Tensor): DType => (o.dtype === "float32" && halfOut(o.name) ? "float16" : o.dtype);
    const renamed = node.outputs.map((o) => (outputNames.has(o.name) && outType(o) !== wanted(o) ? `${o.name}:${outType(o) === "float16" ? "f16" : "f32"}` : o.name));
    const outs = g.node(node.opType, fed, node.attrs, node.outputs.map((o) => ({ dtype: outType(o), shape: o.shape })), renamed, node.domain);
    node.outputs.forEach((o, k) => {
      const t = outs[k] as Tensor;
      set(o.name, t);
      if (renamed[k] !== o.name) {
        const to = wanted(o) as Float;
        const final = g.node("Cast", [t], { to: { kind: "int", value: to === "float16" ? 10 : 1 } }, [{ dtype: to, shape: o.shape }], [o.name])[0] as Tensor;
        versions.get(o.name)?.set(to, final);
      }
    });
  }

  for (const o of src.outputs) {
    const t = current.get(o.name);
    if (t === undefined) throw new Error(`toHalfPrecision: output "${o.name}" has no value`);
    const want = o.dtype === "float32" && halfOut(o.name) ? "float16" : o.dtype;
    g.outputs.push(t.dtype === want ? t : (versions.get(o.name)?.get(want as Float) ?? t));
  }
  const wrong = g.outputs.find((t, i) => t.name !== src.outputs[i]?.name);
  if (wrong !== undefined) throw new Error(`toHalfPrecision: output "${wrong.name}" lost its name`);
  return g;
}
