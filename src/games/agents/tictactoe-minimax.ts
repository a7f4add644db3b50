/**
 * A perfect TicTacToe player: among the moves that keep the minimax value (from the exact
 * solution over all 5,478 reachable positions), it picks one uniformly at random with the rng, so
 * it never loses and still varies its games.
 */
import type { Agent } from "../agent.js";
import type { TicTacToeInfoState } from "../tictactoe.js";
import { ticTacToeOptimalMoves } from "../tictactoe.js";

function isTicTacToeInfo(info: unknown): info is TicTacToeInfoState {
  return typeof info === "object" && info !== null && Array.isArray((info as TicTacToeInfoState).cells)
    && (info as TicTacToeInfoState).cells.length === 9;
}

export function ticTacToeMinimaxAgent(name = "minimax"): Agent {
  return {
    name,
    act(observation, rng) {
      const info = observation.infoState;
      if (!isTicTacToeInfo(info)) {
        return Promise.reject(new Error(`${name} plays TicTacToe only: expected a TicTacToe infoState with 9 cells`));
      }
      const moves = ticTacToeOptimalMoves(info.cells);
      if (moves.length === 0) return Promise.reject(new Error(`${name}: the game is over, there is no move to make`));
      return Promise.resolve({ action: `[${rng.choice(moves)}]` });
    },
  };
}
