import { describe, expect, it } from "vitest";
import { modelPreset, modelPresetNames, modelPresets } from "./presets.js";

describe("modelPreset", () => {
  it("returns a copy that does not alias the table", () => {
    const c = modelPreset("tiny");
    c.hiddenSize = 1;
    expect(modelPresets.tiny.hiddenSize).toBe(192);
  });

  it("lists the known names in the error for an unknown one", () => {
    expect(() => modelPreset("huge")).toThrow(/Unknown model preset "huge"; expected one of: micro, tiny, small, qwen3-0.6b, qwen3-1.7b, qwen3-4b/);
    expect(() => modelPreset("toString")).toThrow(/Unknown model preset/);
  });

  it("keeps every preset a valid GQA shape", () => {
    expect(modelPresetNames).toEqual(["micro", "tiny", "small", "qwen3-0.6b", "qwen3-1.7b", "qwen3-4b"]);
    for (const name of modelPresetNames) {
      const c = modelPreset(name);
      expect(c.numAttentionHeads % c.numKeyValueHeads).toBe(0);
      expect(c.headDim % 2).toBe(0);
    }
  });
});
