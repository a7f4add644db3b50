/**
 * The actor's options from a run's config: one function for the in-thread actor (loop.ts) and the
 * worker actors (actor-worker.ts), so that both play the same games by the same settings. The
 * caller brings what the config only names: the policy it built, the prompt mode, the opponent.
 */
import type { Agent } from "../games/agent.js";
import { getGame } from "../games/registry.js";
import type { ActorOptions } from "./actor.js";
import type { PromptMode } from "../policy/prompt-mode.js";
import type { TrainConfig } from "./config.js";
import type { Policy } from "../policy/policy.js";

export interface ActorParts {
  readonly policy: Policy;
  readonly mode: PromptMode;
  /** Absent: self-play (the policy takes both seats). */
  readonly opponent?: Agent | ((gameId: string) => Agent);
  /** A worker actor's index (actor-pool.ts); absent in-thread. */
  readonly actorId?: number;
}

/** Options for `collectRollout` with the config's games, batch, caps and lengths. */
export function actorOptions(config: TrainConfig, parts: ActorParts): ActorOptions {
  return {
    ...(parts.actorId === undefined ? {} : { actorId: parts.actorId }),
    games: config.games.map((g) => ({ game: getGame(g.id), weight: g.weight })),
    policy: parts.policy,
    mode: parts.mode,
    rolloutBatch: config.rolloutBatch,
    envs: config.envs,
    maxNewTokens: config.maxNewTokens,
    ...(parts.opponent === undefined ? {} : { opponent: parts.opponent }),
    ...(config.turnCap === null ? {} : { turnCap: config.turnCap }),
  };
}
