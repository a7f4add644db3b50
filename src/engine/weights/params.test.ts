import { describe, expect, it } from "vitest";
import { createRng } from "../../core/rng.js";
import { parameterCount } from "../model/config.js";
import { PARAM_ALIGN, initParams, paramLayout, Params } from "./params.js";
import { modelPresets } from "../model/presets.js";

describe("paramLayout", () => {
  it("lists HF names and shapes in order, aligned and non-overlapping", () => {
    const c = modelPresets.tiny;
    const layout = paramLayout(c);
    expect(layout.views.length).toBe(1 + 11 * c.numHiddenLayers + 1);
    expect(layout.views.slice(0, 6).map((v) => [v.name, v.shape])).toEqual([
      ["model.embed_tokens.weight", [264, 192]],
      ["model.layers.0.input_layernorm.weight", [192]],
      ["model.layers.0.self_attn.q_proj.weight", [192, 192]],
      ["model.layers.0.self_attn.k_proj.weight", [64, 192]],
      ["model.layers.0.self_attn.v_proj.weight", [64, 192]],
      ["model.layers.0.self_attn.o_proj.weight", [192, 192]],
    ]);
    expect(layout.byName.get("model.layers.3.mlp.down_proj.weight")?.shape).toEqual([192, 512]);
    expect(layout.views.at(-1)?.name).toBe("model.norm.weight");
    let end = 0;
    let count = 0;
    for (const v of layout.views) {
      expect(v.offset % PARAM_ALIGN).toBe(0);
      expect(v.offset).toBeGreaterThanOrEqual(end);
      expect(v.size).toBe(v.shape.reduce((a, b) => a * b, 1));
      end = v.offset + v.size;
      count += v.size;
    }
    expect(count).toBe(parameterCount(c));
    expect(layout.totalSize).toBeGreaterThanOrEqual(end);
    expect(layout.totalSize % PARAM_ALIGN).toBe(0);
  });

  it("adds lm_head.weight last only when the head is untied", () => {
    const layout = paramLayout({ ...modelPresets.tiny, tieWordEmbeddings: false });
    expect(layout.views.at(-1)).toMatchObject({ name: "lm_head.weight", shape: [264, 192] });
    expect(paramLayout(modelPresets.tiny).byName.has("lm_head.weight")).toBe(false);
  });

  it("computes the 0.6B layout without allocating it", () => {
    const layout = paramLayout(modelPresets["qwen3-0.6b"]);
    const sum = layout.views.reduce((a, v) => a + v.size, 0);
    expect(sum).toBe(596_049_920);
  });
});

describe("Params and initParams", () => {
  it("views are zero-copy windows into the flat buffer", () => {
    const p = new Params(paramLayout(modelPresets.tiny));
    const v = p.view("model.norm.weight");
    v[3] = 7;
    const view = p.layout.byName.get("model.norm.weight");
    expect(p.data[(view?.offset ?? -1) + 3]).toBe(7);
    expect(() => p.view("model.nope")).toThrow(/No parameter named "model.nope"/);
    expect(() => new Params(p.layout, new Float32Array(3))).toThrow(/needs/);
  });

  it("initialises norms to 1, matrices ~ N(0, 0.02²), padding 0, deterministically", () => {
    const c = modelPresets.tiny;
    const a = initParams(c, createRng(1));
    const b = initParams(c, createRng(1));
    const d = initParams(c, createRng(2));
    const bytes = (x: Float32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength);
    expect(bytes(a.data).equals(bytes(b.data))).toBe(true);
    expect(bytes(a.data).equals(bytes(d.data))).toBe(false);
    expect(a.view("model.layers.2.self_attn.k_norm.weight").every((x) => x === 1)).toBe(true);
    const w = a.view("model.layers.1.mlp.gate_proj.weight");
    let s = 0;
    let s2 = 0;
    for (const x of w) {
      s += x;
      s2 += x * x;
    }
    const mean = s / w.length;
    const std = Math.sqrt(s2 / w.length - mean * mean);
    // 98,304 samples: the standard error of the std is ≈ 0.02/√(2n) ≈ 5e-5.
    expect(Math.abs(mean)).toBeLessThan(5e-4);
    expect(Math.abs(std - 0.02)).toBeLessThan(5e-4);
    let covered = 0;
    for (const v of a.layout.views) covered += v.size;
    let nonzero = 0;
    for (const x of a.data) if (x !== 0) nonzero++;
    expect(nonzero).toBe(covered);
  });
});
