/**
 * Prompts and extraction against every registered game, by uniform-random play: the prompt layer
 * must agree with each game's own parser, and compact prompts must stay short.
 */
import { describe, expect, it } from "vitest";
import { otherSeat, type AnyGame } from "../games/game.js";
import { gameIds, getGame } from "../games/registry.js";
import { createRng } from "../core/rng.js";
import { chatPromptText } from "./chat.js";
import { compactPrompt } from "./compact.js";
import { extractAction } from "./extract.js";

const GAMES_PER_ID = 6;

/** Longest compact prompt (bytes) seen per game, over all decision points of the random games. */
const longestCompact = new Map<string, number>();

function parsesTo(game: AnyGame, state: unknown, seat: 0 | 1, text: string): string | undefined {
  const parsed = game.parse(state, seat, text);
  return parsed.ok ? game.format(parsed.action) : undefined;
}

function playAndCheck(id: string): void {
  const game = getGame(id);
  let longest = 0;
  for (let seed = 0; seed < GAMES_PER_ID; seed++) {
    const rng = createRng(seed);
    let state = game.init(seed);
    while (!game.isTerminal(state)) {
      for (const seat of game.toAct(state)) {
        const observation = game.observe(state, seat);
        const compact = compactPrompt(game.info, observation);
        longest = Math.max(longest, Buffer.byteLength(compact.text, "utf8"));
        expect(compact.allowed).toEqual(observation.legal);

        const chat = chatPromptText(game.info, observation);
        expect(chat).toContain(`You are Player ${seat}`);
        expect(chat).toContain("\\boxed{");
        const rules = observation.log.find((m) => m.kind === "rules");
        if (rules !== undefined) expect(chat).toContain(rules.text.trim().split("\n")[0]);
        // Hidden information of the other seat reaches neither prompt.
        const mine = new Set(game.privateInfo(state, seat));
        for (const secret of game.privateInfo(state, otherSeat(seat))) {
          if (mine.has(secret)) continue;
          expect(chat).not.toContain(secret);
          expect(compact.text).not.toContain(secret);
        }
        // Every legal action, boxed with or without its brackets, reaches the game as itself.
        for (const legal of observation.legal) {
          const boxed = extractAction(`Reasoning first.\n\\boxed{${legal}}`);
          expect(boxed.ok && parsesTo(game, state, seat, boxed.action)).toBe(legal);
          const inner = legal.startsWith("[") && legal.endsWith("]") ? legal.slice(1, -1) : legal;
          const bare = extractAction(`\\boxed{\\text{${inner}}}`);
          expect(bare.ok && parsesTo(game, state, seat, bare.action)).toBe(legal);
        }
      }
      // Apply one uniformly random legal move per seat to act.
      for (const seat of game.toAct(state)) {
        const actions = game.legalActions(state, seat);
        state = game.apply(state, seat, actions[rng.int(actions.length)]);
      }
    }
  }
  longestCompact.set(id, longest);
  if (process.env.SPIRAL_PRINT_PROMPT_SIZES) console.log(`${id}: longest compact prompt ${longest} bytes`);
}

describe("prompts over every registered game", () => {
  for (const id of gameIds()) {
    it(`${id}: boxed actions parse back, no hidden information, compact prompts measured`, () => {
      playAndCheck(id);
    });
  }

  it("compact prompts of TicTacToe and Kuhn Poker fit in 300 bytes", () => {
    for (const id of ["TicTacToe-v0", "KuhnPoker-v1", "KuhnPoker-v1-1round"]) {
      if (!gameIds().includes(id)) continue;
      if (!longestCompact.has(id)) playAndCheck(id);
      expect([id, (longestCompact.get(id) ?? Infinity) < 300]).toEqual([id, true]);
    }
  });
});
