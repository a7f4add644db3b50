/**
 * The classic "hold at 20" Pig strategy (a good, simple baseline: 20 is where the expected gain of
 * one more roll, (2+3+4+5+6)/6 = 20/6 against a 1/6 chance of losing the turn total t, turns
 * negative: 20/6 < t/6 exactly when t > 20). It also holds whenever banking would win. On the
 * game's last turn (the turn cap) it holds as soon as banking puts it ahead, and rolls otherwise:
 * points not banked then are worth nothing.
 */
import type { Agent } from "../agent.js";
import type { PigDiceInfoState } from "../pig-dice.js";

function isPigInfo(info: unknown): info is PigDiceInfoState {
  const pig = info as PigDiceInfoState | null;
  return typeof pig?.turnTotal === "number" && Array.isArray(pig.scores) && typeof pig.target === "number";
}

export function pigHoldAtAgent(threshold = 20, name = `hold-at-${threshold}`): Agent {
  return {
    name,
    act(observation) {
      const info = observation.infoState;
      if (!isPigInfo(info)) return Promise.reject(new Error(`${name} plays PigDice only: expected a PigDice infoState`));
      const banked = info.scores[info.seat] + info.turnTotal;
      const lastTurn = info.turnsLeft <= 1;
      const ahead = banked > info.scores[info.seat === 0 ? 1 : 0];
      const hold = lastTurn ? ahead : info.turnTotal >= threshold || banked >= info.target;
      return Promise.resolve({ action: hold ? "[hold]" : "[roll]" });
    },
  };
}
