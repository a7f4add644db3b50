import { describe, expect, it } from "vitest";
import { mergeConfig, parseTrainConfig, resolveTrainConfig, trainPresets } from "./config.js";

describe("train config", () => {
  it("fills the paper's defaults", () => {
    const c = parseTrainConfig({});
    expect(c.rolloutBatch).toBe(128);
    expect(c.optim).toMatchObject({ loss: "ppo", ppoEpochs: 2, clip: 0.2, gradClip: 1, beta1: 0.9, beta2: 0.95, weightDecay: 0 });
    expect(c.rae).toEqual({ enabled: true, alpha: 0.95 });
    expect(c.temperature).toBe(1);
    expect(c.opponent).toBe("self");
  });

  it("rejects unknown keys, naming them, at the top level and in groups", () => {
    expect(() => parseTrainConfig({ stepz: 3 })).toThrow(/unknown key: "stepz"/);
    expect(() => parseTrainConfig({ optim: { learningRate: 1 } })).toThrow(/unknown key in optim: "learningRate"/);
  });

  it("says what was expected for a wrong type", () => {
    expect(() => parseTrainConfig({ steps: "ten" })).toThrow(/steps: .*expected number/);
    expect(() => parseTrainConfig({ promptMode: "verbose" })).toThrow(/promptMode: .*"compact"/);
    expect(() => parseTrainConfig({ games: [{ id: "TicTacToe-v0", weight: -1 }] })).toThrow(/games\.0\.weight/);
  });

  it("resolves every preset, and merges overrides one level deep", () => {
    for (const name of Object.keys(trainPresets)) expect(() => resolveTrainConfig(name)).not.toThrow();
    const c = resolveTrainConfig("default", { steps: 5, optim: { lr: 1e-3 } });
    expect(c.steps).toBe(5);
    expect(c.optim.lr).toBe(1e-3);
    expect(c.optim.microBatch).toBe(32); // kept from the preset
    expect(c.promptMode).toBe("compact");
    expect(resolveTrainConfig("chat-smoke").model.tokenizer).toBe("qwen3");
    expect(() => resolveTrainConfig("fast")).toThrow(/unknown train preset "fast"; expected one of: default/);
    expect(mergeConfig({ a: 1, eval: { every: 1, games: 2 } }, { eval: { games: 3 } })).toEqual({ a: 1, eval: { every: 1, games: 3 } });
  });

  it("round-trips through JSON unchanged", () => {
    const c = resolveTrainConfig("default");
    expect(parseTrainConfig(JSON.parse(JSON.stringify(c)))).toEqual(c);
  });
});
