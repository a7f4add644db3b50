/**
 * The game registry: every playable variant by its published id.
 *
 * Variants are data (`GameVariant`: id, split, how to build it), listed by the training and
 * evaluation modules; the registry only joins the two lists, checks that ids are unique and that
 * each built game reports its own id, and builds each game once (games are pure values, so one
 * instance serves every caller).
 */
import type { AnyGame, GameInfo, GameVariant } from "./game.js";
import { parseGameSpec } from "./game.js";
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

/** The variant registered as `id` (a game spec's rules suffix is ignored); throws a message listing the known ids otherwise. */
export function getVariant(spec: string): GameVariant {
  const id = spec.includes(":") ? parseGameSpec(spec).id : spec;
  const variant = byId.get(id);
  if (variant !== undefined) return variant;
  const near = gameIds().filter((known) => known.toLowerCase() === id.toLowerCase() || known.toLowerCase().startsWith(id.toLowerCase().split("-")[0] ?? ""));
  const hint = near.length > 0 && id !== "" ? ` Did you mean ${near.join(" or ")}?` : "";
  throw new Error(`Unknown game "${id}".${hint} Known games: ${gameIds().join(", ")}.`);
}

/**
 * The game a spec names, built once: "ID" plays our rules, "ID:reference" the published
 * reference's exact rules where they differ (`RulesMode`); a game without such differences is the
 * same game under both. Throws a message listing the known ids for an unknown id.
 */
export function getGame(spec: string): AnyGame {
  const cached = built.get(spec);
  if (cached !== undefined) return cached;
  const { id, rules } = parseGameSpec(spec);
  const variant = getVariant(id);
  const reference = rules === "reference" && variant.makeReference !== undefined;
  const key = reference ? `${id}:reference` : id;
  let game = built.get(key);
  if (game === undefined) {
    game = reference ? (variant.makeReference as () => AnyGame)() : variant.make();
    if (game.info.id !== key) throw new Error(`Game registered as ${key} reports id ${game.info.id}`);
    built.set(key, game);
  }
  built.set(spec, game);
  return game;
}

/** Whether `id`'s reference rules differ from ours (so `ID:reference` is a different game). */
export function hasReferenceRules(id: string): boolean {
  return getVariant(id).makeReference !== undefined;
}

/** One row per registered game: its metadata and split, in registry order. */
export interface GameListing {
  readonly split: GameVariant["split"];
  readonly info: GameInfo;
}

export function listGames(): readonly GameListing[] {
  return gameVariants.map((v) => ({ split: v.split, info: getGame(v.id).info }));
}
