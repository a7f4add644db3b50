/**
 * The game contract: what every spiral game is and owes.
 *
 * A game is pure, typed logic over immutable states. It never builds a model prompt and never
 * reads model prose beyond `parse` (one reply → one action or a reason it is invalid); `prompt/`
 * turns observations into model input, and `games/match.ts` plays agents against each other.
 *
 * Dimensions of the contract:
 * - Two seats, 0 and 1. `toAct(state)` lists the seats that owe a move now: one seat in a
 *   sequential game, both seats in a simultaneous-move game (each applies its move in turn; the
 *   state buffers the first and resolves the round when both are in), none when terminal.
 * - Chance: every chance event draws from the RNG state carried inside the game state
 *   (`rngFromState(state.rng)`), so `init(seed)` and a list of actions determine the whole game.
 *
 * What every implementation owes (checked by `conformance.test.ts` over every registered game):
 * 1. `init` with the same seed gives the same state; `apply` is deterministic and never mutates
 *    its input state.
 * 2. At every non-terminal state, for each seat in `toAct`, `legalActions` is non-empty, has no
 *    duplicates (by `format`), and `parse(state, seat, format(a))` returns an action whose
 *    `format` equals `format(a)`.
 * 3. `parse` never throws, whatever the text (empty, 100 KB, unicode, nested brackets, several
 *    action tokens): an unusable reply is `{ ok: false, reason }` with a reason a player can act on.
 *    `apply` throws only for an action that is not legal (callers check `isLegal` first).
 * 4. Terminal states: `toAct` is empty and `returns` sums to 0 (zero-sum; `info.zeroSum: false`
 *    exempts a reference-rules variant) with each entry within [info.minReturn, info.maxReturn].
 *    Non-terminal `returns` are [0, 0].
 * 5. Every game ends within `info.maxTurns` moves (a move is one applied action of one seat).
 * 6. `observe(state, seat)` never contains the other seat's private information (its cards, dice,
 *    unrevealed choices); `privateInfo(state, seat)` lists those strings so the conformance suite
 *    can check that they never appear in the opponent's observation.
 * 7. Observations are valid at terminal states too (they report the outcome).
 */
import type { ReplyMatch } from "./reply-pattern.js";
import type { RngState } from "../core/rng.js";

/** A player's seat. Seat 0 is "Player 0" in every prompt. */
export type Seat = 0 | 1;

export const SEATS: readonly Seat[] = [0, 1];

export function otherSeat(seat: Seat): Seat {
  return seat === 0 ? 1 : 0;
}

/** Static facts about a game, so generic checks and tools need no game-specific code. */
export interface GameInfo {
  /** Registry id, following the published TextArena ids (e.g. "TicTacToe-v0"). */
  readonly id: string;
  /** Human-readable name. */
  readonly name: string;
  /** One-sentence summary for `spiral games`. */
  readonly summary: string;
  /** The parameters this variant was built with (e.g. `{ rounds: 5 }`). */
  readonly params: Readonly<Record<string, number | string | boolean>>;
  readonly seats: 2;
  /** Upper bound on the number of moves (applied actions) before the game is over. */
  readonly maxTurns: number;
  readonly minReturn: number;
  readonly maxReturn: number;
  /** "imperfect" when some state is hidden from a seat (cards, dice). */
  readonly information: "perfect" | "imperfect";
  /**
   * "enumerable": every valid reply maps to one of `legalActions`.
   * "free-text": replies may carry free text delivered to the opponent (negotiation); the
   * canonical moves are still listed by `legalActions` for constrained decoding.
   */
  readonly actionSpace: "enumerable" | "free-text";
  /** Both seats move at once each round (Snake). */
  readonly simultaneous: boolean;
  /** True where an exact solver or closed-form strategy exists for evaluation. */
  readonly solvable?: boolean;
  /**
   * False only for a reference-rules variant whose published returns are not zero-sum (Snake's
   * apple shares); every game under our rules is zero-sum. Default true.
   */
  readonly zeroSum?: boolean;
}

/**
 * One entry of a seat's observation log. The log is what a player has been told, in order;
 * `prompt/` renders it for a model, the terminal UI for a person.
 */
export type Message =
  /** Role, rules and action syntax with an example: the first message of every log. */
  | { readonly kind: "rules"; readonly text: string }
  /** A view of the current state as this seat sees it (board, own card, chips, inventory). */
  | { readonly kind: "state"; readonly text: string }
  /** An action taken by a seat, as delivered to this observer (the opponent sees no reasoning). */
  | { readonly kind: "action"; readonly seat: Seat; readonly text: string }
  /** The game master: round results, dealt cards, invalid-move warnings, the final outcome. */
  | { readonly kind: "notice"; readonly text: string };

/** Everything one seat may know at one moment. */
export interface Observation {
  readonly seat: Seat;
  /** Moves applied so far in the game (both seats). */
  readonly turn: number;
  /** All messages delivered to this seat so far, oldest first. */
  readonly log: readonly Message[];
  /**
   * A short, self-contained view of the current decision: the state as this seat sees it, for
   * compact prompts of tiny models and for terminal UIs (no rules text, no history beyond what
   * the decision needs).
   */
  readonly view: string;
  /** The legal actions in canonical text, when this seat is to act; empty otherwise. */
  readonly legal: readonly string[];
  /**
   * The same knowledge as typed data (the game's own information-state type: a board, own card
   * and betting history, inventories and the open offer). Reference agents and exact analyses
   * read it; it obeys the same rule as the text: nothing of the other seat's hidden information.
   */
  readonly infoState: unknown;
}

/**
 * The result of reading one reply. `match` names the reference pattern that decided it (and the
 * text it matched), where the game reads replies with the reference's patterns.
 */
export type ParseResult<A> =
  | { readonly ok: true; readonly action: A; readonly match?: ReplyMatch }
  | { readonly ok: false; readonly reason: string; readonly match?: ReplyMatch };

/** The common shape of every game state. Games extend it with their own readonly fields. */
export interface GameState {
  /** RNG state for the next chance event. */
  readonly rng: RngState;
  /** Moves applied so far. */
  readonly turn: number;
}

export interface Game<S extends GameState = GameState, A = unknown> {
  readonly info: GameInfo;
  /** The initial state; deals, shuffles and first-player choices draw from `seed`. */
  init(seed: number): S;
  /** Seats that owe a move now (empty when terminal). */
  toAct(state: S): readonly Seat[];
  /** Canonical legal moves for `seat`; empty when `seat` is not to act. */
  legalActions(state: S, seat: Seat): readonly A[];
  /** Whether `seat` may play `action` now. */
  isLegal(state: S, seat: Seat, action: A): boolean;
  /** Reads one reply (already stripped of model reasoning by `prompt/`) into an action. Never throws. */
  parse(state: S, seat: Seat, text: string): ParseResult<A>;
  /** Canonical text of an action, in the game's bracket syntax (e.g. "[4]", "[Offer: 3 Wood -> 2 Gold]"). */
  format(action: A): string;
  /** The state after `seat` plays `action`. Throws if the action is not legal. */
  apply(state: S, seat: Seat, action: A): S;
  isTerminal(state: S): boolean;
  /** Per-seat returns: the outcome at a terminal state, [0, 0] before. */
  returns(state: S): readonly [number, number];
  /** What `seat` knows now. */
  observe(state: S, seat: Seat): Observation;
  /** Strings that reveal `seat`'s hidden information; they must never appear in the other seat's observation. */
  privateInfo(state: S, seat: Seat): readonly string[];
}

/** A game with its types erased, as the registry and generic tools hold it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyGame = Game<any, any>;

/** Win +1, loss −1, draw 0: the outcome of a two-seat zero-sum game from seat 0's score margin. */
export function outcomeReturns(margin: number): readonly [number, number] {
  if (margin > 0) return [1, -1];
  if (margin < 0) return [-1, 1];
  return [0, 0];
}

/**
 * Which rules a game plays by. "spiral" (the default) is the published game with the documented
 * deliberate fixes (Kuhn Poker's winner by chips, Simple Tak's road detection, Snake's zero-sum
 * rewards); "reference" reproduces the published environment's rules exactly, for comparing
 * numbers with published results. Games without deliberate fixes play the same under both.
 */
export type RulesMode = "spiral" | "reference";

export const RULES_MODES: readonly RulesMode[] = ["spiral", "reference"];

/**
 * A game spec names a registered game and, after a colon, its rules: "KuhnPoker-v1" (our rules)
 * or "KuhnPoker-v1:reference". Everywhere a game id is accepted (CLI `--game`, train configs'
 * `games[].id`, match records' `gameId`), a spec is too.
 */
export function parseGameSpec(spec: string): { readonly id: string; readonly rules: RulesMode } {
  const colon = spec.lastIndexOf(":");
  if (colon < 0) return { id: spec, rules: "spiral" };
  const rules = spec.slice(colon + 1);
  if (rules !== "spiral" && rules !== "reference") {
    throw new Error(`Unknown rules "${rules}" in game "${spec}": expected ${RULES_MODES.join(" or ")} (e.g. ${spec.slice(0, colon)}:reference).`);
  }
  return { id: spec.slice(0, colon), rules };
}

/** The registered id of a game spec or id ("Snake-v0:reference" → "Snake-v0"). */
export function baseGameId(spec: string): string {
  const colon = spec.lastIndexOf(":");
  return colon < 0 ? spec : spec.slice(0, colon);
}

/** Reads a `--rules` value; the error names the flag and the choices. */
export function parseRules(value: string, flag = "--rules"): RulesMode {
  if (value === "spiral" || value === "reference") return value;
  throw new Error(`${flag} expects ${RULES_MODES.join(" or ")}; got "${value}"`);
}

/** `spec` with its rules set to `rules` (a `--rules` flag applied to a `--game` value). */
export function withRules(spec: string, rules: RulesMode): string {
  const { id } = parseGameSpec(spec);
  return rules === "spiral" ? id : `${id}:${rules}`;
}

/** A registry entry: one id, one way to build the game, with its parameters as data. */
export interface GameVariant {
  readonly id: string;
  /** "training" games are SPIRAL's self-play games; "evaluation" games are held out. */
  readonly split: "training" | "evaluation";
  readonly make: () => AnyGame;
  /** The game under the reference's exact rules, where they differ from ours (`RulesMode`). */
  readonly makeReference?: () => AnyGame;
}
