import { describe, expect, it } from "vitest";
import type { Agent } from "../agent.js";
import { connectFour, type ConnectFourState } from "../connect-four.js";
import type { Seat } from "../game.js";
import { createRng } from "../../core/rng.js";
import { connectFourTacticsAgent } from "./connect-four-tactics.js";
import { randomAgent } from "./random.js";

function play(moves: readonly number[]): ConnectFourState {
  let state = connectFour.init(0);
  for (const column of moves) state = connectFour.apply(state, connectFour.toAct(state)[0] as Seat, { column });
  return state;
}

async function reply(state: ConnectFourState, seed = 0): Promise<string> {
  const seat = connectFour.toAct(state)[0] as Seat;
  return (await connectFourTacticsAgent().act(connectFour.observe(state, seat), createRng(seed))).action;
}

async function game(agents: readonly [Agent, Agent], seed: number): Promise<readonly [number, number]> {
  const rng = createRng(seed);
  let state = connectFour.init(seed);
  while (!connectFour.isTerminal(state)) {
    const seat = connectFour.toAct(state)[0] as Seat;
    const parsed = connectFour.parse(state, seat, (await agents[seat].act(connectFour.observe(state, seat), rng)).action);
    if (!parsed.ok) throw new Error(parsed.reason);
    state = connectFour.apply(state, seat, parsed.action);
  }
  return connectFour.returns(state);
}

describe("connectFourTacticsAgent", () => {
  it("takes an immediate win, and blocks the opponent's", async () => {
    // Player 0 has three in column 0 and is to move: it wins there.
    expect(await reply(play([0, 1, 0, 1, 0, 2]))).toBe("[col 0]");
    // Player 1 is to move and Player 0 threatens column 0: it blocks.
    for (let seed = 0; seed < 10; seed++) expect(await reply(play([0, 1, 0, 1, 0]), seed)).toBe("[col 0]");
  });

  it("does not hand the opponent a win on the disc above", async () => {
    // Row 5: X X . . O X X; row 4: O O O in columns 4–6. A disc in column 3 lands on (5,3) and
    // lets Player 1 drop the winning (4,3); nobody can win at once, so Player 0 must avoid column 3.
    const state = play([5, 4, 6, 4, 0, 5, 1, 6]);
    expect(connectFour.observe(state, 0).view).toContain(" . . . . O O O\n X X . . O X X");
    for (let seed = 0; seed < 20; seed++) expect(await reply(state, seed)).not.toBe("[col 3]");
    // The trap is real: after column 3, Player 1 wins with column 3.
    const trapped = connectFour.apply(connectFour.apply(state, 0, { column: 3 }), 1, { column: 3 });
    expect(connectFour.returns(trapped)).toEqual([-1, 1]);
  });

  it("beats uniform random from both seats in at least 95% of 100 games", async () => {
    const tactics = connectFourTacticsAgent();
    const random = randomAgent();
    let wins = 0;
    for (let seed = 0; seed < 50; seed++) {
      if ((await game([tactics, random], seed))[0] === 1) wins++;
      if ((await game([random, tactics], seed))[1] === 1) wins++;
    }
    expect(wins).toBeGreaterThanOrEqual(95);
  });
});
