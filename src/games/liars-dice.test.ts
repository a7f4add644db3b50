import { describe, expect, it } from "vitest";
import type { Seat } from "./game.js";
import { liarsDice, type LiarsDiceInfoState, type LiarsDiceState } from "./liars-dice.js";
import { createRng } from "../core/rng.js";

const game = liarsDice();

function act(state: LiarsDiceState, text: string): LiarsDiceState {
  const seat = game.toAct(state)[0] as Seat;
  const parsed = game.parse(state, seat, text);
  if (!parsed.ok) throw new Error(parsed.reason);
  return game.apply(state, seat, parsed.action);
}

/** Round 1 with chosen hands: Player 0 holds 2 2 3 4 5, Player 1 holds 1 2 6 6 6. */
function fixedHands(): LiarsDiceState {
  return { ...game.init(11), dice: [[2, 2, 3, 4, 5], [1, 2, 6, 6, 6]] };
}

function observedText(state: LiarsDiceState, seat: Seat): string {
  const obs = game.observe(state, seat);
  return [obs.view, ...obs.log.map((m) => m.text), JSON.stringify(obs.infoState)].join("\n");
}

describe("LiarsDice-v1", () => {
  it("states its bounds: 5 dice each, at most 333 moves, no wild ones", () => {
    expect(game.info.params).toEqual({ dice: 5, wildOnes: false });
    expect(game.info.maxTurns).toBe(333);
    expect(game.info.information).toBe("imperfect");
  });

  it("a false bid costs the bidder a die (ones are not wild)", () => {
    // Three 2s in play (and a 1, which does not count): a bid of four 2s fails.
    let state = act(fixedHands(), "[Bid: 4, 2]");
    state = act(state, "[Call]");
    expect(state.dice[0]).toHaveLength(4);
    expect(state.dice[1]).toHaveLength(5);
    expect(state.round).toBe(2);
    expect(state.toMove).toBe(0);
    expect(state.bids).toEqual([]);
    const notice = game.observe(state, 0).log.find((m) => m.kind === "notice" && m.text.includes("calls"));
    expect(notice?.text).toContain("There are 3 dice showing 2: the bid fails, so Player 0 (the bidder) loses a die.");
  });

  it("a true bid costs the caller a die", () => {
    let state = act(fixedHands(), "[Bid: 2, 2]");
    state = act(state, "[Bid: 3, 2]");
    state = act(state, "[Call]");
    // Player 0 called Player 1's bid of three 2s, and there are exactly three: the caller loses.
    expect(state.dice[0]).toHaveLength(4);
    expect(state.dice[1]).toHaveLength(5);
    expect(state.toMove).toBe(0);
    let counted = act(fixedHands(), "[Bid: 3, 6]");
    counted = act(counted, "[Call]");
    expect(counted.dice[1]).toHaveLength(4);
    expect(counted.toMove).toBe(1);
  });

  it("losing the last die loses the game", () => {
    const state: LiarsDiceState = { ...game.init(5), dice: [[3], [1, 1, 4]], round: 7 };
    const over = act(act(state, "[Bid: 2, 3]"), "[Call]");
    expect(game.isTerminal(over)).toBe(true);
    expect(game.returns(over)).toEqual([-1, 1]);
    expect(game.toAct(over)).toEqual([]);
    expect(game.observe(over, 0).view).toContain("Player 0 has no dice left: Player 1 wins.");
    expect((game.observe(over, 1).infoState as LiarsDiceInfoState).diceCounts).toEqual([0, 3]);
  });

  it("enforces raising: higher quantity, or same quantity and higher face; no call without a bid", () => {
    const start = fixedHands();
    expect(game.isLegal(start, 0, { kind: "call" })).toBe(false);
    expect(game.legalActions(start, 0)).toHaveLength(60);
    const state = act(start, "[Bid: 3, 4]");
    expect(game.isLegal(state, 1, { kind: "bid", quantity: 3, face: 5 })).toBe(true);
    expect(game.isLegal(state, 1, { kind: "bid", quantity: 4, face: 1 })).toBe(true);
    expect(game.isLegal(state, 1, { kind: "bid", quantity: 3, face: 4 })).toBe(false);
    expect(game.isLegal(state, 1, { kind: "bid", quantity: 2, face: 6 })).toBe(false);
    expect(game.isLegal(state, 1, { kind: "bid", quantity: 11, face: 6 })).toBe(false);
    expect(game.isLegal(state, 0, { kind: "call" })).toBe(false);
    // 2 faces above 4 at quantity 3, then 7 quantities × 6 faces, then the call.
    expect(game.legalActions(state, 1)).toHaveLength(2 + 7 * 6 + 1);
    expect(() => game.apply(state, 1, { kind: "bid", quantity: 2, face: 2 })).toThrow(/cannot play \[Bid: 2, 2\]/);
  });

  it("never shows a hand to the other seat before the call; shows both after it", () => {
    const rng = createRng("liars-hidden");
    for (let seed = 0; seed < 100; seed++) {
      let state = game.init(seed);
      while (!game.isTerminal(state)) {
        for (const seat of [0, 1] as const) {
          const hidden = game.privateInfo(state, seat);
          expect(hidden).toHaveLength(1);
          expect(observedText(state, seat)).toContain(hidden[0]);
          expect(observedText(state, seat === 0 ? 1 : 0)).not.toContain(hidden[0]);
        }
        const seat = game.toAct(state)[0] as Seat;
        const round = state.round;
        const hands = state.dice;
        state = game.apply(state, seat, rng.choice(game.legalActions(state, seat)));
        if (state.round !== round || game.isTerminal(state)) {
          const reveal = `Player 1's dice in round ${round}: ${hands[1].join(" ")}`;
          expect(observedText(state, 0)).toContain(reveal);
        }
      }
      expect(state.turn).toBeLessThanOrEqual(game.info.maxTurns);
      expect(game.privateInfo(state, 0)).toEqual([]);
    }
  });

  it("parses like the reference: [Call] anywhere first, else the first bid", () => {
    const state = act(fixedHands(), "[Bid: 1, 1]");
    const read = (text: string) => {
      const result = game.parse(state, 1, text);
      return result.ok ? game.format(result.action) : result.reason;
    };
    expect(read("[Bid: 3, 4]")).toBe("[Bid: 3, 4]");
    expect(read("[bid 3 4]")).toBe("[Bid: 3, 4]");
    expect(read("[BID:3,4]")).toBe("[Bid: 3, 4]");
    expect(read("[bid: 3 , 4]")).toBe("[Bid: 3, 4]");
    expect(read("[bid: 3, 4 ]")).toMatch(/No action found/);
    expect(read("I think you lie: [CALL]")).toBe("[Call]");
    expect(read("[3, 4] [Call] [Bid: 9, 9]")).toBe("[Call]");
    expect(read("[Bid: 3, 4] ... no, [call]")).toBe("[Call]");
    expect(read("[Bid: 3, 4] [Bid: 5, 5]")).toBe("[Bid: 3, 4]");
    expect(read("[Bid: 2, 7]")).toMatch(/face must be 1 to 6/);
    expect(read("[Bid: 0, 3]")).toMatch(/at least 1/);
    expect(read("[Bid: 11, 3]")).toMatch(/cannot exceed the 10 dice/);
    expect(read("[Bid: three, 4]")).toMatch(/No action found/);
    expect(read("[Bid: [2, 3]]")).toMatch(/No action found/);
    expect(read("[Liar]")).toMatch(/No action found/);
    expect(read("[ Call ]")).toMatch(/No action found/);
  });

  it("rejects bad parameters with a clear error", () => {
    expect(() => liarsDice({ dice: 0 })).toThrow(/dice per player must be an integer from 1 to 20; got 0/);
    expect(liarsDice({ dice: 1 }).info.maxTurns).toBe(6 * 2 + 1);
  });
});
