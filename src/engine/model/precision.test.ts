import { describe, expect, it } from "vitest";
import { createRng } from "../../core/rng.js";
import { initAdapter } from "./lora.js";
import { checkHalfRange, halfWeightFeeds, outputHeadName } from "./precision.js";
import { modelPreset } from "./presets.js";
import { LossRunner } from "../train/loss-runner.js";
import { f32ToBf16Bits } from "../weights/bf16.js";
import { toBaseDtype } from "../weights/half.js";
import { initParams } from "../weights/params.js";

const micro = modelPreset("micro");
const lora = { r: 2, alpha: 4, targets: ["q_proj", "v_proj"] as const };

describe("checkHalfRange: base values beyond fp16's ±65504 are refused at load, naming the weight", () => {
  it("a bf16 base word beyond the range (bf16 has float32's range): refused by LossRunner and halfWeightFeeds; at 65504 it loads", () => {
    const base = toBaseDtype(micro, initParams(micro, createRng(1), 0.02), "bf16");
    const name = "model.layers.1.mlp.up_proj.weight";
    const words = base.half?.view(name) as Uint16Array;
    words[7] = f32ToBf16Bits(65280); // the largest bf16 value below 65504: fits
    expect(() => checkHalfRange(micro, base)).not.toThrow();
    words[7] = f32ToBf16Bits(-131072);
    const message = /--precision fp16: weight model\.layers\.1\.mlp\.up_proj\.weight \(bf16\) holds a value of magnitude 1\.311e\+5, beyond float16's range \(±65504\).*Use --precision fp32/;
    expect(() => checkHalfRange(micro, base)).toThrow(message);
    expect(() => halfWeightFeeds(micro, base)).toThrow(message);
    // A LoRA learner in fp16 on webgpu refuses it when constructed (nothing runs yet: no device needed).
    expect(() => new LossRunner(micro, base, { device: "webgpu", precision: "fp16", adapter: initAdapter(micro, { ...lora, targets: [...lora.targets] }, createRng(2)) })).toThrow(message);
    // fp32 takes the same base.
    expect(() => new LossRunner(micro, base, { device: "webgpu", adapter: initAdapter(micro, { ...lora, targets: [...lora.targets] }, createRng(2)) })).not.toThrow();
  });

  it("a float32 base: a norm or embedding value beyond the range is refused; the output head (kept float32) may hold any value", () => {
    const params = initParams(micro, createRng(1), 0.02);
    params.view(outputHeadName(micro))[0] = 1e6;
    expect(() => checkHalfRange(micro, params)).not.toThrow();
    params.view("model.layers.0.input_layernorm.weight")[3] = 70000;
    expect(() => checkHalfRange(micro, params)).toThrow(/weight model\.layers\.0\.input_layernorm\.weight \(float32\) holds a value of magnitude 7\.000e\+4/);
  });

  it("an fp16 base always fits (its words are fp16 values)", () => {
    const base = toBaseDtype(micro, initParams(micro, createRng(1), 0.02), "fp16");
    (base.half?.view("model.layers.0.self_attn.q_proj.weight") as Uint16Array)[0] = 0x7bff; // 65504
    expect(() => checkHalfRange(micro, base)).not.toThrow();
  });
});
