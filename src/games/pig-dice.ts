/**
 * PigDice-v1: a dice race to 50 points with a turn cap.
 *
 * On your turn you `[roll]` a six-sided die or `[hold]`. A roll of 2–6 adds to your turn total
 * and you go on; a roll of 1 wipes the turn total and passes the turn. Holding banks the turn
 * total into your score and passes the turn. Banking 50 or more wins at once. The game is capped
 * at 50 turns, as in the reference (`_rotate_to_next_player`: a turn ends on a hold or on rolling
 * a 1, and the game stops when the 50th turn ends): then the higher banked score wins and equal
 * scores draw (an unbanked turn total does not count). Player 0 starts. Dice come from the RNG
 * carried in the state. Both players see every roll: Pig has no hidden information.
 *
 * A turn can last any number of rolls, so the reference has no bound on actions. The contract
 * needs one: after 1,000 actions the game stops as at the turn cap. Reaching it needs 50 turns of
 * 20 rolls on average without a 1 (each roll is a 1 with probability 1/6), which does not happen.
 */
import type { Game, GameInfo, ParseResult, Seat } from "./game.js";
import { otherSeat, outcomeReturns } from "./game.js";
import { pyRegex, replyMatch } from "./reply-pattern.js";
import { createRng, rngFromState } from "../core/rng.js";
import { playerName, toBoth } from "./seat-log.js";
import { turnBasedGame, type TurnState } from "./turn-based.js";

const TARGET = 50;
const MAX_TURNS = 50;
/** A safety bound on actions (see above); the turn cap always comes first in practice. */
const MAX_ACTIONS = 1000;

export type PigDiceAction = "roll" | "hold";

export interface PigDiceState extends TurnState {
  /** Banked points per seat. */
  readonly scores: readonly [number, number];
  /** Points rolled this turn and not yet banked. */
  readonly turnTotal: number;
  /** Turns completed (a turn ends on a hold or on rolling a 1); the reference's `turn_count`. */
  readonly turnsPlayed: number;
  /** The last die rolled (null before any roll). */
  readonly lastRoll: number | null;
  readonly done: boolean;
}

/** What a seat knows: everything (no hidden information). */
export interface PigDiceInfoState {
  readonly seat: Seat;
  readonly target: number;
  readonly scores: readonly [number, number];
  readonly turnTotal: number;
  readonly toMove: Seat | null;
  readonly lastRoll: number | null;
  /** Turns left before the cap ends the game, this one included (1 on the last turn). */
  readonly turnsLeft: number;
  readonly done: boolean;
}

const ACTIONS: readonly PigDiceAction[] = ["roll", "hold"];

const info: GameInfo = {
  id: "PigDice-v1",
  name: "Pig Dice",
  summary: "Roll to build a turn total, hold to bank it; a 1 loses the turn. First to 50, capped at 50 turns.",
  params: { target: TARGET, maxTurns: MAX_TURNS },
  seats: 2,
  maxTurns: MAX_ACTIONS,
  minReturn: -1,
  maxReturn: 1,
  information: "perfect",
  actionSpace: "enumerable",
  simultaneous: false,
  solvable: false,
};

function rules(seat: Seat): string {
  return [
    `You are ${playerName(seat)} in Pig Dice, a two-player zero-sum dice race. Player 0 starts.`,
    "On your turn you choose [roll] or [hold], as many times as you like until your turn ends.",
    "[roll]: roll one six-sided die. A 2, 3, 4, 5 or 6 is added to your turn total and you choose again. A 1 wipes out your turn total and ends your turn.",
    "[hold]: add your turn total to your banked score and end your turn.",
    `The first player whose banked score reaches ${TARGET} or more wins.`,
    `The game stops when the ${MAX_TURNS}th turn ends (both players' turns count; a turn ends when its player holds or rolls a 1). Then the higher banked score wins; equal scores are a draw. Points not yet banked do not count.`,
    "Reply with [roll] or [hold] ([r] and [h] also work).",
  ].join("\n");
}

function format(action: PigDiceAction): string {
  return `[${action}]`;
}

function legalActions(state: PigDiceState, seat: Seat): PigDiceAction[] {
  return state.done || seat !== state.toMove ? [] : [...ACTIONS];
}

function isLegal(state: PigDiceState, seat: Seat, action: PigDiceAction): boolean {
  return !state.done && seat === state.toMove && ACTIONS.includes(action);
}

/** PigDice-v1 `action_pattern`: `re.compile(r"\[(roll|hold|r|h)\]", re.IGNORECASE).search(action.strip())`. */
const ACTION_PATTERN = pyRegex(String.raw`\[(roll|hold|r|h)\]`, { ignoreCase: true });
const ACTION_PATTERN_NAME = String.raw`\[(roll|hold|r|h)\] (ignore case, first match)`;

function parseAction(text: string): ParseResult<PigDiceAction> {
  const match = typeof text === "string" ? ACTION_PATTERN.exec(text) : null;
  if (match === null) return { ok: false, reason: "No action found: reply with [roll] or [hold] ([r] or [h]).", match: replyMatch(ACTION_PATTERN_NAME, null) };
  const word = (match[1] ?? "").toLowerCase();
  return { ok: true, action: word === "roll" || word === "r" ? "roll" : "hold", match: replyMatch(ACTION_PATTERN_NAME, match[0]) };
}

function margin(state: PigDiceState): number {
  return state.scores[0] - state.scores[1];
}

function outcomeText(state: PigDiceState): string {
  const scores = `Final scores: Player 0 ${state.scores[0]}, Player 1 ${state.scores[1]}.`;
  const reached = state.scores[0] >= TARGET || state.scores[1] >= TARGET;
  const m = margin(state);
  if (m === 0) return `The turn cap was reached with equal scores: the game is a draw. ${scores}`;
  const winner: Seat = m > 0 ? 0 : 1;
  const how = reached ? `reached ${TARGET} points` : "has the higher score at the turn cap";
  return `${playerName(winner)} ${how} and wins. ${scores}`;
}

function view(state: PigDiceState, seat: Seat): string {
  const other = otherSeat(seat);
  const lines = [
    `Pig Dice, race to ${TARGET}. You are ${playerName(seat)}.`,
    `Banked scores: you ${state.scores[seat]}, ${playerName(other)} ${state.scores[other]}.`,
  ];
  if (state.done) {
    lines.push(`Game over. ${outcomeText(state)}`);
    return lines.join("\n");
  }
  const roller = state.toMove === seat ? "your" : `${playerName(state.toMove)}'s`;
  lines.push(`Turn total (not banked yet, ${roller} turn): ${state.turnTotal}.`);
  if (state.lastRoll !== null) lines.push(`Last roll: ${state.lastRoll}.`);
  lines.push(`Turns left before the cap: ${MAX_TURNS - state.turnsPlayed} (this one included).`);
  lines.push(state.toMove === seat ? "Your turn: [roll] or [hold]." : `Waiting for ${playerName(state.toMove)}.`);
  return lines.join("\n");
}

/** What a legal move does: a roll adds the die to the turn total (a 1 loses it); a hold banks it. */
function play(state: PigDiceState, seat: Seat, action: PigDiceAction): PigDiceState {
  let next: PigDiceState;
  if (action === "roll") {
    const rng = rngFromState(state.rng);
    const die = rng.int(6) + 1;
    const bust = die === 1;
    const text = bust
      ? `${playerName(seat)} rolled a 1 and loses the turn total of ${state.turnTotal}. ${playerName(otherSeat(seat))}'s turn.`
      : `${playerName(seat)} rolled a ${die}; turn total ${state.turnTotal + die}.`;
    next = {
      ...state,
      rng: rng.state(),
      turnTotal: bust ? 0 : state.turnTotal + die,
      toMove: bust ? otherSeat(seat) : seat,
      lastRoll: die,
      history: [...state.history, toBoth({ kind: "notice", text })],
    };
  } else {
    const scores: [number, number] = [state.scores[0], state.scores[1]];
    scores[seat] += state.turnTotal;
    const text = `${playerName(seat)} banks ${state.turnTotal}, for a score of ${scores[seat]}. ${playerName(otherSeat(seat))}'s turn.`;
    next = { ...state, scores, turnTotal: 0, toMove: otherSeat(seat), lastRoll: null, history: [...state.history, toBoth({ kind: "notice", text })] };
  }
  const turnEnded = next.toMove !== seat;
  if (turnEnded) next = { ...next, turnsPlayed: state.turnsPlayed + 1 };
  // The reference checks the turn cap, then the target, only when a turn ends (`state.turn`
  // already counts this move).
  const done = (turnEnded && (next.turnsPlayed >= MAX_TURNS || next.scores[seat] >= TARGET)) || state.turn >= MAX_ACTIONS;
  return done ? { ...next, done: true } : next;
}

function infoState(state: PigDiceState, seat: Seat): PigDiceInfoState {
  return {
    seat,
    target: TARGET,
    scores: state.scores,
    turnTotal: state.turnTotal,
    toMove: state.done ? null : state.toMove,
    lastRoll: state.lastRoll,
    turnsLeft: Math.max(0, MAX_TURNS - state.turnsPlayed),
    done: state.done,
  };
}

export const pigDice: Game<PigDiceState, PigDiceAction> = turnBasedGame({
  info,
  name: "PigDice",
  init(seed) {
    return {
      rng: createRng(seed).state(),
      turn: 0,
      scores: [0, 0],
      turnTotal: 0,
      toMove: 0,
      turnsPlayed: 0,
      lastRoll: null,
      done: false,
      history: [],
    };
  },
  isOver: (state) => state.done,
  legalActions,
  isLegal,
  parse: (_state, _seat, text) => parseAction(text),
  format,
  play,
  outcomeText,
  outcome: (state) => outcomeReturns(margin(state)),
  rules,
  view,
  infoState,
});
