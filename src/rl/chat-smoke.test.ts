import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { scriptedIo } from "../cli/io.js";
import { parseServeOptions, runServe } from "../cli/serve.js";
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
    // Chat mode records the reasoning before the answer; a random model's replies hold no box, so
    // they are all reasoning.
    expect(step!.thinkingLength).toBeGreaterThan(10);
    expect(step!.learner.updates).toBe(2);
    expect(step!.learner.samplerLogprobGap).toBeLessThan(1e-3);
    const transcript = readFileSync(join(runDir, "transcripts", "step-000001.txt"), "utf8");
    expect(transcript).toMatch(/returns P0 (-1\.5|0\.5)/);
    const hf = JSON.parse(readFileSync(join(runDir, "step-1", "config.json"), "utf8")) as { vocab_size: number };
    expect(hf.vocab_size).toBe(151936);
    expect(existsSync(join(runDir, "step-1", "optimizer.safetensors"))).toBe(true);
    // The checkpoint carries its tokenizer (it used to have none, so it could not be served):
    // moved away from its run, it is served as `spiral serve --model DIR` serves it.
    for (const f of ["tokenizer.json", "tokenizer_config.json"]) expect(existsSync(join(runDir, "step-1", f))).toBe(true);
    const alone = join(root, "alone");
    cpSync(join(runDir, "step-1"), alone, { recursive: true });
    const io = scriptedIo([]);
    const server = await runServe(parseServeOptions({ model: alone, port: "0", host: "127.0.0.1", maxBatch: "4", seed: "0", threads: "1", quiet: true }, io), io);
    try {
      const res = await fetch(`${server.url}/chat/completions`, {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: server.modelName, messages: [{ role: "user", content: "Hi" }], max_tokens: 4 }),
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens).toBeGreaterThan(0);
    } finally {
      await server.close();
    }
  }, 300_000);
});
