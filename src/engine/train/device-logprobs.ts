/**
 * Per-token log-probs kept in device memory across a learner step (--device webgpu;
 * docs/device.md): PPO's old log-probs, produced by epoch 1's pass (or the recomputation before
 * it), feed the later epochs' loss runs without crossing to the host.
 *
 * Each kept tensor is one micro-batch's [B, T] log-probs with the rows it was packed from. A later
 * micro-batch of exactly those rows (one update per epoch: the same micro-batches every epoch)
 * reads the kept tensor itself. Other micro-batches (minibatches > 1 reshuffle the rows each
 * epoch) are gathered on the device: the kept tensors are laid end to end in one flat buffer, and
 * a Gather with host-computed int64 indices packs the rows' values at the new T. Both packings put
 * a row's prompt and generated tokens from column 0, so a row's column t maps to column t.
 * Positions the loss does not score read an arbitrary kept value: the loss graph picks the old
 * log-probs at the scored positions only (loss.ts).
 *
 * The gap graph reduces |learner − sampler| over the generated tokens to its maximum on the
 * device (the learner's `samplerLogprobGap`), so that too is one scalar.
 */
import ort from "onnxruntime-node";
import { Graph } from "../graph/builder.js";
import * as op from "../graph/ops/index.js";
import type { Device } from "../graph/device.js";
import { GraphSession, type OrtTensor } from "../graph/session.js";
import type { GeneratedRow } from "./loss-runner.js";

/** gap = max over [B, T] of |lp − ref|·mask. */
export function buildGapGraph(): Graph {
  const g = new Graph("logprob-gap");
  g.target = "webgpu";
  const at = (name: string) => g.input(name, "float32", ["B", "T"]);
  const diff = op.mul(g, op.abs(g, op.sub(g, at("logprobs"), at("ref"))), at("mask"));
  g.output(op.reduceMax(g, diff, [0, 1]), "gap");
  return g;
}

/** flat_out [S + B·T] = flat ++ logprobs [B, T] row-major; `first` leaves out `flat`. */
export function buildAppendGraph(first: boolean): Graph {
  const g = new Graph(first ? "logprobs-flatten" : "logprobs-append");
  g.target = "webgpu";
  const lp = g.input("logprobs", "float32", ["B", "T"]);
  // A constant shape: no runtime shape arithmetic, so nothing runs on the host.
  const flat = g.op1("Reshape", [lp, g.ints([-1])], {}, { dtype: "float32", shape: ["B*T"] });
  g.output(first ? op.identity(g, flat) : op.concat(g, [g.input("flat", "float32", ["S"]), flat], 0), "flat_out");
  return g;
}

/** out [B, T] = flat[index] (index int64 [B, T]). */
export function buildGatherGraph(): Graph {
  const g = new Graph("logprobs-gather");
  g.target = "webgpu";
  g.output(op.gather(g, g.input("flat", "float32", ["S"]), g.input("index", "int64", ["B", "T"])), "out");
  return g;
}

interface Kept<R> {
  readonly rows: readonly R[];
  readonly T: number;
  readonly logprobs: OrtTensor;
}

/** The sessions, compiled once per process (DeviceTraining holds one). */
export class DeviceLogprobs {
  private sessions: Promise<{ gap: GraphSession; first: GraphSession; append: GraphSession; gather: GraphSession }> | undefined;

  constructor(private readonly device: Device) {}

  /** The graphs' sessions, created on first use. */
  open(): Promise<{ gap: GraphSession; first: GraphSession; append: GraphSession; gather: GraphSession }> {
    const onDevice = { device: this.device, outputsOnDevice: true, threads: 1 } as const;
    this.sessions ??= (async () => ({
      gap: await GraphSession.fromGraph(buildGapGraph(), { device: this.device, threads: 1 }),
      first: await GraphSession.fromGraph(buildAppendGraph(true), onDevice),
      append: await GraphSession.fromGraph(buildAppendGraph(false), onDevice),
      gather: await GraphSession.fromGraph(buildGatherGraph(), onDevice),
    }))();
    return this.sessions;
  }

  /** A store for one learner step; `release` it at the step's end. */
  store<R extends GeneratedRow>(): LogprobStore<R> {
    return new LogprobStore<R>(this);
  }

  async release(): Promise<void> {
    const s = await this.sessions;
    this.sessions = undefined;
    for (const x of Object.values(s ?? {})) await x.release();
  }
}

export class LogprobStore<R extends GeneratedRow> {
  private readonly kept: Kept<R>[] = [];
  /** The kept tensors end to end: `flat` holds the first `flatCount` of them. */
  private flat: OrtTensor | undefined;
  private flatCount = 0;
  private readonly at = new Map<R, { readonly start: number }>();
  private flatSize = 0;

  constructor(private readonly owner: DeviceLogprobs) {}

  /** Keeps a micro-batch's [B, T] log-probs (device tensor, now owned here) packed from `rows`. */
  keep(rows: readonly R[], T: number, logprobs: OrtTensor): void {
    if (logprobs.dims[0] !== rows.length || logprobs.dims[1] !== T) throw new Error(`LogprobStore.keep: expected [${rows.length}, ${T}]; got [${logprobs.dims.join(", ")}]`);
    this.kept.push({ rows, T, logprobs });
  }

  /** max |logprobs − ref| where mask ≠ 0 (all [B·T]), on the device; one scalar comes back. */
  async gap(logprobs: OrtTensor, ref: Float32Array, mask: Float32Array): Promise<number> {
    const dims = logprobs.dims;
    const out = await (await this.owner.open()).gap.run({ logprobs, ref: new ort.Tensor("float32", ref, dims), mask: new ort.Tensor("float32", mask, dims) });
    return Number((out.gap as OrtTensor).data[0]);
  }

  /**
   * The kept log-probs of `rows` packed at width T, as a [B, T] device tensor; `owned` says whether
   * the caller must dispose it (a gathered copy) or the store still holds it (a kept tensor).
   */
  async batch(rows: readonly R[], T: number): Promise<{ tensor: OrtTensor; owned: boolean }> {
    const same = this.kept.find((k) => k.T === T && k.rows.length === rows.length && k.rows.every((r, i) => r === rows[i]));
    if (same !== undefined) return { tensor: same.logprobs, owned: false };
    const sessions = await this.owner.open();
    await this.flatten(sessions);
    const index = new BigInt64Array(rows.length * T);
    rows.forEach((r, b) => {
      const where = this.at.get(r);
      if (where === undefined) throw new Error("LogprobStore.batch: a row has no kept log-probs");
      const len = r.promptIds.length + r.generatedIds.length;
      if (len > T) throw new Error(`LogprobStore.batch: a row of ${len} tokens does not fit T = ${T}`);
      for (let t = 0; t < len; t++) index[b * T + t] = BigInt(where.start + t);
    });
    const out = await sessions.gather.run({ flat: this.flat as OrtTensor, index: new ort.Tensor("int64", index, [rows.length, T]) });
    return { tensor: out.out as OrtTensor, owned: true };
  }

  /** Appends the kept tensors not yet in the flat buffer. */
  private async flatten(sessions: Awaited<ReturnType<DeviceLogprobs["open"]>>): Promise<void> {
    for (; this.flatCount < this.kept.length; this.flatCount++) {
      const k = this.kept[this.flatCount] as Kept<R>;
      const first = this.flat === undefined;
      const out = await (first ? sessions.first : sessions.append).run(first ? { logprobs: k.logprobs } : { flat: this.flat as OrtTensor, logprobs: k.logprobs });
      this.flat?.dispose();
      this.flat = out.flat_out as OrtTensor;
      k.rows.forEach((r, j) => this.at.set(r, { start: this.flatSize + j * k.T }));
      this.flatSize += k.rows.length * k.T;
    }
  }

  /** Frees every device tensor the store holds. */
  release(): void {
    for (const k of this.kept) k.logprobs.dispose();
    this.kept.length = 0;
    this.flat?.dispose();
    this.flat = undefined;
  }
}
