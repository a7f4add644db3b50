/**
 * Every training preset writes checkpoints that stand on their own: config, weights and the
 * tokenizer it trained with, so `spiral serve` (and generate, eval) can use one with nothing else.
 * Each preset runs one small step here (its shape and tokenizer kept, its sizes cut down) and its
 * checkpoint is served on loopback through the `spiral serve` command's loading path and asked
 * for one completion; a LoRA preset's adapter on the base it writes beside its checkpoints. (`chat-smoke` runs as itself in chat-smoke.test.ts, which serves its
 * checkpoint the same way.)
 */
import { copyFileSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { saveCheckpoint } from "../engine/weights/checkpoint.js";
import type { ModelConfig } from "../engine/model/config.js";
import { initParams } from "../engine/weights/params.js";
import { modelPreset } from "../engine/model/presets.js";
import { tokenizerDirOf } from "../engine/tokenizer/load.js";
import { createRng } from "../core/rng.js";
import { scriptedIo } from "../cli/io.js";
import { parsePolicySpec } from "../policy/policy-spec.js";
import { parseServeOptions, runServe } from "../cli/serve.js";
import { resolveTrainConfig, trainPresets } from "./config.js";
import { train } from "./loop.js";

const root = mkdtempSync(join(tmpdir(), "spiral-presets-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Serves a checkpoint as `spiral serve --model DIR` does and asks for one completion. */
async function serveOnce(dir: string, adapter?: string): Promise<{ text: string; completionTokens: number }> {
  const io = scriptedIo([]);
  const server = await runServe(parseServeOptions({ model: dir, ...(adapter === undefined ? {} : { adapter }), port: "0", host: "127.0.0.1", maxBatch: "4", seed: "0", threads: "1", quiet: true }, io), io);
  try {
    const res = await fetch(`${server.url}/completions`, {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: server.modelName, prompt: "Hello", max_tokens: 4, temperature: 0 }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { choices: { text: string }[]; usage: { completion_tokens: number } };
    return { text: body.choices[0]?.text ?? "", completionTokens: body.usage.completion_tokens };
  } finally {
    await server.close();
  }
}

/** One cheap step of a preset: its model shape family and tokenizer kept, its sizes cut down. */
const small = { rolloutBatch: 2, envs: 2, actors: 1, maxNewTokens: 12, games: [{ id: "TicTacToe-v0", weight: 1 }], eval: { every: 0 }, checkpointEvery: 1, transcripts: 0, threads: 1 };

describe("every preset's checkpoint can be served on its own", () => {
  it("lists the presets this file and chat-smoke.test.ts cover", () => {
    expect(Object.keys(trainPresets).sort()).toEqual(["chat-lora", "chat-smoke", "default", "paper"]);
  });

  it("default (byte-level): config.json says so; served from the checkpoint alone", async () => {
    const config = resolveTrainConfig("default", { ...small, steps: 1, out: root, name: "default" });
    await train(config, { runDir: join(root, "default") });
    const ckpt = join(root, "default", "step-1");
    expect(readdirSync(ckpt).sort()).toEqual(["config.json", "model.safetensors", "optimizer.safetensors", "spiral-manifest.json", "trainer_state.json"]);
    const { completionTokens } = await serveOnce(ckpt);
    expect(completionTokens).toBeGreaterThan(0);
  }, 120_000);

  it("chat-lora (an adapter on a preset base): the base is written once beside the checkpoints and named by every adapter", async () => {
    const config = resolveTrainConfig("chat-lora", { ...small, steps: 2, out: root, name: "chat-lora" });
    await train(config, { runDir: join(root, "chat-lora") });
    const base = join(root, "chat-lora", "base");
    expect(readdirSync(base)).toEqual(expect.arrayContaining(["config.json", "model.safetensors", "tokenizer.json"]));
    for (const step of ["step-1", "step-2"]) {
      const adapter = join(root, "chat-lora", step);
      expect(JSON.parse(readFileSync(join(adapter, "adapter_config.json"), "utf8")).base_model_name_or_path).toBe(resolve(base));
    }
    // The adapter directory alone is a policy spec: its base is found through adapter_config.json.
    expect(parsePolicySpec(join(root, "chat-lora", "step-2"))).toEqual({ kind: "checkpoint", dir: resolve(base), adapter: join(root, "chat-lora", "step-2") });
    const { completionTokens } = await serveOnce(base, join(root, "chat-lora", "step-2"));
    expect(completionTokens).toBeGreaterThan(0);
  }, 300_000);

  it("paper (the tokenizer of model.dir): the tokenizer files travel into every checkpoint", async () => {
    // A Qwen3-vocabulary model standing in for Qwen3-4B-Base: same tokenizer, 1 thin layer.
    const base = join(root, "qwen3-base");
    const shape: ModelConfig = { ...modelPreset("qwen3-0.6b"), hiddenSize: 16, intermediateSize: 32, numHiddenLayers: 1, numAttentionHeads: 2, numKeyValueHeads: 1, headDim: 8 };
    await saveCheckpoint(base, { config: shape, params: initParams(shape, createRng(4), 0.02) });
    for (const f of ["tokenizer.json", "tokenizer_config.json"]) copyFileSync(join(tokenizerDirOf("qwen3"), f), join(base, f));
    const config = resolveTrainConfig("paper", { ...small, steps: 1, out: root, name: "paper", model: { dir: base, preset: null, tokenizer: "model" }, optim: { lr: 1e-4, microBatch: 1 } });
    await train(config, { runDir: join(root, "paper") });
    const ckpt = join(root, "paper", "step-1");
    expect(readdirSync(ckpt)).toEqual(expect.arrayContaining(["tokenizer.json", "tokenizer_config.json"]));
    // Moved away from its run (no run config to fall back on), it is still complete.
    const alone = join(root, "alone");
    cpSync(ckpt, alone, { recursive: true });
    const { completionTokens } = await serveOnce(alone);
    expect(completionTokens).toBeGreaterThan(0);
  }, 300_000);
});
