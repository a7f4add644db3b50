import { describe, expect, it } from "vitest";
import { createRng } from "../core/rng.js";
import type { GameInfo, Seat } from "./game.js";
import { otherSeat } from "./game.js";
import { toBoth } from "./seat-log.js";
import { turnBasedGame, type TurnState, winnerReturns } from "./turn-based.js";

// A toy race: each move adds 1 or 2 to a shared count; whoever reaches 5 wins.
interface RaceState extends TurnState {
  readonly count: number;
  readonly winner: Seat | null;
}

const info: GameInfo = {
  id: "Race-test", name: "Race", summary: "toy", params: {}, seats: 2, maxTurns: 5, minReturn: -1, maxReturn: 1,
  information: "perfect", actionSpace: "enumerable", simultaneous: false,
};

const race = turnBasedGame<RaceState, number>({
  info,
  name: "Race",
  init: (seed) => ({ rng: createRng(seed).state(), turn: 0, toMove: 0, history: [], count: 0, winner: null }),
  isOver: (state) => state.winner !== null,
  legalActions: (state, seat) => (state.winner === null && seat === state.toMove ? [1, 2] : []),
  isLegal: (state, seat, step) => state.winner === null && seat === state.toMove && (step === 1 || step === 2),
  parse: (_state, _seat, text) => (text === "[1]" || text === "[2]" ? { ok: true, action: Number(text[1]) } : { ok: false, reason: "say [1] or [2]" }),
  format: (step) => `[${step}]`,
  play(state, seat, step) {
    const count = state.count + step;
    const next = { ...state, count, toMove: otherSeat(seat), winner: count >= 5 ? seat : null };
    return { ...next, history: [...next.history, toBoth({ kind: "notice", text: `count ${count}` })] };
  },
  outcomeText: (state) => `Player ${state.winner} wins.`,
  outcome: (state) => winnerReturns(state.winner),
  rules: (seat) => `You are Player ${seat}.`,
  view: (state, seat) => `count ${state.count}; you are ${seat}`,
  infoState: (state, seat) => ({ seat, count: state.count }),
});

describe("turnBasedGame", () => {
  it("counts and announces a move before the game's own notices, and the outcome last", () => {
    let state = race.init(0);
    for (const [seat, step] of [[0, 2], [1, 2], [0, 1]] as const) state = race.apply(state, seat, step);
    expect(state.turn).toBe(3);
    expect(race.isTerminal(state)).toBe(true);
    expect(state.history.map((e) => e.message.text)).toEqual(["[2]", "count 2", "[2]", "count 4", "[1]", "count 5", "Player 0 wins."]);
    expect(race.returns(state)).toEqual([1, -1]);
    expect(race.toAct(state)).toEqual([]);
  });

  it("refuses an illegal move with the game's name, and returns [0, 0] before the end", () => {
    const state = race.init(0);
    expect(() => race.apply(state, 1, 1)).toThrow("Race: Player 1 cannot play [1] now");
    expect(race.returns(state)).toEqual([0, 0]);
    expect(race.toAct(state)).toEqual([0]);
  });

  it("observes: rules, delivered history, then the view; legal moves in canonical text", () => {
    const state = race.apply(race.init(0), 0, 1);
    const seen = race.observe(state, 1);
    expect(seen.log.map((m) => m.kind)).toEqual(["rules", "action", "notice", "state"]);
    expect(seen.log[0]?.text).toBe("You are Player 1.");
    expect(seen.view).toBe("count 1; you are 1");
    expect(seen.legal).toEqual(["[1]", "[2]"]);
    expect(seen.infoState).toEqual({ seat: 1, count: 1 });
    expect(race.privateInfo(state, 1)).toEqual([]);
  });

  it("winnerReturns: +1/−1 for a winner, 0 each for a draw", () => {
    expect(winnerReturns(1)).toEqual([-1, 1]);
    expect(winnerReturns(null)).toEqual([0, 0]);
  });
});
