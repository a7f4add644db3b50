/**
 * Snake-v0: two snakes on a 5×5 board with 2 apples, moving at the same time for up to 40 rounds.
 *
 * Each round both players choose `[up]`, `[down]`, `[left]` or `[right]` without seeing the
 * other's choice; then both snakes move one cell. A snake whose head reaches an apple eats it and
 * grows by one (its tail stays), and a new apple appears on a random empty cell (state RNG).
 * A snake dies if it moves off the board or into any cell a snake occupied at the start of the
 * round (its own body, tail included, or the other snake); two heads entering the same cell, or
 * swapping cells, kill both. The game ends in the round a snake dies: a lone survivor wins; if
 * both die, more apples eaten wins and equal is a draw. After 40 rounds more apples wins, equal
 * draws. Snakes start as single cells at random positions.
 *
 * Simultaneous moves (contract: `info.simultaneous`): `toAct` lists every seat that still owes
 * this round's move; the first `apply` buffers its move in `pending`, visible only to its owner
 * (as "Player s has chosen [dir] for round r", which `privateInfo` returns), and the second
 * resolves the round. `turn` counts applied actions, two per round, so `maxTurns` is 80.
 */
import { firstToken } from "./bracket-tokens.js";
import type { Game, GameInfo, GameState, Observation, ParseResult, Seat } from "./game.js";
import { otherSeat, outcomeReturns, SEATS } from "./game.js";
import { createRng, rngFromState } from "./rng.js";
import { type LogEntry, playerName, seatLog, toBoth, toSeat } from "./seat-log.js";

const SIZE = 5;
const APPLES = 2;
const ROUNDS = 40;

export type SnakeDirection = "up" | "down" | "left" | "right";

const DIRECTIONS: readonly SnakeDirection[] = ["up", "down", "left", "right"];
const DELTA: Record<SnakeDirection, readonly [number, number]> = {
  up: [-1, 0],
  down: [1, 0],
  left: [0, -1],
  right: [0, 1],
};
const HEAD: Record<Seat, string> = { 0: "A", 1: "B" };
const BODY: Record<Seat, string> = { 0: "a", 1: "b" };

export interface SnakeBody {
  /** Cells (row * SIZE + column), head first. */
  readonly cells: readonly number[];
  /** Apples eaten so far. */
  readonly score: number;
  /** Why this snake died, or null while alive. */
  readonly death: string | null;
}

export interface SnakeState extends GameState {
  readonly snakes: readonly [SnakeBody, SnakeBody];
  /** Apple cells. */
  readonly apples: readonly number[];
  /** Rounds resolved so far. */
  readonly round: number;
  /** This round's buffered moves: the first mover's choice waits here, hidden from the other seat. */
  readonly pending: readonly [SnakeDirection | null, SnakeDirection | null];
  readonly done: boolean;
  readonly history: readonly LogEntry[];
}

/** What a seat knows: the board (public) and its own buffered move, never the other's. */
export interface SnakeInfoState {
  readonly seat: Seat;
  readonly size: number;
  /** The round being played, 1-based (the last round played once the game is over). */
  readonly round: number;
  readonly maxRounds: number;
  /** Each snake as [row, column] cells, head first, with its score and cause of death. */
  readonly snakes: readonly { readonly cells: readonly (readonly [number, number])[]; readonly score: number; readonly death: string | null }[];
  readonly apples: readonly (readonly [number, number])[];
  /** This seat's move for the current round, once chosen. */
  readonly ownMove: SnakeDirection | null;
  readonly toAct: readonly Seat[];
  readonly done: boolean;
}

const info: GameInfo = {
  id: "Snake-v0",
  name: "Snake",
  summary: "Two snakes move at the same time on a 5×5 board with 2 apples; survive and eat more to win (40 rounds).",
  params: { size: SIZE, apples: APPLES, rounds: ROUNDS },
  seats: 2,
  maxTurns: 2 * ROUNDS,
  minReturn: -1,
  maxReturn: 1,
  information: "imperfect",
  actionSpace: "enumerable",
  simultaneous: true,
  solvable: false,
};

function rules(seat: Seat): string {
  return [
    `You are ${playerName(seat)} in Snake, a two-player zero-sum game on a ${SIZE}×${SIZE} board (rows and columns numbered 0 to ${SIZE - 1}, row 0 at the top).`,
    `Each player steers one snake: Player 0's head is ${HEAD[0]} and body ${BODY[0]}, Player 1's head is ${HEAD[1]} and body ${BODY[1]}. Apples are @. There are ${APPLES} apples on the board; a new one appears whenever one is eaten.`,
    "Every round both players choose a direction at the same time, without seeing the other's choice; then both snakes move one cell.",
    "Moving onto an apple eats it: your snake grows by one cell, and the new apple appears on a random empty cell.",
    "A snake dies if it moves off the board or into any cell that a snake occupied at the start of the round (its own body including the tail, or the other snake). If both heads move into the same cell, or swap cells, both snakes die.",
    `The game ends as soon as a snake dies: the survivor wins. If both die in the same round, the player who ate more apples wins; equal is a draw. After ${ROUNDS} rounds the player who ate more apples wins; equal is a draw.`,
    "Reply with one direction in square brackets: [up], [down], [left] or [right].",
  ].join("\n");
}

function format(action: SnakeDirection): string {
  return `[${action}]`;
}

function readDirection(token: string): ParseResult<SnakeDirection> | undefined {
  const word = token.toLowerCase();
  return (DIRECTIONS as readonly string[]).includes(word) ? { ok: true, action: word as SnakeDirection } : undefined;
}

function rowColumn(cell: number): readonly [number, number] {
  return [Math.floor(cell / SIZE), cell % SIZE];
}

/** The cell one step from `cell` in `direction`, or null off the board. */
function stepFrom(cell: number, direction: SnakeDirection): number | null {
  const [row, column] = rowColumn(cell);
  const r = row + DELTA[direction][0];
  const c = column + DELTA[direction][1];
  return r < 0 || r >= SIZE || c < 0 || c >= SIZE ? null : r * SIZE + c;
}

function toAct(state: SnakeState): Seat[] {
  return state.done ? [] : SEATS.filter((seat) => state.pending[seat] === null);
}

function legalActions(state: SnakeState, seat: Seat): SnakeDirection[] {
  return toAct(state).includes(seat) ? [...DIRECTIONS] : [];
}

function isLegal(state: SnakeState, seat: Seat, action: SnakeDirection): boolean {
  return toAct(state).includes(seat) && DIRECTIONS.includes(action);
}

function chosenText(seat: Seat, round: number, direction: SnakeDirection): string {
  return `${playerName(seat)} has chosen ${format(direction)} for round ${round}`;
}

function margin(state: SnakeState): number {
  const [s0, s1] = state.snakes;
  if (s0.death === null && s1.death !== null) return 1;
  if (s1.death === null && s0.death !== null) return -1;
  return s0.score - s1.score;
}

function outcomeText(state: SnakeState): string {
  const m = margin(state);
  const scores = `Apples eaten: Player 0 ${state.snakes[0].score}, Player 1 ${state.snakes[1].score}.`;
  const deaths = SEATS.filter((seat) => state.snakes[seat].death !== null);
  const why = deaths.map((seat) => `${playerName(seat)} ${state.snakes[seat].death}.`).join(" ");
  const reason = deaths.length === 0 ? `All ${ROUNDS} rounds are played.` : why;
  if (m === 0) return `${reason} ${scores} The game is a draw.`;
  return `${reason} ${scores} ${playerName(m > 0 ? 0 : 1)} wins.`;
}

function renderBoard(state: SnakeState): string {
  const grid = Array<string>(SIZE * SIZE).fill(".");
  for (const cell of state.apples) grid[cell] = "@";
  for (const seat of SEATS) {
    state.snakes[seat].cells.forEach((cell, i) => {
      grid[cell] = i === 0 ? HEAD[seat] : BODY[seat];
    });
  }
  const lines = ["   " + Array.from({ length: SIZE }, (_, c) => String(c)).join(" ")];
  for (let r = 0; r < SIZE; r++) lines.push(`${r}  ${grid.slice(r * SIZE, (r + 1) * SIZE).join(" ")}`);
  return lines.join("\n");
}

function view(state: SnakeState, seat: Seat): string {
  const other = otherSeat(seat);
  const me = state.snakes[seat];
  const them = state.snakes[other];
  const round = Math.min(state.round + 1, ROUNDS);
  const lines = [
    `Snake, round ${state.done ? state.round : round} of ${ROUNDS}. You are ${playerName(seat)}: your head is ${HEAD[seat]}, your body ${BODY[seat]}. ${playerName(other)} is ${HEAD[other]}/${BODY[other]}. Apples: @.`,
    renderBoard(state),
  ];
  const [hr, hc] = rowColumn(me.cells[0] as number);
  const [or, oc] = rowColumn(them.cells[0] as number);
  lines.push(`Your head: row ${hr}, column ${hc}; length ${me.cells.length}; apples eaten ${me.score}.`);
  lines.push(`${playerName(other)}'s head: row ${or}, column ${oc}; length ${them.cells.length}; apples eaten ${them.score}.`);
  if (state.done) {
    lines.push(`Game over. ${outcomeText(state)}`);
  } else {
    const own = state.pending[seat];
    if (own !== null) lines.push(`${chosenText(seat, round, own)}; waiting for ${playerName(other)}.`);
    else {
      const waiting = state.pending[other] !== null ? `${playerName(other)} has already chosen (hidden until both move). ` : "";
      lines.push(`${waiting}Your move (both players move at the same time): [up], [down], [left] or [right].`);
    }
  }
  return lines.join("\n");
}

/** Both moves are in: move, eat, grow, kill, respawn apples, and check the end. */
function resolveRound(state: SnakeState, moves: readonly [SnakeDirection, SnakeDirection]): SnakeState {
  const round = state.round + 1;
  const heads = SEATS.map((seat) => stepFrom(state.snakes[seat].cells[0] as number, moves[seat]));
  const owner = new Map<number, Seat>();
  for (const seat of SEATS) for (const cell of state.snakes[seat].cells) owner.set(cell, seat);
  const deaths: (string | null)[] = SEATS.map((seat) => {
    const head = heads[seat];
    if (head === null || head === undefined) return "moved off the board";
    const hit = owner.get(head);
    if (hit === seat) return "ran into its own body";
    if (hit !== undefined) return `ran into ${playerName(hit)}'s snake`;
    return null;
  });
  const [h0, h1] = heads;
  const swapped = h0 === state.snakes[1].cells[0] && h1 === state.snakes[0].cells[0];
  if (h0 !== null && h0 !== undefined && (h0 === h1 || swapped)) {
    deaths[0] = "collided head-on with Player 1";
    deaths[1] = "collided head-on with Player 0";
  }
  const history: LogEntry[] = [
    ...state.history,
    ...SEATS.map((seat) => toBoth({ kind: "action", seat, text: format(moves[seat]) })),
  ];
  const turn = state.turn + 1;
  if (deaths.some((death) => death !== null)) {
    const snakes = SEATS.map((seat) => ({ ...state.snakes[seat], death: deaths[seat] ?? null })) as [SnakeBody, SnakeBody];
    const over: SnakeState = { ...state, turn, round, snakes, pending: [null, null], done: true, history };
    return { ...over, history: [...history, toBoth({ kind: "notice", text: `Round ${round}: ${outcomeText(over)}` })] };
  }

  const rng = rngFromState(state.rng);
  let apples = state.apples.slice();
  const snakes = SEATS.map((seat): SnakeBody => {
    const snake = state.snakes[seat];
    const head = heads[seat] as number;
    const eats = apples.includes(head);
    if (eats) apples = apples.filter((cell) => cell !== head);
    const cells = [head, ...snake.cells];
    if (!eats) cells.pop();
    return { cells, score: snake.score + (eats ? 1 : 0), death: null };
  }) as [SnakeBody, SnakeBody];
  const eaten = APPLES - apples.length;
  for (let i = 0; i < eaten; i++) {
    const taken = new Set([...snakes[0].cells, ...snakes[1].cells, ...apples]);
    const empty = Array.from({ length: SIZE * SIZE }, (_, cell) => cell).filter((cell) => !taken.has(cell));
    if (empty.length > 0) apples.push(rng.choice(empty));
  }
  const ate = SEATS.filter((seat) => snakes[seat].score > state.snakes[seat].score);
  const events = ate.length === 0 ? "no apple eaten" : ate.map((seat) => `${playerName(seat)} ate an apple`).join(", ");
  history.push(toBoth({ kind: "notice", text: `Round ${round}: Player 0 moved ${format(moves[0])}, Player 1 moved ${format(moves[1])}; ${events}.` }));
  const next: SnakeState = { ...state, rng: rng.state(), turn, round, snakes, apples, pending: [null, null], done: round >= ROUNDS, history };
  if (!next.done) return next;
  return { ...next, history: [...history, toBoth({ kind: "notice", text: outcomeText(next) })] };
}

export const snake: Game<SnakeState, SnakeDirection> = {
  info,

  init(seed) {
    const rng = createRng(seed);
    const cells = rng.shuffle(Array.from({ length: SIZE * SIZE }, (_, cell) => cell));
    const start = (i: number): SnakeBody => ({ cells: [cells[i] as number], score: 0, death: null });
    return {
      rng: rng.state(),
      turn: 0,
      snakes: [start(0), start(1)],
      apples: cells.slice(2, 2 + APPLES),
      round: 0,
      pending: [null, null],
      done: false,
      history: [],
    };
  },

  toAct,
  legalActions,
  isLegal,

  parse(_state, _seat, text) {
    return firstToken(text, readDirection, "a direction: [up], [down], [left] or [right]");
  },

  format,

  apply(state, seat, action) {
    if (!isLegal(state, seat, action)) throw new Error(`Snake: ${playerName(seat)} cannot play ${format(action)} now`);
    const pending: [SnakeDirection | null, SnakeDirection | null] = [state.pending[0], state.pending[1]];
    pending[seat] = action;
    const [m0, m1] = pending;
    if (m0 !== null && m1 !== null) return resolveRound(state, [m0, m1]);
    const chosen = toSeat(seat, { kind: "notice", text: `${chosenText(seat, state.round + 1, action)}.` });
    return { ...state, turn: state.turn + 1, pending, history: [...state.history, chosen] };
  },

  isTerminal(state) {
    return state.done;
  },

  returns(state) {
    return state.done ? outcomeReturns(margin(state)) : [0, 0];
  },

  observe(state, seat): Observation {
    const text = view(state, seat);
    const infoState: SnakeInfoState = {
      seat,
      size: SIZE,
      round: state.done ? state.round : state.round + 1,
      maxRounds: ROUNDS,
      snakes: state.snakes.map((s) => ({ cells: s.cells.map(rowColumn), score: s.score, death: s.death })),
      apples: state.apples.map(rowColumn),
      ownMove: state.pending[seat],
      toAct: toAct(state),
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

  privateInfo(state, seat) {
    const own = state.pending[seat];
    return own === null || state.done ? [] : [chosenText(seat, state.round + 1, own)];
  },
};
