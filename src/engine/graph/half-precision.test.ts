import { describe, expect, it } from "vitest";
import { Graph, type NodeRecord, type Tensor } from "./builder.js";
import { checkPrecision, checkPrecisionDevice, parsePrecision } from "./device.js";
import { toHalfPrecision } from "./half-precision.js";
import * as op from "./ops/index.js";
import { liveNodes, serialize } from "./serialize.js";
import { buildDecodeGraph, buildPrefillGraph } from "../infer/decode-graph.js";
import { isAdapterWeight, type LoraConfig } from "../model/lora.js";
import { isHalfTable } from "../model/model.js";
import { halfModelGraph, halfWeightNames, outputHeadName } from "../model/precision.js";
import { modelPreset } from "../model/presets.js";
import { buildLossGraph, lossNames } from "../train/loss.js";

const micro = modelPreset("micro");

/** Every live node with the types of its inputs (after the rewrite, where a Cast may come first). */
function nodesOf(g: Graph): { node: NodeRecord; types: string[] }[] {
  return liveNodes(g).map((node) => ({ node, types: node.inputs.map((i) => i?.dtype ?? "") }));
}

const floatTypes = (types: readonly string[]): string[] => types.filter((t) => t === "float32" || t === "float16");

describe("toHalfPrecision", () => {
  it("prefill: products in fp16 except the head's, reductions and softmax in fp32, cache out in fp16, logits out in fp32", () => {
    const src = buildPrefillGraph(micro, undefined, undefined, "webgpu");
    const before = serialize(src);
    const g = halfModelGraph(src, micro, { halfOutputs: (n) => n.startsWith("present_") });
    expect(serialize(src)).toEqual(before); // the source graph is left as it was
    const head = outputHeadName(micro);
    let products = 0;
    for (const { node, types } of nodesOf(g)) {
      const floats = floatTypes(types);
      if (node.opType === "Gemm" || node.opType === "MatMul") {
        products++;
        const readsHead = node.inputs.some((i) => i?.name === head);
        expect(new Set(floats)).toEqual(new Set([readsHead ? "float32" : "float16"]));
      }
      if (["ReduceMean", "ReduceSum", "Softmax", "Sqrt", "Pow", "Exp"].includes(node.opType)) expect(new Set(floats)).toEqual(new Set(["float32"]));
    }
    expect(products).toBe(micro.numHiddenLayers * 9 + 1); // 7 projections + 2 attention products per layer, and the head
    const out = new Map(g.outputs.map((o) => [o.name, o.dtype]));
    expect(out.get("logits")).toBe("float32");
    expect(out.get("present_k_0")).toBe("float16");
    expect(g.outputs.map((o) => o.name)).toEqual(src.outputs.map((o) => o.name));
    // Weights but the head are fp16 inputs; the rest keep their types.
    const inputs = new Map(g.inputs.map((i) => [i.name, i.dtype]));
    for (const name of halfWeightNames(micro)) expect(inputs.get(name)).toBe("float16");
    expect(inputs.get(head)).toBe("float32");
    expect(inputs.get("causal")).toBe("float32");
  });

  it("decode: reads the fp16 cache, writes it back in fp16 without a float32 round trip of the cache", () => {
    const g = halfModelGraph(buildDecodeGraph(micro, undefined, undefined, "webgpu"), micro, { halfInputs: (n) => n.startsWith("past_"), halfOutputs: (n) => n.startsWith("present_") });
    expect(g.inputs.find((i) => i.name === "past_k_0")?.dtype).toBe("float16");
    expect(g.outputs.find((o) => o.name === "present_v_1")?.dtype).toBe("float16");
    // No Cast reads a cache input (a whole-cache conversion per step).
    const caches = new Set(g.inputs.filter((i) => i.name.startsWith("past_")).map((i) => i.name));
    expect(liveNodes(g).filter((n) => n.opType === "Cast" && caches.has(n.inputs[0]?.name ?? ""))).toEqual([]);
  });

  it("a square, ReduceMean and Softmax compute in fp32; a constant beyond fp16's range is not converted; neutral constants follow the other operand", () => {
    const g = new Graph("t");
    const x = g.input("x", "float32", [2, 4]);
    const w = g.input("w", "float32", [4, 4]);
    const y = op.matmul(g, x, w); // fp16
    const sq = op.mul(g, y, y); // fp32 (a square)
    g.output(op.reduceMean(g, sq, [-1], true), "ms");
    g.output(op.mul(g, y, g.scalar(0.5, "float32")), "half_of_y"); // fp16: 0.5 fits and follows y
    g.output(op.add(g, y, g.scalar(-1e9, "float32")), "masked"); // fp32: −1e9 would be −∞ in fp16
    const h = toHalfPrecision(g, { halfInputs: (n) => n === "w" || n === "x", halfOutputs: (n) => n === "half_of_y" });
    const byOutput = new Map<string, NodeRecord>();
    for (const n of liveNodes(h)) for (const o of n.outputs) byOutput.set(o.name, n);
    const typeOf = (name: string): string => (byOutput.get(name)?.outputs.find((o) => o.name === name) as Tensor).dtype;
    const mm = liveNodes(h).find((n) => n.opType === "MatMul") as NodeRecord;
    expect(mm.outputs[0]?.dtype).toBe("float16");
    const square = liveNodes(h).find((n) => n.opType === "Mul" && n.inputs[0]?.name === n.inputs[1]?.name) as NodeRecord;
    expect(square.outputs[0]?.dtype).toBe("float32");
    expect(typeOf("ms")).toBe("float32");
    expect(typeOf("half_of_y")).toBe("float16");
    expect(typeOf("masked")).toBe("float32");
    expect([...h.constants.values()].filter((c) => c.dtype === "float16").map((c) => c.values[0])).toEqual([0.5]);
  });

  it("loss graph: gradients come out fp32, the loss too; the backward is seeded with loss_scale", () => {
    const src = buildLossGraph(micro, { kind: "ppo", device: "webgpu", lossScale: true }).graph;
    expect(src.inputs.find((i) => i.name === lossNames.lossScale)?.dtype).toBe("float32");
    const g = halfModelGraph(src, micro);
    for (const o of g.outputs) expect(o.dtype).toBe("float32");
    expect(g.outputs.filter((o) => o.name.startsWith(lossNames.gradPrefix))).toHaveLength(halfWeightNames(micro).size + 1);
    // Without lossScale the graph has no such input (and the CPU graphs are as before).
    expect(buildLossGraph(micro, { kind: "ppo" }).graph.inputs.some((i) => i.name === lossNames.lossScale)).toBe(false);
  });

  it("LoRA on a bf16 base (loss graph): every product in fp16 but the head's, the adapter's float32 master A and B cast once each where read, the base decoded through a float16 table, adapter gradients out in fp32", () => {
    const lora: LoraConfig = { r: 2, alpha: 4, targets: ["q_proj", "v_proj", "down_proj"] };
    const src = buildLossGraph(micro, { kind: "ppo", lora, half: "bf16", device: "webgpu", lossScale: true }).graph;
    const g = halfModelGraph(src, micro);
    const head = outputHeadName(micro);
    const adapterNames = new Set(src.inputs.filter((i) => isAdapterWeight(i.name)).map((i) => i.name));
    expect(adapterNames.size).toBe(micro.numHiddenLayers * 3 * 2);
    const inputs = new Map(g.inputs.map((i) => [i.name, i.dtype]));
    for (const name of adapterNames) expect(inputs.get(name)).toBe("float32"); // fed the fp32 master
    for (const { node, types } of nodesOf(g)) {
      if (node.opType !== "Gemm" && node.opType !== "MatMul") continue;
      const readsHead = node.inputs.some((i) => i?.name === head);
      expect(node.inputs.some((i) => adapterNames.has(i?.name ?? ""))).toBe(false); // read through their Cast
      expect(new Set(floatTypes(types))).toEqual(new Set([readsHead ? "float32" : "float16"]));
    }
    const casts = liveNodes(g).filter((n) => n.opType === "Cast" && adapterNames.has(n.inputs[0]?.name ?? ""));
    expect(casts.map((n) => n.inputs[0]?.name).sort()).toEqual([...adapterNames].sort());
    const tables = [...g.constants].filter(([name]) => isHalfTable(name));
    expect(tables.map(([, c]) => [c.dtype, c.shape])).toEqual([["float16", [65536]]]);
    // The table's Gathers produce fp16 weights straight away (no Cast between them and the products).
    const gathers = liveNodes(g).filter((n) => n.opType === "Gather" && isHalfTable(n.inputs[0]?.name ?? ""));
    expect(gathers.length).toBeGreaterThan(0);
    for (const n of gathers) expect(n.outputs[0]?.dtype).toBe("float16");
    const grads = g.outputs.filter((o) => o.name.startsWith(lossNames.gradPrefix));
    expect(grads.map((o) => o.name.slice(lossNames.gradPrefix.length)).sort()).toEqual([...adapterNames].sort());
    for (const o of g.outputs) expect(o.dtype).toBe("float32");
  });

  it("refuses a float64 graph", () => {
    const g = new Graph("d");
    g.output(op.exp(g, g.input("x", "float64", [1])), "y");
    expect(() => toHalfPrecision(g)).toThrow(/float64/);
  });
});

describe("precision option", () => {
  it("parses fp32 and fp16 and names the flag otherwise", () => {
    expect(parsePrecision("fp16")).toBe("fp16");
    expect(parsePrecision("fp32")).toBe("fp32");
    expect(() => parsePrecision("bf16")).toThrow('--precision expects one of fp32, fp16; got "bf16"');
    expect(() => parsePrecision("half", "precision")).toThrow(/^precision expects/);
  });

  it("fp16 is a webgpu option: on the CPU the error says so", async () => {
    expect(() => checkPrecisionDevice("cpu", "fp16")).toThrow(/--precision fp16 is a webgpu option \(--device webgpu\)/);
    expect(() => checkPrecisionDevice("cpu", "fp32")).not.toThrow();
    expect(() => checkPrecisionDevice("cpu", undefined)).not.toThrow();
    await expect(checkPrecision("cpu", "fp16")).rejects.toThrow(/webgpu option/);
    await expect(checkPrecision("cpu", "fp32")).resolves.toBeUndefined();
  });
});
