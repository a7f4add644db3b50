import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { saveCheckpoint } from "../engine/weights/checkpoint.js";
import type { ModelConfig } from "../engine/model/config.js";
import { initParams } from "../engine/weights/params.js";
import { modelPreset } from "../engine/model/presets.js";
import { createRng } from "../core/rng.js";
import { parseTrainConfig, type TrainConfig } from "./config.js";
import { train } from "./loop.js";
import { latestCheckpoint, readMetrics } from "./run-dir.js";

const root = mkdtempSync(join(tmpdir(), "spiral-lora-run-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const shape: ModelConfig = { ...modelPreset("tiny"), hiddenSize: 32, intermediateSize: 64, numHiddenLayers: 1, numAttentionHeads: 2, numKeyValueHeads: 1, headDim: 16 };
const baseDir = join(root, "base");

function loraConfig(name: string): TrainConfig {
  return parseTrainConfig({
    name,
    out: root,
    steps: 3,
    games: [{ id: "TicTacToe-v0" }, { id: "KuhnPoker-v1-1round" }],
    rolloutBatch: 8,
    envs: 4,
    maxNewTokens: 8,
    model: { preset: null, dir: baseDir, tokenizer: "byte" },
    optim: { lr: 1e-2, microBatch: 8 },
    eval: { every: 0 },
    checkpointEvery: 1,
    transcripts: 0,
    threads: 1,
    lora: { r: 4, alpha: 8, targets: ["q_proj", "v_proj", "down_proj"] },
  });
}

describe("LoRA training runs", () => {
  let uninterrupted: Float32Array;

  it("train only the adapter (the base file is untouched) and save PEFT checkpoints", async () => {
    await saveCheckpoint(baseDir, { config: shape, params: initParams(shape, createRng("base"), 0.1) });
    const before = readFileSync(join(baseDir, "model.safetensors"));
    const config = loraConfig("straight");
    const run = await train(config, { runDir: join(root, "straight") });
    expect(run.adapter).toBeDefined();
    uninterrupted = run.adapter!.data;
    const ck = join(root, "straight", "step-3");
    for (const f of ["adapter_config.json", "adapter_model.safetensors", "optimizer.safetensors", "trainer_state.json", "spiral-base.json"]) expect(existsSync(join(ck, f))).toBe(true);
    expect(existsSync(join(ck, "model.safetensors"))).toBe(false);
    expect(readFileSync(join(baseDir, "model.safetensors")).equals(before)).toBe(true);
    const steps = (await readMetrics(join(root, "straight"))) as unknown as { learner: { updates: number; samplerLogprobGap: number } }[];
    expect(steps).toHaveLength(3);
    expect(steps.every((s) => s.learner.updates === 2 && s.learner.samplerLogprobGap < 1e-3)).toBe(true);
    // The adapter moved away from its step-0 B = 0.
    expect(Math.max(...uninterrupted.map(Math.abs))).toBeGreaterThan(0);
  }, 120_000);

  it("a run killed in step 3 and resumed ends with a bit-identical adapter", async () => {
    const config = loraConfig("killed");
    const dir = join(root, "killed");
    await expect(train(config, { runDir: dir, hooks: { onStep: (m) => { if (m.step === 3) throw new Error("killed"); } } })).rejects.toThrow("killed");
    expect(await latestCheckpoint(dir)).toBe(2);
    const resumed = await train(config, { runDir: dir, resume: true });
    expect(Buffer.from(resumed.adapter!.data.buffer).equals(Buffer.from(uninterrupted.buffer))).toBe(true);
  }, 120_000);

  it("--opponent pool:K: plays past adapters from either seat, saves the pool, and resumes a killed run bit-identically", async () => {
    const config = { ...loraConfig("pool"), opponent: "pool:2", transcripts: 8 };
    const straight = await train(config, { runDir: join(root, "pool") });
    const step3 = join(root, "pool", "step-3");
    expect(existsSync(join(step3, "opponent-pool.safetensors"))).toBe(true);
    const transcript = [1, 2, 3].map((t) => readFileSync(join(root, "pool", "transcripts", `step-00000${t}.txt`), "utf8")).join("\n");
    expect(transcript).toMatch(/pool:2 \(P0\)/);
    expect(transcript).toMatch(/pool:2 \(P1\)/);
    const steps = (await readMetrics(join(root, "pool"))) as unknown as { games: number; outcomes: Record<string, { wins: number; draws: number; losses: number }[]> }[];
    // Only the policy's own seat is counted (and trained) in each game.
    for (const s of steps) expect(Object.values(s.outcomes).flat().reduce((n, o) => n + o.wins + o.draws + o.losses, 0)).toBe(s.games);
    const dir = join(root, "pool-killed");
    await expect(train(config, { runDir: dir, hooks: { onStep: (m) => { if (m.step === 3) throw new Error("killed"); } } })).rejects.toThrow("killed");
    const resumed = await train(config, { runDir: dir, resume: true });
    expect(Buffer.from(resumed.adapter!.data.buffer).equals(Buffer.from(straight.adapter!.data.buffer))).toBe(true);
    await expect(train({ ...config, lora: null, opponent: "pool:2" }, { runDir: join(root, "pool-full") })).rejects.toThrow(/needs a LoRA run/);
    await expect(train({ ...config, opponent: "pool:0" }, { runDir: join(root, "pool-0") })).rejects.toThrow(/pool:K needs an integer K ≥ 1/);
  }, 120_000);

  it("refuses to resume against a base whose weights changed, naming it", async () => {
    const config = loraConfig("rebased");
    const dir = join(root, "rebased");
    await train({ ...config, steps: 1 }, { runDir: dir });
    await saveCheckpoint(baseDir, { config: shape, params: initParams(shape, createRng("other base"), 0.1), dtype: "BF16" });
    await expect(train(config, { runDir: dir, resume: true })).rejects.toThrow(new RegExp(`trained on the base ${baseDir}`));
  }, 120_000);
});
