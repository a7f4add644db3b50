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
import type { Graph, Shape } from "./builder.js";
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
}

export class GraphSession {
  private constructor(
    readonly session: ort.InferenceSession,
    readonly inputNames: readonly string[],
    readonly outputNames: readonly string[],
  ) {}

  static async fromGraph(g: Graph, options: SessionOptions = {}): Promise<GraphSession> {
    return GraphSession.fromBytes(serialize(g), options);
  }

  static async fromBytes(bytes: Uint8Array, options: SessionOptions = {}): Promise<GraphSession> {
    const device = options.device ?? "cpu";
    const session = await ort.InferenceSession.create(bytes, {
      ...(device === "cpu" ? {} : { executionProviders: executionProviders(device) }),
      graphOptimizationLevel: options.optimization ?? "all",
      intraOpNumThreads: options.threads ?? availableParallelism(),
      interOpNumThreads: 1,
      executionMode: "sequential",
      enableCpuMemArena: options.memoryArena ?? true,
    }).catch((e: unknown) => {
      throw deviceError(device, e);
    });
    return new GraphSession(session, session.inputNames, session.outputNames);
  }

  /**
   * Runs the graph. `outputs` maps output names to pre-allocated tensors (written in place) or null
   * (allocated by onnxruntime); by default every output is allocated.
   */
  async run(feeds: Feeds, outputs?: Record<string, ort.Tensor | null>): Promise<Record<string, ort.Tensor>> {
    for (const name of this.inputNames) {
      if (!(name in feeds)) throw new Error(`Missing graph input "${name}"; the graph expects: ${this.inputNames.join(", ")}`);
    }
    const result = outputs ? await this.session.run(feeds, outputs) : await this.session.run(feeds);
    return result as Record<string, ort.Tensor>;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
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
