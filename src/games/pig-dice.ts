/**
 * PigDice-v1: a dice race to 50 points with a turn cap.
 *
 * On your turn you `[roll]` a six-sided die or `[hold]`. A roll of 2–6 adds to your turn total
 * and you go on; a roll of 1 wipes the turn total and passes the turn. Holding banks the turn
 * total into your score and passes the turn. Banking 50 or more wins at once. The game is capped
 * at 50 actions (rolls and holds of both players): at the cap the higher banked score wins and
 * equal scores draw (an unbanked turn total does not count). Player 0 starts. Dice come from the
 * RNG carried in the state. Both players see every roll: Pig has no hidden information.
 */
import { firstToken } from "./bracket-tokens.js";
import type { Game, GameInfo, GameState, Observation, ParseResult, Seat } from "./game.js";
import { otherSeat, outcomeReturns } from "./game.js";
import { createRng, rngFromState } from "./rng.js";
import { type LogEntry, playerName, seatLog, toBoth } from "./seat-log.js";

const TARGET = 50;
const MAX_ACTIONS = 50;

export type PigDiceAction = "roll" | "hold";

export interface PigDiceState extends GameState {
  /** Banked points per seat. */
  readonly scores: readonly [number, number];
  /** Points rolled this turn and not yet banked. */
  readonly turnTotal: number;
  readonly toMove: Seat;
  /** The last die rolled (null before any roll). */
  readonly lastRoll: number | null;
  readonly done: boolean;
  readonly history: readonly LogEntry[];
}

/** What a seat knows: everything (no hidden information). */
export interface PigDiceInfoState {
  readonly seat: Seat;
  readonly target: number;
  readonly scores: readonly [number, number];
  readonly turnTotal: number;
  readonly toMove: Seat | null;
  readonly lastRoll: number | null;
  /** Actions left before the cap ends the game. */
  readonly actionsLeft: number;
  readonly done: boolean;
}

const ACTIONS: readonly PigDiceAction[] = ["roll", "hold"];

const info: GameInfo = {
  id: "PigDice-v1",
  name: "Pig Dice",
  summary: "Roll to build a turn total, hold to bank it; a 1 loses the turn. First to 50, capped at 50 actions.",
  params: { target: TARGET, maxActions: MAX_ACTIONS },
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
    `The game stops after ${MAX_ACTIONS} actions in total (both players' rolls and holds). Then the higher banked score wins; equal scores are a draw. Points not yet banked do not count.`,
    "Reply with [roll] or [hold].",
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

function readAction(token: string): ParseResult<PigDiceAction> | undefined {
  const word = token.toLowerCase();
  return word === "roll" || word === "hold" ? { ok: true, action: word } : undefined;
}

function margin(state: PigDiceState): number {
  return state.scores[0] - state.scores[1];
}

function outcomeText(state: PigDiceState): string {
  const scores = `Final scores: Player 0 ${state.scores[0]}, Player 1 ${state.scores[1]}.`;
  const reached = state.scores[0] >= TARGET || state.scores[1] >= TARGET;
  const m = margin(state);
  if (m === 0) return `The action cap was reached with equal scores: the game is a draw. ${scores}`;
  const winner: Seat = m > 0 ? 0 : 1;
  const how = reached ? `reached ${TARGET} points` : "has the higher score at the action cap";
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
  lines.push(`Actions left before the cap: ${MAX_ACTIONS - state.turn}.`);
  lines.push(state.toMove === seat ? "Your turn: [roll] or [hold]." : `Waiting for ${playerName(state.toMove)}.`);
  return lines.join("\n");
}

export const pigDice: Game<PigDiceState, PigDiceAction> = {
  info,

  init(seed) {
    return {
      rng: createRng(seed).state(),
      turn: 0,
      scores: [0, 0],
      turnTotal: 0,
      toMove: 0,
      lastRoll: null,
      done: false,
      history: [],
    };
  },

  toAct(state) {
    return state.done ? [] : [state.toMove];
  },

  legalActions,
  isLegal,

  parse(_state, _seat, text) {
    return firstToken(text, readAction, "[roll] or [hold]");
  },

  format,

  apply(state, seat, action) {
    if (!isLegal(state, seat, action)) throw new Error(`PigDice: ${playerName(seat)} cannot play ${format(action)} now`);
    const history: LogEntry[] = [...state.history, toBoth({ kind: "action", seat, text: format(action) })];
    const turn = state.turn + 1;
    let next: PigDiceState;
    if (action === "roll") {
      const rng = rngFromState(state.rng);
      const die = rng.int(6) + 1;
      const bust = die === 1;
      history.push(
        toBoth({
          kind: "notice",
          text: bust
            ? `${playerName(seat)} rolled a 1 and loses the turn total of ${state.turnTotal}. ${playerName(otherSeat(seat))}'s turn.`
            : `${playerName(seat)} rolled a ${die}; turn total ${state.turnTotal + die}.`,
        }),
      );
      next = {
        ...state,
        rng: rng.state(),
        turn,
        turnTotal: bust ? 0 : state.turnTotal + die,
        toMove: bust ? otherSeat(seat) : seat,
        lastRoll: die,
        history,
      };
    } else {
      const scores: [number, number] = [state.scores[0], state.scores[1]];
      scores[seat] += state.turnTotal;
      history.push(
        toBoth({
          kind: "notice",
          text: `${playerName(seat)} banks ${state.turnTotal}, for a score of ${scores[seat]}. ${playerName(otherSeat(seat))}'s turn.`,
        }),
      );
      next = { ...state, turn, scores, turnTotal: 0, toMove: otherSeat(seat), lastRoll: null, history };
    }
    const done = next.scores[seat] >= TARGET || turn >= MAX_ACTIONS;
    if (!done) return next;
    const over = { ...next, done: true };
    return { ...over, history: [...over.history, toBoth({ kind: "notice", text: outcomeText(over) })] };
  },

  isTerminal(state) {
    return state.done;
  },

  returns(state) {
    return state.done ? outcomeReturns(margin(state)) : [0, 0];
  },

  observe(state, seat): Observation {
    const text = view(state, seat);
    const infoState: PigDiceInfoState = {
      seat,
      target: TARGET,
      scores: state.scores,
      turnTotal: state.turnTotal,
      toMove: state.done ? null : state.toMove,
      lastRoll: state.lastRoll,
      actionsLeft: MAX_ACTIONS - state.turn,
      done: state.done,
    };
    return {
      seat,
      turn: state.turn,
      log: seatLog(rules(seat), state.history, seat, text),
      view: text,
      legal: legalActions(state, seat).map(format),
      infoState,
    };
  },

  privateInfo() {
    return [];
  },
};
