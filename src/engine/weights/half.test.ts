import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createRng } from "../../core/rng.js";
import { Generator } from "../infer/generate.js";
import { initAdapter, type LoraConfig } from "../model/lora.js";
import { randomParams, testConfig } from "../model/test-models.js";
import { ByteTokenizer } from "../tokenizer/byte-tokenizer.js";
import { type LossBatch, LossRunner } from "../train/loss-runner.js";
import { bf16BitsToF32, encodeBf16, f16BitsToF32 } from "./bf16.js";
import { loadCheckpoint, saveCheckpoint, storedWeightDtype } from "./checkpoint.js";
import { baseBytes, type HalfDtype, halfTable, HalfWeights, isProjectionWeight, toBaseDtype } from "./half.js";
import type { Params } from "./params.js";

const config = { ...testConfig(false), vocabSize: 300 };
const lora: LoraConfig = { r: 4, alpha: 8, targets: ["q_proj", "v_proj", "down_proj"] };

/** The float32 base holding exactly the values a 16-bit base decodes to. */
function widened(full: Params, half: Params): Params {
  const out = full.clone();
  const h = half.half as HalfWeights;
  const table = halfTable(h.dtype);
  for (const v of h.layout.views) out.view(v.name).set(Array.from(h.view(v.name), (b) => table[b] as number));
  return out;
}

function batch(): LossBatch {
  const rng = createRng("half-batch");
  const B = 2;
  const T = 9;
  return {
    B, T, tokens: Array.from({ length: B * T }, () => rng.int(config.vocabSize)), attentionMask: new Float32Array(B * T).fill(1),
    lossMask: Float32Array.from({ length: B * T }, (_, i) => (i % T >= 4 ? 1 : 0)), advantages: Float32Array.of(1, -0.5),
  };
}

const root = mkdtempSync(join(tmpdir(), "spiral-half-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("16-bit frozen base", () => {
  it("loads a BF16 checkpoint's projections as the file's own words, and rounds a F32 one", async () => {
    const full = randomParams(config, "half");
    const dir = join(root, "bf16");
    await saveCheckpoint(dir, { config, params: full, dtype: "BF16" });
    expect(await storedWeightDtype(dir)).toBe("BF16");
    const fp32 = (await loadCheckpoint(dir)).params;
    const { params } = await loadCheckpoint(dir, { base: "bf16" });
    const half = params.half as HalfWeights;
    expect(half.dtype).toBe("bf16");
    for (const v of half.layout.views) {
      const want = new Uint16Array(v.size);
      encodeBf16(fp32.view(v.name), want); // exact: the F32 values are bf16 values
      expect(Buffer.from(half.view(v.name).buffer, half.view(v.name).byteOffset, v.size * 2).equals(Buffer.from(want.buffer))).toBe(true);
    }
    for (const v of params.layout.views) expect(params.view(v.name)).toEqual(fp32.view(v.name));
    const f32dir = join(root, "f32");
    await saveCheckpoint(f32dir, { config, params: full });
    expect(await storedWeightDtype(f32dir)).toBe("F32");
    const rounded = (await loadCheckpoint(f32dir, { base: "bf16" })).params;
    expect(rounded.half?.data).toEqual(half.data);
    const f16 = (await loadCheckpoint(dir, { base: "fp16" })).params;
    expect(f16.half?.data).toEqual(toBaseDtype(config, fp32, "fp16").half?.data);
  });

  it("decodes every bf16 and fp16 pattern exactly (the graphs' table)", () => {
    for (const [dtype, decode] of [["bf16", bf16BitsToF32], ["fp16", f16BitsToF32]] as const) {
      const t = halfTable(dtype);
      let wrong = 0;
      for (let b = 0; b < 65536; b++) if (!(Object.is(t[b], Math.fround(decode(b))) || (Number.isNaN(t[b]) && Number.isNaN(decode(b))))) wrong++;
      expect(wrong).toBe(0);
      expect(t[0x3f80]).toBe(dtype === "bf16" ? 1 : f16BitsToF32(0x3f80));
    }
  });

  it("holds the seven projections in 16 bits and the rest in float32", () => {
    const half = toBaseDtype(config, randomParams(config, "half"), "bf16");
    expect(half.half?.layout.views.map((v) => v.name).every(isProjectionWeight)).toBe(true);
    expect(half.half?.layout.views).toHaveLength(7 * config.numHiddenLayers);
    expect(half.layout.views.some((v) => isProjectionWeight(v.name))).toBe(false);
    expect(() => half.view("model.layers.0.mlp.up_proj.weight")).toThrow(/held in bf16/);
    expect(baseBytes(config, "bf16")).toBe(half.data.byteLength + (half.half as HalfWeights).data.byteLength);
  });

  for (const dtype of ["bf16", "fp16"] as HalfDtype[]) {
    it(`${dtype}: log-probs, loss and adapter gradients equal the float32 base of the same values (≤ 1e-5)`, async () => {
      const full = randomParams(config, "half");
      const half = toBaseDtype(config, full, dtype);
      const ref = widened(full, half);
      const adapter = initAdapter(config, lora, createRng("half-adapter"));
      for (const v of adapter.params.layout.views) if (v.name.endsWith("lora_B.weight")) adapter.params.data.fill(0.01, v.offset, v.offset + v.size);
      const runs = await Promise.all([half, ref].map(async (p) => {
        const runner = new LossRunner(config, p, { threads: 1, adapter });
        const g = new Float32Array(adapter.params.layout.totalSize);
        const stats = await runner.lossAndGrad(batch(), { kind: "reinforce", normalizer: 5 }, g);
        await runner.release();
        return { stats, g };
      }));
      const [h, r] = runs as [(typeof runs)[0], (typeof runs)[0]];
      expect(Math.abs(h.stats.loss - r.stats.loss)).toBeLessThanOrEqual(1e-5);
      h.stats.logprobs.forEach((x, i) => expect(Math.abs(x - (r.stats.logprobs[i] as number))).toBeLessThanOrEqual(1e-5));
      let maxGrad = 0;
      h.g.forEach((x, i) => {
        maxGrad = Math.max(maxGrad, Math.abs(r.g[i] as number));
        expect(Math.abs(x - (r.g[i] as number))).toBeLessThanOrEqual(1e-5);
      });
      expect(maxGrad).toBeGreaterThan(1e-3); // the gradients compared are not all zero
      // The 16-bit base really is rounded: its float copy differs from the float32 original.
      expect(ref.data.some((x, i) => x !== full.data[i])).toBe(true);
    });
  }

  it("samples the same tokens as the float32 base of the same values (live and baked)", async () => {
    const full = randomParams(config, "half");
    const half = toBaseDtype(config, full, "bf16");
    const ref = widened(full, half);
    const adapter = initAdapter(config, lora, createRng("half-adapter"));
    for (const v of adapter.params.layout.views) if (v.name.endsWith("lora_B.weight")) adapter.params.data.fill(0.02, v.offset, v.offset + v.size);
    const requests = [{ prompt: [5, 17, 250, 3] }, { prompt: [9, 9] }];
    const run = async (p: Params, bakeWeights: boolean) => {
      const gen = await Generator.create(config, p, new ByteTokenizer(), { threads: 1, adapter, bakeWeights });
      const out = await gen.generate(requests, { temperature: 0, maxNewTokens: 12, ignoreEos: true, rng: createRng("g") });
      await gen.release();
      return out;
    };
    const want = await run(ref, false);
    for (const bake of [false, true]) {
      const got = await run(half, bake);
      got.forEach((c, i) => {
        expect(c.tokens).toEqual(want[i]?.tokens);
        c.logprobs.forEach((lp, j) => expect(Math.abs(lp - (want[i]?.logprobs[j] as number))).toBeLessThanOrEqual(1e-4));
      });
    }
  });
});
