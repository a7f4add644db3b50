/**
 * ConnectFour-v0: 6 rows × 7 columns, discs fall to the lowest empty cell of the chosen column.
 *
 * Player 0 is X and moves first, Player 1 is O. Four of one's own discs in a line (horizontal,
 * vertical or diagonal) wins; a full board without a line is a draw. Action `[col c]` or `[c]`
 * with c in 0..6 (case-insensitive; canonical form `[col c]`); a reply with several counts its
 * last on the first line that has one, as the reference's greedy pattern does. A full or
 * non-existent column is an invalid move. At most 42 moves, so the game ends itself without a cap.
 */
import type { Game, GameInfo, ParseResult, Seat } from "./game.js";
import { otherSeat } from "./game.js";
import { pyInt, pyRegex, replyMatch } from "./reply-pattern.js";
import { playerName } from "./seat-log.js";
import { type BoardState, emptyBoardState, turnBasedGame, winnerReturns } from "./turn-based.js";

const ROWS = 6;
const COLUMNS = 7;
const LINE = 4;
const SYMBOL: Record<Seat, string> = { 0: "X", 1: "O" };

export interface ConnectFourAction {
  readonly column: number;
}

/** ROWS × COLUMNS cells, row 0 at the top; the winner is the seat with four in a row. */
export type ConnectFourState = BoardState;

/** What a seat knows: the whole board (perfect information). */
export interface ConnectFourInfoState {
  readonly seat: Seat;
  /** Rows top to bottom; each cell the seat whose disc is there, or null. */
  readonly rows: readonly (readonly (Seat | null)[])[];
  /** Columns that still take a disc. */
  readonly openColumns: readonly number[];
  readonly toMove: Seat | null;
  readonly winner: Seat | null;
  readonly done: boolean;
}

const info: GameInfo = {
  id: "ConnectFour-v0",
  name: "Connect Four",
  summary: "Drop discs into a 6×7 grid; four in a row (any direction) wins.",
  params: { rows: ROWS, columns: COLUMNS },
  seats: 2,
  maxTurns: ROWS * COLUMNS,
  minReturn: -1,
  maxReturn: 1,
  information: "perfect",
  actionSpace: "enumerable",
  simultaneous: false,
  solvable: false,
};

function rules(seat: Seat): string {
  return [
    `You are ${playerName(seat)} in Connect Four, a two-player zero-sum game.`,
    `The board has ${ROWS} rows and ${COLUMNS} columns, numbered 0 to ${COLUMNS - 1} from left to right.`,
    "On your turn you drop one disc into a column; it falls to the lowest empty cell of that column.",
    `Player 0 plays X and moves first; Player 1 plays O. You play ${SYMBOL[seat]}.`,
    "The first player with four of their own discs in a line — horizontal, vertical or diagonal — wins.",
    "If the board fills up without such a line, the game is a draw. A full column cannot be chosen.",
    "Reply with the column in square brackets, for example [col 3] (or just [3]).",
  ].join("\n");
}

function cellAt(board: readonly (Seat | null)[], row: number, column: number): Seat | null | undefined {
  if (row < 0 || row >= ROWS || column < 0 || column >= COLUMNS) return undefined;
  return board[row * COLUMNS + column];
}

function openColumns(board: readonly (Seat | null)[]): number[] {
  const open: number[] = [];
  for (let c = 0; c < COLUMNS; c++) if (board[c] === null) open.push(c);
  return open;
}

/** Whether the disc just placed at (row, column) completes a line of four. */
function completesLine(board: readonly (Seat | null)[], row: number, column: number): boolean {
  const seat = cellAt(board, row, column);
  for (const [dr, dc] of [[0, 1], [1, 0], [1, 1], [1, -1]] as const) {
    let count = 1;
    for (const sign of [1, -1]) {
      let r = row + sign * dr;
      let c = column + sign * dc;
      while (cellAt(board, r, c) === seat) {
        count++;
        r += sign * dr;
        c += sign * dc;
      }
    }
    if (count >= LINE) return true;
  }
  return false;
}

function renderBoard(board: readonly (Seat | null)[]): string {
  const lines = [" " + Array.from({ length: COLUMNS }, (_, c) => String(c)).join(" ")];
  for (let r = 0; r < ROWS; r++) {
    const cells: string[] = [];
    for (let c = 0; c < COLUMNS; c++) {
      const cell = board[r * COLUMNS + c];
      cells.push(cell === null || cell === undefined ? "." : SYMBOL[cell]);
    }
    lines.push(" " + cells.join(" "));
  }
  return lines.join("\n");
}

function outcomeText(state: ConnectFourState): string {
  if (state.winner !== null) return `${playerName(state.winner)} (${SYMBOL[state.winner]}) wins with four in a row.`;
  return "The board is full with no four in a row: the game is a draw.";
}

function view(state: ConnectFourState, seat: Seat): string {
  const lines = [
    `Connect Four. You are ${playerName(seat)} (${SYMBOL[seat]}); ${playerName(otherSeat(seat))} is ${SYMBOL[otherSeat(seat)]}.`,
    renderBoard(state.board),
  ];
  if (state.done) {
    lines.push(`Game over. ${outcomeText(state)}`);
  } else if (state.toMove === seat) {
    lines.push(`Your turn. Open columns: ${openColumns(state.board).map((c) => format({ column: c })).join(", ")}`);
  } else {
    lines.push(`Waiting for ${playerName(state.toMove)} to move.`);
  }
  return lines.join("\n");
}

function format(action: ConnectFourAction): string {
  return `[col ${action.column}]`;
}

/**
 * ConnectFour-v0 `_validate_action`: `re.compile(r'.*\[(?:col\s*)?(\d+)\].*', re.IGNORECASE).search(action)`.
 * The leading greedy `.*` (which stops at a newline) makes the match the LAST `[col N]`/`[N]` on
 * the first line that has one. We find the same token without the quadratic backtracking: every
 * match of the inner pattern, then the last one that starts on the first match's line.
 */
const COLUMN_TOKEN = pyRegex(String.raw`\[(?:col\s*)?(\d+)\]`, { ignoreCase: true, global: true });
const COLUMN_PATTERN_NAME = String.raw`.*\[(?:col\s*)?(\d+)\].* (ignore case; greedy: the last match on the first line with one)`;

function parseColumn(text: string): ParseResult<ConnectFourAction> {
  let chosen: RegExpExecArray | null = null;
  let lineEnd = -1;
  for (const match of text.matchAll(COLUMN_TOKEN)) {
    if (chosen === null) {
      chosen = match;
      const newline = text.indexOf("\n", match.index);
      lineEnd = newline === -1 ? text.length : newline;
    } else if (match.index < lineEnd) {
      chosen = match;
    } else {
      break;
    }
  }
  if (chosen === null) {
    return { ok: false, reason: "No column found: write [col c] (or [c]) with c from 0 to 6.", match: replyMatch(COLUMN_PATTERN_NAME, null) };
  }
  const matched = replyMatch(COLUMN_PATTERN_NAME, chosen[0]);
  const digits = chosen[1] ?? "";
  const column = pyInt(digits);
  if (!(column < COLUMNS)) {
    return { ok: false, reason: `Column ${digits.slice(0, 12)} does not exist: choose a column from 0 to ${COLUMNS - 1}.`, match: matched };
  }
  return { ok: true, action: { column }, match: matched };
}

function legalActions(state: ConnectFourState, seat: Seat): ConnectFourAction[] {
  if (state.done || seat !== state.toMove) return [];
  return openColumns(state.board).map((column) => ({ column }));
}

function isLegal(state: ConnectFourState, seat: Seat, action: ConnectFourAction): boolean {
  return (
    !state.done &&
    seat === state.toMove &&
    Number.isInteger(action.column) &&
    action.column >= 0 &&
    action.column < COLUMNS &&
    state.board[action.column] === null
  );
}

/** What a legal move does: the disc falls to the lowest empty cell; a line of four wins, a full board draws. */
function play(state: ConnectFourState, seat: Seat, action: ConnectFourAction): ConnectFourState {
  let row = ROWS - 1;
  while (state.board[row * COLUMNS + action.column] !== null) row--;
  const board = state.board.slice();
  board[row * COLUMNS + action.column] = seat;
  const won = completesLine(board, row, action.column);
  const full = board.every((cell) => cell !== null);
  return { ...state, board, toMove: otherSeat(seat), done: won || full, winner: won ? seat : null };
}

function infoState(state: ConnectFourState, seat: Seat): ConnectFourInfoState {
  return {
    seat,
    rows: Array.from({ length: ROWS }, (_, r) => state.board.slice(r * COLUMNS, (r + 1) * COLUMNS)),
    openColumns: state.done ? [] : openColumns(state.board),
    toMove: state.done ? null : state.toMove,
    winner: state.winner,
    done: state.done,
  };
}

export const connectFour: Game<ConnectFourState, ConnectFourAction> = turnBasedGame({
  info,
  name: "ConnectFour",
  init: (seed) => emptyBoardState(seed, ROWS * COLUMNS),
  isOver: (state) => state.done,
  legalActions,
  isLegal,
  parse: (_state, _seat, text) => (typeof text === "string" ? parseColumn(text) : { ok: false, reason: "Expected a text reply with a column like [col 3]." }),
  format,
  play,
  outcomeText,
  outcome: (state) => winnerReturns(state.winner),
  rules,
  view,
  infoState,
});
