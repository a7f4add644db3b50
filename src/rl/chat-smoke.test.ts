import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { resolveTrainConfig } from "./config.js";
import { train, type StepMetrics } from "./loop.js";
import { readMetrics } from "./run-dir.js";

const root = mkdtempSync(join(tmpdir(), "spiral-chat-smoke-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// The `chat-smoke` preset end to end: a Qwen3-shaped random model with the real Qwen3 tokenizer,
// chat prompts through the chat template, free replies, boxed extraction, invalid-move penalties,
// one PPO update (2 epochs) and a checkpoint in the HF layout.
describe("chat-smoke preset", () => {
  it("runs end to end", async () => {
    const config = resolveTrainConfig("chat-smoke", { out: root });
    const runDir = join(root, config.name);
    await train(config, { runDir });
    const [step] = (await readMetrics(runDir)) as unknown as StepMetrics[];
    expect(step?.kind).toBe("step");
    // A random model almost never writes a \boxed{} legal move: its games end as invalid moves.
    expect(step!.invalidRate).toBeGreaterThan(0);
    expect(step!.replyLength).toBeGreaterThan(10);
    expect(step!.learner.updates).toBe(2);
    expect(step!.learner.samplerLogprobGap).toBeLessThan(1e-3);
    const transcript = readFileSync(join(runDir, "transcripts", "step-000001.txt"), "utf8");
    expect(transcript).toMatch(/returns P0 (-1\.5|0\.5)/);
    const hf = JSON.parse(readFileSync(join(runDir, "step-1", "config.json"), "utf8")) as { vocab_size: number };
    expect(hf.vocab_size).toBe(151936);
    expect(existsSync(join(runDir, "step-1", "optimizer.safetensors"))).toBe(true);
  }, 300_000);
});
