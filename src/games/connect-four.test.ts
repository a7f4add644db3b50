import { describe, expect, it } from "vitest";
import { connectFour, type ConnectFourInfoState, type ConnectFourState } from "./connect-four.js";
import type { Seat } from "./game.js";
import { createRng } from "../core/rng.js";

/** Plays canonical replies for whoever is to act, checking each is legal. */
function play(moves: readonly string[], seed = 1): ConnectFourState {
  let state = connectFour.init(seed);
  for (const text of moves) {
    const seat = connectFour.toAct(state)[0] as Seat;
    const parsed = connectFour.parse(state, seat, text);
    if (!parsed.ok) throw new Error(`${text}: ${parsed.reason}`);
    state = connectFour.apply(state, seat, parsed.action);
  }
  return state;
}

/** Independent check: any four equal discs in any window, by brute force over all windows. */
function hasLine(board: readonly (Seat | null)[], seat: Seat): boolean {
  const at = (r: number, c: number) => (r >= 0 && r < 6 && c >= 0 && c < 7 ? board[r * 7 + c] : undefined);
  for (let r = 0; r < 6; r++) {
    for (let c = 0; c < 7; c++) {
      for (const [dr, dc] of [[0, 1], [1, 0], [1, 1], [1, -1]]) {
        if ([0, 1, 2, 3].every((k) => at(r + k * dr!, c + k * dc!) === seat)) return true;
      }
    }
  }
  return false;
}

describe("ConnectFour-v0", () => {
  it("drops discs to the lowest empty cell of a column", () => {
    const state = play(["[3]", "[col 3]"]);
    expect(state.board[5 * 7 + 3]).toBe(0);
    expect(state.board[4 * 7 + 3]).toBe(1);
    expect(state.board.filter((cell) => cell !== null)).toHaveLength(2);
    const view = connectFour.observe(state, 0).view;
    expect(view).toContain(" . . . O . . .\n . . . X . . .");
  });

  it("ends with a vertical four for the first player", () => {
    const state = play(["[0]", "[1]", "[0]", "[1]", "[0]", "[1]", "[0]"]);
    expect(connectFour.isTerminal(state)).toBe(true);
    expect(connectFour.returns(state)).toEqual([1, -1]);
    expect(connectFour.toAct(state)).toEqual([]);
    expect(connectFour.observe(state, 1).view).toContain("Player 0 (X) wins");
  });

  it("detects a diagonal four", () => {
    const moves = ["[0]", "[1]", "[1]", "[2]", "[2]", "[3]", "[2]", "[3]", "[3]", "[6]"];
    const before = play(moves);
    expect(connectFour.isTerminal(before)).toBe(false);
    const after = play([...moves, "[3]"]);
    expect(connectFour.returns(after)).toEqual([1, -1]);
  });

  it("detects an anti-diagonal four for the second player", () => {
    // Player 1 builds (5,6) (4,5) (3,4) (2,3); Player 0 plays filler discs that never line up.
    const moves = ["[0]", "[6]", "[5]", "[5]", "[4]", "[3]", "[4]", "[4]", "[3]", "[0]", "[3]", "[3]"];
    expect(connectFour.isTerminal(play(moves.slice(0, -1)))).toBe(false);
    const state = play(moves);
    expect(connectFour.returns(state)).toEqual([-1, 1]);
    expect(hasLine(state.board, 1)).toBe(true);
    expect(hasLine(state.board, 0)).toBe(false);
  });

  it("refuses a full column and out-of-range columns", () => {
    const state = play(["[0]", "[0]", "[0]", "[0]", "[0]", "[0]"]);
    expect(connectFour.isLegal(state, 0, { column: 0 })).toBe(false);
    expect(connectFour.legalActions(state, 0).map(connectFour.format)).not.toContain("[col 0]");
    expect(connectFour.observe(state, 0).legal).toHaveLength(6);
    expect(() => connectFour.apply(state, 0, { column: 0 })).toThrow(/cannot play \[col 0\]/);
    expect(connectFour.isLegal(state, 1, { column: 2 })).toBe(false);
    const far = connectFour.parse(state, 0, "[col 7]");
    expect(far.ok).toBe(false);
    expect(far.ok ? "" : far.reason).toMatch(/0 to 6/);
  });

  it("agrees with a brute-force line check over 1000 random games, and draws only on a full board", () => {
    const rng = createRng("connect-four-random");
    let draws = 0;
    for (let game = 0; game < 1000; game++) {
      let state = connectFour.init(game);
      while (!connectFour.isTerminal(state)) {
        const seat = connectFour.toAct(state)[0] as Seat;
        const before = state;
        state = connectFour.apply(state, seat, rng.choice(connectFour.legalActions(state, seat)));
        // The game must end exactly when the mover completes a line (or fills the board).
        expect(hasLine(before.board, seat)).toBe(false);
      }
      const [r0] = connectFour.returns(state);
      expect(hasLine(state.board, 0)).toBe(r0 === 1);
      expect(hasLine(state.board, 1)).toBe(r0 === -1);
      if (r0 === 0) {
        draws++;
        expect(state.board.every((cell) => cell !== null)).toBe(true);
        expect(state.turn).toBe(42);
      }
    }
    expect(draws).toBeGreaterThan(0);
  });

  it("parses like the reference's greedy pattern: the last [col N]/[N] on the first line that has one", () => {
    const state = connectFour.init(0);
    const read = (text: string) => {
      const result = connectFour.parse(state, 0, text);
      return result.ok ? result.action.column : result.reason;
    };
    expect(read("[3]")).toBe(3);
    expect(read("I will play [COL 4] now")).toBe(4);
    expect(read("[col4]")).toBe(4);
    expect(read("[004]")).toBe(4);
    expect(read("[ column 6 ]")).toMatch(/No column found/);
    expect(read("[ 6 ]")).toMatch(/No column found/);
    expect(read("[[2]]")).toBe(2);
    // Greedy: the last match on the line wins.
    expect(read("[left] then [5] then [1]")).toBe(1);
    expect(read("[2] [9]")).toMatch(/Column 9 does not exist/);
    expect(read("[9] [2]")).toBe(2);
    // ...but only on the first line with a match.
    expect(read("maybe [3] or [4]\nno: [6]")).toBe(4);
    expect(read("thinking...\n[5]\n[6]")).toBe(5);
    // A match may run over a newline (\s), but it must START on the first line with one.
    expect(read("[col\n2] [3]\n[6]")).toBe(2);
    expect(read("[col -1]")).toMatch(/No column found/);
    expect(read("col 3")).toMatch(/No column found/);
    expect(read("[3.5]")).toMatch(/No column found/);
    expect(read("[99999999999999999999999]")).toMatch(/does not exist/);
    expect(read("x".repeat(100_000) + "[5]")).toBe(5);
    expect(read("[1]" + "x".repeat(100_000) + "[5]")).toBe(5);
  });

  it("reports the board as typed information", () => {
    const info = connectFour.observe(play(["[3]"]), 1).infoState as ConnectFourInfoState;
    expect(info.rows[5]?.[3]).toBe(0);
    expect(info.toMove).toBe(1);
    expect(info.openColumns).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });
});
