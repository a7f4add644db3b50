/**
 * The learner's state on a GPU (--device webgpu; docs/device.md, "What lives where, and when bytes cross").
 *
 * Between learner steps the trained parameters, the AdamW moments and the step's summed gradient
 * live in device memory as flat float32 buffers in the parameter layout (Params.data's layout,
 * padding included), and the parameters also as one device tensor per weight, which the loss
 * graphs and the generator read in place of host buffers. One learner update is four kinds of run,
 * all on the device:
 *
 *   loss graph      per micro-batch: loss, log-probs, and one gradient tensor per weight (left on
 *                   the device by the runner, LossRunner.lossAndGradOnDevice)
 *   gradient sum    sum_out = sum + w·flat(grads), the micro-batch weighted as in learner.ts
 *   AdamW           optimizer-graph.ts's graph in float32 (global-norm clip included); only the
 *                   norm comes back
 *   weight views    the new flat parameters sliced into the per-weight tensors
 *
 * `toHost` copies parameters and moments back into the host buffers (Params.data and the AdamW
 * object's moments) when something on the host needs them: a checkpoint, an endpoint's weight
 * file, an adapter snapshot, the end of a run.
 */
import ort from "onnxruntime-node";
import { Graph, type Tensor } from "../graph/builder.js";
import * as op from "../graph/ops/index.js";
import type { Device } from "../graph/device.js";
import { DeviceCopy, disposeAll, type Feeds, GraphSession, type OrtTensor } from "../graph/session.js";
import type { ParamLayout, Params } from "../weights/params.js";
import { halfFeeds } from "../weights/half.js";
import { halfTensor } from "../model/precision.js";
import type { AdamW } from "./optimizer.js";
import { buildOptimizerGraph, optimizerNames } from "./optimizer-graph.js";
import { lossNames } from "./loss.js";
import { DeviceLogprobs } from "./device-logprobs.js";

/** Inputs a WebGPU Concat binds at once: Dawn's default storage-buffer limit per shader is 8. */
const CONCAT_GROUP = 4;

/** Concat along axis 0 in groups, so no node binds more than CONCAT_GROUP inputs. */
function concatTree(g: Graph, parts: readonly Tensor[]): Tensor {
  let level = parts.slice();
  while (level.length > 1) {
    const next: Tensor[] = [];
    for (let i = 0; i < level.length; i += CONCAT_GROUP) {
      const group = level.slice(i, i + CONCAT_GROUP);
      next.push(group.length === 1 ? (group[0] as Tensor) : op.concat(g, group, 0));
    }
    level = next;
  }
  return level[0] as Tensor;
}

/** The layout's tensors as one flat [totalSize] vector, zeros in the alignment padding. */
function flatLayout(g: Graph, layout: ParamLayout, tensorOf: (name: string) => Tensor): Tensor {
  const parts = layout.views.map((v, i) => {
    const end = layout.views[i + 1]?.offset ?? layout.totalSize;
    const flat = op.reshape(g, tensorOf(v.name), [v.size]);
    const pad = end - v.offset - v.size;
    return pad === 0 ? flat : g.op1("Pad", [flat, g.ints([0, pad])], {}, { dtype: "float32", shape: [end - v.offset] });
  });
  return concatTree(g, parts);
}

export const gradientSumNames = { sum: "sum", weight: "w", sumOut: "sum_out" } as const;

/**
 * sum_out [totalSize] = (sum +) w · the gradients `grad.<name>` laid out flat; `first` leaves out
 * the running sum (the first micro-batch of an update).
 */
export function buildGradientSumGraph(layout: ParamLayout, first: boolean): Graph {
  const g = new Graph(first ? "gradient-sum-first" : "gradient-sum");
  g.target = "webgpu";
  const n = gradientSumNames;
  const flat = flatLayout(g, layout, (name) => {
    const v = layout.byName.get(name);
    return g.input(lossNames.gradPrefix + name, "float32", v?.shape ?? []);
  });
  const scaled = op.mul(g, flat, g.input(n.weight, "float32", []));
  g.output(first ? scaled : op.add(g, g.input(n.sum, "float32", [layout.totalSize]), scaled), n.sumOut);
  return g;
}

/** params [totalSize] → one output per weight, by its name; those in `half` as fp16 copies (precision fp16). */
export function buildWeightViewsGraph(layout: ParamLayout, half?: ReadonlySet<string>): Graph {
  const g = new Graph("weight-views");
  g.target = "webgpu";
  const flat = g.input("params", "float32", [layout.totalSize]);
  for (const v of layout.views) {
    const w = op.reshape(g, op.slice(g, flat, [v.offset], [v.offset + v.size], [0]), v.shape);
    g.output(half?.has(v.name) === true ? op.cast(g, w, "float16") : w, v.name);
  }
  return g;
}

/** params, exp_avg, exp_avg_sq [totalSize] back to host buffers. */
function buildDownloadGraph(size: number): Graph {
  const g = new Graph("download");
  for (const name of ["params", "exp_avg", "exp_avg_sq"]) g.output(op.identity(g, g.input(name, "float32", [size])), `host:${name}`);
  return g;
}

function f32(data: Float32Array, dims: readonly number[]): OrtTensor {
  return new ort.Tensor("float32", data, dims);
}

export interface DeviceTrainingOptions {
  /** The trained weights (a LoRA run: the adapter's) and their optimiser. */
  readonly trained: Params;
  readonly optimizer: AdamW;
  /**
   * Frozen weights read by the same graphs (a LoRA run's base, float32 or 16-bit): copied to the
   * device once, those in `halfWeights` as fp16 copies (a 16-bit base's words as they are).
   */
  readonly frozen?: Params;
  readonly device?: Device;
  /**
   * precision fp16: the weights the graphs read as fp16 copies, made from the float32 master
   * parameters after every update (model/precision.ts halfWeightNames); the update stays float32.
   * A frozen base's are made once, at `create` (the caller has checked their range, checkHalfRange).
   */
  readonly halfWeights?: ReadonlySet<string>;
}

export class DeviceTraining {
  private sum: OrtTensor | undefined;
  private views: Feeds = {};
  /** PPO's old log-probs across a learner step's epochs, on the device (device-logprobs.ts). */
  readonly logprobs: DeviceLogprobs;

  private constructor(
    private readonly options: DeviceTrainingOptions,
    private readonly sessions: {
      readonly upload: DeviceCopy;
      readonly first: GraphSession;
      readonly add: GraphSession;
      readonly adamw: GraphSession;
      readonly split: GraphSession;
      readonly download: GraphSession;
      /** The frozen weights' copy: kept open while its outputs are in use. */
      readonly frozen: DeviceCopy | undefined;
    },
    private params: OrtTensor,
    private m: OrtTensor,
    private v: OrtTensor,
    private readonly frozen: Feeds,
  ) {
    this.logprobs = new DeviceLogprobs(options.device ?? "webgpu");
  }

  /** Copies the parameters, the moments and any frozen weights to the device. */
  static async create(options: DeviceTrainingOptions): Promise<DeviceTraining> {
    const device = options.device ?? "webgpu";
    if (device === "cpu") throw new Error("DeviceTraining is for a GPU device; on the CPU the learner updates Params.data in place");
    const { layout, data } = options.trained;
    const N = layout.totalSize;
    if (options.optimizer.size !== N) throw new Error(`DeviceTraining: the optimiser has ${options.optimizer.size} values; the trained layout ${N}`);
    const onDevice = { device, outputsOnDevice: true, threads: 1 } as const;
    const base = options.frozen;
    // The frozen base's float32 tensors (fp16 copies of those in halfWeights), and a 16-bit base's
    // words (as the graphs read them there).
    const frozenHost: Feeds = {};
    const half = options.halfWeights;
    for (const w of base?.layout.views ?? []) {
      const data = (base as Params).view(w.name);
      frozenHost[w.name] = half?.has(w.name) === true ? halfTensor(data, w.shape) : f32(data, w.shape);
    }
    if (base?.half !== undefined) Object.assign(frozenHost, halfFeeds(base.half, device));
    const frozenInputs = Object.entries(frozenHost).map(([name, t]) => ({ name, dtype: t.type as "float32" | "float16" | "uint32", shape: t.dims }));
    const sessions = {
      upload: await DeviceCopy.create([{ name: "x", dtype: "float32", shape: [N] }], device),
      first: await GraphSession.fromGraph(buildGradientSumGraph(layout, true), onDevice),
      add: await GraphSession.fromGraph(buildGradientSumGraph(layout, false), onDevice),
      adamw: await GraphSession.fromGraph(buildOptimizerGraph(options.optimizer.hyper, "float32"), {
        device, threads: 1, outputsOnDevice: [optimizerNames.paramsOut, optimizerNames.mOut, optimizerNames.vOut],
      }),
      split: await GraphSession.fromGraph(buildWeightViewsGraph(layout, options.halfWeights), onDevice),
      download: await GraphSession.fromGraph(buildDownloadGraph(N), { device, threads: 1 }),
      frozen: frozenInputs.length === 0 ? undefined : await DeviceCopy.create(frozenInputs, device),
    };
    const up = async (x: Float32Array): Promise<OrtTensor> => (await sessions.upload.upload({ x: f32(x, [N]) })).x as OrtTensor;
    const { m, v } = options.optimizer.state();
    const frozen = sessions.frozen === undefined ? {} : await sessions.frozen.upload(frozenHost);
    const state = new DeviceTraining(options, sessions, await up(data), await up(m), await up(v), frozen);
    await state.splitViews();
    return state;
  }

  /** Every weight the graphs read, as device tensors: the trained ones and the frozen base. */
  weights(): Feeds {
    return { ...this.frozen, ...this.views };
  }

  private async splitViews(): Promise<void> {
    const out = await this.sessions.split.run({ params: this.params });
    const old = this.views;
    this.views = out;
    disposeAll(old);
  }

  /** Adds one micro-batch's gradients (device tensors, `grad.<name>`), weighted by `w`; frees them. */
  async addGradients(grads: Feeds, w: number): Promise<void> {
    const feeds: Feeds = { ...grads, [gradientSumNames.weight]: f32(Float32Array.of(w), []) };
    const first = this.sum === undefined;
    if (!first) feeds[gradientSumNames.sum] = this.sum as OrtTensor;
    const out = await (first ? this.sessions.first : this.sessions.add).run(feeds);
    this.sum?.dispose();
    this.sum = out[gradientSumNames.sumOut] as OrtTensor;
    disposeAll(grads);
  }

  /**
   * Clips the summed gradient to global norm `maxNorm` and takes one AdamW step at `lr`, on the
   * device; the sum starts again from zero. Returns the norm before clipping; when it is not finite
   * nothing changes and no step is counted (as the CPU learner skips such an update).
   */
  async step(maxNorm: number, lr: number): Promise<number> {
    if (!(maxNorm > 0)) throw new Error(`DeviceTraining.step: maxNorm must be > 0; got ${maxNorm}`);
    const N = this.options.trained.layout.totalSize;
    // No micro-batch had a scored token: a zero gradient (AdamW still decays its moments).
    const grads = this.sum ?? (await this.sessions.upload.upload({ x: f32(new Float32Array(N), [N]) })).x as OrtTensor;
    this.sum = undefined;
    const scalars = this.options.optimizer.nextScalars(lr);
    const n = optimizerNames;
    const s = (x: number): OrtTensor => f32(Float32Array.of(x), []);
    const out = await this.sessions.adamw.run({
      [n.params]: this.params, [n.grads]: grads, [n.m]: this.m, [n.v]: this.v,
      [n.stepSize]: s(scalars.stepSize), [n.invSqrtBc2]: s(scalars.invSqrtBc2), [n.decay]: s(scalars.decay), [n.maxNorm]: s(maxNorm),
    });
    grads.dispose();
    const norm = Number((out[n.gradNorm] as OrtTensor).data[0]);
    const next = [out[n.paramsOut], out[n.mOut], out[n.vOut]] as OrtTensor[];
    if (!Number.isFinite(norm)) {
      for (const t of next) t.dispose();
      return norm;
    }
    for (const t of [this.params, this.m, this.v]) t.dispose();
    [this.params, this.m, this.v] = next as [OrtTensor, OrtTensor, OrtTensor];
    this.options.optimizer.recordStep(scalars);
    await this.splitViews();
    return norm;
  }

  /** Copies the parameters and the AdamW moments into the host buffers (Params.data, AdamW's m and v). */
  async toHost(): Promise<void> {
    const N = this.options.trained.layout.totalSize;
    const { m, v } = this.options.optimizer.state();
    const out = await this.sessions.download.run({ params: this.params, exp_avg: this.m, exp_avg_sq: this.v });
    this.options.trained.data.set((out["host:params"] as OrtTensor).data as Float32Array);
    m.set((out["host:exp_avg"] as OrtTensor).data as Float32Array);
    v.set((out["host:exp_avg_sq"] as OrtTensor).data as Float32Array);
    if (this.options.trained.data.length !== N) throw new Error("DeviceTraining.toHost: the host buffer changed size");
  }

  async release(): Promise<void> {
    this.sum?.dispose();
    this.sum = undefined;
    disposeAll(this.views);
    disposeAll(this.frozen);
    this.views = {};
    for (const t of [this.params, this.m, this.v]) t.dispose();
    for (const s of Object.values(this.sessions)) await s?.release();
    await this.logprobs.release();
  }
}
