/**
 * A one-ply tactical Connect Four player: a stronger-than-random evaluation opponent that any
 * model should learn to beat. In order: play a winning move; block the opponent's immediate win;
 * avoid moves that let the opponent win on the disc above; prefer central columns (they take part
 * in more lines), ties broken with the rng. It looks no deeper, so it is far from perfect play.
 */
import type { Agent } from "../agent.js";
import { connectFour, type ConnectFourInfoState, type ConnectFourState } from "../connect-four.js";
import type { Seat } from "../game.js";
import { otherSeat } from "../game.js";

function isConnectFourInfo(info: unknown): info is ConnectFourInfoState {
  const rows = (info as ConnectFourInfoState | null)?.rows;
  return Array.isArray(rows) && rows.length === 6 && rows.every((row) => Array.isArray(row) && row.length === 7);
}

/** Whether `seat` wins at once by dropping into `column` in `state`. */
function winsAt(state: ConnectFourState, seat: Seat, column: number): boolean {
  const probe = { ...state, toMove: seat };
  if (!connectFour.isLegal(probe, seat, { column })) return false;
  const after = connectFour.apply(probe, seat, { column });
  return connectFour.isTerminal(after) && after.winner === seat;
}

export function connectFourTacticsAgent(name = "tactics"): Agent {
  return {
    name,
    act(observation, rng) {
      const info = observation.infoState;
      if (!isConnectFourInfo(info)) {
        return Promise.reject(new Error(`${name} plays ConnectFour only: expected a ConnectFour infoState with 6×7 rows`));
      }
      if (info.openColumns.length === 0) return Promise.reject(new Error(`${name}: the game is over, there is no move to make`));
      const me = info.seat;
      const them = otherSeat(me);
      // Rebuild a game state from what the seat sees (perfect information: the board is all of it).
      const state: ConnectFourState = { ...connectFour.init(0), board: info.rows.flat(), toMove: me };
      const columns = info.openColumns;
      const pick = (candidates: readonly number[]) => Promise.resolve({ action: connectFour.format({ column: rng.choice(candidates) }) });

      const winning = columns.filter((c) => winsAt(state, me, c));
      if (winning.length > 0) return pick(winning);
      const blocking = columns.filter((c) => winsAt(state, them, c));
      if (blocking.length > 0) return pick(blocking);
      const safe = columns.filter((c) => {
        const after = connectFour.apply(state, me, { column: c });
        return !winsAt(after, them, c);
      });
      const pool = safe.length > 0 ? safe : columns;
      const distance = (c: number) => Math.abs(c - 3);
      const best = Math.min(...pool.map(distance));
      // Central columns first, but not always the very centre: a small random spread keeps games varied.
      const near = pool.filter((c) => distance(c) <= best + (rng.next() < 0.3 ? 1 : 0));
      return pick(near);
    },
  };
}
