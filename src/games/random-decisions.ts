/**
 * Test support: every decision point of seeded uniform-random games, for checks that must hold
 * at each one (prompt sizes, leaks). The first seat owing a move acts; the same seeds give the
 * same decisions.
 */
import type { AnyGame, Observation, Seat } from "./game.js";
import { createRng } from "../core/rng.js";

export interface Decision {
  readonly seed: number;
  readonly state: unknown;
  readonly seat: Seat;
  readonly observation: Observation;
}

/** Plays game `seed` for each of `seeds` (0 … seeds − 1), yielding each decision before its random move. */
export function* randomDecisions(game: AnyGame, seeds: number): Generator<Decision> {
  for (let seed = 0; seed < seeds; seed++) {
    const rng = createRng(seed);
    let state = game.init(seed);
    while (!game.isTerminal(state)) {
      const seat = (game.toAct(state)[0] ?? 0) as Seat;
      yield { seed, state, seat, observation: game.observe(state, seat) };
      const actions = game.legalActions(state, seat);
      state = game.apply(state, seat, actions[rng.int(actions.length)]);
    }
  }
}
