/**
 * The game registry: every playable variant by its published id.
 *
 * Variants are data (`GameVariant`: id, split, how to build it), listed by the training and
 * evaluation modules; the registry only joins the two lists, checks that ids are unique and that
 * each built game reports its own id, and builds each game once (games are pure values, so one
 * instance serves every caller).
 */
import type { AnyGame, GameInfo, GameVariant } from "./game.js";
import { evaluationGameVariants } from "./evaluation-games.js";
import { trainingGameVariants } from "./training-games.js";

/** Every registered variant: training games first, then evaluation games. */
export const gameVariants: readonly GameVariant[] = [...trainingGameVariants, ...evaluationGameVariants];

const byId = new Map<string, GameVariant>();
for (const variant of gameVariants) {
  if (byId.has(variant.id)) throw new Error(`Game id ${variant.id} is registered twice`);
  byId.set(variant.id, variant);
}

const built = new Map<string, AnyGame>();

/** The registered ids, in registry order. */
export function gameIds(): readonly string[] {
  return gameVariants.map((v) => v.id);
}

/** The variant registered as `id`; throws a message listing the known ids otherwise. */
export function getVariant(id: string): GameVariant {
  const variant = byId.get(id);
  if (variant !== undefined) return variant;
  const near = gameIds().filter((known) => known.toLowerCase() === id.toLowerCase() || known.toLowerCase().startsWith(id.toLowerCase().split("-")[0] ?? ""));
  const hint = near.length > 0 && id !== "" ? ` Did you mean ${near.join(" or ")}?` : "";
  throw new Error(`Unknown game "${id}".${hint} Known games: ${gameIds().join(", ")}.`);
}

/** The game registered as `id`, built once. Throws a message listing the known ids for an unknown id. */
export function getGame(id: string): AnyGame {
  const cached = built.get(id);
  if (cached !== undefined) return cached;
  const game = getVariant(id).make();
  if (game.info.id !== id) throw new Error(`Game registered as ${id} reports id ${game.info.id}`);
  built.set(id, game);
  return game;
}

/** One row per registered game: its metadata and split, in registry order. */
export interface GameListing {
  readonly split: GameVariant["split"];
  readonly info: GameInfo;
}

export function listGames(): readonly GameListing[] {
  return gameVariants.map((v) => ({ split: v.split, info: getGame(v.id).info }));
}
