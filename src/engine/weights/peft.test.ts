import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createRng } from "../../core/rng.js";
import { f32ToBf16Bits } from "./bf16.js";
import { saveCheckpoint } from "./checkpoint.js";
import { initAdapter, LORA_TARGETS } from "../model/lora.js";
import { AdamW } from "../train/optimizer.js";
import { baseFingerprint, checkSameBase, loadAdapter, saveAdapter } from "./peft.js";
import { readSafetensorsHeader } from "./safetensors.js";
import { randomParams, testConfig } from "../model/test-models.js";

const config = testConfig(true); // C 32, I 48, H·D 64, KV·D 32, 2 layers
const tmp = mkdtempSync(join(tmpdir(), "spiral-peft-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A safetensors file built byte by byte (independent of our writer). */
function handWrittenSafetensors(path: string, tensors: { name: string; dtype: "F32" | "BF16"; shape: number[]; values: number[] }[]): void {
  const header: Record<string, unknown> = { __metadata__: { format: "pt" } };
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const t of tensors) {
    const buf = Buffer.alloc(t.values.length * (t.dtype === "F32" ? 4 : 2));
    t.values.forEach((x, i) => (t.dtype === "F32" ? buf.writeFloatLE(x, i * 4) : buf.writeUInt16LE(f32ToBf16Bits(x), i * 2)));
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + buf.length] };
    offset += buf.length;
    chunks.push(buf);
  }
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(path, Buffer.concat([len, json, ...chunks]));
}

describe("PEFT adapter directories", () => {
  it("save writes PEFT's config and tensor names/shapes; load gives the same adapter, optimiser and state back", async () => {
    const adapter = initAdapter(config, { r: 4, alpha: 8, targets: [...LORA_TARGETS], rslora: true }, createRng(1));
    adapter.params.data.forEach((_, i) => (adapter.params.data[i] = Math.fround(Math.sin(i))));
    const opt = new AdamW(adapter.params.data.length, { lr: 4e-5 });
    opt.step(adapter.params.data, adapter.params.data.map((x) => x * 0.1));
    const dir = join(tmp, "saved");
    await saveAdapter(dir, { adapter, baseModel: "Qwen/Qwen3-4B", optimizer: opt, trainerState: { step: 3 } });
    const cfg = JSON.parse(readFileSync(join(dir, "adapter_config.json"), "utf8")) as Record<string, unknown>;
    expect(cfg).toMatchObject({ peft_type: "LORA", task_type: "CAUSAL_LM", r: 4, lora_alpha: 8, use_rslora: true, bias: "none", base_model_name_or_path: "Qwen/Qwen3-4B" });
    expect(cfg.target_modules).toEqual([...LORA_TARGETS]);
    const header = await readSafetensorsHeader(join(dir, "adapter_model.safetensors"));
    const shapes = Object.fromEntries(header.tensors.map((t) => [t.name, t.shape]));
    expect(shapes["base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight"]).toEqual([4, 32]);
    expect(shapes["base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight"]).toEqual([64, 4]);
    expect(shapes["base_model.model.model.layers.0.mlp.down_proj.lora_A.weight"]).toEqual([4, 48]);
    expect(shapes["base_model.model.model.layers.0.mlp.down_proj.lora_B.weight"]).toEqual([32, 4]);
    expect(header.tensors).toHaveLength(2 * 7 * 2);
    const back = await loadAdapter(dir, config);
    expect(back.adapter.config).toEqual(adapter.config);
    expect(back.adapter.params.data).toEqual(adapter.params.data);
    expect(back.baseModel).toBe("Qwen/Qwen3-4B");
    expect(back.optimizer?.state.step).toBe(1);
    expect(back.optimizer?.state.m).toEqual(opt.state().m);
    expect(back.optimizer?.state.v).toEqual(opt.state().v);
    expect(back.trainerState).toEqual({ step: 3 });
  });

  it("loads an adapter written by hand to PEFT's spec (extra config keys, adapter-name infix, BF16 and F32 data)", async () => {
    const dir = join(tmp, "by-hand");
    mkdirSync(dir);
    writeFileSync(join(dir, "adapter_config.json"), JSON.stringify({
      alpha_pattern: {}, auto_mapping: null, base_model_name_or_path: "Qwen/Qwen3-0.6B", bias: "none", fan_in_fan_out: false,
      inference_mode: true, init_lora_weights: true, layers_pattern: null, layers_to_transform: null, loftq_config: {},
      lora_alpha: 32, lora_dropout: 0.05, megatron_config: null, megatron_core: "megatron.core", modules_to_save: null,
      peft_type: "LORA", r: 2, rank_pattern: {}, revision: null, target_modules: ["v_proj", "q_proj"], task_type: "CAUSAL_LM",
      use_dora: false, use_rslora: false,
    }));
    const tensors: { name: string; dtype: "F32" | "BF16"; shape: number[]; values: number[] }[] = [];
    const shapes: Record<string, [number, number]> = { q_proj: [64, 32], v_proj: [32, 32] };
    for (let layer = 0; layer < 2; layer++) {
      for (const m of ["q_proj", "v_proj"]) {
        const [out, inp] = shapes[m] as [number, number];
        const base = `base_model.model.model.layers.${layer}.self_attn.${m}`;
        tensors.push({ name: `${base}.lora_A.weight`, dtype: "BF16", shape: [2, inp], values: Array.from({ length: 2 * inp }, (_, i) => (i % 7) / 8 - layer) });
        tensors.push({ name: `${base}.lora_B.default.weight`, dtype: "F32", shape: [out, 2], values: Array.from({ length: out * 2 }, (_, i) => i / 1000 + layer) });
      }
    }
    handWrittenSafetensors(join(dir, "adapter_model.safetensors"), tensors);
    const { adapter, baseModel } = await loadAdapter(dir, config);
    expect(baseModel).toBe("Qwen/Qwen3-0.6B");
    expect(adapter.config).toEqual({ r: 2, alpha: 32, targets: ["v_proj", "q_proj"] });
    expect(Array.from(adapter.params.view("model.layers.1.self_attn.v_proj.lora_A.weight").slice(0, 8))).toEqual([0, 1, 2, 3, 4, 5, 6, 0].map((k) => k / 8 - 1));
    expect(adapter.params.view("model.layers.0.self_attn.q_proj.lora_B.weight")[5]).toBe(Math.fround(0.005));
  });

  it("refuses configs and files it cannot apply, naming the key or tensor", async () => {
    const write = (name: string, cfg: Record<string, unknown>, tensors: Parameters<typeof handWrittenSafetensors>[1] = []): string => {
      const dir = join(tmp, name);
      mkdirSync(dir);
      writeFileSync(join(dir, "adapter_config.json"), JSON.stringify({ peft_type: "LORA", r: 1, lora_alpha: 1, target_modules: ["q_proj"], ...cfg }));
      handWrittenSafetensors(join(dir, "adapter_model.safetensors"), tensors);
      return dir;
    };
    await expect(loadAdapter(write("dora", { use_dora: true }), config)).rejects.toThrow(/use_dora/);
    await expect(loadAdapter(write("embed", { target_modules: ["embed_tokens"] }), config)).rejects.toThrow(/"embed_tokens" not supported/);
    await expect(loadAdapter(write("ia3", { peft_type: "IA3" }), config)).rejects.toThrow(/peft_type/);
    await expect(loadAdapter(write("missing", {}), config)).rejects.toThrow(/missing 4 adapter tensor/);
    const extra = [{ name: "base_model.model.lm_head.lora_A.weight", dtype: "F32" as const, shape: [1, 32], values: new Array<number>(32).fill(0) }];
    await expect(loadAdapter(write("extra", {}, extra), config)).rejects.toThrow(/lm_head.lora_A.weight" is not part of a rank-1 adapter/);
  });

  it("fingerprints a base by size and header hash, and refuses a different base by name", async () => {
    const a = join(tmp, "base-a");
    const b = join(tmp, "base-b");
    await saveCheckpoint(a, { config, params: randomParams(config, "a") });
    await saveCheckpoint(b, { config, params: randomParams(config, "b"), dtype: "BF16" });
    const fa = await baseFingerprint(a);
    expect(fa.bytes).toBeGreaterThan(0);
    expect(await baseFingerprint(a)).toEqual(fa);
    const fb = await baseFingerprint(b);
    expect(() => checkSameBase(fa, fb)).toThrow(new RegExp(`trained on the base ${a}.*base given is ${b}`));
    expect(() => checkSameBase(fa, { ...fa, path: "/elsewhere" })).not.toThrow();
  });
});
