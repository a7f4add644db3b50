/**
 * Out-of-distribution evaluation (`eval.finalGames`): games the policy never trained on
 * (ConnectFour-v0, Nim-v0, PigDice-v1, …; docs/evaluation-games.md), each played against uniform
 * random at step 0 and after the last step — SPIRAL's transfer measurement in miniature.
 *
 * They are played like every evaluation matchup (rl/eval.ts): `eval.games` games, the policy's
 * seat alternating, its replies read by the run's prompt mode, so a compact-mode policy decodes
 * only legal actions (the game's `legalActions` through the token trie). The matchups come after
 * the regular ones and draw from their own splits of the evaluation stream, so turning them on
 * changes no other number of a run.
 */
import { makeReferenceAgent } from "../games/agent-registry.js";
import { getGame, getVariant } from "../games/registry.js";
import type { TrainConfig } from "./config.js";
import type { Matchup } from "./eval.js";

/** The opponent of every out-of-distribution matchup. */
export const FINAL_GAMES_OPPONENT = "random";

/** The six evaluation games the project ships (docs/evaluation-games.md), for grids and docs. */
export const EVALUATION_GAME_IDS = ["ConnectFour-v0", "Nim-v0", "PigDice-v1", "LiarsDice-v1", "SimpleTak-v0", "Snake-v0"] as const;

/**
 * Checks `eval.finalGames`: registered evaluation-split games (the training games are played at
 * every evaluation already), each once, none that this run trains on. Errors name the key.
 */
export function checkFinalGames(config: Pick<TrainConfig, "games" | "eval">): void {
  const seen = new Set<string>();
  const expected = `expected games outside the training set (${EVALUATION_GAME_IDS.join(", ")})`;
  for (const id of config.eval.finalGames ?? []) {
    let variant;
    try {
      variant = getVariant(id);
      getGame(id);
    } catch (e) {
      throw new Error(`eval.finalGames: ${(e as Error).message}`, { cause: e });
    }
    if (seen.has(id)) throw new Error(`eval.finalGames: ${id} is listed twice`);
    seen.add(id);
    if (variant.split === "training") throw new Error(`eval.finalGames: ${id} is a training game (the regular evaluation plays those); ${expected}`);
    if (config.games.some((g) => g.id === id)) throw new Error(`eval.finalGames: ${id} is a training game of this run, so not out of distribution; ${expected}`);
  }
}

/** The out-of-distribution pairings of a run (none unless `eval.finalGames` lists games). */
export function finalGameMatchups(config: Pick<TrainConfig, "eval">): { readonly gameId: string; readonly opponent: string }[] {
  return (config.eval.finalGames ?? []).map((gameId) => ({ gameId, opponent: FINAL_GAMES_OPPONENT }));
}

/** Whether the evaluation of `step` plays the final games: the first (step 0) and the last. */
export function playsFinalGames(step: number, steps: number): boolean {
  return step === 0 || step === steps;
}

/** The out-of-distribution matchups, ready to play (`eval.games` games each). */
export function finalMatchups(config: Pick<TrainConfig, "eval">): Matchup[] {
  return finalGameMatchups(config).map((m) => ({ game: getGame(m.gameId), opponent: makeReferenceAgent(m.opponent, m.gameId), games: config.eval.games }));
}
