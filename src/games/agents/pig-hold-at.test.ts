import { describe, expect, it } from "vitest";
import type { Agent } from "../agent.js";
import type { Seat } from "../game.js";
import { pigDice, type PigDiceState } from "../pig-dice.js";
import { createRng } from "../../core/rng.js";
import { pigHoldAtAgent } from "./pig-hold-at.js";
import { randomAgent } from "./random.js";

async function game(agents: readonly [Agent, Agent], seed: number): Promise<readonly [number, number]> {
  const rng = createRng(seed);
  let state = pigDice.init(seed);
  while (!pigDice.isTerminal(state)) {
    const seat = pigDice.toAct(state)[0] as Seat;
    const parsed = pigDice.parse(state, seat, (await agents[seat].act(pigDice.observe(state, seat), rng)).action);
    if (!parsed.ok) throw new Error(parsed.reason);
    state = pigDice.apply(state, seat, parsed.action);
  }
  return pigDice.returns(state);
}

describe("pigHoldAtAgent", () => {
  it("rolls below the threshold, holds at it, holds when banking wins, and on the last turn holds once ahead", async () => {
    const agent = pigHoldAtAgent(20);
    const at = async (patch: Partial<PigDiceState>) => (await agent.act(pigDice.observe({ ...pigDice.init(0), ...patch }, 0), createRng(0))).action;
    expect(await at({ turnTotal: 19 })).toBe("[roll]");
    expect(await at({ turnTotal: 20 })).toBe("[hold]");
    expect(await at({ scores: [45, 0], turnTotal: 5 })).toBe("[hold]");
    // The last turn: hold once banking puts it ahead, roll while behind or level.
    expect(await at({ turnsPlayed: 49, turnTotal: 3 })).toBe("[hold]");
    expect(await at({ turnsPlayed: 49, scores: [10, 30], turnTotal: 19 })).toBe("[roll]");
    expect(await at({ turnsPlayed: 49, scores: [10, 30], turnTotal: 21 })).toBe("[hold]");
    expect(agent.name).toBe("hold-at-20");
  });

  it("beats uniform random in at least 85% of 200 games over both seats", async () => {
    const hold = pigHoldAtAgent();
    const random = randomAgent();
    let wins = 0;
    for (let seed = 0; seed < 100; seed++) {
      if ((await game([hold, random], seed))[0] === 1) wins++;
      if ((await game([random, hold], seed))[1] === 1) wins++;
    }
    expect(wins).toBeGreaterThanOrEqual(170);
  });
});
