/**
 * A minimal game loop for the reference agents' own tests and quick checks: both seats act
 * through `Agent.act`, the reply is parsed and must be legal (a reference agent never plays an
 * invalid move, so an invalid one is a bug and throws). The full runner, with invalid-move
 * scoring, timeouts and records, is `games/match.ts`.
 */
import type { Agent } from "../agent.js";
import type { AnyGame } from "../game.js";
import type { Rng } from "../../core/rng.js";

export async function playLocal(
  game: AnyGame,
  agents: readonly [Agent, Agent],
  seed: number,
  rng: Rng,
): Promise<readonly [number, number]> {
  let state = game.init(seed);
  for (let moves = 0; !game.isTerminal(state); moves++) {
    if (moves > game.info.maxTurns) throw new Error(`${game.info.id}: more than ${game.info.maxTurns} moves`);
    for (const seat of game.toAct(state)) {
      const agent = agents[seat];
      const reply = await agent.act(game.observe(state, seat), rng);
      const parsed = game.parse(state, seat, reply.action);
      if (!parsed.ok) throw new Error(`${agent.name} replied ${JSON.stringify(reply.action)}: ${parsed.reason}`);
      if (!game.isLegal(state, seat, parsed.action)) throw new Error(`${agent.name} played an illegal ${reply.action}`);
      state = game.apply(state, seat, parsed.action);
    }
  }
  return game.returns(state);
}
