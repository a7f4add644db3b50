import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { resolveTrainConfig } from "./config.js";
import { train, type StepMetrics } from "./loop.js";
import { readMetrics } from "./run-dir.js";

const root = mkdtempSync(join(tmpdir(), "spiral-chat-lora-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// The `chat-lora` preset end to end: chat-smoke's Qwen3-shaped model and Qwen3 tokenizer, trained
// as a LoRA adapter; the second step samples from the adapter the first step trained.
describe("chat-lora preset", () => {
  it("trains a LoRA adapter end to end and writes PEFT checkpoints", async () => {
    const config = resolveTrainConfig("chat-lora", { out: root });
    const runDir = join(root, config.name);
    const run = await train(config, { runDir });
    const steps = (await readMetrics(runDir)) as unknown as StepMetrics[];
    expect(steps.map((s) => s.step)).toEqual([1, 2]);
    // The learner reproduces the sampler's log-probs with the adapter applied, also after an update.
    for (const s of steps) expect(s.learner.samplerLogprobGap).toBeLessThan(1e-3);
    expect(Math.max(...run.adapter!.data.map(Math.abs))).toBeGreaterThan(0);
    const cfg = JSON.parse(readFileSync(join(runDir, "step-2", "adapter_config.json"), "utf8")) as { r: number; lora_alpha: number; target_modules: string[] };
    expect([cfg.r, cfg.lora_alpha, cfg.target_modules.length]).toEqual([8, 16, 7]);
    expect(existsSync(join(runDir, "step-2", "model.safetensors"))).toBe(false);
  }, 300_000);
});
