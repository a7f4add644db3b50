/**
 * The skeleton the sequential evaluation games share (Connect Four, Simple Tak, Pig, Liar's Dice,
 * Nim): one seat to move, one message history both seats' logs are read from (seat-log.ts), and
 * every move announced to both seats, then the outcome once the game is over. `turnBasedGame`
 * writes that skeleton once; a game's file keeps its rules — the state, what is legal, how a reply
 * is read, what a move does (`play`), who wins, and what each seat sees.
 *
 * TicTacToe, Kuhn Poker and Simple Negotiation do not use it: they rebuild their logs from their
 * moves exactly as the reference environments word them, so no history lives in their states.
 */
import type { Game, GameInfo, GameState, Observation, ParseResult, Seat } from "./game.js";
import { outcomeReturns } from "./game.js";
import { createRng } from "../core/rng.js";
import { type LogEntry, playerName, seatLog, toBoth } from "./seat-log.js";

/** A sequential game's state: whose move it is and what has been said so far. */
export interface TurnState extends GameState {
  /** The seat to move; meaningless once the game is over. */
  readonly toMove: Seat;
  /** Every message delivered so far, with its audience. */
  readonly history: readonly LogEntry[];
}

/** A two-seat board game's state (Connect Four, Simple Tak): one cell per entry, a winner or a draw. */
export interface BoardState extends TurnState {
  /** Row-major cells: the seat whose piece is there, or null. */
  readonly board: readonly (Seat | null)[];
  readonly done: boolean;
  /** The seat that won; null while playing and for a draw. */
  readonly winner: Seat | null;
}

/** The opening state of a board game with `cells` empty cells, seat 0 to move. */
export function emptyBoardState(seed: number, cells: number): BoardState {
  return { rng: createRng(seed).state(), turn: 0, board: Array<Seat | null>(cells).fill(null), toMove: 0, done: false, winner: null, history: [] };
}

/** A sequential game's own rules: what `turnBasedGame` needs to make it a `Game`. */
export interface TurnRules<S extends TurnState, A> {
  readonly info: GameInfo;
  /** The game's name in the error for an illegal move ("ConnectFour: Player 1 cannot play [col 3] now"). */
  readonly name: string;
  init(seed: number): S;
  isOver(state: S): boolean;
  legalActions(state: S, seat: Seat): readonly A[];
  isLegal(state: S, seat: Seat, action: A): boolean;
  parse(state: S, seat: Seat, text: string): ParseResult<A>;
  format(action: A): string;
  /**
   * What a legal move does. `state` already counts the move (`turn` + 1) and has it announced to
   * both seats in `history`; `play` adds what follows from it (a roll, a revealed hand, a new round).
   */
  play(state: S, seat: Seat, action: A): S;
  /** The outcome notice appended to the history when a move ends the game. */
  outcomeText(state: S): string;
  /** The returns of a finished game (before the end they are [0, 0]). */
  outcome(state: S): readonly [number, number];
  /** The rules message that opens `seat`'s log. */
  rules(seat: Seat): string;
  /** The compact view of the state for `seat` (`Observation.view`; also the log's last message). */
  view(state: S, seat: Seat): string;
  /** What `seat` knows as typed data (`Observation.infoState`). */
  infoState(state: S, seat: Seat): unknown;
  /** Strings of `seat`'s hidden information; default none (perfect information). */
  privateInfo?(state: S, seat: Seat): readonly string[];
}

/** The game made of `rules`; see the file comment. */
export function turnBasedGame<S extends TurnState, A>(rules: TurnRules<S, A>): Game<S, A> {
  const { info, isOver, legalActions, isLegal, format } = rules;
  return {
    info,
    init: (seed) => rules.init(seed),
    toAct: (state) => (isOver(state) ? [] : [state.toMove]),
    legalActions,
    isLegal,
    parse: (state, seat, text) => rules.parse(state, seat, text),
    format,
    apply(state, seat, action) {
      if (!isLegal(state, seat, action)) throw new Error(`${rules.name}: ${playerName(seat)} cannot play ${format(action)} now`);
      const moved: S = { ...state, turn: state.turn + 1, history: [...state.history, toBoth({ kind: "action", seat, text: format(action) })] };
      const next = rules.play(moved, seat, action);
      if (!isOver(next)) return next;
      return { ...next, history: [...next.history, toBoth({ kind: "notice", text: rules.outcomeText(next) })] };
    },
    isTerminal: isOver,
    returns: (state) => (isOver(state) ? rules.outcome(state) : [0, 0]),
    observe(state, seat): Observation {
      const view = rules.view(state, seat);
      return {
        seat,
        turn: state.turn,
        log: seatLog(rules.rules(seat), state.history, seat, view),
        view,
        legal: legalActions(state, seat).map(format),
        infoState: rules.infoState(state, seat),
      };
    },
    privateInfo: (state, seat) => rules.privateInfo?.(state, seat) ?? [],
  };
}

/** The returns of a game `winner` won: +1 and −1; a draw (no winner) 0 each. */
export function winnerReturns(winner: Seat | null): readonly [number, number] {
  return winner === null ? [0, 0] : outcomeReturns(winner === 0 ? 1 : -1);
}
