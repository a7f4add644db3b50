/**
 * LiarsDice-v1: two players, five hidden dice each, bidding on the dice of both hands together.
 *
 * Each round both players roll their dice in secret. Players alternate; the opener makes a bid
 * `[Bid: q, f]`, a claim that at least q of all dice in play (both hands) show face f. Every later
 * bid must raise the last one: a higher quantity (any face), or the same quantity and a higher
 * face. Instead of raising, a player may `[Call]` the last bid (a `[Call]` anywhere in a reply wins
 * over any bid in it, as in the reference): both hands are revealed and the
 * dice showing f are counted. If there are at least q, the bid holds and the caller loses a die;
 * otherwise the bidder loses a die. Ones are NOT wild (as in the published game). The loser of a
 * challenge opens the next round; Player 0 opens round 1. A player with no dice left loses.
 *
 * Bounds: a bid names q ≤ dice in play and f in 1..6, so a round holds at most 6·D bids and a
 * call (D dice in play); each round removes one die, so the game ends within
 * Σ_{k=1}^{2n−1} (6·(2n−k+1) + 1) moves (333 for n = 5).
 *
 * Hidden information: a hand is delivered only to its owner, as "Player s's dice in round r: …"
 * (sorted). The round number in that text keeps an old, revealed hand from being mistaken for
 * the current one; `privateInfo` returns exactly that line.
 */
import type { Game, GameInfo, ParseResult, Seat } from "./game.js";
import { otherSeat } from "./game.js";
import { pyInt, pyRegex, replyMatch } from "./reply-pattern.js";
import { createRng, type Rng, rngFromState } from "../core/rng.js";
import { type LogEntry, playerName, toBoth, toSeat } from "./seat-log.js";
import { turnBasedGame, type TurnState, winnerReturns } from "./turn-based.js";

const FACES = 6;

export type LiarsDiceAction =
  | { readonly kind: "bid"; readonly quantity: number; readonly face: number }
  | { readonly kind: "call" };

export interface LiarsDiceBid {
  readonly quantity: number;
  readonly face: number;
  readonly bidder: Seat;
}

export interface LiarsDiceState extends TurnState {
  /** Each seat's current hand, sorted ascending; hidden from the other seat until a call. */
  readonly dice: readonly [readonly number[], readonly number[]];
  /** 1-based round number. */
  readonly round: number;
  /** The bids of this round, oldest first; the last one is the bid to beat. */
  readonly bids: readonly LiarsDiceBid[];
  readonly done: boolean;
  /** The last player with dice; null while playing. */
  readonly winner: Seat | null;
}

/** What a seat knows: its own hand, the other hand's size, the bids; never the other hand. */
export interface LiarsDiceInfoState {
  readonly seat: Seat;
  readonly round: number;
  /** This seat's dice, sorted ascending (empty once the game is over). */
  readonly ownDice: readonly number[];
  /** How many dice each seat holds. */
  readonly diceCounts: readonly [number, number];
  readonly bids: readonly LiarsDiceBid[];
  readonly toMove: Seat | null;
  readonly winner: Seat | null;
  readonly done: boolean;
}

export interface LiarsDiceParams {
  /** Dice per player at the start (published default 5). */
  readonly dice: number;
}

function maxMoves(dicePerPlayer: number): number {
  let moves = 0;
  for (let k = 1; k <= 2 * dicePerPlayer - 1; k++) moves += FACES * (2 * dicePerPlayer - k + 1) + 1;
  return moves;
}

function rollHand(rng: Rng, count: number): number[] {
  return Array.from({ length: count }, () => rng.int(FACES) + 1).sort((a, b) => a - b);
}

/** The text of `seat`'s hand in `round`, exactly as delivered (and as `privateInfo` reports it). */
function handText(seat: Seat, round: number, dice: readonly number[]): string {
  return `${playerName(seat)}'s dice in round ${round}: ${dice.join(" ")}`;
}

function format(action: LiarsDiceAction): string {
  return action.kind === "call" ? "[Call]" : `[Bid: ${action.quantity}, ${action.face}]`;
}

/** LiarsDice-v1 `step` checks `call_pattern` anywhere in the reply BEFORE it looks for a bid. */
const CALL_PATTERN = pyRegex(String.raw`\[call\]`, { ignoreCase: true });
const CALL_PATTERN_NAME = String.raw`\[call\] (ignore case, anywhere; checked before any bid)`;
/**
 * LiarsDice-v1 `bid_pattern`, `re.compile(r"\[bid\s*:?\s*(\d+)[,\s]+(\d+)\]", re.IGNORECASE).search(action)`.
 * We run it as `\s*(?::\s*)?`: the same strings and the same groups, without the quadratic
 * backtracking of two adjacent `\s*` over a long whitespace run.
 */
const BID_PATTERN = pyRegex(String.raw`\[bid\s*(?::\s*)?(\d+)[,\s]+(\d+)\]`, { ignoreCase: true });
const BID_PATTERN_NAME = String.raw`\[bid\s*:?\s*(\d+)[,\s]+(\d+)\] (ignore case, first match)`;

function parseAction(state: LiarsDiceState, text: string): ParseResult<LiarsDiceAction> {
  if (typeof text !== "string") return { ok: false, reason: "Expected a text reply with a bid like [Bid: 3, 4] or [Call]." };
  const call = CALL_PATTERN.exec(text);
  if (call !== null) return { ok: true, action: { kind: "call" }, match: replyMatch(CALL_PATTERN_NAME, call[0]) };
  const match = BID_PATTERN.exec(text);
  if (match === null) {
    return { ok: false, reason: "No action found: write a bid like [Bid: 3, 4] or [Call].", match: replyMatch(`${CALL_PATTERN_NAME}; ${BID_PATTERN_NAME}`, null) };
  }
  const matched = replyMatch(BID_PATTERN_NAME, match[0]);
  const quantity = pyInt(match[1] ?? "");
  const face = pyInt(match[2] ?? "");
  // The reference's `_is_valid_bid` order: quantity, face, then raising and the dice in play (isLegal).
  if (quantity <= 0) return { ok: false, reason: "A bid's quantity must be at least 1.", match: matched };
  if (!(face >= 1 && face <= FACES)) return { ok: false, reason: `A bid's face must be 1 to ${FACES}; got ${(match[2] ?? "").slice(0, 12)}.`, match: matched };
  const inPlay = diceInPlay(state);
  if (!(quantity <= inPlay)) return { ok: false, reason: `A bid's quantity cannot exceed the ${inPlay} dice in play; got ${(match[1] ?? "").slice(0, 12)}.`, match: matched };
  return { ok: true, action: { kind: "bid", quantity, face }, match: matched };
}

function diceInPlay(state: LiarsDiceState): number {
  return state.dice[0].length + state.dice[1].length;
}

function raises(bid: { quantity: number; face: number }, last: LiarsDiceBid | undefined): boolean {
  if (last === undefined) return true;
  return bid.quantity > last.quantity || (bid.quantity === last.quantity && bid.face > last.face);
}

/** A bid in the action syntax with its meaning spelled out, e.g. "[Bid: 3, 4] (at least 3 dice showing 4)". */
function bidText(bid: { quantity: number; face: number }): string {
  return `[Bid: ${bid.quantity}, ${bid.face}] (at least ${bid.quantity} ${bid.quantity === 1 ? "die" : "dice"} showing ${bid.face})`;
}

/**
 * The game with `params.dice` dice per player. Long by design: it is the game's module as a
 * closure over the dice count, a row of small rule functions (each well under a screen) that
 * read `dicePerPlayer`; splitting it would only thread that number through every one.
 */
export function liarsDice(params: LiarsDiceParams = { dice: 5 }): Game<LiarsDiceState, LiarsDiceAction> {
  const dicePerPlayer = params.dice;
  if (!Number.isInteger(dicePerPlayer) || dicePerPlayer < 1 || dicePerPlayer > 20) {
    throw new Error(`LiarsDice: dice per player must be an integer from 1 to 20; got ${dicePerPlayer}`);
  }

  const info: GameInfo = {
    id: "LiarsDice-v1",
    name: "Liar's Dice",
    summary: `Bid on the hidden dice of both hands (${dicePerPlayer} each) or call a bluff; the loser of a call loses a die.`,
    params: { dice: dicePerPlayer, wildOnes: false },
    seats: 2,
    maxTurns: maxMoves(dicePerPlayer),
    minReturn: -1,
    maxReturn: 1,
    information: "imperfect",
    actionSpace: "enumerable",
    simultaneous: false,
    solvable: false,
  };

  function rules(seat: Seat): string {
    return [
      `You are ${playerName(seat)} in Liar's Dice, a two-player zero-sum game of bluffing.`,
      `Each player starts with ${dicePerPlayer} six-sided dice. Every round both players roll in secret: you see only your own dice.`,
      "Players take turns. The first player of a round makes a bid [Bid: q, f]: a claim that at least q of ALL dice in play (both hands together) show the face f.",
      "Each following bid must be higher: a larger quantity q (any face), or the same quantity with a larger face f.",
      "Instead of bidding you may challenge the last bid with [Call]. Then both hands are revealed and the dice showing f are counted (ones are not wild).",
      "If there are at least q, the bid was true and the caller loses one die; otherwise the bidder loses one die.",
      "The loser of the challenge starts the next round with fresh rolls; Player 0 starts the first round. A player who loses their last die loses the game.",
      "Reply with one action in square brackets, for example [Bid: 3, 4] (at least three 4s) or [Call].",
    ].join("\n");
  }

  function legalActions(state: LiarsDiceState, seat: Seat): LiarsDiceAction[] {
    if (state.done || seat !== state.toMove) return [];
    const last = state.bids[state.bids.length - 1];
    const actions: LiarsDiceAction[] = [];
    for (let quantity = 1; quantity <= diceInPlay(state); quantity++) {
      for (let face = 1; face <= FACES; face++) {
        if (raises({ quantity, face }, last)) actions.push({ kind: "bid", quantity, face });
      }
    }
    if (last !== undefined) actions.push({ kind: "call" });
    return actions;
  }

  function isLegal(state: LiarsDiceState, seat: Seat, action: LiarsDiceAction): boolean {
    if (state.done || seat !== state.toMove) return false;
    const last = state.bids[state.bids.length - 1];
    if (action.kind === "call") return last !== undefined;
    return (
      Number.isInteger(action.quantity) &&
      Number.isInteger(action.face) &&
      action.quantity >= 1 &&
      action.quantity <= diceInPlay(state) &&
      action.face >= 1 &&
      action.face <= FACES &&
      raises(action, last)
    );
  }

  /** Fresh hands for a round, each delivered privately to its owner. */
  function dealRound(rng: Rng, counts: readonly [number, number], round: number) {
    const dice: [number[], number[]] = [rollHand(rng, counts[0]), rollHand(rng, counts[1])];
    const entries: LogEntry[] = [
      toBoth({ kind: "notice", text: `Round ${round} begins: Player 0 has ${counts[0]} dice, Player 1 has ${counts[1]}.` }),
      toSeat(0, { kind: "notice", text: handText(0, round, dice[0]) }),
      toSeat(1, { kind: "notice", text: handText(1, round, dice[1]) }),
    ];
    return { dice, entries };
  }

  function outcomeText(winner: Seat): string {
    return `${playerName(otherSeat(winner))} has no dice left: ${playerName(winner)} wins.`;
  }

  /** A call (already announced): both hands revealed and counted; the loser loses a die, then a new round or the end. */
  function resolveCall(state: LiarsDiceState, caller: Seat): LiarsDiceState {
    const bid = state.bids[state.bids.length - 1] as LiarsDiceBid;
    const count = [...state.dice[0], ...state.dice[1]].filter((d) => d === bid.face).length;
    const holds = count >= bid.quantity;
    const loser = holds ? caller : bid.bidder;
    const counts: [number, number] = [state.dice[0].length, state.dice[1].length];
    counts[loser] -= 1;
    const verdict = holds
      ? `the bid holds, so ${playerName(caller)} (the caller) loses a die`
      : `the bid fails, so ${playerName(bid.bidder)} (the bidder) loses a die`;
    const history: LogEntry[] = [
      ...state.history,
      toBoth({
        kind: "notice",
        text:
          `${playerName(caller)} calls the bid ${bidText(bid)}. Revealed: ${handText(0, state.round, state.dice[0])}; ` +
          `${handText(1, state.round, state.dice[1])}. There ${count === 1 ? "is" : "are"} ${count} ${count === 1 ? "die" : "dice"} showing ${bid.face}: ${verdict}.`,
      }),
    ];
    if (counts[loser] === 0) {
      // The loser's hand is gone; the winner keeps its (now revealed) hand.
      const dice: [readonly number[], readonly number[]] = loser === 0 ? [[], state.dice[1]] : [state.dice[0], []];
      return { ...state, dice, bids: [], done: true, winner: otherSeat(loser), history };
    }
    const rng = rngFromState(state.rng);
    const round = state.round + 1;
    const deal = dealRound(rng, counts, round);
    return { ...state, rng: rng.state(), dice: deal.dice, round, bids: [], toMove: loser, history: [...history, ...deal.entries] };
  }

  function view(state: LiarsDiceState, seat: Seat): string {
    const other = otherSeat(seat);
    const lines = [`Liar's Dice, round ${state.round}. You are ${playerName(seat)}.`];
    if (state.done) {
      lines.push(`Game over. ${outcomeText(state.winner as Seat)}`);
      return lines.join("\n");
    }
    lines.push(`${handText(seat, state.round, state.dice[seat])} (only you see these).`);
    lines.push(
      `Dice in play: you ${state.dice[seat].length}, ${playerName(other)} ${state.dice[other].length} (${diceInPlay(state)} in total; ones are not wild).`,
    );
    const last = state.bids[state.bids.length - 1];
    if (last === undefined) {
      lines.push("No bid yet this round.");
    } else {
      lines.push(`Bids this round: ${state.bids.map((b) => `${playerName(b.bidder)} ${format({ kind: "bid", ...b })}`).join(", ")}.`);
      lines.push(`Bid to beat: ${bidText(last)} by ${playerName(last.bidder)}.`);
    }
    if (state.toMove !== seat) {
      lines.push(`Waiting for ${playerName(state.toMove)}.`);
    } else if (last === undefined) {
      lines.push(`Your turn: open with [Bid: q, f], q from 1 to ${diceInPlay(state)}, f from 1 to ${FACES}.`);
    } else {
      lines.push(
        `Your turn: [Call], or raise with [Bid: q, f] where q > ${last.quantity}, or q = ${last.quantity} and f > ${last.face} (q at most ${diceInPlay(state)}).`,
      );
    }
    return lines.join("\n");
  }

  function infoState(state: LiarsDiceState, seat: Seat): LiarsDiceInfoState {
    return {
      seat,
      round: state.round,
      ownDice: state.dice[seat],
      diceCounts: [state.dice[0].length, state.dice[1].length],
      bids: state.bids,
      toMove: state.done ? null : state.toMove,
      winner: state.winner,
      done: state.done,
    };
  }

  return turnBasedGame({
    info,
    name: "LiarsDice",
    init(seed) {
      const rng = createRng(seed);
      const deal = dealRound(rng, [dicePerPlayer, dicePerPlayer], 1);
      return {
        rng: rng.state(),
        turn: 0,
        dice: deal.dice,
        round: 1,
        bids: [],
        toMove: 0,
        done: false,
        winner: null,
        history: deal.entries,
      };
    },
    isOver: (state) => state.done,
    legalActions,
    isLegal,
    parse: (state, _seat, text) => parseAction(state, text),
    format,
    play(state, seat, action) {
      if (action.kind === "call") return resolveCall(state, seat);
      return { ...state, bids: [...state.bids, { quantity: action.quantity, face: action.face, bidder: seat }], toMove: otherSeat(seat) };
    },
    outcomeText: (state) => outcomeText(state.winner as Seat),
    outcome: (state) => winnerReturns(state.winner),
    rules,
    view,
    infoState,
    privateInfo(state, seat) {
      return state.done ? [] : [handText(seat, state.round, state.dice[seat])];
    },
  });
}
