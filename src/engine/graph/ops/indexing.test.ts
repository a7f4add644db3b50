import ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { createRng } from "../../../core/rng.js";
import { gradients } from "../autodiff.js";
import { Graph } from "../builder.js";
import { GraphSession } from "../session.js";
import * as op from "./index.js";

describe("Gather gradient with repeated ids", () => {
  it("is the in-order float32 sum of the rows, bit for bit, on every run with 2 threads", async () => {
    const [V, C, n] = [264, 128, 4096]; // the byte vocabulary; every id repeats ~15 times
    const g = new Graph("gather-grad");
    const w = g.input("w", "float32", [V, C]);
    const ids = g.input("ids", "int64", ["B", "T"]);
    const dy = g.input("dy", "float32", ["B", "T", C]);
    const y = op.gather(g, w, ids);
    const [dw] = gradients(g, y, [w], dy);
    g.output(dw as never, "dw");
    const rng = createRng("gather-grad");
    const idv = BigInt64Array.from({ length: n }, () => BigInt(rng.int(V)));
    const dyv = Float32Array.from({ length: n * C }, () => rng.normal());
    const expected = new Float32Array(V * C);
    idv.forEach((id, r) => {
      for (let j = 0; j < C; j++) expected[Number(id) * C + j] = Math.fround((expected[Number(id) * C + j] as number) + (dyv[r * C + j] as number));
    });
    const s = await GraphSession.fromGraph(g, { threads: 2 });
    const feeds = {
      w: new ort.Tensor("float32", new Float32Array(V * C), [V, C]),
      ids: new ort.Tensor("int64", idv, [64, n / 64]),
      dy: new ort.Tensor("float32", dyv, [64, n / 64, C]),
    };
    // ScatterND(add), the rule before, differed from this sum by up to 2e-6 and between runs.
    for (let r = 0; r < 8; r++) {
      const got = (await s.run(feeds)).dw?.data as Float32Array;
      expect(Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(Buffer.from(expected.buffer))).toBe(true);
    }
    await s.release();
  });
});
