import { describe, expect, it } from "vitest";
import type { Seat } from "./game.js";
import { createRng } from "../core/rng.js";
import { hasRoad, referenceHasRoad, simpleTak, simpleTakReference, type SimpleTakState } from "./simple-tak.js";

function play(moves: readonly number[]): SimpleTakState {
  let state = simpleTak.init(3);
  for (const cell of moves) {
    const seat = simpleTak.toAct(state)[0] as Seat;
    const parsed = simpleTak.parse(state, seat, `[${cell}]`);
    if (!parsed.ok) throw new Error(parsed.reason);
    state = simpleTak.apply(state, seat, parsed.action);
  }
  return state;
}

/** Independent road check: union-find over orthogonal neighbours, then compare edge sets per group. */
function roadByUnionFind(board: readonly (Seat | null)[], seat: Seat): boolean {
  const parent = Array.from({ length: 16 }, (_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
  for (let i = 0; i < 16; i++) {
    if (board[i] !== seat) continue;
    if (i % 4 < 3 && board[i + 1] === seat) parent[find(i)] = find(i + 1);
    if (i < 12 && board[i + 4] === seat) parent[find(i)] = find(i + 4);
  }
  const groups = (cells: number[]) => new Set(cells.filter((i) => board[i] === seat).map(find));
  const meet = (a: Set<number>, b: Set<number>) => [...a].some((g) => b.has(g));
  return meet(groups([0, 1, 2, 3]), groups([12, 13, 14, 15])) || meet(groups([0, 4, 8, 12]), groups([3, 7, 11, 15]));
}

describe("SimpleTak-v0", () => {
  it("wins with a vertical road down column 1", () => {
    // Player 0: 1, 5, 9, 13; Player 1: 0, 2, 4 (no road).
    const moves = [1, 0, 5, 2, 9, 4];
    expect(simpleTak.isTerminal(play(moves))).toBe(false);
    const state = play([...moves, 13]);
    expect(simpleTak.returns(state)).toEqual([1, -1]);
    expect(simpleTak.observe(state, 1).view).toContain("Player 0 (O) completed a road and wins.");
  });

  it("wins with a bent horizontal road for the second player", () => {
    // Player 1: 4, 5, 9, 10, 11 joins the left edge (4) to the right edge (11) through a bend.
    const moves = [0, 4, 1, 5, 2, 9, 12, 10, 15];
    expect(simpleTak.isTerminal(play(moves))).toBe(false);
    const state = play([...moves, 11]);
    expect(simpleTak.returns(state)).toEqual([-1, 1]);
  });

  it("does not join stones diagonally, and a full board without a road draws", () => {
    // O O X X / X X O O / O O X X / X X O O: every group has two stones, so no road.
    const o = [0, 1, 6, 7, 8, 9, 14, 15];
    const x = [2, 3, 4, 5, 10, 11, 12, 13];
    const moves = o.flatMap((cell, i) => [cell, x[i]!]);
    const state = play(moves);
    expect(simpleTak.isTerminal(state)).toBe(true);
    expect(state.turn).toBe(16);
    expect(simpleTak.returns(state)).toEqual([0, 0]);
    expect(simpleTak.observe(state, 0).view).toContain("draw");
    const diagonal: (Seat | null)[] = Array(16).fill(null);
    for (const cell of [0, 5, 10, 15]) diagonal[cell] = 0;
    expect(hasRoad(diagonal, 0)).toBe(false);
  });

  it("agrees with a union-find road check over 1000 random games", () => {
    const rng = createRng("tak-random");
    const outcomes = { win0: 0, win1: 0, draw: 0 };
    for (let game = 0; game < 1000; game++) {
      let state = simpleTak.init(game);
      while (!simpleTak.isTerminal(state)) {
        const seat = simpleTak.toAct(state)[0] as Seat;
        expect(roadByUnionFind(state.board, 0) || roadByUnionFind(state.board, 1)).toBe(false);
        state = simpleTak.apply(state, seat, rng.choice(simpleTak.legalActions(state, seat)));
      }
      const [r0] = simpleTak.returns(state);
      expect(roadByUnionFind(state.board, 0)).toBe(r0 === 1);
      expect(roadByUnionFind(state.board, 1)).toBe(r0 === -1);
      if (r0 === 1) outcomes.win0++;
      else if (r0 === -1) outcomes.win1++;
      else outcomes.draw++;
    }
    expect(outcomes.win0).toBeGreaterThan(outcomes.win1);
    expect(outcomes.draw).toBeGreaterThan(0);
  });

  it("refuses occupied and missing cells; parses the first match of the reference pattern", () => {
    const state = play([5]);
    expect(simpleTak.isLegal(state, 1, { cell: 5 })).toBe(false);
    expect(simpleTak.legalActions(state, 1)).toHaveLength(15);
    expect(() => simpleTak.apply(state, 1, { cell: 5 })).toThrow(/cannot play \[5\]/);
    const read = (text: string) => {
      const result = simpleTak.parse(state, 1, text);
      return result.ok ? result.action.cell : result.reason;
    };
    expect(read("[7]")).toBe(7);
    expect(read("[ 07 ]")).toBe(7);
    // The reference pattern \[\s*(\d+)\s*\]: "[cell 12]" is not a move, so [3] is read.
    expect(read("place at [cell 12] or [3]")).toBe(3);
    expect(read("[16]")).toMatch(/Cell 16 does not exist/);
    expect(read("[16] [2]")).toMatch(/Cell 16 does not exist/);
    expect(read("[a1] [2]")).toBe(2);
    expect(read("5")).toMatch(/No cell found/);
    expect(simpleTak.observe(state, 1).view).toContain("  4  O  6  7");
  });

  it("finds a bent road the reference's search misses; SimpleTak-v0:reference reproduces the miss", () => {
    const moves = [1, 6, 2, 8, 3, 10, 4, 15, 5];
    const board: (0 | 1 | null)[] = Array<0 | 1 | null>(16).fill(null);
    moves.forEach((cell, i) => (board[cell] = i % 2 === 0 ? 0 : 1));
    // O on 1, 2, 3, 4, 5 joins the left edge (4) to the right edge (3) through 5 and 1.
    expect(hasRoad(board, 0)).toBe(true);
    expect(referenceHasRoad(board, 0)).toBe(false);
    const ours = play(moves);
    expect(simpleTak.isTerminal(ours)).toBe(true);
    expect(simpleTak.returns(ours)).toEqual([1, -1]);
    let ref = simpleTakReference.init(0);
    for (const cell of moves) ref = simpleTakReference.apply(ref, simpleTakReference.toAct(ref)[0] as 0 | 1, { cell });
    expect(simpleTakReference.isTerminal(ref)).toBe(false);
    // The reference only ever misses roads: on 2,000 random boards, every road it finds is one.
    const rng = createRng("tak-reference");
    let found = 0;
    let missed = 0;
    for (let i = 0; i < 2000; i++) {
      const cells = Array.from({ length: 16 }, () => rng.choice([0, 1, null] as const));
      if (referenceHasRoad(cells, 0)) {
        expect(hasRoad(cells, 0)).toBe(true);
        found++;
      } else if (hasRoad(cells, 0)) {
        missed++;
      }
    }
    expect(found).toBeGreaterThan(0);
    expect(missed).toBeGreaterThan(0);
  });
});
