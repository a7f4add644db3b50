/**
 * Nim-v0: three piles of 3, 4 and 5 objects; a move removes one or more objects from one pile;
 * whoever takes the last object wins (normal play).
 *
 * Player 0 moves first. Action `[pile count]`, e.g. `[0 2]` removes 2 objects from pile 0; as in
 * the reference, only whitespace separates the two numbers (`[0, 2]` is not a move). Known answer: the first player
 * wins with perfect play, because the nim-sum 3 ⊕ 4 ⊕ 5 = 2 is not zero; the only winning first
 * move is `[0 2]`. Every move removes at least one object, so the game lasts at most 12 moves.
 */
import type { Game, GameInfo, ParseResult, Seat } from "./game.js";
import { otherSeat } from "./game.js";
import { pyInt, pyRegex, replyMatch } from "./reply-pattern.js";
import { createRng } from "../core/rng.js";
import { playerName } from "./seat-log.js";
import { turnBasedGame, type TurnState, winnerReturns } from "./turn-based.js";

const INITIAL_PILES: readonly number[] = [3, 4, 5];

export interface NimAction {
  readonly pile: number;
  readonly count: number;
}

export interface NimState extends TurnState {
  /** Objects left in each pile. */
  readonly piles: readonly number[];
  /** The seat that took the last object; null while objects remain. */
  readonly winner: Seat | null;
}

/** What a seat knows: everything (perfect information). */
export interface NimInfoState {
  readonly seat: Seat;
  readonly piles: readonly number[];
  readonly toMove: Seat | null;
  readonly winner: Seat | null;
}

const totalObjects = INITIAL_PILES.reduce((sum, n) => sum + n, 0);

const info: GameInfo = {
  id: "Nim-v0",
  name: "Nim",
  summary: "Take objects from one of three piles (3, 4, 5); whoever takes the last object wins.",
  params: { piles: INITIAL_PILES.join(",") },
  seats: 2,
  maxTurns: totalObjects,
  minReturn: -1,
  maxReturn: 1,
  information: "perfect",
  actionSpace: "enumerable",
  simultaneous: false,
  solvable: true,
};

function rules(seat: Seat): string {
  return [
    `You are ${playerName(seat)} in Nim, a two-player zero-sum game.`,
    `There are ${INITIAL_PILES.length} piles of objects, numbered from 0; at the start they hold ${INITIAL_PILES.join(", ")} objects.`,
    "Players alternate; Player 0 moves first. On your turn you remove one or more objects from a single pile.",
    "The player who takes the last object wins.",
    "Reply with the pile number and how many objects to take, in square brackets: for example [0 2] takes 2 objects from pile 0.",
  ].join("\n");
}

function format(action: NimAction): string {
  return `[${action.pile} ${action.count}]`;
}

function done(state: NimState): boolean {
  return state.winner !== null;
}

function legalActions(state: NimState, seat: Seat): NimAction[] {
  if (done(state) || seat !== state.toMove) return [];
  const actions: NimAction[] = [];
  state.piles.forEach((size, pile) => {
    for (let count = 1; count <= size; count++) actions.push({ pile, count });
  });
  return actions;
}

function isLegal(state: NimState, seat: Seat, action: NimAction): boolean {
  const size = state.piles[action.pile];
  return (
    !done(state) &&
    seat === state.toMove &&
    size !== undefined &&
    Number.isInteger(action.count) &&
    action.count >= 1 &&
    action.count <= size
  );
}

/** Nim-v0 `_execute_move`: `re.compile(r"\[\s*(\d+)\s+(\d+)\s*\]").search(action.strip())`, the first match. */
const MOVE_PATTERN = pyRegex(String.raw`\[\s*(\d+)\s+(\d+)\s*\]`);
const MOVE_PATTERN_NAME = String.raw`\[\s*(\d+)\s+(\d+)\s*\] (first match)`;

function parseMove(state: NimState, text: string): ParseResult<NimAction> {
  const match = typeof text === "string" ? MOVE_PATTERN.exec(text) : null;
  if (match === null) {
    return { ok: false, reason: "No move found: write [pile count], e.g. [0 2] takes 2 objects from pile 0.", match: replyMatch(MOVE_PATTERN_NAME, null) };
  }
  const matched = replyMatch(MOVE_PATTERN_NAME, match[0]);
  const pile = pyInt(match[1] ?? "");
  const count = pyInt(match[2] ?? "");
  // The reference's checks, in its order: pile index, at least one object, enough objects.
  if (!(pile < INITIAL_PILES.length)) {
    return { ok: false, reason: `Pile ${(match[1] ?? "").slice(0, 12)} does not exist: piles are numbered 0 to ${INITIAL_PILES.length - 1}.`, match: matched };
  }
  if (count < 1) return { ok: false, reason: "You must take at least one object.", match: matched };
  const size = state.piles[pile] ?? 0;
  if (!(count <= size)) {
    return { ok: false, reason: `Pile ${pile} has only ${size} object${size === 1 ? "" : "s"} left: you cannot take ${(match[2] ?? "").slice(0, 12)}.`, match: matched };
  }
  return { ok: true, action: { pile, count }, match: matched };
}

/**
 * The winning moves of `piles` for the player to move: those that leave a nim-sum (XOR of the
 * pile sizes) of zero (Bouton, 1901). Empty when the position is lost against perfect play.
 */
export function nimWinningMoves(piles: readonly number[]): NimAction[] {
  const nimSum = piles.reduce((x, size) => x ^ size, 0);
  if (nimSum === 0) return [];
  const moves: NimAction[] = [];
  piles.forEach((size, pile) => {
    const target = size ^ nimSum;
    if (target < size) moves.push({ pile, count: size - target });
  });
  return moves;
}

function outcomeText(winner: Seat): string {
  return `${playerName(winner)} took the last object and wins.`;
}

function view(state: NimState, seat: Seat): string {
  const lines = [`Nim. You are ${playerName(seat)}.`];
  state.piles.forEach((size, pile) => lines.push(`pile ${pile}: ${size} ${"|".repeat(size)}`));
  if (state.winner !== null) {
    lines.push(`Game over. ${outcomeText(state.winner)}`);
  } else if (state.toMove === seat) {
    lines.push(`Your turn. Legal moves: ${legalActions(state, seat).map(format).join(", ")}`);
  } else {
    lines.push(`Waiting for ${playerName(state.toMove)} to move.`);
  }
  return lines.join("\n");
}

export const nim: Game<NimState, NimAction> = turnBasedGame({
  info,
  name: "Nim",
  init(seed) {
    return { rng: createRng(seed).state(), turn: 0, piles: INITIAL_PILES, toMove: 0, winner: null, history: [] };
  },
  isOver: done,
  legalActions,
  isLegal,
  parse: (state, _seat, text) => parseMove(state, text),
  format,
  /** Objects leave the pile; whoever takes the last one wins. */
  play(state, seat, action) {
    const piles = state.piles.map((size, pile) => (pile === action.pile ? size - action.count : size));
    const winner = piles.every((size) => size === 0) ? seat : null;
    return { ...state, piles, toMove: otherSeat(seat), winner };
  },
  outcomeText: (state) => outcomeText(state.winner as Seat),
  outcome: (state) => winnerReturns(state.winner),
  rules,
  view,
  infoState: (state, seat): NimInfoState => ({ seat, piles: state.piles, toMove: done(state) ? null : state.toMove, winner: state.winner }),
});
