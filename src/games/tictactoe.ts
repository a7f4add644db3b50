/**
 * TicTacToe-v0: 3×3, cells 0–8 row-major. Player 0 is O and moves first, Player 1 is X.
 * A move is `[c]` (the first match of `\[\s*(\d+)\s*\]` in the reply); no match, a cell outside
 * 0–8 or an occupied cell is invalid. Three in a row wins (+1/−1); a full board draws.
 *
 * The state is the board plus the list of moves, so the whole message log can be rebuilt from it.
 * Also exports the exact solution (`ticTacToeSolve`): every reachable position with its value.
 */
import type { Game, GameState, Message, Observation, ParseResult, Seat } from "./game.js";
import { otherSeat } from "./game.js";
import { createRng } from "../core/rng.js";
import { pyInt, pyRegex, replyMatch } from "./reply-pattern.js";

/** A cell holds the seat that marked it, or null when empty. */
export type Cell = Seat | null;

export interface TicTacToeState extends GameState {
  /** 9 cells, row-major. */
  readonly cells: readonly Cell[];
  /** Cells played so far, in order (Player 0 played the even-indexed ones). */
  readonly moves: readonly number[];
  readonly winner: Seat | null;
}

/** What a seat knows: the whole board (perfect information) and whose turn it is. */
export interface TicTacToeInfoState {
  readonly seat: Seat;
  readonly cells: readonly Cell[];
  /** The seat to move, or null when the game is over. */
  readonly toMove: Seat | null;
  readonly winner: Seat | null;
}

export const MARKS: Readonly<Record<Seat, string>> = { 0: "O", 1: "X" };

export const LINES: readonly (readonly [number, number, number])[] = [
  [0, 1, 2], [3, 4, 5], [6, 7, 8],
  [0, 3, 6], [1, 4, 7], [2, 5, 8],
  [0, 4, 8], [2, 4, 6],
];

export function lineWinner(cells: readonly Cell[]): Seat | null {
  for (const [a, b, c] of LINES) {
    const mark = cells[a] ?? null;
    if (mark !== null && cells[b] === mark && cells[c] === mark) return mark;
  }
  return null;
}

export function emptyCells(cells: readonly Cell[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < 9; i++) if (cells[i] === null) out.push(i);
  return out;
}

function isOver(state: TicTacToeState): boolean {
  return state.winner !== null || state.moves.length === 9;
}

/** The seat to move: Player 0 on even turns. */
function mover(state: TicTacToeState): Seat {
  return state.moves.length % 2 === 0 ? 0 : 1;
}

export function renderBoard(cells: readonly Cell[]): string {
  const cell = (i: number): string => {
    const c = cells[i] ?? null;
    return c === null ? String(i) : (MARKS[c] as string);
  };
  const row = (r: number): string => ` ${cell(3 * r)} | ${cell(3 * r + 1)} | ${cell(3 * r + 2)}`;
  return [row(0), "---+---+---", row(1), "---+---+---", row(2)].join("\n");
}

function rulesText(seat: Seat): string {
  const me = MARKS[seat];
  const them = MARKS[otherSeat(seat)];
  return [
    `You are Player ${seat} in TicTacToe, playing ${me}; Player ${otherSeat(seat)} plays ${them}. Player 0 (O) moves first.`,
    "The board has 9 cells numbered 0 to 8, row by row (0 1 2 / 3 4 5 / 6 7 8).",
    "On your turn, mark one empty cell by writing its number in square brackets, for example [4] for the centre.",
    "Three of your marks in a row, column or diagonal wins; a full board with no line is a draw.",
    "Choosing an occupied cell, a number outside 0-8, or no bracketed number is an invalid move.",
  ].join("\n");
}

function outcomeText(state: TicTacToeState, seat: Seat): string {
  if (state.winner === null) return "Game over: the board is full with no line. It is a draw.";
  const who = state.winner === seat ? "You win" : "You lose";
  return `Game over: Player ${state.winner} (${MARKS[state.winner]}) completed a line. ${who}.`;
}

function viewText(state: TicTacToeState, seat: Seat): string {
  const head = `You are Player ${seat} (${MARKS[seat]}). Empty cells show their number.`;
  const board = renderBoard(state.cells);
  if (isOver(state)) return `${head}\n${board}\n${outcomeText(state, seat)}`;
  const toMove = mover(state);
  if (toMove !== seat) return `${head}\n${board}\nWaiting for Player ${toMove} (${MARKS[toMove]}).`;
  const moves = emptyCells(state.cells).map((c) => `[${c}]`).join(", ");
  return `${head}\n${board}\nYour move. Available moves: ${moves}`;
}

/** Rules, every move so far, the outcome when over, then the current view (as every game's log ends). */
function messageLog(state: TicTacToeState, seat: Seat): Message[] {
  const log: Message[] = [{ kind: "rules", text: rulesText(seat) }];
  state.moves.forEach((cell, i) => log.push({ kind: "action", seat: i % 2 === 0 ? 0 : 1, text: `[${cell}]` }));
  if (isOver(state)) log.push({ kind: "notice", text: outcomeText(state, seat) });
  log.push({ kind: "state", text: viewText(state, seat) });
  return log;
}

function legalCells(state: TicTacToeState, seat: Seat): number[] {
  if (isOver(state) || mover(state) !== seat) return [];
  return emptyCells(state.cells);
}

function isLegalMove(state: TicTacToeState, seat: Seat, action: number): boolean {
  return (
    !isOver(state) &&
    mover(state) === seat &&
    Number.isInteger(action) &&
    action >= 0 &&
    action < 9 &&
    state.cells[action] === null
  );
}

/** TicTacToe-v0 `step`: `re.compile(r"\[\s*(\d+)\s*\]").search(action)`, the first match. */
const MOVE_PATTERN = pyRegex(String.raw`\[\s*(\d+)\s*\]`);
const MOVE_PATTERN_NAME = String.raw`\[\s*(\d+)\s*\] (first match)`;

export const ticTacToe: Game<TicTacToeState, number> = {
  info: {
    id: "TicTacToe-v0",
    name: "TicTacToe",
    summary: "3×3 noughts and crosses: Player 0 (O) moves first; three in a row wins.",
    params: {},
    seats: 2,
    maxTurns: 9,
    minReturn: -1,
    maxReturn: 1,
    information: "perfect",
    actionSpace: "enumerable",
    simultaneous: false,
    solvable: true,
  },

  init(seed: number): TicTacToeState {
    // No chance events; the RNG is carried only to honour the common state shape.
    return { rng: createRng(seed).state(), turn: 0, cells: Array<Cell>(9).fill(null), moves: [], winner: null };
  },

  toAct(state) {
    return isOver(state) ? [] : [mover(state)];
  },

  legalActions: legalCells,
  isLegal: isLegalMove,

  parse(state, seat, text): ParseResult<number> {
    if (isOver(state)) return { ok: false, reason: "The game is over: no move can be played." };
    if (mover(state) !== seat) return { ok: false, reason: `It is Player ${mover(state)}'s turn, not yours.` };
    const match = typeof text === "string" ? MOVE_PATTERN.exec(text) : null;
    if (match === null) {
      return { ok: false, reason: "No move found: write the number of an empty cell in square brackets, e.g. [4].", match: replyMatch(MOVE_PATTERN_NAME, null) };
    }
    const matched = replyMatch(MOVE_PATTERN_NAME, match[0]);
    const digits = match[1] as string;
    // The reference takes int() of the digits: "[004]" and "[ ４ ]" are cell 4.
    const cell = pyInt(digits);
    if (!(cell <= 8)) {
      return { ok: false, reason: `Cell ${digits.length > 12 ? digits.slice(0, 12) + "…" : digits} does not exist: cells are numbered 0 to 8.`, match: matched };
    }
    if (state.cells[cell] !== null) {
      const free = emptyCells(state.cells).map((c) => `[${c}]`).join(", ");
      return { ok: false, reason: `Cell ${cell} is already taken. Available moves: ${free || "none"}.`, match: matched };
    }
    return { ok: true, action: cell, match: matched };
  },

  format(action) {
    return `[${action}]`;
  },

  apply(state, seat, action) {
    if (!isLegalMove(state, seat, action)) {
      throw new Error(
        `TicTacToe: Player ${seat} cannot play ${String(action)} now (expected one of ${JSON.stringify(legalCells(state, seat))})`,
      );
    }
    const cells = state.cells.slice();
    cells[action] = seat;
    return { rng: state.rng, turn: state.turn + 1, cells, moves: [...state.moves, action], winner: lineWinner(cells) };
  },

  isTerminal(state) {
    return isOver(state);
  },

  returns(state) {
    if (state.winner === null) return [0, 0];
    return state.winner === 0 ? [1, -1] : [-1, 1];
  },

  observe(state, seat): Observation {
    const infoState: TicTacToeInfoState = {
      seat,
      cells: state.cells,
      toMove: isOver(state) ? null : mover(state),
      winner: state.winner,
    };
    return {
      seat,
      turn: state.turn,
      log: messageLog(state, seat),
      view: viewText(state, seat),
      legal: legalCells(state, seat).map((c) => `[${c}]`),
      infoState,
    };
  },

  privateInfo() {
    return [];
  },
};

// ---------------------------------------------------------------------------------------------
// Exact solution

/** A position's key: 9 characters, "O", "X" or "." per cell. */
export function ticTacToeKey(cells: readonly Cell[]): string {
  let key = "";
  for (let i = 0; i < 9; i++) {
    const c = cells[i] ?? null;
    key += c === null ? "." : (MARKS[c] as string);
  }
  return key;
}

let solved: ReadonlyMap<string, number> | null = null;

/**
 * Minimax values of every position reachable from the empty board (5,478 of them, terminal ones
 * included), keyed by `ticTacToeKey`, from Player 0's side: +1 O wins, −1 X wins, 0 draw under
 * perfect play. Computed once and memoised.
 */
export function ticTacToeSolve(): ReadonlyMap<string, number> {
  if (solved !== null) return solved;
  const values = new Map<string, number>();
  const solve = (cells: Cell[], toMove: Seat): number => {
    const key = ticTacToeKey(cells);
    const known = values.get(key);
    if (known !== undefined) return known;
    const winner = lineWinner(cells);
    let value: number;
    if (winner !== null) value = winner === 0 ? 1 : -1;
    else if (cells.every((c) => c !== null)) value = 0;
    else {
      value = toMove === 0 ? -Infinity : Infinity;
      for (const c of emptyCells(cells)) {
        cells[c] = toMove;
        const v = solve(cells, otherSeat(toMove));
        cells[c] = null;
        value = toMove === 0 ? Math.max(value, v) : Math.min(value, v);
      }
    }
    values.set(key, value);
    return value;
  };
  solve(Array<Cell>(9).fill(null), 0);
  solved = values;
  return solved;
}

/** The seat to move in a reachable position (O moves when the counts are equal). */
export function ticTacToeToMove(cells: readonly Cell[]): Seat {
  const placed = cells.filter((c) => c !== null).length;
  return placed % 2 === 0 ? 0 : 1;
}

/** The cells that keep the best achievable value for the seat to move (empty if the game is over). */
export function ticTacToeOptimalMoves(cells: readonly Cell[]): number[] {
  if (lineWinner(cells) !== null) return [];
  const values = ticTacToeSolve();
  const toMove = ticTacToeToMove(cells);
  const sign = toMove === 0 ? 1 : -1;
  let best = -Infinity;
  let moves: number[] = [];
  for (const c of emptyCells(cells)) {
    const next = cells.slice();
    next[c] = toMove;
    const v = sign * (values.get(ticTacToeKey(next)) as number);
    if (v > best) {
      best = v;
      moves = [c];
    } else if (v === best) moves.push(c);
  }
  return moves;
}
