import { describe, expect, it } from "vitest";
import { learningRateAt, mergeConfig, parseTrainConfig, resolveTrainConfig, trainPresets } from "./config.js";

describe("train config", () => {
  it("fills the paper's defaults", () => {
    const c = parseTrainConfig({});
    expect(c.rolloutBatch).toBe(128);
    expect(c.optim).toMatchObject({ loss: "ppo", ppoEpochs: 2, clip: 0.2, gradClip: 1, beta1: 0.9, beta2: 0.95, weightDecay: 0, entropyCoef: 0, lrSchedule: "constant" });
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

  it("learning-rate schedules: constant, and cosine / linear from lr at step 1 to lrMin at the last step (1e-15)", () => {
    const at = (lrSchedule: "constant" | "cosine" | "linear", step: number): number => learningRateAt({ lr: 1e-3, lrMin: 1e-4, lrSchedule }, step, 5);
    expect([1, 3, 5].map((s) => at("constant", s))).toEqual([1e-3, 1e-3, 1e-3]);
    // progress (step − 1) / 4 = 0, 1/4, 1/2, 3/4, 1
    const cosine = [1, 2, 3, 4, 5].map((s) => at("cosine", s));
    const wantCos = [0, 0.25, 0.5, 0.75, 1].map((p) => 1e-4 + 9e-4 * 0.5 * (1 + Math.cos(Math.PI * p)));
    cosine.forEach((v, i) => expect(Math.abs(v - (wantCos[i] as number))).toBeLessThan(1e-15));
    expect(Math.abs((cosine[2] as number) - 5.5e-4)).toBeLessThan(1e-15);
    const linear = [1, 2, 3, 4, 5].map((s) => at("linear", s));
    [1e-3, 7.75e-4, 5.5e-4, 3.25e-4, 1e-4].forEach((w, i) => expect(Math.abs((linear[i] as number) - w)).toBeLessThan(1e-15));
    expect(learningRateAt({ lr: 1e-3, lrMin: 0, lrSchedule: "cosine" }, 1, 1)).toBe(1e-3);
    // held at lr for the first half (progress ≤ 1/2 of steps 1..9), then linear over the second
    const held = [1, 3, 5, 7, 9].map((s) => learningRateAt({ lr: 1e-3, lrMin: 0, lrSchedule: "linear", lrDecayStart: 0.5 }, s, 9));
    [1e-3, 1e-3, 1e-3, 5e-4, 0].forEach((w, i) => expect(Math.abs((held[i] as number) - w)).toBeLessThan(1e-15));
    expect(() => parseTrainConfig({ optim: { lrDecayStart: 1 } })).toThrow(/optim\.lrDecayStart/);
    expect(() => parseTrainConfig({ optim: { lrSchedule: "step" } })).toThrow(/optim\.lrSchedule/);
  });

  it("round-trips through JSON unchanged", () => {
    const c = resolveTrainConfig("default");
    expect(parseTrainConfig(JSON.parse(JSON.stringify(c)))).toEqual(c);
  });
});
