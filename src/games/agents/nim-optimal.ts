/**
 * A perfect Nim player: it moves to a zero nim-sum whenever it can (then it cannot lose), and
 * otherwise takes one object from a random non-empty pile, to keep the game long and give the
 * opponent chances to err. Plays any pile sizes, so it also covers variants of Nim-v0.
 */
import type { Agent } from "../agent.js";
import { type NimInfoState, nimWinningMoves } from "../nim.js";

function isNimInfo(info: unknown): info is NimInfoState {
  const piles = (info as NimInfoState | null)?.piles;
  return Array.isArray(piles) && piles.every((size) => Number.isInteger(size) && size >= 0);
}

export function nimOptimalAgent(name = "optimal"): Agent {
  return {
    name,
    act(observation, rng) {
      const info = observation.infoState;
      if (!isNimInfo(info)) return Promise.reject(new Error(`${name} plays Nim only: expected a Nim infoState with piles`));
      const winning = nimWinningMoves(info.piles);
      if (winning.length > 0) {
        const move = rng.choice(winning);
        return Promise.resolve({ action: `[${move.pile} ${move.count}]` });
      }
      const nonEmpty = info.piles.flatMap((size, pile) => (size > 0 ? [pile] : []));
      if (nonEmpty.length === 0) return Promise.reject(new Error(`${name}: the game is over, there is no move to make`));
      return Promise.resolve({ action: `[${rng.choice(nonEmpty)} 1]` });
    },
  };
}
