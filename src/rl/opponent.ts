/**
 * The fixed opponent of a training run (`opponent` in the config, `--opponent` on the CLI): any
 * policy spec other than "self" — a reference agent (random, minimax, heuristic, nash, optimal…)
 * or a frozen checkpoint directory (policy/policy-spec.ts). Only the model's seat is trained; the
 * actor alternates it (actor.ts).
 *
 * One agent per game id is kept for the whole run, so a checkpoint opponent's moves of all live
 * games asked in the same tick go through one batched `generate` call (`agentOf`). A frozen
 * checkpoint samples at the training temperature, with its own weights baked in.
 */
import type { Agent } from "../games/agent.js";
import { getGame } from "../games/registry.js";
import { agentOf, openPolicy, parsePolicySpec, type OpenedPolicy, type PolicySpec } from "../policy/policy-spec.js";
import type { TrainConfig } from "./config.js";

export interface Opponent {
  readonly name: string;
  readonly agentFor: (gameId: string) => Agent;
  close(): Promise<void>;
}

/** A training opponent's spec (not "self"): any policy spec but an endpoint. Errors name `opponent`. */
export function parseOpponentSpec(opponent: string): Exclude<PolicySpec, { kind: "openai" }> {
  let spec;
  try {
    spec = parsePolicySpec(opponent);
  } catch (e) {
    throw new Error(`opponent: ${(e as Error).message}; or "self" for self-play`, { cause: e });
  }
  if (spec.kind === "openai") throw new Error(`opponent: an openai: endpoint cannot be a training opponent here (use a checkpoint directory or a reference agent); got "${opponent}"`);
  return spec;
}

/** The run's opponent, or undefined for self-play. Throws a message naming `opponent` on a bad spec. */
export async function openOpponent(config: Pick<TrainConfig, "opponent" | "temperature" | "topP" | "maxNewTokens" | "device">, threads: number, log?: (line: string) => void): Promise<Opponent | undefined> {
  if (config.opponent === "self") return undefined;
  const spec = parseOpponentSpec(config.opponent);
  const player = await openPolicy(spec, { temperature: config.temperature, topP: config.topP, maxNewTokens: config.maxNewTokens, threads, device: config.device, ...(log === undefined ? {} : { log }) });
  return { name: player.name, agentFor: agentsByGame(player), close: () => player.close() };
}

/**
 * One agent per game id for `player`, made on first use and kept, so all of a tick's moves of one
 * game go through one batched call. An arrow, so the actor can take it as its per-game opponent.
 */
export function agentsByGame(player: OpenedPolicy): (gameId: string) => Agent {
  const agents = new Map<string, Agent>();
  return (gameId) => {
    let agent = agents.get(gameId);
    if (agent === undefined) {
      agent = agentOf(player, gameId, getGame(gameId).info);
      agents.set(gameId, agent);
    }
    return agent;
  };
}
