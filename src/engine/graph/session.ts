/**
 * onnxruntime-node sessions over graphs built here, fed with tensors that wrap JS buffers.
 *
 * Facts this relies on (measured with onnxruntime-node 1.30, see docs/engine-graph.md):
 * - a Float32Array given to `new ort.Tensor` is not copied: a tensor over `params.subarray(a, b)` sees
 *   the optimizer's in-place writes on the next run;
 * - pre-allocated output tensors passed as `fetches` are written in place, so gradients can land in
 *   their slot of one flat gradient buffer without a copy;
 * - int64 tensors need a BigInt64Array.
 */
import { availableParallelism } from "node:os";
import ort from "onnxruntime-node";
import { Graph, type Shape } from "./builder.js";
import { type Device, deviceError, executionProviders } from "./device.js";
import { serialize } from "./serialize.js";

export type OrtTensor = ort.Tensor;
export type Feeds = Record<string, ort.Tensor>;

export interface SessionOptions {
  /**
   * Intra-op threads (default: every logical CPU, `os.availableParallelism()`). onnxruntime's own
   * default (0 = physical cores) ran one thread on the 2-vCPU machine here: the small training
   * step took 7.0 s with it and 3.5 s with 2 threads (bench/engine.ts, same load).
   */
  threads?: number;
  /** Graph optimisation level (default "all"). */
  optimization?: "disabled" | "basic" | "extended" | "all";
  /**
   * onnxruntime's CPU memory arena (default true). Off, a Qwen3-0.6B training step at 1×256 peaked
   * at 6.9 GiB RSS instead of 9.35 GiB, with the steady-state step ~7 % slower (19.6 s vs 18.3 s).
   */
  memoryArena?: boolean;
  /** Where the graph runs (default "cpu"); see device.ts and docs/device.md. */
  device?: Device;
  /**
   * webgpu: leave the outputs in device memory ("gpu-buffer" tensors), for later runs of this or
   * other sessions to read without a copy; `tensor.dispose()` frees one. Default false.
   */
  outputsOnDevice?: boolean | readonly string[];
}

export class GraphSession {
  private constructor(
    readonly session: ort.InferenceSession,
    readonly inputNames: readonly string[],
    readonly outputNames: readonly string[],
    /** Declared input shapes (graphs built here): the sizes `dims(…)` inputs are filled from. */
    private readonly inputShapes: readonly { readonly name: string; readonly shape: Shape }[] = [],
    /**
     * Some outputs, by name, on the device: every run fetches all outputs. onnxruntime-node 1.30
     * applies the per-output locations by position among the fetched outputs, not by name, so a
     * run fetching a subset got its outputs in the wrong places (logits left on the device, cache
     * layers copied to the host).
     */
    private readonly fetchAll = false,
  ) {}

  static async fromGraph(g: Graph, options: SessionOptions = {}): Promise<GraphSession> {
    const s = await GraphSession.fromBytes(serialize(g), options);
    return new GraphSession(s.session, s.inputNames, s.outputNames, g.inputs, s.fetchAll);
  }

  static async fromBytes(bytes: Uint8Array, options: SessionOptions = {}): Promise<GraphSession> {
    const device = options.device ?? "cpu";
    const session = await ort.InferenceSession.create(bytes, {
      ...(device === "cpu" ? {} : { executionProviders: executionProviders(device) }),
      ...(device === "cpu" || options.outputsOnDevice === undefined || options.outputsOnDevice === false ? {} : { preferredOutputLocation: outputLocation(options.outputsOnDevice) }),
      graphOptimizationLevel: options.optimization ?? "all",
      intraOpNumThreads: options.threads ?? availableParallelism(),
      interOpNumThreads: 1,
      executionMode: "sequential",
      enableCpuMemArena: options.memoryArena ?? true,
    }).catch((e: unknown) => {
      throw deviceError(device, e);
    });
    return new GraphSession(session, session.inputNames, session.outputNames, [], device !== "cpu" && Array.isArray(options.outputsOnDevice));
  }

  /**
   * Runs the graph. `outputs` maps output names to pre-allocated tensors (written in place) or null
   * (allocated by onnxruntime); by default every output is allocated.
   */
  async run(given: Feeds, outputs?: Record<string, ort.Tensor | null>): Promise<Record<string, ort.Tensor>> {
    const feeds = this.inputShapes.length === 0 ? given : { ...given, ...dimsFeeds(this.inputShapes, given) };
    for (const name of this.inputNames) {
      if (!(name in feeds)) throw new Error(`Missing graph input "${name}"; the graph expects: ${this.inputNames.join(", ")}`);
    }
    if (outputs !== undefined && this.fetchAll) {
      const extra = this.outputNames.filter((n) => !(n in outputs));
      // In the session's output order, so that position and name agree.
      const fetches = Object.fromEntries(this.outputNames.map((n) => [n, outputs[n] ?? null]));
      const all = (await this.session.run(feeds, fetches)) as Record<string, ort.Tensor>;
      for (const n of extra) {
        if (all[n]?.location === "gpu-buffer") all[n].dispose();
        delete all[n];
      }
      return all;
    }
    const result = outputs ? await this.session.run(feeds, outputs) : await this.session.run(feeds);
    return result as Record<string, ort.Tensor>;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** onnxruntime's preferredOutputLocation for "all outputs" or the named ones on the device. */
export function outputLocation(onDevice: true | readonly string[]): ort.InferenceSession.SessionOptions["preferredOutputLocation"] {
  return onDevice === true ? "gpu-buffer" : Object.fromEntries(onDevice.map((n) => [n, "gpu-buffer" as const]));
}

/**
 * Values of the `dims(…)` inputs a graph built for webgpu declares (builder.ts `dimsInput`): each
 * symbol's size is read off the feeds of inputs declared with it, then every dim expression is
 * evaluated. Inputs already fed are left alone.
 */
export function dimsFeeds(inputs: readonly { readonly name: string; readonly shape: Shape }[], feeds: Feeds): Feeds {
  const wanted = inputs.filter((i) => (i.name.startsWith("dims(") || i.name.includes("@[")) && !(i.name in feeds));
  if (wanted.length === 0) return {};
  const sizes: Record<string, number> = {};
  for (const { name, shape } of inputs) {
    const t = feeds[name];
    if (t === undefined) continue;
    shape.forEach((d, k) => {
      if (typeof d !== "string" || !/^[A-Za-z_]\w*$/.test(d)) return;
      const v = t.dims[k] as number;
      if (sizes[d] !== undefined && sizes[d] !== v) throw new Error(`Input "${name}" has ${d} = ${v}, but another input has ${d} = ${sizes[d]}`);
      sizes[d] = v;
    });
  }
  const out: Feeds = {};
  for (const { name, shape } of wanted) {
    const at = name.lastIndexOf("@[");
    if (at >= 0) {
      const base = feeds[name.slice(0, at)];
      if (base === undefined) throw new Error(`Input "${name}" is a view of "${name.slice(0, at)}", which was not fed`);
      out[name] = new ort.Tensor(base.type as "int64", base.data as BigInt64Array, shape.map((d) => (typeof d === "number" ? d : evalDim(d, sizes))));
      continue;
    }
    const values = splitTop(name.slice("dims(".length, -1)).map((e) => evalDim(e, sizes));
    out[name] = new ort.Tensor("int64", BigInt64Array.from(values, (v) => BigInt(v)), [values.length]);
  }
  return out;
}

/** Splits "a,b*(c-1),2" at the commas outside parentheses. */
function splitTop(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "(" || c === "[") depth++;
    else if (c === ")" || c === "]") depth--;
    else if (c === "," && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/**
 * Value of a symbolic dim: integers, symbols, + − ·, parentheses, and the slice length `X[s:e]`
 * (slice.ts names); throws naming the expression when a symbol has no size.
 */
export function evalDim(expr: string, sizes: Readonly<Record<string, number>>): number {
  const tokens = expr.match(/\d+|[A-Za-z_]\w*|[-+*()[\]:]/g) ?? [];
  let pos = 0;
  const peek = (): string | undefined => tokens[pos];
  const fail = (why: string): never => {
    throw new Error(`Cannot evaluate the dim "${expr}": ${why}`);
  };
  const expect = (t: string): void => {
    if (tokens[pos++] !== t) fail(`expected "${t}"`);
  };
  const signed = (): number => (peek() === "-" ? (pos++, -Number(tokens[pos++])) : Number(tokens[pos++]));
  const atom = (): number => {
    const t = tokens[pos++];
    let v: number;
    if (t === undefined) return fail("unexpected end");
    if (t === "(") {
      v = sum();
      expect(")");
    } else if (/^\d+$/.test(t)) v = Number(t);
    else if (/^[A-Za-z_]/.test(t)) v = sizes[t] ?? fail(`no size for "${t}"`);
    else return fail(`unexpected "${t}"`);
    while (peek() === "[") {
      pos++;
      let s = signed();
      expect(":");
      let e = signed();
      expect("]");
      s = s < 0 ? Math.max(0, v + s) : Math.min(s, v);
      e = e < 0 ? Math.max(0, v + e) : Math.min(e, v);
      v = Math.max(0, e - s);
    }
    return v;
  };
  const product = (): number => {
    let v = atom();
    while (peek() === "*") {
      pos++;
      v *= atom();
    }
    return v;
  };
  const sum = (): number => {
    let v = product();
    while (peek() === "+" || peek() === "-") v = tokens[pos++] === "+" ? v + product() : v - product();
    return v;
  };
  const v = sum();
  if (pos !== tokens.length) fail(`unexpected "${tokens[pos]}"`);
  return v;
}

/**
 * Copies host tensors into device memory once, for several runs (and sessions) to read there:
 * one Identity per tensor in a session whose outputs stay on the device. On the CPU it returns
 * the feeds as they are.
 */
export class DeviceCopy {
  private constructor(
    private readonly session: GraphSession | undefined,
    private readonly names: readonly string[],
  ) {}

  static async create(inputs: readonly { readonly name: string; readonly dtype: "float32" | "uint32"; readonly shape: readonly number[] }[], device: Device): Promise<DeviceCopy> {
    if (device === "cpu") return new DeviceCopy(undefined, []);
    const g = new Graph("spiral-upload");
    for (const { name, dtype, shape } of inputs) {
      const x = g.input(name, dtype, shape);
      g.output(g.op1("Identity", [x], {}, { dtype, shape }), `device:${name}`);
    }
    return new DeviceCopy(await GraphSession.fromGraph(g, { device, outputsOnDevice: true, threads: 1 }), inputs.map((i) => i.name));
  }

  /** The feeds' tensors in device memory, by the same names (the host buffers may change after). */
  async upload(feeds: Feeds): Promise<Feeds> {
    if (this.session === undefined) return feeds;
    const out = await this.session.run(Object.fromEntries(this.names.map((n) => [n, feeds[n] as ort.Tensor])));
    return Object.fromEntries(this.names.map((n) => [n, out[`device:${n}`] as ort.Tensor]));
  }

  async release(): Promise<void> {
    await this.session?.release();
  }
}

/** Frees device tensors (no-op for host tensors). */
export function disposeAll(feeds: Feeds | undefined): void {
  for (const t of Object.values(feeds ?? {})) if (t.location === "gpu-buffer") t.dispose();
}

/** A float32 tensor over `data` (no copy). */
export function f32(data: Float32Array, dims: readonly number[]): ort.Tensor {
  checkSize(data.length, dims, "float32");
  return new ort.Tensor("float32", data, dims);
}

/** A float64 tensor over `data` (no copy). */
export function f64(data: Float64Array, dims: readonly number[]): ort.Tensor {
  checkSize(data.length, dims, "float64");
  return new ort.Tensor("float64", data, dims);
}

/** An int64 tensor; numbers are converted, a BigInt64Array is used as is. */
export function i64(data: BigInt64Array | ArrayLike<number>, dims: readonly number[]): ort.Tensor {
  const arr = data instanceof BigInt64Array ? data : BigInt64Array.from(Array.from(data), (v) => BigInt(v));
  checkSize(arr.length, dims, "int64");
  return new ort.Tensor("int64", arr, dims);
}

/** A rank-0 float32 tensor. */
export function scalarF32(value: number): ort.Tensor {
  return new ort.Tensor("float32", Float32Array.of(value), []);
}

function checkSize(length: number, dims: readonly number[], dtype: string): void {
  const n = dims.reduce((a, b) => a * b, 1);
  if (n !== length) throw new Error(`A ${dtype} tensor of dims [${dims.join(", ")}] needs ${n} values; got ${length}`);
}

/** Resolves a symbolic shape with concrete dim sizes, e.g. {B: 2, T: 5}. */
export function resolveShape(shape: Shape, sizes: Readonly<Record<string, number>>): number[] {
  return shape.map((d) => {
    if (typeof d === "number") return d;
    const v = sizes[d];
    if (v === undefined) throw new Error(`No size given for symbolic dim "${d}"`);
    return v;
  });
}
