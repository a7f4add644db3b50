/**
 * Snake-v0: two snakes on a 5×5 board with 2 apples, moving at the same time; 40 moves (20 rounds).
 *
 * The rules are the reference's (TextArena 0.6.4 `SnakeEnv`, registered with width 5, height 5,
 * num_apples 2, max_turns 40). Each round both players choose `[up]`, `[down]`, `[left]` or
 * `[right]` (or `[w]`, `[s]`, `[a]`, `[d]`) without seeing the other's choice; then both snakes
 * move one cell. In `_apply_simultaneous_moves` order:
 * 1. A snake whose next head is off the board dies; two heads entering one cell, or swapping
 *    cells, kill both.
 * 2. The survivors of step 1 occupy their cells, except a tail that moves away this round (the
 *    snake does not eat); a head entering an occupied cell dies ("body collision").
 * 3. The rest move in seat order: an apple under the new head is eaten (the snake grows, its
 *    score rises) and a new apple appears at once on a random free cell, so Player 1 can eat an
 *    apple that appeared in front of it in the same round.
 * The game ends when at most one snake is alive, or when the turn counter, which the reference
 * advances on every single move of either player, reaches 40: after 20 rounds.
 * Spawns: the first snake on a random inner cell, the second on the inner cell farthest from it.
 *
 * Returns. Ours (zero-sum, the documented deliberate fix): a lone survivor wins; otherwise more
 * apples wins, equal draws. The reference's (`rules: "reference"`): a lone survivor gets 1 and
 * every other snake its share of all apples eaten (score / total, total 0 counted as 1), so the
 * loser of a survival can score 1 too and a 0–0 game gives both 0: not zero-sum.
 * The reference also places the two opening apples independently (both can land on one cell);
 * ours are distinct, and the reference mode keeps its behaviour.
 *
 * Simultaneous moves (contract: `info.simultaneous`): `toAct` lists every seat that still owes
 * this round's move; the first `apply` buffers its move in `pending`, visible only to its owner
 * (as "Player s has chosen [dir] for round r", which `privateInfo` returns), and the second
 * resolves the round. `turn` counts applied actions, two per round, so `maxTurns` is 40.
 */
import type { Game, GameInfo, GameState, Observation, ParseResult, RulesMode, Seat } from "./game.js";
import { otherSeat, outcomeReturns, SEATS } from "./game.js";
import { replyMatch } from "./reply-pattern.js";
import { createRng, type Rng, rngFromState } from "../core/rng.js";
import { type LogEntry, playerName, seatLog, toBoth, toSeat } from "./seat-log.js";

const SIZE = 5;
const APPLES = 2;
/** The reference's max_turns counts single moves: 40 moves are 20 rounds. */
const MAX_MOVES = 40;
const ROUNDS = MAX_MOVES / 2;

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

const baseInfo: GameInfo = {
  id: "Snake-v0",
  name: "Snake",
  summary: "Two snakes move at the same time on a 5×5 board with 2 apples; survive and eat more to win (40 moves: 20 rounds).",
  params: { size: SIZE, apples: APPLES, maxMoves: MAX_MOVES },
  seats: 2,
  maxTurns: MAX_MOVES,
  minReturn: -1,
  maxReturn: 1,
  information: "imperfect",
  actionSpace: "enumerable",
  simultaneous: true,
  solvable: false,
};

function rules(seat: Seat, mode: RulesMode): string {
  const outcome = mode === "reference"
    ? "Scoring (the published rule): if one snake survives, it scores 1 and the other scores its share of all apples eaten (its apples divided by the total); otherwise each snake scores its share of all apples eaten."
    : "If one snake survives, it wins. Otherwise the player who ate more apples wins; equal is a draw.";
  return [
    `You are ${playerName(seat)} in Snake, a two-player game on a ${SIZE}×${SIZE} board (rows and columns numbered 0 to ${SIZE - 1}, row 0 at the top).`,
    `Each player steers one snake: Player 0's head is ${HEAD[0]} and body ${BODY[0]}, Player 1's head is ${HEAD[1]} and body ${BODY[1]}. Apples are @. There are ${APPLES} apples on the board; a new one appears whenever one is eaten.`,
    "Every round both players choose a direction at the same time, without seeing the other's choice; then both snakes move one cell.",
    "Moving onto an apple eats it: your snake grows by one cell, and a new apple appears on a random free cell.",
    "A snake dies if it moves off the board, or into a cell a snake occupies (its own body or the other snake; a tail that moves away this round does not count). If both heads move into the same cell, or swap cells, both snakes die.",
    `The game ends when a snake dies, or after ${ROUNDS} rounds (${MAX_MOVES} moves of the two players together). ${outcome}`,
    "Reply with one direction in square brackets: [up], [down], [left] or [right] ([w], [s], [a], [d] also work).",
  ].join("\n");
}

function format(action: SnakeDirection): string {
  return `[${action}]`;
}

/**
 * Snake-v0 `step`: `next((k for k in _DIR_DELTAS if f"[{k}]" in action.lower()), None)`: the first
 * KEY, in the dictionary's order, whose bracketed form appears anywhere in the lower-cased reply.
 * So precedence is by direction, not by position: `[down] [up]` is up, and `[s] [w]` is up.
 */
const DIRECTION_KEYS: readonly (readonly [string, SnakeDirection])[] = [
  ["up", "up"], ["w", "up"], ["down", "down"], ["s", "down"], ["left", "left"], ["a", "left"], ["right", "right"], ["d", "right"],
];
const DIRECTION_PATTERN_NAME = "[up] [w] [down] [s] [left] [a] [right] [d] (in this order, anywhere in the lower-cased reply)";

function parseDirection(text: string): ParseResult<SnakeDirection> {
  const lower = typeof text === "string" ? text.toLowerCase() : "";
  for (const [key, direction] of DIRECTION_KEYS) {
    if (lower.includes(`[${key}]`)) return { ok: true, action: direction, match: replyMatch(DIRECTION_PATTERN_NAME, `[${key}]`) };
  }
  return { ok: false, reason: "No direction found: reply with [up], [down], [left] or [right] ([w], [s], [a], [d]).", match: replyMatch(DIRECTION_PATTERN_NAME, null) };
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

/** The reference's `_finalise_rewards`: 1 for a lone survivor, otherwise score / total apples. */
function referenceReturns(state: SnakeState): readonly [number, number] {
  const total = state.snakes[0].score + state.snakes[1].score || 1;
  const alive = SEATS.filter((seat) => state.snakes[seat].death === null);
  const winner = alive.length === 1 ? alive[0] : undefined;
  const share = (seat: Seat): number => (seat === winner ? 1 : state.snakes[seat].score / total);
  return [share(0), share(1)];
}

function outcomeText(state: SnakeState, mode: RulesMode): string {
  const scores = `Apples eaten: Player 0 ${state.snakes[0].score}, Player 1 ${state.snakes[1].score}.`;
  const deaths = SEATS.filter((seat) => state.snakes[seat].death !== null);
  const why = deaths.map((seat) => `${playerName(seat)} ${state.snakes[seat].death}.`).join(" ");
  const reason = deaths.length === 0 ? `All ${ROUNDS} rounds are played.` : why;
  if (mode === "reference") {
    const [r0, r1] = referenceReturns(state);
    return `${reason} ${scores} Scores: Player 0 ${formatShare(r0)}, Player 1 ${formatShare(r1)}.`;
  }
  const m = margin(state);
  if (m === 0) return `${reason} ${scores} The game is a draw.`;
  return `${reason} ${scores} ${playerName(m > 0 ? 0 : 1)} wins.`;
}

function formatShare(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(3);
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

function view(state: SnakeState, seat: Seat, mode: RulesMode): string {
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
    lines.push(`Game over. ${outcomeText(state, mode)}`);
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

/** A uniformly random cell free of snakes and of `apples`, or null when none is free. */
function randomFreeCell(rng: Rng, snakes: readonly SnakeBody[], apples: readonly number[]): number | null {
  const taken = new Set<number>(apples);
  for (const s of snakes) if (s.death === null) for (const cell of s.cells) taken.add(cell);
  const free = Array.from({ length: SIZE * SIZE }, (_, cell) => cell).filter((cell) => !taken.has(cell));
  return free.length === 0 ? null : rng.choice(free);
}

/** Both moves are in: the reference's `_apply_simultaneous_moves`, step for step (see the header). */
function resolveRound(state: SnakeState, moves: readonly [SnakeDirection, SnakeDirection], mode: RulesMode): SnakeState {
  const round = state.round + 1;
  const heads = SEATS.map((seat) => stepFrom(state.snakes[seat].cells[0] as number, moves[seat]));
  const deaths: (string | null)[] = heads.map((head) => (head === null ? "moved off the board" : null));
  const [h0, h1] = heads;
  const swapped = h0 === state.snakes[1].cells[0] && h1 === state.snakes[0].cells[0];
  if (h0 !== null && h0 !== undefined && (h0 === h1 || swapped)) {
    deaths[0] = "collided head-on with Player 1";
    deaths[1] = "collided head-on with Player 0";
  }
  // Body collisions: cells of the snakes still alive, less each tail that moves away this round.
  const grows = SEATS.map((seat) => deaths[seat] === null && state.apples.includes(heads[seat] as number));
  const owner = new Map<number, Seat>();
  for (const seat of SEATS) {
    if (deaths[seat] !== null) continue;
    const cells = state.snakes[seat].cells;
    cells.forEach((cell, i) => {
      if (i < cells.length - 1 || grows[seat]) owner.set(cell, seat);
    });
  }
  const collided = SEATS.map((seat) => {
    if (deaths[seat] !== null) return null;
    const hit = owner.get(heads[seat] as number);
    if (hit === undefined) return null;
    return hit === seat ? "ran into its own body" : `ran into ${playerName(hit)}'s snake`;
  });
  for (const seat of SEATS) deaths[seat] ??= collided[seat] ?? null;

  const history: LogEntry[] = [
    ...state.history,
    ...SEATS.map((seat) => toBoth({ kind: "action", seat, text: format(moves[seat]) })),
  ];
  const rng = rngFromState(state.rng);
  let apples = state.apples.slice();
  const snakes: SnakeBody[] = SEATS.map((seat) => ({ ...state.snakes[seat], death: deaths[seat] ?? null }));
  // The survivors move in seat order; an eaten apple is replaced at once (the other snake may
  // not have moved yet, exactly as in the reference).
  for (const seat of SEATS) {
    if (deaths[seat] !== null) continue;
    const snake = snakes[seat] as SnakeBody;
    const head = heads[seat] as number;
    const eats = apples.includes(head);
    const cells = [head, ...snake.cells];
    if (eats) {
      apples.splice(apples.indexOf(head), 1);
      snakes[seat] = { ...snake, cells, score: snake.score + 1 };
      const fresh = randomFreeCell(rng, snakes, apples);
      if (fresh !== null) apples = [...apples, fresh];
    } else {
      cells.pop();
      snakes[seat] = { ...snake, cells };
    }
  }
  const pair = snakes as [SnakeBody, SnakeBody];
  const turn = state.turn + 1;
  const someoneDied = deaths.some((death) => death !== null);
  const done = someoneDied || turn >= MAX_MOVES;
  const ate = SEATS.filter((seat) => pair[seat].score > state.snakes[seat].score);
  const events = ate.length === 0 ? "no apple eaten" : ate.map((seat) => `${playerName(seat)} ate an apple`).join(", ");
  const next: SnakeState = { ...state, rng: rng.state(), turn, round, snakes: pair, apples, pending: [null, null], done, history };
  if (someoneDied) return { ...next, history: [...history, toBoth({ kind: "notice", text: `Round ${round}: ${outcomeText(next, mode)}` })] };
  history.push(toBoth({ kind: "notice", text: `Round ${round}: Player 0 moved ${format(moves[0])}, Player 1 moved ${format(moves[1])}; ${events}.` }));
  if (!done) return next;
  return { ...next, history: [...history, toBoth({ kind: "notice", text: outcomeText(next, mode) })] };
}

/** The reference's `_generate_spawn_positions` for two snakes: a random inner cell, then the inner cell farthest from it. */
function spawnCells(rng: Rng): readonly [number, number] {
  const inner: number[] = [];
  for (let r = 1; r < SIZE - 1; r++) for (let c = 1; c < SIZE - 1; c++) inner.push(r * SIZE + c);
  const candidates = rng.shuffle(inner);
  const first = candidates.pop() as number;
  const distance = (a: number, b: number): number => Math.hypot(Math.floor(a / SIZE) - Math.floor(b / SIZE), (a % SIZE) - (b % SIZE));
  let best = candidates[0] as number;
  for (const cell of candidates) if (distance(cell, first) > distance(best, first)) best = cell;
  return [first, best];
}

function makeSnake(mode: RulesMode): Game<SnakeState, SnakeDirection> {
  const info: GameInfo = mode === "reference"
    ? { ...baseInfo, id: `${baseInfo.id}:reference`, params: { ...baseInfo.params, rules: mode }, minReturn: 0, maxReturn: 1, zeroSum: false }
    : baseInfo;
  return {
    info,

    init(seed) {
      const rng = createRng(seed);
      const [a, b] = spawnCells(rng);
      const start = (cell: number): SnakeBody => ({ cells: [cell], score: 0, death: null });
      const snakes = [start(a), start(b)];
      // The reference draws each opening apple from the cells free of snakes only (both can land
      // on one cell); ours are distinct.
      const apples: number[] = [];
      for (let i = 0; i < APPLES; i++) {
        const cell = randomFreeCell(rng, snakes, mode === "reference" ? [] : apples);
        if (cell !== null) apples.push(cell);
      }
      return { rng: rng.state(), turn: 0, snakes: [start(a), start(b)], apples, round: 0, pending: [null, null], done: false, history: [] };
    },

    toAct,
    legalActions,
    isLegal,

    parse(_state, _seat, text) {
      return parseDirection(text);
    },

    format,

    apply(state, seat, action) {
      if (!isLegal(state, seat, action)) throw new Error(`Snake: ${playerName(seat)} cannot play ${format(action)} now`);
      const pending: [SnakeDirection | null, SnakeDirection | null] = [state.pending[0], state.pending[1]];
      pending[seat] = action;
      const [m0, m1] = pending;
      if (m0 !== null && m1 !== null) return resolveRound(state, [m0, m1], mode);
      const chosen = toSeat(seat, { kind: "notice", text: `${chosenText(seat, state.round + 1, action)}.` });
      return { ...state, turn: state.turn + 1, pending, history: [...state.history, chosen] };
    },

    isTerminal(state) {
      return state.done;
    },

    returns(state) {
      if (!state.done) return [0, 0];
      return mode === "reference" ? referenceReturns(state) : outcomeReturns(margin(state));
    },

    observe(state, seat): Observation {
      const text = view(state, seat, mode);
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
        log: seatLog(rules(seat, mode), state.history, seat, text),
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
}

/** Snake-v0 with our zero-sum returns. */
export const snake = makeSnake("spiral");
/** Snake-v0 with the reference's returns (`referenceReturns`) and opening apples. */
export const snakeReference = makeSnake("reference");
