/** The terse compact renderings of the three training games, read from real game states. */
import { describe, expect, it } from "vitest";
import type { Seat } from "../games/game.js";
import { kuhnInfoSetPoints } from "../games/kuhn-exact.js";
import { getGame } from "../games/registry.js";
import { randomDecisions } from "../games/random-decisions.js";
import { COMPACT_CUE, compactBody, compactPrompt, extractCompact, normaliseView } from "./compact.js";
import { KUHN_INFO, KUHN_OBSERVATION, TICTACTOE_INFO, TICTACTOE_OBSERVATION } from "./test-observations.js";

const byteLength = (text: string): number => Buffer.byteLength(text, "utf8");

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

describe("compactPrompt", () => {
  it("falls back to the id and seat, the view, and the cue when it has no terse rendering", () => {
    const prompt = compactPrompt(TICTACTOE_INFO, TICTACTOE_OBSERVATION);
    expect(prompt.text).toBe(`TicTacToe-v0 P0\n${normaliseView(TICTACTOE_OBSERVATION.view)}\n${COMPACT_CUE}`);
    expect(prompt.text).toContain("\n O | 1 | 2\n"); // the board keeps its leading space
    expect(prompt.allowed).toEqual(TICTACTOE_OBSERVATION.legal);
  });

  it("carries nothing of the log beyond the view", () => {
    const text = compactPrompt(KUHN_INFO, KUHN_OBSERVATION).text;
    expect(text).not.toContain("Round 1");
    expect(text).not.toContain("J < Q < K");
  });

  it("is short: under 300 bytes for TicTacToe and Kuhn views", () => {
    expect(byteLength(compactPrompt(TICTACTOE_INFO, TICTACTOE_OBSERVATION).text)).toBeLessThan(300);
    expect(byteLength(compactPrompt(KUHN_INFO, KUHN_OBSERVATION).text)).toBeLessThan(300);
  });

  it("is deterministic and independent of line-ending style and trailing spaces", () => {
    const a = compactPrompt(KUHN_INFO, KUHN_OBSERVATION);
    expect(compactPrompt(KUHN_INFO, KUHN_OBSERVATION)).toEqual(a);
    const crlf = { ...TICTACTOE_OBSERVATION, view: TICTACTOE_OBSERVATION.view.replace(/\n/g, "  \r\n") + "\r\n\r\n" };
    expect(compactPrompt(TICTACTOE_INFO, crlf).text).toBe(
      `TicTacToe-v0 P0\n${normaliseView(TICTACTOE_OBSERVATION.view)}\n${COMPACT_CUE}`,
    );
  });

  it("returns a copy of the legal list", () => {
    const prompt = compactPrompt(TICTACTOE_INFO, TICTACTOE_OBSERVATION);
    expect(prompt.allowed).not.toBe(TICTACTOE_OBSERVATION.legal);
  });

  it("extracts allowed strings exactly, case-insensitively, and otherwise by the general rules", () => {
    const allowed = KUHN_OBSERVATION.legal;
    expect(extractCompact("[call]", allowed)).toEqual({ ok: true, action: "[call]", source: "bracket" });
    expect(extractCompact(" [CALL]\n", allowed)).toEqual({ ok: true, action: "[call]", source: "bracket" });
    expect(extractCompact("fold", allowed)).toEqual({ ok: true, action: "[fold]", source: "wrapped" });
    expect(extractCompact("", allowed).ok).toBe(false);
  });
});
