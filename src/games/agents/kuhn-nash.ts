/**
 * The closed-form Nash strategy of one-round Kuhn poker as an agent (α is the first player's bluff
 * rate, see `kuhnNashProfile`). In the 5-round game it plays each round with the same per-round
 * strategy: a sound reference opponent, though not an equilibrium of the 5-round match.
 */
import type { Agent } from "../agent.js";
import type { KuhnBehaviour } from "../kuhn-exact.js";
import { kuhnNashProfile } from "../kuhn-exact.js";
import type { KuhnInfoState } from "../kuhn-poker.js";

function isKuhnInfo(info: unknown): info is KuhnInfoState {
  return typeof info === "object" && info !== null && "infoSet" in info && "history" in info;
}

/** An agent that samples from a behaviour profile at each information set. */
export function kuhnProfileAgent(profile: KuhnBehaviour, name: string): Agent {
  return {
    name,
    act(observation, rng) {
      const info = observation.infoState;
      if (!isKuhnInfo(info)) return Promise.reject(new Error(`${name} plays Kuhn Poker only: expected a Kuhn infoState`));
      if (info.infoSet === null) return Promise.reject(new Error(`${name}: Player ${observation.seat} is not to act`));
      const p = profile[info.infoSet];
      if (p === undefined) return Promise.reject(new Error(`${name}: no probability for information set "${info.infoSet}"`));
      const facingBet = info.history[info.history.length - 1] === "bet";
      const aggressive = rng.next() < p;
      const move = facingBet ? (aggressive ? "call" : "fold") : aggressive ? "bet" : "check";
      return Promise.resolve({ action: `[${move}]` });
    },
  };
}

export function kuhnNashAgent(alpha = 1 / 6, name = "kuhn-nash"): Agent {
  return kuhnProfileAgent(kuhnNashProfile(alpha), name);
}
