import { describe, expect, it } from "vitest";
import { LORA_TARGETS } from "../engine/model/lora.js";
import { resolveTrainConfig } from "../rl/config.js";
import { flagOverrides } from "./train.js";

describe("spiral train --lora flags", () => {
  it("--lora R [--lora-alpha A] [--lora-targets LIST] become the config's lora block", () => {
    const config = resolveTrainConfig("default", flagOverrides({ lora: "16", loraAlpha: "32", loraTargets: "q_proj,v_proj" }));
    expect(config.lora).toEqual({ r: 16, alpha: 32, targets: ["q_proj", "v_proj"], rslora: false, baseDtype: "auto" });
    expect(resolveTrainConfig("default", flagOverrides({ lora: "8" })).lora).toEqual({ r: 8, targets: [...LORA_TARGETS], rslora: false, baseDtype: "auto" });
    expect(resolveTrainConfig("default", flagOverrides({ lora: "8", baseDtype: "bf16" })).lora?.baseDtype).toBe("bf16");
    expect(resolveTrainConfig("default", {}).lora).toBeNull();
  });

  it("refuses bad values by flag name, and LoRA options without --lora", () => {
    expect(() => flagOverrides({ lora: "x" })).toThrow(/--lora expects an integer/);
    expect(() => flagOverrides({ lora: "8", loraAlpha: "-1" })).toThrow(/--lora-alpha expects a number > 0/);
    expect(() => flagOverrides({ lora: "8", loraTargets: "q_proj,lm_head" })).toThrow(/unknown module "lm_head"/);
    expect(() => flagOverrides({ loraAlpha: "8" })).toThrow(/need --lora R/);
    expect(() => flagOverrides({ baseDtype: "bf16" })).toThrow(/--base-dtype need --lora R/);
    expect(() => resolveTrainConfig("default", { lora: { r: 8, baseDtype: "int8" } })).toThrow(/baseDtype/);
    expect(() => resolveTrainConfig("default", { lora: { r: 0 } })).toThrow(/lora/);
  });
});
