import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { modelPreset } from "../engine/model/presets.js";
import { parseTrainConfig } from "./config.js";
import { checkTrainConfig, checkTrainingMemory, presetShape } from "./validate.js";

const root = mkdtempSync(join(tmpdir(), "spiral-validate-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("checkTrainConfig: every name before anything starts", () => {
  it("accepts the presets' own configs", async () => {
    await expect(checkTrainConfig(parseTrainConfig({ model: { preset: "micro" } }))).resolves.toBeUndefined();
    await expect(checkTrainConfig(parseTrainConfig({ opponent: "optimal", games: [{ id: "TicTacToe-v0" }, { id: "KuhnPoker-v1-1round" }] }))).resolves.toBeUndefined();
    // A per-game opponent map over the three training games, with one game left to self-play.
    await expect(checkTrainConfig(parseTrainConfig({ opponentByGame: { "TicTacToe-v0": "minimax", "KuhnPoker-v1": "nash" } }))).resolves.toBeUndefined();
    await expect(checkTrainConfig(parseTrainConfig({ opponent: "optimal", opponentByGame: { "SimpleNegotiation-v1": "heuristic" } }))).resolves.toBeUndefined();
    await expect(checkTrainConfig(parseTrainConfig({ eval: { finalGames: ["ConnectFour-v0", "Nim-v0", "Snake-v0:reference"] } }))).resolves.toBeUndefined();
  });

  it("names the key and what was expected", async () => {
    const bad: [object, RegExp][] = [
      [{ games: [{ id: "TicTacToe-v0" }, { id: "Foo-v0" }] }, /^games: Unknown game "Foo-v0"\. Known games: /],
      [{ opponent: "nash", games: [{ id: "TicTacToe-v0" }] }, /^opponent: No reference agent "nash" for TicTacToe-v0/],
      [{ opponent: "optimal", games: [{ id: "PigDice-v1" }] }, /^opponent: "optimal" has no player for PigDice-v1/],
      [{ opponent: "openai:http://127.0.0.1:9/v1#m" }, /^opponent: an openai: endpoint cannot be a training opponent/],
      [{ opponent: join(root, "nope") }, /^opponent: Unknown policy/],
      [{ model: { preset: "gigantic" } }, /^model\.preset \(--init\): Unknown model preset "gigantic"/],
      [{ model: { preset: null } }, /^model: give a preset/],
      [{ model: { preset: "micro", overrides: { headDim: 7 } } }, /head_dim: expected an even number/],
      [{ model: { preset: "micro", overrides: { layers: 2 } } }, /^model\.overrides: unknown key "layers"/],
      [{ model: { preset: "micro", tokenizer: "model" } }, /^model\.tokenizer "model" needs model\.dir/],
      [{ model: { preset: "micro", tokenizer: root } }, /^model\.tokenizer: expected "byte", "qwen3", "model" or a directory with tokenizer\.json/],
      [{ model: { preset: null, dir: root, tokenizer: "model" } }, /^model\.dir \(--model\) .*: has no config\.json/],
      [{ actors: 9, rolloutBatch: 8 }, /^actors \(9\) must not exceed rolloutBatch \(8\)$/],
      [{ opponentByGame: { "TicTacToe-v0": "nash" } }, /^opponentByGame\.TicTacToe-v0: No reference agent "nash" for TicTacToe-v0/],
      [{ opponentByGame: { "Nim-v0": "optimal" } }, /^opponentByGame: "Nim-v0" is not a training game; expected one of: TicTacToe-v0, KuhnPoker-v1, SimpleNegotiation-v1$/],
      [{ opponentByGame: { "TicTacToe-v0": "pool:2" } }, /^opponentByGame\.TicTacToe-v0: pool:K is a whole-run opponent/],
      [{ opponentByGame: { "TicTacToe-v0": "wizard" } }, /^opponentByGame\.TicTacToe-v0: Unknown policy "wizard"/],
      // optimal has no negotiation player, but negotiation's own opponent covers it; Kuhn's does not.
      [{ opponent: "optimal", opponentByGame: { "KuhnPoker-v1": "heuristic" } }, /^opponentByGame\.KuhnPoker-v1: No reference agent "heuristic" for KuhnPoker-v1/],
      [{ eval: { finalGames: ["Nim-v0", "Chess-v0"] } }, /^eval\.finalGames: Unknown game "Chess-v0"/],
      [{ eval: { finalGames: ["Nim-v0", "Nim-v0"] } }, /^eval\.finalGames: Nim-v0 is listed twice$/],
      [{ eval: { finalGames: ["TicTacToe-v0"] } }, /^eval\.finalGames: TicTacToe-v0 is a training game \(the regular evaluation plays those\)/],
      [{ games: [{ id: "Nim-v0" }], eval: { finalGames: ["Nim-v0"] } }, /^eval\.finalGames: Nim-v0 is a training game of this run/],
      [{ actors: 0 }, /^actors: 0 leaves no actor; give actors ≥ 1, or endpoint actors/],
      [{ actors: 4, rolloutBatch: 4, endpoints: [{ url: "http://127.0.0.1:8000/v1" }] }, /^rolloutBatch \(4\) must exceed actors \(4\) when endpoint actors play beside them/],
      [{ maxStaleness: 1 }, /^maxStaleness: asynchronous acting needs endpoint actors/],
      [{ maxStaleness: 1, endpoints: [{ url: "http://127.0.0.1:8000/v1" }], opponent: "pool:2", lora: { r: 2 } }, /^maxStaleness: asynchronous acting does not take the pool:2 opponent/],
    ];
    const wrong: string[] = [];
    for (const [input, message] of bad) {
      const got = await checkTrainConfig(parseTrainConfig(input)).then(() => "accepted", (e: Error) => e.message);
      if (!message.test(got)) wrong.push(`${JSON.stringify(input)} → ${got}`);
    }
    expect(wrong).toEqual([]);
  });

  it("a resumed run does not need its model.dir (the weights are in its checkpoints)", async () => {
    const moved = parseTrainConfig({ model: { preset: null, dir: join(root, "moved-away"), tokenizer: "byte" } });
    await expect(checkTrainConfig(moved)).rejects.toThrow(/no such directory/);
    await expect(checkTrainConfig(moved, { resume: true })).resolves.toBeUndefined();
  });

  it("refuses a model that cannot fit in memory for training, with the numbers", () => {
    const shape = presetShape(parseTrainConfig({ model: { preset: "qwen3-4b" } }).model);
    expect(() => checkTrainingMemory(shape, 'model.preset (--init) "qwen3-4b"', 32 * 2 ** 30)).toThrow(
      /^model\.preset \(--init\) "qwen3-4b": 4022 M parameters need about 59\.9 GiB to train \(.*\), more than this machine's 32\.0 GiB$/,
    );
    expect(() => checkTrainingMemory(modelPreset("qwen3-0.6b"), "x", 32 * 2 ** 30)).not.toThrow(); // 8.9 GiB
  });
});
