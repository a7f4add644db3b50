/** The terse compact renderings of the three training games, read from real game states. */
import { describe, expect, it } from "vitest";
import type { Seat } from "../games/game.js";
import { kuhnInfoSetPoints } from "../games/kuhn-exact.js";
import { getGame } from "../games/registry.js";
import { randomDecisions } from "../games/random-decisions.js";
import { COMPACT_CUE, compactBody, compactPrompt } from "./compact.js";

describe("compact renderings of the training games", () => {
  it("TicTacToe: a cell's letter, uppercase yours and lowercase theirs; empty cells numbered", () => {
    const game = getGame("TicTacToe-v0");
    let s = game.init(0);
    s = game.apply(s, 0, game.legalActions(s, 0).find((a: unknown) => game.format(a) === "[4]"));
    s = game.apply(s, 1, game.legalActions(s, 1).find((a: unknown) => game.format(a) === "[0]"));
    expect(compactPrompt(game.info, game.observe(s, 0)).text).toBe(`ttt P0\na12\n3E5\n678\n${COMPACT_CUE}`);
    // The same board seen by the other seat swaps the marks.
    expect(compactBody(game.info, game.observe(s, 1))).toBe("ttt P1\nA12\n3e5\n678");
  });

  it("1-round Kuhn: the 12 information sets give 12 different prompts, each with the own card and the betting", () => {
    const game = getGame("KuhnPoker-v1-1round");
    const texts = new Map<string, string>();
    for (const point of kuhnInfoSetPoints()) {
      const observation = game.observe(point.state, point.seat);
      const text = compactPrompt(game.info, observation).text;
      const [card, history] = point.key.split(":") as [string, string];
      expect(text).toBe(`kuhn P${point.seat} ${card}: ${history === "" ? "-" : history.replace(/,/g, " ")}\n${COMPACT_CUE}`);
      texts.set(text, point.key);
    }
    expect(texts.size).toBe(12);
  });

  it("5-round Kuhn adds the round and the own net chips", () => {
    const game = getGame("KuhnPoker-v1");
    const s = game.init(3);
    const seat = game.toAct(s)[0] as Seat;
    expect(compactBody(game.info, game.observe(s, seat))).toMatch(new RegExp(`^kuhn P${seat} r1/5 \\+0 [JQK]: -$`));
  });

  it("Simple Negotiation: own values, both inventories, moves left, the open offer from the reader's side", () => {
    const game = getGame("SimpleNegotiation-v1");
    let s = game.init(0);
    const offer = game.parse(s, 0, "[Offer: 3 Wood -> 2 Gold]");
    if (!offer.ok) throw new Error(offer.reason);
    s = game.apply(s, 0, offer.action);
    expect(compactBody(game.info, game.observe(s, 1))).toBe("neg P1 W15 G5\nme W10 G10 opp W10 G10 9 left\noffer get WWW give gg");
    const seen = compactPrompt(game.info, game.observe(s, 1));
    expect(seen.allowed).toContain("[Accept]");
  });

  it("stays short and never leaks the other seat's private information over random games", () => {
    for (const id of ["TicTacToe-v0", "KuhnPoker-v1", "KuhnPoker-v1-1round", "SimpleNegotiation-v1"]) {
      const game = getGame(id);
      let longest = 0;
      for (const { state, seat, observation } of randomDecisions(game, 100)) {
        expect(compactBody(game.info, observation), id).toBeDefined();
        const text = compactPrompt(game.info, observation).text;
        longest = Math.max(longest, text.length);
        if (id.startsWith("Kuhn")) for (const secret of game.privateInfo(state, (1 - seat) as Seat)) if (!game.privateInfo(state, seat).includes(secret)) expect(text).not.toContain(secret);
      }
      expect([id, longest <= 100]).toEqual([id, true]);
    }
  });
});
