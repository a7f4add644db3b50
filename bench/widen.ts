/**
 * What widening a 16-bit weight costs before its Gemm, in the shape decoding runs it: x [16, 2560]
 * times a Qwen3-4B MLP weight W [9728, 2560]ᵀ, one onnxruntime session per way of feeding W:
 *
 *   fp32 input                          the float32 base (the reference)
 *   uint16 input → Cast int32 → Gather  how a bf16/fp16 base is widened now (engine/weights/half.ts)
 *   bf16 / fp16 initializer → Cast      the words baked into the session as in-memory external data
 *   float16 input → Cast                fp16 words fed live as onnxruntime's float16 type
 *   uint16 input → Cast float32         the Cast alone (no Gemm): the floor of any in-graph widening
 *
 *   npx tsx bench/widen.ts              ROWS=1 for batch-1 decoding
 *
 * Prints the median and best of 8 runs after one warm-up, and the RSS each baked session adds.
 */
import onnxProto from "onnx-proto";
import ort from "onnxruntime-node";
import { performance } from "node:perf_hooks";
import { halfTable } from "../src/engine/weights/half.js";

const { onnx } = onnxProto;
const DT = onnx.TensorProto.DataType;
const INT = onnx.AttributeProto.AttributeType.INT;
const [N, OUT, IN] = [Number(process.env.ROWS ?? 16), 9728, 2560];
const threads = Number(process.env.SPIRAL_THREADS ?? 2);

const valueInfo = (name: string, t: number, dims: number[]) => ({ name, type: { tensorType: { elemType: t, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });
function model(nodes: object[], inputs: object[], inits: object[], output = valueInfo("y", DT.FLOAT, [N, OUT])): Uint8Array {
  const graph = { name: "widen", node: nodes, input: inputs, output: [output], initializer: inits };
  return onnx.ModelProto.encode({ irVersion: 8, opsetImport: [{ domain: "", version: 18 }], graph: graph as never }).finish();
}
const node = (opType: string, input: string[], output: string, attrs: Record<string, number> = {}) => ({
  opType, input, output: [output], attribute: Object.entries(attrs).map(([name, i]) => ({ name, type: INT, i })),
});
const gemm = (w: string) => node("Gemm", ["x", w], "y", { transB: 1 });
// No graph optimisations: constant folding would widen a baked weight once, into a float32 copy.
const session = (bytes: Uint8Array, extra: ort.InferenceSession.SessionOptions = {}) =>
  ort.InferenceSession.create(bytes, { graphOptimizationLevel: "disabled", intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: "sequential", ...extra });

const table = halfTable("bf16");
const words = new Uint16Array(OUT * IN);
for (let i = 0; i < words.length; i++) words[i] = 0x3c00 + (i % 251); // small values, finite in bf16 and fp16 alike
const wf = Float32Array.from(words, (b) => table[b] as number);
const x = new ort.Tensor("float32", Float32Array.from({ length: N * IN }, (_, i) => Math.sin(i)), [N, IN]);

async function time(label: string, s: ort.InferenceSession, feeds: Record<string, ort.Tensor>): Promise<void> {
  await s.run(feeds);
  const runs: number[] = [];
  for (let i = 0; i < 8; i++) {
    const t = performance.now();
    await s.run(feeds);
    runs.push(performance.now() - t);
  }
  runs.sort((a, b) => a - b);
  const med = runs[runs.length >> 1] as number;
  console.log(`${label.padEnd(46)} median ${med.toFixed(1).padStart(6)} ms  best ${(runs[0] as number).toFixed(1).padStart(6)} ms  (${((OUT * IN) / med / 1e6).toFixed(2)} G weights/s)`);
}

console.log(`widening W [${OUT}, ${IN}] before x [${N}, ${IN}]·Wᵀ, onnxruntime-node ${ort.env.versions.common}, ${threads} threads`);
await time("fp32 input", await session(model([gemm("w")], [valueInfo("x", DT.FLOAT, [N, IN]), valueInfo("w", DT.FLOAT, [OUT, IN])], [])), { x, w: new ort.Tensor("float32", wf, [OUT, IN]) });
const tableInit = { name: "table", dims: [65536], dataType: DT.FLOAT, rawData: new Uint8Array(table.buffer, table.byteOffset, table.byteLength) };
const gather = model([node("Cast", ["w"], "wi", { to: DT.INT32 }), node("Gather", ["table", "wi"], "wf", { axis: 0 }), gemm("wf")], [valueInfo("x", DT.FLOAT, [N, IN]), valueInfo("w", DT.UINT16, [OUT, IN])], [tableInit]);
await time("uint16 input → Cast int32 → Gather → Gemm", await session(gather), { x, w: new ort.Tensor("uint16", words, [OUT, IN]) });
const cast = node("Cast", ["w"], "wf", { to: DT.FLOAT });
for (const [label, dt] of [["bf16", DT.BFLOAT16], ["fp16", DT.FLOAT16]] as const) {
  const init = {
    name: "w", dims: [OUT, IN], dataType: dt, dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
    externalData: [{ key: "location", value: "w.bin" }, { key: "offset", value: "0" }, { key: "length", value: String(words.byteLength) }],
  };
  const rss = process.memoryUsage().rss;
  const s = await session(model([cast, gemm("wf")], [valueInfo("x", DT.FLOAT, [N, IN])], [init]), { externalData: [{ path: "w.bin", data: new Uint8Array(words.buffer) }] });
  const added = (process.memoryUsage().rss - rss) / 2 ** 20;
  await time(`${label} initializer → Cast → Gemm`, s, { x });
  console.log(`  (building that session added ${added.toFixed(0)} MiB of RSS; the words are ${(words.byteLength / 2 ** 20).toFixed(0)} MiB)`);
}
await time("float16 input → Cast → Gemm", await session(model([cast, gemm("wf")], [valueInfo("x", DT.FLOAT, [N, IN]), valueInfo("w", DT.FLOAT16, [OUT, IN])], [])), { x, w: new ort.Tensor("float16", words, [OUT, IN]) });
const castOnly = model([cast, node("ReduceMax", ["wf"], "y", { keepdims: 0 })], [valueInfo("w", DT.UINT16, [OUT, IN])], [], valueInfo("y", DT.FLOAT, []));
await time("uint16 input → Cast float32 (no Gemm)", await session(castOnly), { w: new ort.Tensor("uint16", words, [OUT, IN]) });
