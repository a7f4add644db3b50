/**
 * The device learner's small graphs (gradient sum, weight views) checked on the CPU provider, so
 * that their layout arithmetic (offsets, alignment padding, grouped Concat) holds on machines
 * without a GPU; webgpu.test.ts runs the whole device learner against the CPU one.
 */
import ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { createRng } from "../../core/rng.js";
import { GraphSession } from "../graph/session.js";
import { layoutOf, Params } from "../weights/params.js";
import { buildGradientSumGraph, buildWeightViewsGraph, gradientSumNames } from "./device-training.js";
import { lossNames } from "./loss.js";
import { DeviceLogprobs } from "./device-logprobs.js";
import { packRows, type GeneratedRow } from "./loss-runner.js";

// Sizes 5, 12, 16, 3, 7, 1, 9 floats: some aligned, most padded; seven tensors, so the Concat is two levels deep.
const layout = layoutOf([
  { name: "a", shape: [5] },
  { name: "b", shape: [3, 4] },
  { name: "c", shape: [4, 4] },
  { name: "d", shape: [3] },
  { name: "e", shape: [7, 1] },
  { name: "f", shape: [1] },
  { name: "g", shape: [3, 3] },
]);

describe("device learner graphs (CPU provider)", () => {
  it("gradient sum: sum + w·grads laid out as Params.data, zeros in the padding (exact)", async () => {
    const rng = createRng("grad-sum");
    const grads = new Params(layout, Float32Array.from({ length: layout.totalSize }, () => rng.normal()));
    for (let i = 0; i < layout.views.length; i++) {
      const v = layout.views[i];
      const end = layout.views[i + 1]?.offset ?? layout.totalSize;
      if (v) grads.data.fill(0, v.offset + v.size, end);
    }
    const feeds: Record<string, ort.Tensor> = {};
    for (const v of layout.views) feeds[lossNames.gradPrefix + v.name] = new ort.Tensor("float32", grads.view(v.name), v.shape);
    const w = 0.25; // a power of two: w·g is exact, so the sum is too
    feeds[gradientSumNames.weight] = new ort.Tensor("float32", Float32Array.of(w), []);
    const first = await GraphSession.fromGraph(buildGradientSumGraph(layout, true), { threads: 1 });
    const add = await GraphSession.fromGraph(buildGradientSumGraph(layout, false), { threads: 1 });
    const once = (await first.run(feeds))[gradientSumNames.sumOut]?.data as Float32Array;
    expect(once).toEqual(grads.data.map((g) => w * g));
    const twice = (await add.run({ ...feeds, [gradientSumNames.sum]: new ort.Tensor("float32", once, [layout.totalSize]) }))[gradientSumNames.sumOut]?.data as Float32Array;
    expect(twice).toEqual(grads.data.map((g) => 2 * w * g));
    await first.release();
    await add.release();
  });

  it("weight views: each output is its tensor of the flat buffer (exact)", async () => {
    const rng = createRng("views");
    const params = new Params(layout, Float32Array.from({ length: layout.totalSize }, () => rng.normal()));
    const s = await GraphSession.fromGraph(buildWeightViewsGraph(layout), { threads: 1 });
    const out = await s.run({ params: new ort.Tensor("float32", params.data, [layout.totalSize]) });
    for (const v of layout.views) {
      expect(out[v.name]?.dims).toEqual(v.shape);
      expect(out[v.name]?.data).toEqual(params.view(v.name));
    }
    await s.release();
  });

  it("old log-probs store: a kept micro-batch is reused as is; other row sets are gathered at their own T (exact at every generated token)", async () => {
    const store = new DeviceLogprobs("cpu");
    const kept = store.store<GeneratedRow>();
    // Five rows of different lengths, kept as two micro-batches; each value encodes (row, column).
    const rows: GeneratedRow[] = [3, 5, 2, 6, 4].map((p, i) => ({ promptIds: Array(p).fill(1), generatedIds: Array(2 + (i % 3)).fill(2) }));
    const value = (r: number, t: number): number => 100 * r + t;
    const tensorOf = (part: GeneratedRow[]) => {
      const { B, T } = packRows(part);
      const data = new Float32Array(B * T);
      part.forEach((row, b) => {
        for (let t = 0; t < T; t++) data[b * T + t] = value(rows.indexOf(row), t);
      });
      return { T, tensor: new ort.Tensor("float32", data, [B, T]) };
    };
    for (const part of [rows.slice(0, 2), rows.slice(2)]) {
      const { T, tensor } = tensorOf(part);
      kept.keep(part, T, tensor);
    }
    const first = rows.slice(0, 2);
    const same = await kept.batch(first, packRows(first).T);
    expect(same.owned).toBe(false);
    // A reshuffled micro-batch drawing from both kept ones, packed wider than either row needs.
    const mixed = [rows[3], rows[0], rows[4]] as GeneratedRow[];
    const batch = packRows(mixed, { oldLogprobs: mixed.map((r) => Float32Array.from(r.generatedIds, (_, j) => value(rows.indexOf(r), r.promptIds.length + j))) });
    const got = await kept.batch(mixed, batch.T);
    expect(got.owned).toBe(true);
    expect(got.tensor.dims).toEqual([3, batch.T]);
    const data = got.tensor.data as Float32Array;
    const old = batch.oldLogprobs as Float32Array;
    let checked = 0;
    batch.lossMask.forEach((m, i) => {
      if (m === 0) return;
      expect(data[i]).toBe(old[i]);
      checked++;
    });
    expect(checked).toBe(mixed.reduce((n, r) => n + r.generatedIds.length, 0));
    kept.release();
    await store.release();
  });

  it("old log-probs store: the gap is max |lp − ref| over the masked positions", async () => {
    const store = new DeviceLogprobs("cpu");
    const kept = store.store<GeneratedRow>();
    const lp = new ort.Tensor("float32", Float32Array.of(-1, -2, -3, -4, -5, -6), [2, 3]);
    const gap = await kept.gap(lp, Float32Array.of(-1.5, -9, -3, -4, -5.25, -6), Float32Array.of(1, 0, 1, 1, 1, 1));
    expect(gap).toBe(0.5);
    await store.release();
  });
});
