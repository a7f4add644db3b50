import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { playMatch } from "../games/match.js";
import { getGame } from "../games/registry.js";
import { createRng } from "../core/rng.js";
import { randomPolicy, type Policy } from "./policy.js";
import { chatMode, compactMode } from "./prompt-mode.js";
import { saveCheckpoint } from "../engine/weights/checkpoint.js";
import { initParams } from "../engine/weights/params.js";
import { modelPreset } from "../engine/model/presets.js";
import { agentOf, openPolicy, formatPolicySpec, parsePolicySpec, referenceAgentFor, type PolicyPlayer } from "./policy-spec.js";

describe("policy specs", () => {
  it("parses every form and formats it back", async () => {
    for (const text of ["random", "optimal", "heuristic", "openai:http://127.0.0.1:8000/v1#qwen3-4b", "openai:https://api.example.com/v1#gpt#4"]) {
      expect(formatPolicySpec(parsePolicySpec(text))).toBe(text);
    }
    expect(parsePolicySpec("openai:https://api.example.com/v1#gpt#4")).toEqual({ kind: "openai", baseUrl: "https://api.example.com/v1#gpt", model: "4" });
    const root = mkdtempSync(join(tmpdir(), "spiral-spec-"));
    mkdirSync(join(root, "empty"));
    // A directory is a checkpoint spec; what is wrong with it is said when it is opened.
    expect(parsePolicySpec(join(root, "empty"))).toEqual({ kind: "checkpoint", dir: join(root, "empty") });
    await expect(openPolicy(parsePolicySpec(join(root, "empty")), { temperature: 0.6, maxNewTokens: 8 })).rejects.toThrow(/^checkpoint .*empty: has no config\.json/);
    expect(() => parsePolicySpec("")).toThrow(/Empty policy spec/);
    expect(() => parsePolicySpec("openai:http://x/v1")).toThrow(/Expected openai:<base-url>#<model>/);
  });

  it("resolves optimal per game and names the games that have one", async () => {
    expect(referenceAgentFor("optimal", "TicTacToe-v0").name).toBe("optimal");
    expect(() => referenceAgentFor("optimal", "PigDice-v1")).toThrow(/"optimal" has no player for PigDice-v1; it exists for TicTacToe-v0/);
    const nim = getGame("Nim-v0");
    const record = await playMatch({ game: nim, agents: [referenceAgentFor("optimal", "Nim-v0"), referenceAgentFor("random", "Nim-v0")], seed: 1 });
    expect(record.returns[0]).toBe(1); // piles 3, 4, 5: the first player wins with perfect play
  });
});

describe("checkpoints in a training run", () => {
  it("take the run's prompt mode and tokenizer unless told otherwise", async () => {
    const run = mkdtempSync(join(tmpdir(), "spiral-run-"));
    writeFileSync(join(run, "config.json"), JSON.stringify({ promptMode: "chat", model: { preset: "qwen3-0.6b", tokenizer: "qwen3" } }));
    const config = { ...modelPreset("qwen3-0.6b"), hiddenSize: 16, intermediateSize: 32, numHiddenLayers: 1, numAttentionHeads: 2, numKeyValueHeads: 1, headDim: 8 };
    await saveCheckpoint(join(run, "step-1"), { config, params: initParams(config, createRng(1), 0.1) });
    const settings = { temperature: 0.6, maxNewTokens: 8 };
    const p = (await openPolicy(parsePolicySpec(join(run, "step-1")), settings)) as PolicyPlayer;
    expect(p.mode.name).toBe("chat");
    expect(p.tokenizer?.kind).toBe("hf"); // the run's Qwen3 tokenizer: the checkpoint has no tokenizer.json
    await p.close();
    const forced = (await openPolicy(parsePolicySpec(join(run, "step-1")), { ...settings, promptMode: "compact" })) as PolicyPlayer;
    expect(forced.mode.name).toBe("compact");
    await forced.close();
  });
});

describe("agentOf", () => {
  const ticTacToe = getGame("TicTacToe-v0");

  it("coalesces a model opponent's concurrent moves into one generate call", async () => {
    const inner = randomPolicy();
    const batches: number[] = [];
    const counting: Policy = { ...inner, name: "counting", generate: (r, rng) => (batches.push(r.length), inner.generate(r, rng)) };
    const player: PolicyPlayer = { kind: "policy", name: "counting", policy: counting, mode: compactMode, maxNewTokens: 8, batched: true, exact: true, close: () => Promise.resolve() };
    const opponent = agentOf(player, ticTacToe.info.id, ticTacToe.info);
    // 32 matches at once, the model in seat 0 of even games: their moves fall in the same ticks.
    const random = referenceAgentFor("random", ticTacToe.info.id);
    const records = await Promise.all(
      Array.from({ length: 32 }, (_, i) => playMatch({ game: ticTacToe, agents: i % 2 === 0 ? [opponent, random] : [random, opponent], seed: i, rng: createRng(i) })),
    );
    expect(records.every((r) => r.endReason === "terminal")).toBe(true);
    expect(Math.max(...batches)).toBeGreaterThanOrEqual(8);
    expect(batches.length).toBeLessThan(batches.reduce((a, b) => a + b, 0) / 4);
  });

  it("turns a reply without an action into an invalid move, not a lucky parse", async () => {
    // Free text with a bracket but no box: chat mode finds no action.
    const talker: Policy = { ...randomPolicy(), generate: (r) => Promise.resolve(r.map(() => ({ text: "I like [4] a lot", promptIds: [], generatedIds: [], logprobs: [] }))) };
    const player: PolicyPlayer = { kind: "policy", name: "talker", policy: talker, mode: chatMode(), maxNewTokens: 8, batched: true, exact: false, close: () => Promise.resolve() };
    const record = await playMatch({ game: ticTacToe, agents: [agentOf(player, ticTacToe.info.id, ticTacToe.info), referenceAgentFor("random", ticTacToe.info.id)], seed: 0 });
    expect(record.endReason).toBe("invalid");
    expect(record.returns[0]).toBeLessThan(0);
  });
});
