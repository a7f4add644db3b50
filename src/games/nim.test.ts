import { describe, expect, it } from "vitest";
import type { Seat } from "./game.js";
import { nim, type NimInfoState, type NimState, nimWinningMoves } from "./nim.js";
import { createRng } from "../core/rng.js";

/** Exact solver: whether the player to move wins with perfect play (normal play: last object wins). */
function solve(piles: readonly number[], memo = new Map<string, boolean>()): boolean {
  const key = piles.join(",");
  const known = memo.get(key);
  if (known !== undefined) return known;
  let wins = false;
  piles.forEach((size, pile) => {
    for (let count = 1; count <= size && !wins; count++) {
      const next = piles.map((n, i) => (i === pile ? n - count : n));
      // Taking the last object wins at once; otherwise win iff the opponent then loses.
      if (next.every((n) => n === 0) || !solve(next, memo)) wins = true;
    }
  });
  memo.set(key, wins);
  return wins;
}

function winningMoves(piles: readonly number[]): string[] {
  return nim
    .legalActions({ ...nim.init(0), piles }, 0)
    .filter((a) => {
      const next = piles.map((n, i) => (i === a.pile ? n - a.count : n));
      return next.every((n) => n === 0) || !solve(next);
    })
    .map(nim.format);
}

describe("Nim-v0", () => {
  it("is a first-player win with [0 2] the only winning first move", () => {
    expect(solve([3, 4, 5])).toBe(true);
    expect(winningMoves([3, 4, 5])).toEqual(["[0 2]"]);
  });

  it("agrees with the nim-sum rule on every position of the 3-4-5 game", () => {
    for (let a = 0; a <= 3; a++) {
      for (let b = 0; b <= 4; b++) {
        for (let c = 0; c <= 5; c++) {
          if (a + b + c === 0) continue;
          expect(solve([a, b, c])).toBe((a ^ b ^ c) !== 0);
          expect(nimWinningMoves([a, b, c]).map(nim.format)).toEqual(winningMoves([a, b, c]));
        }
      }
    }
  });

  it("gives the win to whoever takes the last object", () => {
    let state: NimState = nim.init(7);
    for (const text of ["[0 3]", "[1 4]", "[2 4]", "[2 1]"]) {
      const seat = nim.toAct(state)[0] as Seat;
      const parsed = nim.parse(state, seat, text);
      if (!parsed.ok) throw new Error(parsed.reason);
      state = nim.apply(state, seat, parsed.action);
    }
    expect(nim.isTerminal(state)).toBe(true);
    expect(nim.returns(state)).toEqual([-1, 1]);
    expect(state.turn).toBe(4);
    expect(nim.observe(state, 0).view).toContain("Player 1 took the last object and wins.");
  });

  it("a perfect first player beats a random second player every time", () => {
    const rng = createRng("nim-perfect");
    for (let game = 0; game < 200; game++) {
      let state = nim.init(game);
      while (!nim.isTerminal(state)) {
        const seat = nim.toAct(state)[0] as Seat;
        const legal = nim.legalActions(state, seat);
        const best = seat === 0 ? winningMoves(state.piles)[0] : undefined;
        const action = best === undefined ? rng.choice(legal) : legal.find((a) => nim.format(a) === best);
        state = nim.apply(state, seat, action!);
      }
      expect(nim.returns(state)).toEqual([1, -1]);
      expect(state.turn).toBeLessThanOrEqual(nim.info.maxTurns);
    }
  });

  it("refuses taking more than a pile holds, and parses the published syntax", () => {
    const state = nim.init(0);
    expect(nim.isLegal(state, 0, { pile: 0, count: 4 })).toBe(false);
    expect(nim.isLegal(state, 1, { pile: 0, count: 1 })).toBe(false);
    expect(() => nim.apply(state, 0, { pile: 0, count: 4 })).toThrow(/cannot play \[0 4\]/);
    expect(nim.legalActions(state, 0)).toHaveLength(12);
    const read = (text: string) => {
      const result = nim.parse(state, 0, text);
      return result.ok ? nim.format(result.action) : result.reason;
    };
    expect(read("[0 2]")).toBe("[0 2]");
    expect(read("[ 2\t5 ]")).toBe("[2 5]");
    // The reference pattern \[\s*(\d+)\s+(\d+)\s*\]: only whitespace between the numbers.
    expect(read("I take [2, 5] now")).toMatch(/No move found/);
    expect(read("[Pile 1 3]")).toMatch(/No move found/);
    expect(read("[3] [1 1]")).toBe("[1 1]");
    expect(read("[3 1] [1 1]")).toMatch(/Pile 3 does not exist/);
    expect(read("[1 0]")).toMatch(/at least one/);
    expect(read("[0 4]")).toMatch(/only 3 objects left/);
    expect(read("[0 -2]")).toMatch(/No move found/);
    expect(read("[[1 2]]")).toBe("[1 2]");
    expect(read("[1 2 3]")).toMatch(/No move found/);
  });

  it("shows the piles in the view and typed state", () => {
    const obs = nim.observe(nim.init(0), 0);
    expect(obs.view).toContain("pile 2: 5 |||||");
    expect(obs.legal).toContain("[0 2]");
    expect((obs.infoState as NimInfoState).piles).toEqual([3, 4, 5]);
    expect(nim.observe(nim.init(0), 1).legal).toEqual([]);
  });
});
