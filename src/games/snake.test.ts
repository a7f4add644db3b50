import { describe, expect, it } from "vitest";
import type { Seat } from "./game.js";
import { createRng } from "./rng.js";
import { snake, type SnakeBody, type SnakeDirection, type SnakeInfoState, type SnakeState } from "./snake.js";

const at = (row: number, column: number) => row * 5 + column;
const body = (cells: number[], score = cells.length - 1): SnakeBody => ({ cells, score, death: null });

/** A state with chosen snakes and apples, round `round` already played. */
function position(s0: SnakeBody, s1: SnakeBody, apples: number[], round = 0): SnakeState {
  return { ...snake.init(9), snakes: [s0, s1], apples, round, turn: 2 * round };
}

function playRound(state: SnakeState, m0: SnakeDirection, m1: SnakeDirection): SnakeState {
  return snake.apply(snake.apply(state, 0, m0), 1, m1);
}

describe("Snake-v0", () => {
  it("is simultaneous: both seats owe a move, the first is buffered, the second resolves", () => {
    const start = snake.init(1);
    expect(snake.info.simultaneous).toBe(true);
    expect(snake.toAct(start)).toEqual([0, 1]);
    const half = snake.apply(start, 1, "left");
    expect(snake.toAct(half)).toEqual([0]);
    expect(snake.legalActions(half, 1)).toEqual([]);
    expect(snake.isLegal(half, 1, "up")).toBe(false);
    expect(half.turn).toBe(1);
    const full = snake.apply(half, 0, "right");
    expect(full.turn).toBe(2);
    expect(full.round).toBe(1);
    // Resolution does not depend on who moved first.
    const other = snake.apply(snake.apply(start, 0, "right"), 1, "left");
    expect({ ...other, history: [] }).toEqual({ ...full, history: [] });
  });

  it("never reveals a buffered move to the other seat", () => {
    const start = snake.init(2);
    const seen = (state: SnakeState, seat: Seat) => JSON.stringify(snake.observe(state, seat));
    const views = (["up", "down", "left", "right"] as const).map((d) => seen(snake.apply(start, 0, d), 1));
    expect(new Set(views).size).toBe(1);
    const half = snake.apply(start, 0, "down");
    const hidden = snake.privateInfo(half, 0);
    expect(hidden).toEqual(["Player 0 has chosen [down] for round 1"]);
    expect(seen(half, 0)).toContain(hidden[0]);
    expect(seen(half, 1)).not.toContain(hidden[0]);
    expect(snake.observe(half, 1).view).toContain("Player 0 has already chosen");
    expect((snake.observe(half, 0).infoState as SnakeInfoState).ownMove).toBe("down");
  });

  it("eating an apple grows the snake and respawns an apple on an empty cell", () => {
    const state = position(body([at(2, 1)]), body([at(4, 4)]), [at(2, 2), at(0, 4)]);
    const next = playRound(state, "right", "up");
    expect(next.snakes[0].cells).toEqual([at(2, 2), at(2, 1)]);
    expect(next.snakes[0].score).toBe(1);
    expect(next.snakes[1].cells).toEqual([at(3, 4)]);
    expect(next.apples).toHaveLength(2);
    expect(next.apples).toContain(at(0, 4));
    const occupied = [...next.snakes[0].cells, ...next.snakes[1].cells];
    expect(new Set([...occupied, ...next.apples]).size).toBe(occupied.length + 2);
    expect(snake.isTerminal(next)).toBe(false);
  });

  it("moving off the board loses; running into a body (tail included) loses", () => {
    const wall = playRound(position(body([at(0, 0)]), body([at(4, 4)]), [at(2, 2), at(3, 3)]), "up", "left");
    expect(snake.isTerminal(wall)).toBe(true);
    expect(snake.returns(wall)).toEqual([-1, 1]);
    expect(snake.observe(wall, 0).view).toContain("Player 0 moved off the board");

    // Player 0's square snake turns into the cell its tail occupies at the start of the round.
    const loop = body([at(2, 2), at(2, 1), at(1, 1), at(1, 2)]);
    const self = playRound(position(loop, body([at(4, 4)], 0), [at(0, 0), at(0, 1)]), "up", "up");
    expect(snake.returns(self)).toEqual([-1, 1]);
    expect(self.snakes[0].death).toBe("ran into its own body");

    const into = playRound(position(body([at(3, 0)]), body([at(2, 2), at(2, 1), at(2, 0)]), [at(4, 4), at(0, 4)]), "up", "up");
    expect(into.snakes[0].death).toBe("ran into Player 1's snake");
    expect(snake.returns(into)).toEqual([-1, 1]);
  });

  it("a head-on collision kills both: more apples wins, equal draws; swapping cells counts too", () => {
    const even = playRound(position(body([at(2, 1)]), body([at(2, 3)]), [at(0, 0), at(4, 4)]), "right", "left");
    expect(even.snakes.map((s) => s.death !== null)).toEqual([true, true]);
    expect(snake.returns(even)).toEqual([0, 0]);
    const richer = playRound(position(body([at(2, 1), at(2, 0)]), body([at(2, 3)]), [at(0, 0), at(4, 4)]), "right", "left");
    expect(snake.returns(richer)).toEqual([1, -1]);
    const swap = playRound(position(body([at(2, 1)]), body([at(2, 2)]), [at(0, 0), at(4, 4)]), "right", "left");
    expect(snake.returns(swap)).toEqual([0, 0]);
    expect(swap.snakes[0].death).toBe("collided head-on with Player 1");
  });

  it("after 40 rounds more apples wins and equal draws", () => {
    const late = position(body([at(1, 1), at(1, 0)]), body([at(3, 3)]), [at(4, 0), at(0, 4)], 39);
    const ended = playRound(late, "right", "down");
    expect(snake.isTerminal(ended)).toBe(true);
    expect(ended.turn).toBe(80);
    expect(snake.returns(ended)).toEqual([1, -1]);
    expect(snake.observe(ended, 1).view).toContain("All 40 rounds are played.");
    const tied = playRound(position(body([at(1, 1)]), body([at(3, 3)]), [at(4, 0), at(0, 4)], 39), "right", "down");
    expect(snake.returns(tied)).toEqual([0, 0]);
  });

  it("random games end within 80 moves, zero-sum, same seed same game", () => {
    const playOut = (seed: number) => {
      const rng = createRng(seed);
      let state = snake.init(seed);
      while (!snake.isTerminal(state)) {
        const seat = rng.choice(snake.toAct(state));
        state = snake.apply(state, seat, rng.choice(snake.legalActions(state, seat)));
      }
      return state;
    };
    let longest = 0;
    for (let seed = 0; seed < 500; seed++) {
      const state = playOut(seed);
      longest = Math.max(longest, state.turn);
      expect(state.turn).toBeLessThanOrEqual(snake.info.maxTurns);
      const [r0, r1] = snake.returns(state);
      expect(r0 + r1).toBe(0);
      expect(state.apples.length).toBe(2);
    }
    expect(longest).toBeGreaterThan(2);
    expect(playOut(7)).toEqual(playOut(7));
  });

  it("parses directions case-insensitively, first token first", () => {
    const state = snake.init(0);
    const read = (text: string) => {
      const result = snake.parse(state, 0, text);
      return result.ok ? result.action : result.reason;
    };
    expect(read("[UP]")).toBe("up");
    expect(read("go [ left ] not [right]")).toBe("left");
    expect(read("[north] [down]")).toBe("down");
    expect(read("[w]")).toMatch(/No valid action/);
    expect(read("up")).toMatch(/No valid action/);
  });
});
