/**
 * Half precision on the device, the engine's fp16 path against its fp32 path (docs/device.md,
 * "Precision"):
 *
 *   npx tsx bench/fp16.ts [--device webgpu] [--preset micro] [--batch 4] [--prompt 32] [--std 0.1]
 *
 * The prefill graph of `preset` (recorded for the device, random weights with init `std`) runs
 * twice on the same device: as recorded (fp32), and rewritten as `--precision fp16` runs it
 * (model/precision.ts halfModelGraph: fp16 weight copies and products; RMSNorm's mean of squares,
 * the softmax, the head and the residual stream in fp32; the KV cache out in fp16). Prints the
 * logits' largest difference, the largest log-softmax difference, how many rows pick the same top
 * token, how many fp16 nodes onnxruntime placed on the CPU, and both runs' times (median of 5,
 * after a warm-up).
 */
import ort from "onnxruntime-node";
import { createRng } from "../src/core/rng.js";
import { checkDevice, checkPrecision, parseDevice, profilePlacement } from "../src/engine/graph/device.js";
import { serialize } from "../src/engine/graph/serialize.js";
import { dimsFeeds, GraphSession } from "../src/engine/graph/session.js";
import { buildPrefillGraph, prefillFeeds } from "../src/engine/infer/decode-graph.js";
import { halfModelGraph, halfWeightFeeds } from "../src/engine/model/precision.js";
import { modelPreset } from "../src/engine/model/presets.js";
import { initParams } from "../src/engine/weights/params.js";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const device = parseDevice(arg("device", "webgpu"));
const preset = arg("preset", "micro");
const B = Number(arg("batch", "4"));
const P = Number(arg("prompt", "32"));
const std = Number(arg("std", "0.1"));
await checkDevice(device);
await checkPrecision(device, "fp16");

const config = modelPreset(preset);
const params = initParams(config, createRng("fp16"), std);
const graph = buildPrefillGraph(config, undefined, undefined, device);
const half = halfModelGraph(graph, config, { halfOutputs: (n) => n.startsWith("present_") });
const rng = createRng("fp16-prompts");
const feeds = prefillFeeds(config, BigInt64Array.from({ length: B * P }, () => BigInt(32 + rng.int(95))), BigInt64Array.from({ length: B }, (_, b) => BigInt(b * P + P - 1)), P);
const fullWeights = Object.fromEntries(params.layout.views.map((v) => [v.name, new ort.Tensor("float32", params.view(v.name), v.shape)]));
const halfWeights = halfWeightFeeds(config, params);

/** Logits and the median time of 5 runs after a warm-up. */
async function logits(g: typeof graph, weights: Record<string, ort.Tensor>): Promise<{ data: Float32Array; ms: number }> {
  const s = await GraphSession.fromGraph(g, { device, threads: 1 });
  let data: Float32Array = new Float32Array(0);
  const times: number[] = [];
  for (let i = 0; i < 6; i++) {
    const t0 = performance.now();
    data = ((await s.run({ ...feeds, ...weights }, { logits: null })).logits as ort.Tensor).data as Float32Array;
    if (i > 0) times.push(performance.now() - t0);
  }
  await s.release();
  return { data, ms: times.sort((a, b) => a - b)[2] as number };
}

const logSoftmax = (row: Float32Array): Float64Array => {
  const m = Math.max(...row);
  const lse = m + Math.log(row.reduce((a, x) => a + Math.exp(x - m), 0));
  return Float64Array.from(row, (x) => x - lse);
};

const full = await logits(graph, fullWeights);
const halfRun = await logits(half, halfWeights);
// Where the fp16 graph's nodes ran: a CPU fallback would be a different measurement.
const all = { ...feeds, ...halfWeights };
const placement = await profilePlacement(serialize(half), device, { ...all, ...dimsFeeds(half.inputs, all) });
const onCpu = placement.filter((p) => p.provider === "CPUExecutionProvider").length;
const V = config.vocabSize;
let dLogit = 0;
let dLogp = 0;
let scale = 0;
let same = 0;
for (let b = 0; b < B; b++) {
  const a = full.data.subarray(b * V, (b + 1) * V);
  const h = halfRun.data.subarray(b * V, (b + 1) * V);
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
    `max |Δ log-prob| ${dLogp.toExponential(2)}, same top token in ${same}/${B} rows; fp16 nodes on the CPU: ${onCpu} of ${placement.length}; ` +
    `prefill fp32 ${full.ms.toFixed(1)} ms, fp16 ${halfRun.ms.toFixed(1)} ms`,
);
