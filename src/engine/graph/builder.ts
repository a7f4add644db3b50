/**
 * A small typed recorder of ONNX graphs.
 *
 * A `Graph` holds graph inputs, constants (initialisers), nodes in the order they were recorded and
 * graph outputs. Every value is a `Tensor` record: a unique name, a dtype and a shape whose dims are
 * numbers (static) or strings (symbolic, e.g. "B", "T", "T-1"). Op helpers (./ops/*.ts) compute the
 * output shape when they record a node, so the autodiff can decide statically which axes a
 * broadcast gradient must be summed over.
 *
 * Invariants:
 * - nodes are recorded in topological order (an op can only consume values that already exist), so
 *   reverse recording order is a valid order for the backward pass;
 * - a value name is produced exactly once (by an input, a constant or one node output);
 * - symbolic dims with the same string are the same size at run time; two different strings are not
 *   assumed equal (broadcasting between them is an error).
 */

export type Dim = number | string;
export type Shape = readonly Dim[];
/**
 * uint16 carries 16-bit float bit patterns (a bf16/fp16 frozen base, decoded in the graph); int32
 * indexes with them. uint32 carries two such words per lane, on webgpu (no uint16 kernels there).
 */
export type DType = "float32" | "float64" | "int64" | "int32" | "uint16" | "uint32" | "bool";

export interface Tensor {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: Shape;
}

/** An ONNX attribute value, tagged so that ints and floats stay distinct in the proto. */
export type Attr =
  | { readonly kind: "int"; readonly value: number }
  | { readonly kind: "float"; readonly value: number }
  | { readonly kind: "string"; readonly value: string }
  | { readonly kind: "ints"; readonly value: readonly number[] }
  | { readonly kind: "floats"; readonly value: readonly number[] }
  | { readonly kind: "tensor"; readonly value: ConstantData };

export const attr = {
  int: (value: number): Attr => ({ kind: "int", value }),
  float: (value: number): Attr => ({ kind: "float", value }),
  string: (value: string): Attr => ({ kind: "string", value }),
  ints: (value: readonly number[]): Attr => ({ kind: "ints", value }),
  floats: (value: readonly number[]): Attr => ({ kind: "floats", value }),
  tensor: (value: ConstantData): Attr => ({ kind: "tensor", value }),
};

export interface NodeRecord {
  readonly opType: string;
  readonly domain: string;
  /** `undefined` marks an omitted optional input. */
  readonly inputs: readonly (Tensor | undefined)[];
  readonly outputs: readonly Tensor[];
  readonly attrs: Readonly<Record<string, Attr>>;
}

/** Values of a constant: numbers for float dtypes, bigint-convertible numbers for int64. */
export interface ConstantData {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly values: ArrayLike<number>;
}

/**
 * A hand-written gradient for a composite: `output` was computed from `inputs` by several recorded
 * nodes, and `rule(dy, wants)` returns ∂L/∂inputs directly (fewer, fused backward nodes than the
 * per-op rules would record). Internal values of the composite used elsewhere still get their own
 * gradients through the per-op rules, so the chain rule stays exact.
 */
export interface CustomVjp {
  readonly inputs: readonly Tensor[];
  readonly rule: (g: Graph, dy: Tensor, wants: readonly boolean[]) => (Tensor | undefined)[];
}

export interface OutputSpec {
  readonly dtype: DType;
  readonly shape: Shape;
}

export function isFloat(dtype: DType): boolean {
  return dtype === "float32" || dtype === "float64";
}

export function shapeToString(shape: Shape): string {
  return `[${shape.join(", ")}]`;
}

/** A dim as an operand of · or −: compound names in parentheses, so "B*(T-1)" reads as meant. */
export function term(d: Dim): string {
  return typeof d === "string" && /[^A-Za-z0-9_]/.test(d) ? `(${d})` : String(d);
}

/** Number of elements when every dim is static, else undefined. */
export function staticSize(shape: Shape): number | undefined {
  let n = 1;
  for (const d of shape) {
    if (typeof d !== "number") return undefined;
    n *= d;
  }
  return n;
}

export class Graph {
  readonly inputs: Tensor[] = [];
  readonly outputs: Tensor[] = [];
  readonly constants = new Map<string, ConstantData>();
  readonly nodes: NodeRecord[] = [];
  /** Which node produced a value (absent for inputs and constants). */
  readonly producer = new Map<string, NodeRecord>();
  /** Hand-written gradients of composites, keyed by the composite's output name. */
  readonly customVjps = new Map<string, CustomVjp>();
  private readonly names = new Set<string>();
  private readonly scalarCache = new Map<string, Tensor>();
  private counter = 0;
  /**
   * "webgpu": runtime shape vectors become graph inputs (`dimsInput`) instead of Shape → Gather →
   * Concat arithmetic, and ops without a WebGPU kernel are written with ops that have one, so that
   * no node runs on the host (docs/device.md). "cpu" (default) records the graph as before.
   */
  target: "cpu" | "webgpu" = "cpu";

  constructor(readonly name = "spiral") {}

  /**
   * Input `x` again under another shape with the same elements, as an input named `x@[dims]` that
   * the session feeds with x's data (session.ts `dimsFeeds`; no copy).
   */
  viewInput(x: Tensor, shape: Shape): Tensor {
    const name = `${x.name}@${shapeToString(shape)}`;
    const have = this.inputs.find((i) => i.name === name);
    return have ?? this.input(name, x.dtype, shape);
  }

  /**
   * An int64 vector of these dims: a constant when all are static, else a graph input named
   * `dims(d0,d1,…)` that the session fills from the sizes of the symbols (see session.ts
   * `dimsFeeds`); symbolic dims must be expressions of input symbols (+, −, ·, parentheses).
   */
  dimsInput(dims: readonly Dim[]): Tensor {
    if (dims.every((d) => typeof d === "number")) return this.ints(dims as number[]);
    const name = `dims(${dims.join(",")})`;
    const have = this.inputs.find((i) => i.name === name);
    return have ?? this.input(name, "int64", [dims.length]);
  }

  /** A fresh value name with a readable prefix. */
  fresh(prefix: string): string {
    let candidate = `${prefix}_${this.counter++}`;
    while (this.names.has(candidate)) candidate = `${prefix}_${this.counter++}`;
    return candidate;
  }

  private claim(name: string): void {
    if (this.names.has(name)) throw new Error(`Graph value name "${name}" is already used; names must be unique`);
    this.names.add(name);
  }

  input(name: string, dtype: DType, shape: Shape): Tensor {
    this.claim(name);
    const t: Tensor = { name, dtype, shape: [...shape] };
    this.inputs.push(t);
    return t;
  }

  /** Marks `t` as a graph output named `name` (an Identity node is added when the names differ). */
  output(t: Tensor, name?: string): Tensor {
    let out = t;
    if (name !== undefined && name !== t.name) {
      out = this.node("Identity", [t], {}, [{ dtype: t.dtype, shape: t.shape }], [name])[0] as Tensor;
    }
    if (this.inputs.some((i) => i.name === out.name)) {
      out = this.node("Identity", [out], {}, [{ dtype: out.dtype, shape: out.shape }])[0] as Tensor;
    }
    this.outputs.push(out);
    return out;
  }

  constant(data: ConstantData, prefix = "const"): Tensor {
    const expected = data.shape.reduce((a, b) => a * b, 1);
    if (data.values.length !== expected) {
      throw new Error(`Constant of shape ${shapeToString(data.shape)} needs ${expected} values; got ${data.values.length}`);
    }
    const name = this.fresh(prefix);
    this.claim(name);
    this.constants.set(name, { dtype: data.dtype, shape: [...data.shape], values: Array.from(data.values) });
    return { name, dtype: data.dtype, shape: [...data.shape] };
  }

  /** A cached rank-0 constant. */
  scalar(value: number, dtype: DType): Tensor {
    const key = `${dtype}:${Object.is(value, -0) ? "-0" : String(value)}`;
    const hit = this.scalarCache.get(key);
    if (hit) return hit;
    const t = this.constant({ dtype, shape: [], values: [value] }, "scalar");
    this.scalarCache.set(key, t);
    return t;
  }

  /** A rank-1 int64 constant (axes, shapes, slice bounds). */
  ints(values: readonly number[]): Tensor {
    const key = `ints:${values.join(",")}`;
    const hit = this.scalarCache.get(key);
    if (hit) return hit;
    const t = this.constant({ dtype: "int64", shape: [values.length], values }, "ints");
    this.scalarCache.set(key, t);
    return t;
  }

  /** Records one node and returns its outputs. Op helpers call this after inferring shapes. */
  node(
    opType: string,
    inputs: readonly (Tensor | undefined)[],
    attrs: Record<string, Attr>,
    outputs: readonly OutputSpec[],
    outputNames?: readonly string[],
    domain = "",
  ): Tensor[] {
    const outs = outputs.map((spec, i) => {
      const name = outputNames?.[i] ?? this.fresh(opType.toLowerCase());
      this.claim(name);
      return { name, dtype: spec.dtype, shape: [...spec.shape] };
    });
    const record: NodeRecord = { opType, domain, inputs: [...inputs], outputs: outs, attrs };
    this.nodes.push(record);
    for (const o of outs) this.producer.set(o.name, record);
    return outs;
  }

  /** Registers a hand-written gradient for the composite that produced `output` (see CustomVjp). */
  setCustomVjp(output: Tensor, inputs: readonly Tensor[], rule: CustomVjp["rule"]): Tensor {
    if (!this.producer.has(output.name)) throw new Error(`setCustomVjp: "${output.name}" is not a node output`);
    this.customVjps.set(output.name, { inputs: [...inputs], rule });
    return output;
  }

  /** One-output convenience over `node`. */
  op1(opType: string, inputs: readonly (Tensor | undefined)[], attrs: Record<string, Attr>, out: OutputSpec): Tensor {
    return this.node(opType, inputs, attrs, [out])[0] as Tensor;
  }
}
