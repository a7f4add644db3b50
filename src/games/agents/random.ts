/** The uniform-random reference agent: any game, uniform over the canonical legal actions. */
import type { Agent } from "../agent.js";

export function randomAgent(name = "random"): Agent {
  return {
    name,
    act(observation, rng) {
      if (observation.legal.length === 0) {
        return Promise.reject(new Error(`${name}: Player ${observation.seat} has no legal action to choose from`));
      }
      return Promise.resolve({ action: rng.choice(observation.legal) });
    },
  };
}
