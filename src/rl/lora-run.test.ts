import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { saveCheckpoint } from "../engine/weights/checkpoint.js";
import type { ModelConfig } from "../engine/model/config.js";
import { initParams } from "../engine/weights/params.js";
import { modelPreset } from "../engine/model/presets.js";
import { createRng } from "../core/rng.js";
import { freezeAfterStderr } from "../core/test-waits.js";
import { parseTrainConfig, type TrainConfig } from "./config.js";
import { train } from "./loop.js";
import { chooseBaseDtype } from "./lora-run.js";
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
  beforeAll(() => saveCheckpoint(baseDir, { config: shape, params: initParams(shape, createRng("base"), 0.1) }));

  it("train only the adapter (the base file is untouched) and save PEFT checkpoints", async () => {
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

  it("`spiral train --lora` killed with SIGKILL after a checkpoint and resumed ends with a bit-identical adapter", async () => {
    const { name: _name, out: _out, ...rest } = loraConfig("sigkill");
    const file = join(root, "sigkill.json");
    writeFileSync(file, JSON.stringify(rest));
    const dir = join(root, "sigkill");
    // The CLI from the sources, as its own process; killed once step 2's line is out (step-1 is saved).
    // The child stops dead right after writing that line, so the kill lands there and not in step 3.
    const child = spawn(process.execPath, [
      "--import", "tsx", "--input-type=module", "-e",
      `${freezeAfterStderr(/^step 2\/3/m)}\nimport { main } from "./src/cli/main.js"; await main(["node", "spiral", "train", "--config", ${JSON.stringify(file)}, "--out", ${JSON.stringify(root)}, "--name", "sigkill", "--no-progress", "--log-every", "1"]);`,
    ], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      if (/^step 2\/3/m.test(stderr)) child.kill("SIGKILL");
    });
    const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, sig) => resolve(sig)));
    expect(signal, stderr).toBe("SIGKILL");
    const saved = await latestCheckpoint(dir);
    expect(saved).toBeGreaterThanOrEqual(1);
    expect(saved).toBeLessThan(3);
    const resumed = await train(parseTrainConfig({ ...rest, name: "sigkill", out: root }), { runDir: dir, resume: true });
    expect(Buffer.from(resumed.adapter!.data.buffer).equals(Buffer.from(uninterrupted.buffer))).toBe(true);
    expect(readFileSync(join(dir, "step-3", "adapter_model.safetensors")).equals(readFileSync(join(root, "straight", "step-3", "adapter_model.safetensors")))).toBe(true);
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

  it("actors = 2: workers sample through the adapter; same seed, same adapter; a killed run resumes bit-identically", async () => {
    const config = { ...loraConfig("actors"), actors: 2 };
    const first = await train(config, { runDir: join(root, "actors") });
    const again = await train(config, { runDir: join(root, "actors-again") });
    expect(Buffer.from(again.adapter!.data.buffer).equals(Buffer.from(first.adapter!.data.buffer))).toBe(true);
    // The workers' samples are scored by the learner with the same adapter: from step 2 on (B ≠ 0)
    // a worker sampling without it would show a log-prob gap far above 1e-3.
    const steps = (await readMetrics(join(root, "actors"))) as unknown as { learner: { samplerLogprobGap: number } }[];
    expect(steps).toHaveLength(3);
    expect(steps.every((s) => s.learner.samplerLogprobGap < 1e-3)).toBe(true);
    const dir = join(root, "actors-killed");
    await expect(train(config, { runDir: dir, hooks: { onStep: (m) => { if (m.step === 3) throw new Error("killed"); } } })).rejects.toThrow("killed");
    const resumed = await train(config, { runDir: dir, resume: true });
    expect(Buffer.from(resumed.adapter!.data.buffer).equals(Buffer.from(first.adapter!.data.buffer))).toBe(true);
    await expect(train({ ...config, opponent: "pool:2" }, { runDir: join(root, "actors-pool") })).rejects.toThrow(/needs actors = 1/);
  }, 240_000);

  it("a bf16 base held in 16 bits trains (learner and worker actors) and resumes bit-identically", async () => {
    const bf16Dir = join(root, "base-bf16");
    await saveCheckpoint(bf16Dir, { config: shape, params: initParams(shape, createRng("base"), 0.1), dtype: "BF16" });
    const base = loraConfig("bf16");
    const config = { ...base, actors: 2, model: { ...base.model, dir: bf16Dir }, lora: { ...(base.lora as NonNullable<TrainConfig["lora"]>), baseDtype: "bf16" as const } };
    const lines: string[] = [];
    const straight = await train(config, { runDir: join(root, "bf16"), hooks: { log: (l) => lines.push(l) } });
    expect(lines).toContain("lora: the frozen base is held in bf16 (projections widened per Gemm; docs/lora.md)");
    const steps = (await readMetrics(join(root, "bf16"))) as unknown as { learner: { updates: number; samplerLogprobGap: number } }[];
    expect(steps.every((s) => s.learner.updates === 2 && s.learner.samplerLogprobGap < 1e-3)).toBe(true);
    expect(Math.max(...straight.adapter!.data.map(Math.abs))).toBeGreaterThan(0);
    const dir = join(root, "bf16-killed");
    await expect(train(config, { runDir: dir, hooks: { onStep: (m) => { if (m.step === 3) throw new Error("killed"); } } })).rejects.toThrow("killed");
    const resumed = await train(config, { runDir: dir, resume: true });
    expect(Buffer.from(resumed.adapter!.data.buffer).equals(Buffer.from(straight.adapter!.data.buffer))).toBe(true);
  }, 240_000);

  it("chooses the base dtype: explicit choices stand, auto keeps a 16-bit checkpoint in fp32 while it fits", () => {
    const s = modelPreset("qwen3-4b");
    const gib = 2 ** 30;
    expect(chooseBaseDtype("auto", "BF16", s, 64 * gib)).toBe("fp32"); // 15 GiB ≤ half of 64
    expect(chooseBaseDtype("auto", "BF16", s, 24 * gib)).toBe("bf16");
    expect(chooseBaseDtype("auto", "F16", s, 24 * gib)).toBe("fp16");
    expect(chooseBaseDtype("auto", "F32", s, 24 * gib)).toBe("fp32");
    expect(chooseBaseDtype("bf16", "F32", s, 64 * gib)).toBe("bf16");
    expect(chooseBaseDtype("auto", undefined, s, 24 * gib)).toBe("fp32");
    expect(() => chooseBaseDtype("bf16", undefined, s)).toThrow(/a preset's random base is held in fp32/);
  });

  it("refuses to resume against a base whose weights changed, naming it", async () => {
    const config = loraConfig("rebased");
    const dir = join(root, "rebased");
    await train({ ...config, steps: 1 }, { runDir: dir });
    await saveCheckpoint(baseDir, { config: shape, params: initParams(shape, createRng("other base"), 0.1), dtype: "BF16" });
    await expect(train(config, { runDir: dir, resume: true })).rejects.toThrow(new RegExp(`trained on the base ${baseDir}`));
  }, 120_000);
});
