/**
 * Two tiny games for testing the framework itself (match runner, replay, conformance checks)
 * without depending on the real games. Not exported and not built (`test-*.ts`).
 *
 * - `secretSum`: sequential, imperfect information, chance. Each seat is dealt a secret digit 1–9;
 *   seats alternate, starting with seat 0, each playing `[n]` with n in 0..3, four moves in all.
 *   The higher secret + sum of own moves wins.
 * - `pennies`: simultaneous. Both seats play `[heads]` or `[tails]` each round; seat 0 scores when
 *   they match, seat 1 when they differ; three rounds, more points wins.
 */
import type { Game, GameState, Message, Observation, ParseResult, Seat } from "./game.js";
import { outcomeReturns } from "./game.js";
import { createRng, rngFromState } from "../core/rng.js";

interface SecretSumState extends GameState {
  readonly secrets: readonly [number, number];
  readonly moves: readonly { readonly seat: Seat; readonly n: number }[];
}

const SECRET_SUM_MOVES = 4;

function secretTotals(state: SecretSumState): [number, number] {
  const totals: [number, number] = [state.secrets[0], state.secrets[1]];
  for (const m of state.moves) totals[m.seat] += m.n;
  return totals;
}

export const secretSum: Game<SecretSumState, number> = {
  info: {
    id: "SecretSum-test",
    name: "Secret Sum",
    summary: "Test game: a secret digit plus the numbers you play; higher total wins.",
    params: { moves: SECRET_SUM_MOVES },
    seats: 2,
    maxTurns: SECRET_SUM_MOVES,
    minReturn: -1,
    maxReturn: 1,
    information: "imperfect",
    actionSpace: "enumerable",
    simultaneous: false,
  },
  init(seed) {
    const rng = createRng(seed);
    const secrets: [number, number] = [1 + rng.int(9), 1 + rng.int(9)];
    return { rng: rng.state(), turn: 0, secrets, moves: [] };
  },
  toAct(state) {
    return this.isTerminal(state) ? [] : [(state.turn % 2) as Seat];
  },
  legalActions(state, seat) {
    return this.toAct(state).includes(seat) ? [0, 1, 2, 3] : [];
  },
  isLegal(state, seat, action) {
    return this.toAct(state).includes(seat) && Number.isInteger(action) && action >= 0 && action <= 3;
  },
  parse(_state, _seat, text): ParseResult<number> {
    const match = /\[\s*(\d+)\s*\]/.exec(text);
    if (match === null) return { ok: false, reason: "no move of the form [n] found" };
    return { ok: true, action: Number(match[1]) };
  },
  format(action) {
    return `[${action}]`;
  },
  apply(state, seat, action) {
    if (!this.isLegal(state, seat, action)) throw new Error(`illegal move ${action} for seat ${seat}`);
    return { ...state, turn: state.turn + 1, moves: [...state.moves, { seat, n: action }] };
  },
  isTerminal(state) {
    return state.turn >= SECRET_SUM_MOVES;
  },
  returns(state) {
    if (!this.isTerminal(state)) return [0, 0];
    const [a, b] = secretTotals(state);
    return outcomeReturns(a - b);
  },
  observe(state, seat): Observation {
    const log: Message[] = [
      { kind: "rules", text: `You are Player ${seat} in Secret Sum. Play [n] with n in 0..3; e.g. [2].` },
      { kind: "notice", text: `Your secret digit is ${state.secrets[seat]}.` },
      ...state.moves.map((m): Message => ({ kind: "action", seat: m.seat, text: `[${m.n}]` })),
    ];
    if (this.isTerminal(state)) log.push({ kind: "notice", text: `Totals: ${secretTotals(state).join(" vs ")}.` });
    const legal = this.legalActions(state, seat).map((a) => this.format(a));
    return {
      seat,
      turn: state.turn,
      log,
      view: `Your secret digit is ${state.secrets[seat]}; moves so far: ${state.moves.map((m) => m.n).join(" ") || "none"}.`,
      legal,
      infoState: { secret: state.secrets[seat], moves: state.moves },
    };
  },
  privateInfo(state, seat) {
    return this.isTerminal(state) ? [] : [`secret digit is ${state.secrets[seat]}`];
  },
};

type Coin = "heads" | "tails";

interface PenniesState extends GameState {
  readonly round: number;
  readonly pending: readonly [Coin | null, Coin | null];
  readonly points: readonly [number, number];
}

const PENNY_ROUNDS = 3;

export const pennies: Game<PenniesState, Coin> = {
  info: {
    id: "Pennies-test",
    name: "Matching Pennies",
    summary: "Test game: simultaneous coin choices; seat 0 wins matches.",
    params: { rounds: PENNY_ROUNDS },
    seats: 2,
    maxTurns: 2 * PENNY_ROUNDS,
    minReturn: -1,
    maxReturn: 1,
    information: "imperfect",
    actionSpace: "enumerable",
    simultaneous: true,
  },
  init(seed) {
    return { rng: createRng(seed).state(), turn: 0, round: 0, pending: [null, null], points: [0, 0] };
  },
  toAct(state) {
    if (this.isTerminal(state)) return [];
    return ([0, 1] as const).filter((s) => state.pending[s] === null);
  },
  legalActions(state, seat) {
    return this.toAct(state).includes(seat) ? ["heads", "tails"] : [];
  },
  isLegal(state, seat, action) {
    return this.toAct(state).includes(seat) && (action === "heads" || action === "tails");
  },
  parse(_state, _seat, text) {
    const match = /\[\s*(heads|tails)\s*\]/i.exec(text);
    if (match === null) return { ok: false, reason: "expected [heads] or [tails]" };
    return { ok: true, action: (match[1] as string).toLowerCase() as Coin };
  },
  format(action) {
    return `[${action}]`;
  },
  apply(state, seat, action) {
    if (!this.isLegal(state, seat, action)) throw new Error(`illegal move ${action} for seat ${seat}`);
    const pending: [Coin | null, Coin | null] = [state.pending[0], state.pending[1]];
    pending[seat] = action;
    if (pending[0] === null || pending[1] === null) return { ...state, turn: state.turn + 1, pending };
    const points: [number, number] = [state.points[0], state.points[1]];
    points[pending[0] === pending[1] ? 0 : 1]++;
    // Consume a chance draw per round so replays exercise the carried RNG state.
    const rng = rngFromState(state.rng);
    rng.next();
    return { rng: rng.state(), turn: state.turn + 1, round: state.round + 1, pending: [null, null], points };
  },
  isTerminal(state) {
    return state.round >= PENNY_ROUNDS;
  },
  returns(state) {
    return this.isTerminal(state) ? outcomeReturns(state.points[0] - state.points[1]) : [0, 0];
  },
  observe(state, seat) {
    const legal = this.legalActions(state, seat).map((a) => this.format(a));
    const view = `Round ${state.round + 1} of ${PENNY_ROUNDS}; points ${state.points[0]}–${state.points[1]}.`;
    return {
      seat,
      turn: state.turn,
      log: [
        { kind: "rules", text: `You are Player ${seat} in Matching Pennies. Play [heads] or [tails].` },
        { kind: "state", text: view },
      ],
      view,
      legal,
      infoState: { round: state.round, points: state.points },
    };
  },
  privateInfo(state, seat) {
    const mine = state.pending[seat];
    return mine === null ? [] : [`pending ${mine}`];
  },
};
