import { describe, expect, it } from "vitest";
import { randomAgent } from "./agents/random.js";
import { playLocal } from "./agents/local-match.js";
import { ticTacToeMinimaxAgent } from "./agents/tictactoe-minimax.js";
import { createRng } from "../core/rng.js";
import type { TicTacToeState } from "./tictactoe.js";
import { ticTacToe, ticTacToeKey, ticTacToeOptimalMoves, ticTacToeSolve } from "./tictactoe.js";

function play(cells: readonly number[]): TicTacToeState {
  let s = ticTacToe.init(1);
  for (const c of cells) s = ticTacToe.apply(s, ticTacToe.toAct(s)[0] as 0 | 1, c);
  return s;
}

describe("TicTacToe-v0 rules", () => {
  it("Player 0 (O) moves first and seats alternate", () => {
    const s = ticTacToe.init(7);
    expect(ticTacToe.toAct(s)).toEqual([0]);
    expect(ticTacToe.legalActions(s, 0)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(ticTacToe.legalActions(s, 1)).toEqual([]);
    expect(ticTacToe.toAct(play([4]))).toEqual([1]);
  });

  it("three in a row wins for the seat that completed it", () => {
    // O: 0, 1, 2 (top row); X: 3, 4.
    const s = play([0, 3, 1, 4, 2]);
    expect(ticTacToe.isTerminal(s)).toBe(true);
    expect(ticTacToe.returns(s)).toEqual([1, -1]);
    expect(ticTacToe.toAct(s)).toEqual([]);
    // X wins on the anti-diagonal 2, 4, 6.
    const x = play([0, 2, 1, 4, 8, 6]);
    expect(ticTacToe.returns(x)).toEqual([-1, 1]);
  });

  it("a full board with no line is a draw", () => {
    // O X O / O X X / X O O
    const s = play([0, 1, 2, 4, 3, 5, 7, 6, 8]);
    expect(ticTacToe.isTerminal(s)).toBe(true);
    expect(ticTacToe.returns(s)).toEqual([0, 0]);
  });

  it("apply never mutates its input and rejects illegal moves", () => {
    const s = play([4]);
    const before = JSON.stringify(s);
    ticTacToe.apply(s, 1, 0);
    expect(JSON.stringify(s)).toBe(before);
    expect(() => ticTacToe.apply(s, 1, 4)).toThrow(/cannot play 4/);
    expect(() => ticTacToe.apply(s, 0, 0)).toThrow();
    expect(ticTacToe.isLegal(s, 1, 9)).toBe(false);
    expect(ticTacToe.isLegal(s, 1, 1.5)).toBe(false);
  });

  it("the view numbers empty cells and lists the available moves", () => {
    const obs = ticTacToe.observe(play([4, 0]), 0);
    expect(obs.view).toContain(" X | 1 | 2");
    expect(obs.view).toContain(" 3 | O | 5");
    expect(obs.view).toContain("Available moves: [1], [2], [3], [5], [6], [7], [8]");
    expect(obs.legal).toEqual(["[1]", "[2]", "[3]", "[5]", "[6]", "[7]", "[8]"]);
    expect(obs.log[0]?.kind).toBe("rules");
    expect(obs.log[0]?.text).toContain("[4]");
    expect(obs.log.filter((m) => m.kind === "action").map((m) => m.text)).toEqual(["[4]", "[0]"]);
    const waiting = ticTacToe.observe(play([4, 0]), 1);
    expect(waiting.legal).toEqual([]);
    expect(waiting.view).toContain("Waiting for Player 0");
  });

  it("the terminal observation reports the outcome to both seats", () => {
    const s = play([0, 3, 1, 4, 2]);
    expect(ticTacToe.observe(s, 0).view).toContain("You win");
    expect(ticTacToe.observe(s, 1).view).toContain("You lose");
    const log = ticTacToe.observe(s, 1).log;
    expect(log.at(-2)?.kind).toBe("notice");
    expect(log.at(-1)).toEqual({ kind: "state", text: ticTacToe.observe(s, 1).view });
  });
});

describe("TicTacToe-v0 parser", () => {
  const s = play([4]);
  const parse = (text: string) => ticTacToe.parse(s, 1, text);

  it("takes the first bracketed number as the reference does: spaces inside, leading zeros, int() value", () => {
    expect(parse("[0]")).toMatchObject({ ok: true, action: 0 });
    expect(parse("I will play [ 8 ] then [2]")).toMatchObject({ ok: true, action: 8 });
    expect(parse("[07]")).toMatchObject({ ok: true, action: 7 });
    expect(parse("[005]")).toMatchObject({ ok: true, action: 5, match: { text: "[005]" } });
    expect(parse("[ 5 ]")).toMatchObject({ ok: true, action: 5 });
    expect(parse("[\n5\t]")).toMatchObject({ ok: true, action: 5 });
    expect(parse("[0000000000000000000005]")).toMatchObject({ ok: true, action: 5 });
    // The first match decides, even when it is not a legal move (cell 4 is taken).
    expect(parse("[9] [5]").ok).toBe(false);
    expect(parse("[004] [5]").ok).toBe(false);
  });

  it("rejects missing, out-of-range and occupied cells with a reason", () => {
    for (const text of ["", "4", "[]", "[-1]", "[four]", "(3)", "[3.5]"]) {
      const r = parse(text);
      expect(r.ok, text).toBe(false);
    }
    const far = parse("[9]");
    expect(far.ok).toBe(false);
    if (!far.ok) expect(far.reason).toMatch(/0 to 8/);
    const taken = parse("[4] or [5]");
    expect(taken.ok).toBe(false);
    if (!taken.ok) expect(taken.reason).toMatch(/already taken.*\[5\]/);
  });

  it("rejects a move out of turn or after the end", () => {
    const r = ticTacToe.parse(s, 0, "[0]");
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/Player 1's turn/);
    expect(ticTacToe.parse(play([0, 3, 1, 4, 2]), 1, "[5]").ok).toBe(false);
  });

  it("never throws on adversarial and huge inputs", () => {
    const inputs = [
      "[".repeat(100_000),
      "x".repeat(100_000) + "[3]",
      "[" + "9".repeat(100_000) + "]",
      "[[[[2]]]]",
      "[٣]", // Arabic-Indic digit: Python's \d and int() read it as 3
      "🎲[1]🎲",
      "\u0000[6]",
      "[ 1 ][2][3]",
    ];
    const results = inputs.map((t) => parse(t));
    expect(results.map((r) => r.ok)).toEqual([false, true, false, true, true, true, true, true]);
    expect(results[1]).toMatchObject({ ok: true, action: 3 });
    expect(results[3]).toMatchObject({ ok: true, action: 2 });
    expect(results[4]).toMatchObject({ ok: true, action: 3 });
    const spaces = " ".repeat(100_000);
    const start = performance.now();
    const bombs = [`[${spaces}x`, `[${spaces}5${spaces}]`, `[ ${"[ ".repeat(50_000)}`, `${"[1".repeat(50_000)}`].map(parse);
    expect(performance.now() - start).toBeLessThan(5000);
    expect(bombs.map((r) => r.ok)).toEqual([false, true, false, false]);
    const huge = results[2];
    if (huge && !huge.ok) expect(huge.reason.length).toBeLessThan(200);
  });
});

describe("TicTacToe exact solution", () => {
  it("has exactly 5,478 reachable positions and value 0", () => {
    const values = ticTacToeSolve();
    expect(values.size).toBe(5478);
    expect(values.get(".........")).toBe(0);
  });

  it("knows forced wins and blocks", () => {
    // O to move with 0, 1 taken by O and 3, 4 by X: [2] wins at once.
    const cells = play([0, 3, 1, 4]).cells;
    expect(ticTacToeOptimalMoves(cells)).toEqual([2]);
    expect(ticTacToeSolve().get(ticTacToeKey(cells))).toBe(1);
    // X to move must block O's top row at [2].
    expect(ticTacToeOptimalMoves(play([0, 4, 1]).cells)).toEqual([2]);
    // Every first move draws under perfect play; X's only non-losing answer to a corner is the centre.
    expect(ticTacToeOptimalMoves(play([]).cells)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(ticTacToeOptimalMoves(play([0]).cells)).toEqual([4]);
  });

  it("minimax never loses to random, from either seat, over 200 games", async () => {
    const rng = createRng("minimax-vs-random");
    const tally = { win: 0, draw: 0, loss: 0 };
    for (let g = 0; g < 200; g++) {
      const seat = g % 2;
      const agents = seat === 0
        ? ([ticTacToeMinimaxAgent(), randomAgent()] as const)
        : ([randomAgent(), ticTacToeMinimaxAgent()] as const);
      const r = (await playLocal(ticTacToe, agents, g, rng))[seat] as number;
      if (r > 0) tally.win++;
      else if (r < 0) tally.loss++;
      else tally.draw++;
    }
    expect(tally.loss).toBe(0);
    expect(tally.win).toBeGreaterThan(150);
  });

  it("minimax against itself always draws", async () => {
    const rng = createRng(3);
    for (let g = 0; g < 20; g++) {
      expect(await playLocal(ticTacToe, [ticTacToeMinimaxAgent(), ticTacToeMinimaxAgent()], g, rng)).toEqual([0, 0]);
    }
  });
});
