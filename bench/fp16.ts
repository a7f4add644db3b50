/**
 * Half precision on the device, measured against fp32 (docs/device.md, "Precision"):
 *
 *   npx tsx bench/fp16.ts [--device webgpu] [--preset micro] [--batch 4] [--prompt 32] [--std 0.1]
 *
 * The prefill graph of `preset` (recorded for the device, random weights with init `std`) runs
 * twice on the same device: as recorded (fp32), and with every float tensor in fp16: weights,
 * activations and constants, with the graph's float inputs cast to fp16 and its logits cast back
 * at the edges (onnxruntime's WebGPU EP runs fp16 with WGSL's shader-f16 where the adapter has
 * it). Prints the logits' largest difference, the largest log-softmax difference and how many
 * rows pick the same top token. This is a measurement only: the engine itself runs fp32.
 */
import ort from "onnxruntime-node";
import onnxProto from "onnx-proto";
import { createRng } from "../src/core/rng.js";
import { checkDevice, executionProviders, parseDevice, profilePlacement } from "../src/engine/graph/device.js";
import { toModelProto } from "../src/engine/graph/serialize.js";
import { dimsFeeds } from "../src/engine/graph/session.js";
import { buildPrefillGraph, causalBias, ropeTables } from "../src/engine/infer/decode-graph.js";
import { modelPreset } from "../src/engine/model/presets.js";
import { f32ToF16Bits } from "../src/engine/weights/gguf.js";
import { initParams } from "../src/engine/weights/params.js";

type Onnx = typeof onnxProto.onnx;
const { onnx } = onnxProto as { onnx: Onnx };
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const FLOAT16 = onnx.TensorProto.DataType.FLOAT16;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

function halfBytes(raw: Uint8Array): Uint8Array {
  const f = new Float32Array(raw.slice().buffer);
  return new Uint8Array(Uint16Array.from(f, (x) => f32ToF16Bits(x)).buffer);
}

function toHalfTensor(t: onnxProto.onnx.ITensorProto): void {
  if (t.dataType !== FLOAT) return;
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : new Uint8Array(Float32Array.from(t.floatData ?? []).buffer);
  t.rawData = halfBytes(raw);
  t.floatData = [];
  t.dataType = FLOAT16;
}

/** The model with every float tensor in fp16; float graph inputs and outputs keep float32 and are cast at the edges. */
function toFloat16(model: onnxProto.onnx.ModelProto): onnxProto.onnx.ModelProto {
  const g = model.graph as onnxProto.onnx.IGraphProto;
  const nodes = g.node ?? [];
  for (const init of g.initializer ?? []) toHalfTensor(init);
  for (const n of nodes) {
    for (const a of n.attribute ?? []) {
      if (n.opType === "Cast" && a.name === "to" && Number(a.i) === FLOAT) a.i = FLOAT16;
      if (a.t) toHalfTensor(a.t);
    }
  }
  const rename = new Map<string, string>();
  const head: onnxProto.onnx.INodeProto[] = [];
  for (const input of g.input ?? []) {
    if (input.type?.tensorType?.elemType !== FLOAT) continue;
    const name = input.name as string;
    rename.set(name, `${name}:f16`);
    head.push({ opType: "Cast", input: [name], output: [`${name}:f16`], attribute: [{ name: "to", type: onnx.AttributeProto.AttributeType.INT, i: FLOAT16 }] });
  }
  for (const n of nodes) n.input = (n.input ?? []).map((i) => rename.get(i) ?? i);
  const tail: onnxProto.onnx.INodeProto[] = [];
  for (const output of g.output ?? []) {
    if (output.type?.tensorType?.elemType !== FLOAT) continue;
    const name = output.name as string;
    for (const n of nodes) n.output = (n.output ?? []).map((o) => (o === name ? `${name}:f16` : o));
    for (const n of nodes) n.input = (n.input ?? []).map((i) => (i === name ? `${name}:f16` : i));
    tail.push({ opType: "Cast", input: [`${name}:f16`], output: [name], attribute: [{ name: "to", type: onnx.AttributeProto.AttributeType.INT, i: FLOAT }] });
  }
  g.node = [...head, ...nodes, ...tail];
  return model;
}

const device = parseDevice(arg("device", "webgpu"));
const preset = arg("preset", "micro");
const B = Number(arg("batch", "4"));
const P = Number(arg("prompt", "32"));
const std = Number(arg("std", "0.1"));
await checkDevice(device);

const config = modelPreset(preset);
const params = initParams(config, createRng("fp16"), std);
const graph = buildPrefillGraph(config, undefined, undefined, device);
const rng = createRng("fp16-prompts");
const tokens = BigInt64Array.from({ length: B * P }, () => BigInt(32 + rng.int(95)));
const { cos, sin } = ropeTables(config, Array.from({ length: P }, (_, t) => t));
const feeds: Record<string, ort.Tensor> = {
  tokens: new ort.Tensor("int64", tokens, [B, P]),
  cos: new ort.Tensor("float32", cos, [P, config.headDim / 2]),
  sin: new ort.Tensor("float32", sin, [P, config.headDim / 2]),
  causal: new ort.Tensor("float32", causalBias(P), [P, P]),
  last: new ort.Tensor("int64", BigInt64Array.from({ length: B }, (_, b) => BigInt(b * P + P - 1)), [B]),
};
for (const v of params.layout.views) feeds[v.name] = new ort.Tensor("float32", params.view(v.name), v.shape);
const all = { ...feeds, ...dimsFeeds(graph.inputs, feeds) };

async function logits(model: onnxProto.onnx.ModelProto): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(onnx.ModelProto.encode(model).finish(), { executionProviders: executionProviders(device) });
  const out = await s.run(all, { logits: null });
  const data = (out.logits as ort.Tensor).data as Float32Array;
  await s.release();
  return data;
}

const logSoftmax = (row: Float32Array): Float64Array => {
  const m = Math.max(...row);
  const lse = m + Math.log(row.reduce((a, x) => a + Math.exp(x - m), 0));
  return Float64Array.from(row, (x) => x - lse);
};

const t0 = performance.now();
const full = await logits(toModelProto(graph));
const t1 = performance.now();
const half = await logits(toFloat16(toModelProto(graph)));
const t2 = performance.now();
// Where the fp16 graph's nodes ran: a CPU fallback would be a different measurement.
const placement = await profilePlacement(onnx.ModelProto.encode(toFloat16(toModelProto(graph))).finish(), device, all);
const onCpu = placement.filter((p) => p.provider === "CPUExecutionProvider").length;
const V = config.vocabSize;
let dLogit = 0;
let dLogp = 0;
let scale = 0;
let same = 0;
for (let b = 0; b < B; b++) {
  const a = full.subarray(b * V, (b + 1) * V);
  const h = half.subarray(b * V, (b + 1) * V);
  const la = logSoftmax(a);
  const lh = logSoftmax(h);
  for (let i = 0; i < V; i++) {
    dLogit = Math.max(dLogit, Math.abs((a[i] as number) - (h[i] as number)));
    scale = Math.max(scale, Math.abs(a[i] as number));
    dLogp = Math.max(dLogp, Math.abs((la[i] as number) - (lh[i] as number)));
  }
  const top = (x: Float32Array) => x.indexOf(Math.max(...x));
  if (top(a) === top(h)) same++;
}
console.log(
  `fp16 vs fp32 on ${device}, ${preset} prefill ${B}×${P} (init std ${std}): max |Δ logit| ${dLogit.toExponential(2)} (logits up to ${scale.toFixed(2)}), ` +
    `max |Δ log-prob| ${dLogp.toExponential(2)}, same top token in ${same}/${B} rows; fp16 nodes on the CPU: ${onCpu} of ${placement.length}; fp32 ${(t1 - t0).toFixed(0)} ms, fp16 ${(t2 - t1).toFixed(0)} ms (session creation included)`,
);
