import { describe, expect, it } from "vitest";
import type { Seat } from "./game.js";
import { createRng } from "../core/rng.js";
import { snake, snakeReference, type SnakeBody, type SnakeDirection, type SnakeInfoState, type SnakeState } from "./snake.js";

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

  it("moving off the board loses; running into a body loses, but not into a tail that moves away", () => {
    const wall = playRound(position(body([at(0, 0)]), body([at(4, 4)]), [at(2, 2), at(3, 3)]), "up", "left");
    expect(snake.isTerminal(wall)).toBe(true);
    expect(snake.returns(wall)).toEqual([-1, 1]);
    expect(snake.observe(wall, 0).view).toContain("Player 0 moved off the board");

    // Player 0's square snake turns into the cell its tail leaves this round: it lives (the
    // reference excludes a non-growing tail from the occupied cells).
    const loop = body([at(2, 2), at(2, 1), at(1, 1), at(1, 2)]);
    const chase = playRound(position(loop, body([at(4, 4)], 0), [at(0, 0), at(0, 1)]), "up", "up");
    expect(snake.isTerminal(chase)).toBe(false);
    expect(chase.snakes[0].cells).toEqual([at(1, 2), at(2, 2), at(2, 1), at(1, 1)]);
    // Turning back into its own neck kills it.
    const neck = playRound(position(loop, body([at(4, 4)], 0), [at(0, 0), at(0, 1)]), "left", "up");
    expect(neck.snakes[0].death).toBe("ran into its own body");
    expect(snake.returns(neck)).toEqual([-1, 1]);
    // A tail does count when its snake eats this round (the snake grows, the tail stays).
    const fed = playRound(position(loop, body([at(4, 4)], 0), [at(3, 4), at(0, 1)]), "up", "up");
    expect(fed.snakes[0].death).toBe(null);
    const grower = body([at(2, 2), at(2, 1), at(1, 1), at(1, 2)]);
    const bite = playRound(position(body([at(0, 2)]), grower, [at(3, 2), at(0, 0)]), "down", "down");
    expect(bite.snakes[0].death).toBe("ran into Player 1's snake");

    const into = playRound(position(body([at(3, 1)]), body([at(2, 2), at(2, 1), at(2, 0)]), [at(4, 4), at(0, 4)]), "up", "up");
    expect(into.snakes[0].death).toBe("ran into Player 1's snake");
    expect(snake.returns(into)).toEqual([-1, 1]);
    // The other snake's tail moves away: following it is safe.
    const follow = playRound(position(body([at(3, 0)]), body([at(2, 2), at(2, 1), at(2, 0)]), [at(4, 4), at(0, 4)]), "up", "up");
    expect(follow.snakes[0].death).toBe(null);
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

  it("ends after 40 moves (20 rounds: the reference counts every single move): more apples wins, equal draws", () => {
    expect(snake.info.maxTurns).toBe(40);
    const late = position(body([at(1, 1), at(1, 0)]), body([at(3, 3)]), [at(4, 0), at(0, 4)], 19);
    const ended = playRound(late, "right", "down");
    expect(snake.isTerminal(ended)).toBe(true);
    expect(ended.turn).toBe(40);
    expect(snake.returns(ended)).toEqual([1, -1]);
    expect(snake.observe(ended, 1).view).toContain("All 20 rounds are played.");
    const tied = playRound(position(body([at(1, 1)]), body([at(3, 3)]), [at(4, 0), at(0, 4)], 19), "right", "down");
    expect(snake.returns(tied)).toEqual([0, 0]);
    expect(snake.isTerminal(playRound(position(body([at(1, 1)]), body([at(3, 3)]), [at(4, 0), at(0, 4)], 18), "right", "down"))).toBe(false);
  });

  it("reference rules score a lone survivor 1 and every other snake its share of the apples", () => {
    const ref = (s0: SnakeBody, s1: SnakeBody, apples: number[], round = 0): SnakeState => ({ ...snakeReference.init(9), snakes: [s0, s1], apples, round, turn: 2 * round });
    const play = (state: SnakeState, m0: SnakeDirection, m1: SnakeDirection) => snakeReference.apply(snakeReference.apply(state, 0, m0), 1, m1);
    // Player 0 dies at the wall with 2 apples; Player 1 survives with 0: both score 1.
    expect(snakeReference.returns(play(ref(body([at(0, 0), at(0, 1), at(0, 2)]), body([at(4, 4)]), [at(2, 2), at(3, 3)]), "up", "left"))).toEqual([1, 1]);
    // The cap with 2 apples against 1: 2/3 and 1/3.
    const [r0, r1] = snakeReference.returns(play(ref(body([at(1, 1), at(1, 0), at(0, 0)]), body([at(3, 3), at(3, 4)]), [at(4, 0), at(0, 4)], 19), "right", "down"));
    expect(r0).toBeCloseTo(2 / 3, 12);
    expect(r1).toBeCloseTo(1 / 3, 12);
    // A head-on collision with no apples: 0 and 0 (total counted as 1).
    expect(snakeReference.returns(play(ref(body([at(2, 1)]), body([at(2, 3)]), [at(0, 0), at(4, 4)]), "right", "left"))).toEqual([0, 0]);
    expect(snakeReference.info.id).toBe("Snake-v0:reference");
  });

  it("spawns the snakes on inner cells, the second as far from the first as possible", () => {
    for (let seed = 0; seed < 200; seed++) {
      const state = snake.init(seed);
      const [a, b] = state.snakes.map((s) => s.cells[0] as number);
      for (const cell of [a, b]) {
        expect(Math.floor((cell as number) / 5)).toBeGreaterThanOrEqual(1);
        expect(Math.floor((cell as number) / 5)).toBeLessThanOrEqual(3);
        expect((cell as number) % 5).toBeGreaterThanOrEqual(1);
        expect((cell as number) % 5).toBeLessThanOrEqual(3);
      }
      const dist = (x: number, y: number) => Math.hypot(Math.floor(x / 5) - Math.floor(y / 5), (x % 5) - (y % 5));
      const inner = [6, 7, 8, 11, 12, 13, 16, 17, 18].filter((cell) => cell !== a);
      // Farthest from the first: √2 from the centre, √5 from an edge middle, 2√2 from a corner.
      expect(dist(a!, b!)).toBe(Math.max(...inner.map((cell) => dist(a!, cell))));
      expect(new Set(state.apples).size).toBe(2);
    }
  });

  it("random games end within 40 moves, zero-sum, same seed same game", () => {
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

  it("parses like the reference: [up] [w] [down] [s] [left] [a] [right] [d], in that order, anywhere, any case", () => {
    const state = snake.init(0);
    const read = (text: string) => {
      const result = snake.parse(state, 0, text);
      return result.ok ? result.action : result.reason;
    };
    expect(read("[UP]")).toBe("up");
    expect(read("[w]")).toBe("up");
    expect(read("[S]")).toBe("down");
    expect(read("[a] or [d]")).toBe("left");
    // Precedence is by direction, not by position in the reply.
    expect(read("go [down] not [up]")).toBe("up");
    expect(read("[right] [left]")).toBe("left");
    expect(read("[s] [w]")).toBe("up");
    expect(read("[north] [down]")).toBe("down");
    expect(read("go [ left ]")).toMatch(/No direction found/);
    expect(read("up")).toMatch(/No direction found/);
  });
});
