/**
 * The fixed opponent of a training run (`opponent` in the config, `--opponent` on the CLI): any
 * policy spec other than "self" — a reference agent (random, minimax, heuristic, nash, optimal…)
 * or a frozen checkpoint directory (policy/policy-spec.ts) — or one per training game
 * (`opponentByGame`, over `opponent`). Only the model's seat is trained; the actor alternates it
 * (actor.ts).
 *
 * One agent per game id is kept for the whole run, so a checkpoint opponent's moves of all live
 * games asked in the same tick go through one batched `generate` call (`agentOf`). A frozen
 * checkpoint samples at the training temperature, with its own weights baked in.
 */
import type { Agent } from "../games/agent.js";
import { getGame } from "../games/registry.js";
import { agentOf, openPolicy, parsePolicySpec, referenceAgentFor, unknownLocalPolicy, UnknownPolicyError, type OpenedPolicy, type PolicySpec } from "../policy/policy-spec.js";
import type { TrainConfig } from "./config.js";

export interface Opponent {
  readonly name: string;
  /** The agent that plays `gameId`'s games against the policy; undefined: self-play there. */
  readonly agentFor: (gameId: string) => Agent | undefined;
  close(): Promise<void>;
}

/** A training opponent's spec (not "self"): any policy spec but an endpoint. Errors name `opponent`. */
export function parseOpponentSpec(opponent: string): Exclude<PolicySpec, { kind: "openai" }> {
  let spec;
  try {
    spec = parsePolicySpec(opponent);
  } catch (e) {
    // An unknown name is told what training takes: parsePolicySpec's list includes endpoints, refused below.
    const message = e instanceof UnknownPolicyError ? unknownLocalPolicy(e.spec) : (e as Error).message;
    throw new Error(`opponent: ${message}; or "self" for self-play`, { cause: e });
  }
  if (spec.kind === "openai") throw new Error(`opponent: an openai: endpoint cannot be a training opponent here (use a checkpoint directory or a reference agent); got "${opponent}"`);
  return spec;
}

/** The opponent spec of `gameId`'s games: `opponentByGame[gameId]`, else `opponent` ("self": self-play). */
export function opponentSpecOf(config: Pick<TrainConfig, "opponent" | "opponentByGame">, gameId: string): string {
  return config.opponentByGame?.[gameId] ?? config.opponent;
}

/**
 * Checks the run's opponents without opening anything: every `opponentByGame` key is a training
 * game, no spec is an endpoint or (per game) a pool, and every reference agent plays the games it
 * faces. Returns the checkpoint directories named, which the caller checks on disk. Errors name
 * the key (`opponent`, `opponentByGame.<game>`).
 */
export function checkOpponentSpecs(config: Pick<TrainConfig, "opponent" | "opponentByGame" | "games">): { readonly key: string; readonly dir: string }[] {
  const training = config.games.map((g) => g.id);
  const byGame = config.opponentByGame ?? {};
  for (const [gameId, text] of Object.entries(byGame)) {
    if (!training.includes(gameId)) throw new Error(`opponentByGame: "${gameId}" is not a training game; expected one of: ${training.join(", ")}`);
    if (text.startsWith("pool:")) throw new Error(`opponentByGame.${gameId}: pool:K is a whole-run opponent (opponent: "${text}"), not a per-game one`);
  }
  if (config.opponent.startsWith("pool:") && Object.keys(byGame).length > 0) throw new Error(`opponentByGame: cannot be combined with opponent "${config.opponent}" (the pool plays every game)`);
  const dirs: { key: string; dir: string }[] = [];
  for (const gameId of training) {
    const text = opponentSpecOf(config, gameId);
    if (text === "self" || text.startsWith("pool:")) continue;
    const key = Object.hasOwn(byGame, gameId) ? `opponentByGame.${gameId}` : "opponent";
    let spec;
    try {
      spec = parseOpponentSpec(text);
    } catch (e) {
      throw new Error(key === "opponent" ? (e as Error).message : `${key}: ${(e as Error).message.replace(/^opponent: /, "")}`, { cause: e });
    }
    if (spec.kind === "checkpoint") {
      if (!dirs.some((d) => d.dir === spec.dir)) dirs.push({ key, dir: spec.dir });
      continue;
    }
    try {
      referenceAgentFor(spec.name, gameId);
    } catch (e) {
      throw new Error(`${key}: ${(e as Error).message}`, { cause: e });
    }
  }
  return dirs;
}

/**
 * The run's opponents, or undefined when every training game is self-play. Each distinct spec is
 * opened once; `agentFor(gameId)` is undefined for a game left to self-play (`opponentByGame`).
 * Throws a message naming `opponent` on a bad spec.
 */
export async function openOpponent(
  config: Pick<TrainConfig, "opponent" | "opponentByGame" | "games" | "temperature" | "topP" | "maxNewTokens" | "device">, threads: number, log?: (line: string) => void,
): Promise<Opponent | undefined> {
  const specs = [...new Set(config.games.map((g) => opponentSpecOf(config, g.id)))].filter((text) => text !== "self");
  if (specs.length === 0) return undefined;
  const opened: OpenedPolicy[] = [];
  const agents = new Map<string, (gameId: string) => Agent>();
  try {
    for (const text of specs) {
      const player = await openPolicy(parseOpponentSpec(text), { temperature: config.temperature, topP: config.topP, maxNewTokens: config.maxNewTokens, threads, device: config.device, ...(log === undefined ? {} : { log }) });
      opened.push(player);
      agents.set(text, agentsByGame(player));
    }
  } catch (e) {
    await Promise.all(opened.map((p) => p.close()));
    throw e;
  }
  return {
    name: opened.map((p) => p.name).join("+"),
    agentFor: (gameId) => agents.get(opponentSpecOf(config, gameId))?.(gameId),
    close: async () => {
      await Promise.all(opened.map((p) => p.close()));
    },
  };
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
