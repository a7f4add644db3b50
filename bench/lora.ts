/**
 * LoRA memory and speed: peak RSS of a child process for one LoRA training step at 1×256 tokens
 * (128 scored, REINFORCE loss, adapter gradients only) and for batch-16 decoding of 64 tokens with
 * the adapter applied, per Qwen3 shape (random weights); beside them, a full-parameter step of the
 * same shape, so LoRA vs full is measured in the same run. Each measurement is its own child
 * process (peak RSS from `process.resourceUsage().maxRSS`), one at a time.
 *
 *   npm run bench:lora                               # qwen3-0.6b, LoRA step + full step + decode
 *   npm run bench:lora -- --shapes qwen3-0.6b,qwen3-1.7b,qwen3-4b [--no-full] [--steps 2]
 *
 * The adapter is rank 32 on all seven projections (alpha 32), SPIRAL's later recipes' rank. Step
 * times: the first includes building the session; with --steps 2 the second is the steady state.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import ort from "onnxruntime-node";
import { parameterCount, type ModelConfig } from "../src/engine/model/config.js";
import { Generator } from "../src/engine/infer/generate.js";
import { LossRunner } from "../src/engine/train/loss-runner.js";
import { type Adapter, initAdapter, LORA_TARGETS } from "../src/engine/model/lora.js";
import { Params, paramLayout } from "../src/engine/weights/params.js";
import { modelPreset } from "../src/engine/model/presets.js";
import { ByteTokenizer } from "../src/engine/tokenizer/byte-tokenizer.js";
import { createRng } from "../src/core/rng.js";

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
};
const threads = process.env.SPIRAL_THREADS === undefined ? undefined : Number(process.env.SPIRAL_THREADS);

/** Random-looking weights, fast: one block of N(0, 0.02²) draws tiled over the buffer (values do not matter here). */
function randomParams(c: ModelConfig): Params {
  const params = new Params(paramLayout(c));
  const rng = createRng("bench-lora");
  const block = Float32Array.from({ length: 1 << 20 }, () => 0.02 * rng.normal());
  for (let i = 0; i < params.data.length; i += block.length) params.data.set(block.subarray(0, Math.min(block.length, params.data.length - i)), i);
  return params;
}

function adapterFor(c: ModelConfig): Adapter {
  const a = initAdapter(c, { r: 32, alpha: 32, targets: [...LORA_TARGETS] }, createRng("bench-adapter"));
  // A trained adapter has B ≠ 0 (the arithmetic is the same either way).
  for (const v of a.params.layout.views) if (v.name.endsWith("lora_B.weight")) a.params.data.fill(1e-3, v.offset, v.offset + v.size);
  return a;
}

async function child(mode: string, shape: string, steps: number): Promise<void> {
  const c = modelPreset(shape);
  const params = randomParams(c);
  const adapter = mode === "full" ? undefined : adapterFor(c);
  const secs: number[] = [];
  if (mode === "decode") {
    const gen = await Generator.create(c, params, new ByteTokenizer(), { ...(threads ? { threads } : {}), adapter: adapter as Adapter });
    const rng = createRng("prompts");
    const requests = Array.from({ length: 16 }, () => ({ prompt: Array.from({ length: 16 }, () => 10 + rng.int(200)) }));
    for (let s = 0; s < steps; s++) {
      const t0 = performance.now();
      await gen.generate(requests, { temperature: 1, maxNewTokens: 64, ignoreEos: true, rng: createRng(s) });
      secs.push((performance.now() - t0) / 1000);
    }
  } else {
    const runner = new LossRunner(c, params, { ...(threads ? { threads } : {}), ...(adapter ? { adapter } : {}) });
    const grads = new Float32Array((adapter?.params ?? params).layout.totalSize);
    const T = 256;
    const rng = createRng("batch");
    const batch = {
      B: 1, T, tokens: Array.from({ length: T }, () => rng.int(c.vocabSize)), attentionMask: new Float32Array(T).fill(1),
      lossMask: Float32Array.from({ length: T }, (_, t) => (t >= T / 2 ? 1 : 0)), advantages: Float32Array.of(1),
    };
    for (let s = 0; s < steps; s++) {
      const t0 = performance.now();
      await runner.lossAndGrad(batch, { kind: "reinforce", normalizer: T / 2 }, grads);
      secs.push((performance.now() - t0) / 1000);
    }
  }
  const peak = process.resourceUsage().maxRSS * 1024;
  console.log(JSON.stringify({ peakRssBytes: peak, secs, paramBytes: params.data.byteLength, adapterBytes: adapter?.params.data.byteLength ?? 0 }));
}

async function main(): Promise<void> {
  const mode = arg("--child");
  const steps = Number(arg("--steps") ?? 2);
  if (mode !== undefined) return child(mode, arg("--shape") as string, steps);
  const shapes = (arg("--shapes") ?? "qwen3-0.6b").split(",");
  const script = fileURLToPath(import.meta.url);
  const gib = (n: number): string => (n / 2 ** 30).toFixed(2);
  console.log(`spiral LoRA bench — onnxruntime-node ${ort.env.versions.common}, rank 32 on all seven projections, ${steps} run(s) each, one child process per line`);
  for (const shape of shapes) {
    const c = modelPreset(shape);
    console.log(`${shape} (${(parameterCount(c) / 1e9).toFixed(2)} B parameters, fp32 base):`);
    const modes = ["lora", ...(process.argv.includes("--no-full") ? [] : ["full"]), "decode"];
    for (const m of modes) {
      const out = spawnSync(process.execPath, [...process.execArgv, script, "--child", m, "--shape", shape, "--steps", String(steps)], { encoding: "utf8", env: process.env, maxBuffer: 1 << 24 });
      const line = out.stdout.trim().split("\n").pop() ?? "";
      const what = m === "lora" ? "LoRA step 1×256 " : m === "full" ? "full step 1×256 " : "decode 16×64    ";
      if (out.status !== 0 || !line.startsWith("{")) {
        console.log(`  ${what}: failed (status ${out.status}, signal ${out.signal}): ${out.stderr.slice(-400)}`);
        continue;
      }
      const r = JSON.parse(line) as { peakRssBytes: number; secs: number[]; paramBytes: number; adapterBytes: number };
      console.log(`  ${what}: peak RSS ${gib(r.peakRssBytes)} GiB (base ${gib(r.paramBytes)} GiB, adapter ${(r.adapterBytes / 2 ** 20).toFixed(1)} MiB), runs ${r.secs.map((s) => `${s.toFixed(1)} s`).join(", ")}`);
    }
  }
}

await main();
