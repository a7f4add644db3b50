/**
 * Reference agents by name, per game: what `spiral play --p0 NAME` and evaluation opponents
 * resolve. `random` plays any game; the others exist only for the games they were built for.
 */
import type { Agent } from "./agent.js";
import { baseGameId } from "./game.js";
import { connectFourTacticsAgent } from "./agents/connect-four-tactics.js";
import { kuhnNashAgent } from "./agents/kuhn-nash.js";
import { negotiationHeuristicAgent } from "./agents/negotiation-heuristic.js";
import { nimOptimalAgent } from "./agents/nim-optimal.js";
import { pigHoldAtAgent } from "./agents/pig-hold-at.js";
import { randomAgent } from "./agents/random.js";
import { ticTacToeMinimaxAgent } from "./agents/tictactoe-minimax.js";

interface ReferenceAgent {
  readonly name: string;
  readonly summary: string;
  /** Game ids it plays; undefined means every game. */
  readonly games?: readonly string[];
  readonly make: () => Agent;
}

const REFERENCE_AGENTS: readonly ReferenceAgent[] = [
  { name: "random", summary: "uniform over the legal actions", make: () => randomAgent("random") },
  { name: "minimax", summary: "perfect play, ties broken at random", games: ["TicTacToe-v0"], make: () => ticTacToeMinimaxAgent("minimax") },
  {
    name: "nash",
    summary: "closed-form 1-round Nash strategy (α = 1/6), played every round",
    games: ["KuhnPoker-v1-1round", "KuhnPoker-v1"],
    make: () => kuhnNashAgent(1 / 6, "nash"),
  },
  {
    name: "heuristic",
    summary: "accepts only trades that raise its value, proposes trades good for it",
    games: ["SimpleNegotiation-v1"],
    make: () => negotiationHeuristicAgent("heuristic"),
  },
  { name: "optimal", summary: "moves to a zero nim-sum whenever it can (perfect play)", games: ["Nim-v0"], make: () => nimOptimalAgent("optimal") },
  { name: "tactics", summary: "one ply: wins, blocks, avoids giving a win, prefers central columns", games: ["ConnectFour-v0"], make: () => connectFourTacticsAgent("tactics") },
  { name: "hold-at-20", summary: "rolls until the turn total reaches 20 (or the game is won), then holds", games: ["PigDice-v1"], make: () => pigHoldAtAgent(20, "hold-at-20") },
];

/** Every reference agent: its name, what it does and the games it plays (undefined: every game). */
export function referenceAgents(): readonly { readonly name: string; readonly summary: string; readonly games?: readonly string[] }[] {
  return REFERENCE_AGENTS.map(({ name, summary, games }) => ({ name, summary, ...(games === undefined ? {} : { games }) }));
}

/** The reference agents that play `gameId` (a game spec: rules do not matter to them), by name. */
export function referenceAgentNames(spec: string): readonly string[] {
  const gameId = baseGameId(spec);
  return REFERENCE_AGENTS.filter((a) => a.games === undefined || a.games.includes(gameId)).map((a) => a.name);
}

/** A fresh reference agent; throws listing the valid names for this game otherwise. */
export function makeReferenceAgent(name: string, spec: string): Agent {
  const gameId = baseGameId(spec);
  const entry = REFERENCE_AGENTS.find((a) => a.name === name);
  if (entry === undefined || (entry.games !== undefined && !entry.games.includes(gameId))) {
    const where = entry === undefined ? "" : ` (it plays ${entry.games?.join(", ")})`;
    throw new Error(`No reference agent "${name}" for ${gameId}${where}. Valid agents for ${gameId}: ${referenceAgentNames(gameId).join(", ")}.`);
  }
  return entry.make();
}
