/**
 * Wall-clock engine timings on one device, for comparing devices and for bench/gpu.sh:
 *
 *   npx tsx bench/device.ts [--device cpu|webgpu] [--preset small] [--step B×T] [--decode 1,16,64]
 *                           [--prompt 128] [--new 64] [--repeats 5] [--json]
 *
 * step:   one learner update of `preset` at B×T tokens: REINFORCE loss + every parameter gradient
 *         (the second half of each row scored), global-norm clip and AdamW; median of `repeats`
 *         after a warm-up; the same model, batch, loss and update as bench/gpu.py. On webgpu the
 *         parameters, gradients, moments and per-token log-probs stay on the device
 *         (DeviceTraining): only the loss, the entropy sum and the gradient norm come back.
 * decode: `new` tokens per row after a `prompt`-token prompt at each batch size, weights baked
 *         (as `spiral generate` and evaluation run); ms per decode step = (whole − prefill-only)
 *         / (new − 1), tokens/s = batch / that.
 * Rates are wall-clock: on a GPU the host's share (sampling, the KV cache copies, see
 * docs/device.md) is included, as a user sees it.
 */
import { performance } from "node:perf_hooks";
import { createRng } from "../src/core/rng.js";
import { checkDevice, parseDevice } from "../src/engine/graph/device.js";
import { Generator } from "../src/engine/infer/generate.js";
import { modelPreset } from "../src/engine/model/presets.js";
import { ByteTokenizer } from "../src/engine/tokenizer/byte-tokenizer.js";
import { DeviceTraining } from "../src/engine/train/device-training.js";
import { LossRunner } from "../src/engine/train/loss-runner.js";
import { AdamW, clipGradNorm } from "../src/engine/train/optimizer.js";
import { initParams } from "../src/engine/weights/params.js";
import { trainingFlops } from "./flops.js";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const device = parseDevice(arg("device", "cpu"));
const preset = arg("preset", "small");
const [B, T] = arg("step", "8x256").split(/[x×]/).map(Number) as [number, number];
const batches = arg("decode", "1,16,64").split(",").map(Number);
const promptLen = Number(arg("prompt", "128"));
const newTokens = Number(arg("new", "64"));
const repeats = Number(arg("repeats", "5"));
const json = process.argv.includes("--json");

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function wallMs(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function step(): Promise<{ msPerStep: number; tokensPerSecond: number; gflops: number }> {
  const config = modelPreset(preset);
  const params = initParams(config, createRng("bench"));
  const runner = new LossRunner(config, params, { device });
  const rng = createRng("bench-batch");
  const lossMask = new Float32Array(B * T);
  for (let b = 0; b < B; b++) lossMask.fill(1, b * T + T / 2, (b + 1) * T);
  const batch = {
    B, T, tokens: Array.from({ length: B * T }, () => rng.int(config.vocabSize)), attentionMask: new Float32Array(B * T).fill(1), lossMask,
    advantages: Float32Array.from({ length: B }, (_, i) => (i % 2 === 0 ? 1 : -1)),
  };
  const optimizer = new AdamW(params.layout.totalSize, { lr: 1e-5 });
  const settings = { kind: "reinforce", normalizer: T / 2 } as const;
  const state = device === "cpu" ? undefined : await DeviceTraining.create({ trained: params, optimizer, device });
  if (state !== undefined) runner.useDeviceWeights(() => state.weights());
  const grads = new Float32Array(params.layout.totalSize);
  const run = async (): Promise<void> => {
    if (state === undefined) {
      await runner.lossAndGrad(batch, settings, grads);
      clipGradNorm(grads, 1);
      optimizer.step(params.data, grads);
      return;
    }
    const out = await runner.lossAndGradOnDevice(batch, settings);
    out.logprobs?.dispose(); // the learner keeps these as PPO's old log-probs; one update has no use for them
    if (out.grads !== undefined) await state.addGradients(out.grads, 1);
    await state.step(1, 1e-5);
  };
  await run();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) times.push(await wallMs(run));
  await state?.release();
  await runner.release();
  const ms = median(times);
  return { msPerStep: ms, tokensPerSecond: (B * T) / (ms / 1000), gflops: trainingFlops(config, B, T) / (ms / 1000) / 1e9 };
}

async function decode(): Promise<{ batch: number; msPerStep: number; tokensPerSecond: number }[]> {
  const config = modelPreset(preset);
  const params = initParams(config, createRng(1));
  const gen = await Generator.create(config, params, new ByteTokenizer(), { device, bakeWeights: true });
  const prompt = (seed: number) => {
    const rng = createRng(seed);
    return Array.from({ length: promptLen }, () => 32 + rng.int(95));
  };
  const out = [];
  for (const batch of batches) {
    const requests = Array.from({ length: batch }, (_, b) => ({ prompt: prompt(b) }));
    const opts = { temperature: 1, ignoreEos: true, rng: createRng(2) };
    await gen.generate(requests, { ...opts, maxNewTokens: 4 }); // warm-up: this batch's shapes
    const prefillOnly = () => wallMs(() => gen.generate(requests, { ...opts, maxNewTokens: 1 }));
    const prefill = Math.min(await prefillOnly(), await prefillOnly());
    const whole = await wallMs(() => gen.generate(requests, { ...opts, maxNewTokens: newTokens }));
    const ms = (whole - prefill) / (newTokens - 1);
    out.push({ batch, msPerStep: ms, tokensPerSecond: batch / (ms / 1000) });
  }
  await gen.release();
  return out;
}

await checkDevice(device);
const result = { device, preset, step: { B, T, ...(await step()) }, decode: { prompt: promptLen, newTokens, rows: await decode() } };
if (json) console.log(JSON.stringify(result));
else {
  console.log(`bench/device: ${device}, preset ${preset}`);
  console.log(`step ${B}×${T}: ${result.step.msPerStep.toFixed(1)} ms (${result.step.tokensPerSecond.toFixed(0)} tok/s, ${result.step.gflops.toFixed(1)} model GFLOP/s)`);
  for (const r of result.decode.rows) console.log(`decode batch ${r.batch}: ${r.msPerStep.toFixed(2)} ms/step, ${r.tokensPerSecond.toFixed(0)} tok/s (prompt ${promptLen}, ${newTokens} new)`);
}
