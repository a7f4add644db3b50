/**
 * SimpleTak-v0: a 4×4 placement game of roads (TextArena's simplified Tak: placements only).
 *
 * Cells are numbered 0..15 row-major. Player 0 plays O and moves first, Player 1 plays X. On a
 * turn a player places one stone on an empty cell. A road is a chain of one's own stones, joined
 * orthogonally (not diagonally), that touches two opposite edges: top and bottom, or left and
 * right. Either player may build either kind. The first player to complete a road wins; a full
 * board without a road is a draw (possible, because diagonal contact does not join stones).
 * Only the mover's stones change, so at most one player can have a road. Action `[c]`.
 */
import type { Game, GameInfo, ParseResult, RulesMode, Seat } from "./game.js";
import { otherSeat } from "./game.js";
import { pyInt, pyRegex, replyMatch } from "./reply-pattern.js";
import { playerName } from "./seat-log.js";
import { type BoardState, emptyBoardState, turnBasedGame, winnerReturns } from "./turn-based.js";

const SIZE = 4;
const CELLS = SIZE * SIZE;
const SYMBOL: Record<Seat, string> = { 0: "O", 1: "X" };

export interface SimpleTakAction {
  readonly cell: number;
}

/** CELLS cells; the winner is the seat that completed a road. */
export type SimpleTakState = BoardState;

/** What a seat knows: the whole board (perfect information). */
export interface SimpleTakInfoState {
  readonly seat: Seat;
  readonly size: number;
  /** Row-major cells: the seat whose stone is there, or null. */
  readonly board: readonly (Seat | null)[];
  readonly emptyCells: readonly number[];
  readonly toMove: Seat | null;
  readonly winner: Seat | null;
  readonly done: boolean;
}

const baseInfo: GameInfo = {
  id: "SimpleTak-v0",
  name: "Simple Tak",
  summary: "Place stones on a 4×4 board; the first orthogonal road between opposite edges wins.",
  params: { size: SIZE },
  seats: 2,
  maxTurns: CELLS,
  minReturn: -1,
  maxReturn: 1,
  information: "perfect",
  actionSpace: "enumerable",
  simultaneous: false,
  solvable: false,
};

function rules(seat: Seat, mode: RulesMode): string {
  return [
    `You are ${playerName(seat)} in Simple Tak, a two-player zero-sum game on a ${SIZE}×${SIZE} board.`,
    `Cells are numbered 0 to ${CELLS - 1}, row by row from the top left. Player 0 plays O and moves first; Player 1 plays X. You play ${SYMBOL[seat]}.`,
    "On your turn you place one stone on any empty cell. Stones never move.",
    "A road is a chain of your stones, each joined to the next horizontally or vertically (diagonals do not count), that touches two opposite edges of the board: top and bottom, or left and right.",
    "The first player to complete a road wins. If the board fills up without a road, the game is a draw.",
    ...(mode === "reference" ? ["(Reference rules: a road is found the way the published SimpleTak-v0 searches for it, which can miss a road until a later stone completes another.)"] : []),
    "Reply with the cell number in square brackets, for example [5].",
  ].join("\n");
}

/** Whether `seat`'s stones hold a road (flood fill from one edge, looking for the opposite edge). */
export function hasRoad(board: readonly (Seat | null)[], seat: Seat): boolean {
  const starts: [number[], (cell: number) => boolean][] = [
    [Array.from({ length: SIZE }, (_, c) => c), (cell) => cell >= CELLS - SIZE],
    [Array.from({ length: SIZE }, (_, r) => r * SIZE), (cell) => cell % SIZE === SIZE - 1],
  ];
  for (const [edge, reachesOpposite] of starts) {
    const seen = new Set<number>();
    const stack = edge.filter((cell) => board[cell] === seat);
    while (stack.length > 0) {
      const cell = stack.pop() as number;
      if (seen.has(cell)) continue;
      seen.add(cell);
      if (reachesOpposite(cell)) return true;
      const row = Math.floor(cell / SIZE);
      const column = cell % SIZE;
      const neighbours = [
        row > 0 ? cell - SIZE : -1,
        row < SIZE - 1 ? cell + SIZE : -1,
        column > 0 ? cell - 1 : -1,
        column < SIZE - 1 ? cell + 1 : -1,
      ];
      for (const next of neighbours) if (next >= 0 && board[next] === seat && !seen.has(next)) stack.push(next);
    }
  }
  return false;
}

/**
 * The published SimpleTak-v0 `_check_win`, step for step: a depth-first search from every stone
 * (row-major), neighbours in the order right, down, left, up, with ONE visited set shared by all
 * searches and the edges touched carried along each path (a copy per branch). It reports a road
 * only when a single search path touches two opposite edges, so a road whose stones are reached
 * through a branch can be missed (e.g. a T shape), and a visited stone is never searched again.
 */
export function referenceHasRoad(board: readonly (Seat | null)[], seat: Seat): boolean {
  const TOP = 1;
  const BOTTOM = 2;
  const LEFT = 4;
  const RIGHT = 8;
  const visited = new Set<number>();
  const directions: readonly (readonly [number, number])[] = [[0, 1], [1, 0], [0, -1], [-1, 0]];
  const dfs = (r: number, c: number, edgesIn: number): boolean => {
    const cell = r * SIZE + c;
    if (visited.has(cell)) return false;
    visited.add(cell);
    let edges = edgesIn;
    if (r === 0) edges |= TOP;
    if (r === SIZE - 1) edges |= BOTTOM;
    if (c === 0) edges |= LEFT;
    if (c === SIZE - 1) edges |= RIGHT;
    if ((edges & (TOP | BOTTOM)) === (TOP | BOTTOM) || (edges & (LEFT | RIGHT)) === (LEFT | RIGHT)) return true;
    for (const [dr, dc] of directions) {
      const nr = r + dr;
      const nc = c + dc;
      if (nr >= 0 && nr < SIZE && nc >= 0 && nc < SIZE && board[nr * SIZE + nc] === seat && dfs(nr, nc, edges)) return true;
    }
    return false;
  };
  for (let r = 0; r < SIZE; r++) {
    for (let c = 0; c < SIZE; c++) {
      if (board[r * SIZE + c] === seat && dfs(r, c, 0)) return true;
    }
  }
  return false;
}

function emptyCells(board: readonly (Seat | null)[]): number[] {
  const empty: number[] = [];
  board.forEach((cell, i) => {
    if (cell === null) empty.push(i);
  });
  return empty;
}

function format(action: SimpleTakAction): string {
  return `[${action.cell}]`;
}

function renderBoard(board: readonly (Seat | null)[]): string {
  const lines: string[] = [];
  for (let r = 0; r < SIZE; r++) {
    const cells: string[] = [];
    for (let c = 0; c < SIZE; c++) {
      const cell = board[r * SIZE + c];
      cells.push((cell === null || cell === undefined ? String(r * SIZE + c) : SYMBOL[cell]).padStart(3));
    }
    lines.push(cells.join(""));
  }
  return lines.join("\n");
}

function outcomeText(state: SimpleTakState): string {
  if (state.winner !== null) return `${playerName(state.winner)} (${SYMBOL[state.winner]}) completed a road and wins.`;
  return "The board is full and nobody has a road: the game is a draw.";
}

function view(state: SimpleTakState, seat: Seat): string {
  const lines = [
    `Simple Tak. You are ${playerName(seat)} (${SYMBOL[seat]}); ${playerName(otherSeat(seat))} is ${SYMBOL[otherSeat(seat)]}. Empty cells show their number.`,
    renderBoard(state.board),
  ];
  if (state.done) lines.push(`Game over. ${outcomeText(state)}`);
  else if (state.toMove === seat) lines.push(`Your turn. Empty cells: ${emptyCells(state.board).map((cell) => format({ cell })).join(", ")}`);
  else lines.push(`Waiting for ${playerName(state.toMove)} to move.`);
  return lines.join("\n");
}

function legalActions(state: SimpleTakState, seat: Seat): SimpleTakAction[] {
  if (state.done || seat !== state.toMove) return [];
  return emptyCells(state.board).map((cell) => ({ cell }));
}

function isLegal(state: SimpleTakState, seat: Seat, action: SimpleTakAction): boolean {
  return (
    !state.done &&
    seat === state.toMove &&
    Number.isInteger(action.cell) &&
    action.cell >= 0 &&
    action.cell < CELLS &&
    state.board[action.cell] === null
  );
}

/** SimpleTak-v0 `step`: `re.compile(r"\[\s*(\d+)\s*\]").search(action)`, the first match. */
const CELL_PATTERN = pyRegex(String.raw`\[\s*(\d+)\s*\]`);
const CELL_PATTERN_NAME = String.raw`\[\s*(\d+)\s*\] (first match)`;

function parseCell(text: string): ParseResult<SimpleTakAction> {
  const match = typeof text === "string" ? CELL_PATTERN.exec(text) : null;
  if (match === null) return { ok: false, reason: "No cell found: write a cell number in square brackets, e.g. [5].", match: replyMatch(CELL_PATTERN_NAME, null) };
  const matched = replyMatch(CELL_PATTERN_NAME, match[0]);
  const digits = match[1] ?? "";
  const cell = pyInt(digits);
  if (!(cell < CELLS)) return { ok: false, reason: `Cell ${digits.slice(0, 12)} does not exist: choose a cell from 0 to ${CELLS - 1}.`, match: matched };
  return { ok: true, action: { cell }, match: matched };
}

function infoState(state: SimpleTakState, seat: Seat): SimpleTakInfoState {
  return {
    seat,
    size: SIZE,
    board: state.board,
    emptyCells: state.done ? [] : emptyCells(state.board),
    toMove: state.done ? null : state.toMove,
    winner: state.winner,
    done: state.done,
  };
}

function makeSimpleTak(mode: RulesMode): Game<SimpleTakState, SimpleTakAction> {
  const info: GameInfo = mode === "reference" ? { ...baseInfo, id: `${baseInfo.id}:reference`, params: { ...baseInfo.params, rules: mode } } : baseInfo;
  const roadOf = mode === "reference" ? referenceHasRoad : hasRoad;
  return turnBasedGame({
    info,
    name: "SimpleTak",
    init: (seed) => emptyBoardState(seed, CELLS),
    isOver: (state) => state.done,
    legalActions,
    isLegal,
    parse: (_state, _seat, text) => parseCell(text),
    format,
    /** A stone on the cell; a road for the mover wins, a full board without one draws. */
    play(state, seat, action) {
      const board = state.board.slice();
      board[action.cell] = seat;
      const road = roadOf(board, seat);
      return { ...state, board, toMove: otherSeat(seat), done: road || board.every((cell) => cell !== null), winner: road ? seat : null };
    },
    outcomeText,
    outcome: (state) => winnerReturns(state.winner),
    rules: (seat) => rules(seat, mode),
    view,
    infoState,
  });
}

/** SimpleTak-v0 with our road rule (any orthogonally connected chain between opposite edges). */
export const simpleTak = makeSimpleTak("spiral");
/** SimpleTak-v0 with the published road search (`referenceHasRoad`). */
export const simpleTakReference = makeSimpleTak("reference");

