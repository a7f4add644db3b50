import { describe, expect, it } from "vitest";
import type { Seat } from "../game.js";
import { nim, nimWinningMoves } from "../nim.js";
import { createRng } from "../../core/rng.js";
import { nimOptimalAgent } from "./nim-optimal.js";
import { randomAgent } from "./random.js";

async function playNim(seed: number, agents: readonly [ReturnType<typeof nimOptimalAgent>, ReturnType<typeof nimOptimalAgent>]) {
  const rng = createRng(seed);
  let state = nim.init(seed);
  while (!nim.isTerminal(state)) {
    const seat = nim.toAct(state)[0] as Seat;
    const reply = await agents[seat].act(nim.observe(state, seat), rng);
    const parsed = nim.parse(state, seat, reply.action);
    if (!parsed.ok || !nim.isLegal(state, seat, parsed.action)) throw new Error(`illegal reply ${reply.action}`);
    state = nim.apply(state, seat, parsed.action);
  }
  return nim.returns(state);
}

describe("nimOptimalAgent", () => {
  it("knows Bouton's winning moves", () => {
    expect(nimWinningMoves([3, 4, 5])).toEqual([{ pile: 0, count: 2 }]);
    expect(nimWinningMoves([1, 2, 3])).toEqual([]);
    expect(nimWinningMoves([0, 0, 4])).toEqual([{ pile: 2, count: 4 }]);
  });

  it("wins every game as Player 0 against random and against itself; beats random as Player 1 mostly", async () => {
    const optimal = nimOptimalAgent();
    const random = randomAgent();
    let secondSeatWins = 0;
    for (let seed = 0; seed < 100; seed++) {
      expect(await playNim(seed, [optimal, random])).toEqual([1, -1]);
      expect(await playNim(seed, [optimal, optimal])).toEqual([1, -1]);
      if ((await playNim(seed, [random, optimal]))[1] === 1) secondSeatWins++;
    }
    // Random must find the one winning move at every turn to hold on; it seldom does.
    expect(secondSeatWins).toBeGreaterThan(80);
  });

  it("refuses other games' observations with a clear error", async () => {
    const obs = { ...nim.observe(nim.init(0), 0), infoState: { cells: [] } };
    await expect(nimOptimalAgent().act(obs, createRng(0))).rejects.toThrow(/plays Nim only/);
  });
});
