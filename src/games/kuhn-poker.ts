/**
 * Kuhn Poker (KuhnPoker-v1: 5 rounds; KuhnPoker-v1-1round: the textbook one-round game).
 *
 * Rules, per round: deck J < Q < K; both seats ante 1 chip and get one card (without replacement,
 * drawn from the state RNG). The first to act alternates by round and Player 1 opens round 1.
 * Betting tree:
 *   check → check: showdown (pot 2)
 *         → bet   → fold: the bettor takes the pot (3) | call: showdown (pot 4)
 *   bet   → fold: the bettor takes the pot (3) | call: showdown (pot 4)
 * A showdown gives the pot to the higher card. Chips are counted as net winnings (they sum to 0).
 *
 * Outcome: with several rounds, more chips at the end wins (+1/−1) and equal chips draw (0). The
 * published environment instead gives the game to whoever won the last round, whatever the chips:
 * a bug we do not copy (docs/games.md). With one round the returns are the chips themselves
 * (±1 or ±2), so the game's value for the first to act is exactly −1/18, as in the textbook game.
 */
import type { Game, GameInfo, GameState, Message, Observation, ParseResult, RulesMode, Seat } from "./game.js";
import { pyRegex, replyMatch } from "./reply-pattern.js";
import { otherSeat, outcomeReturns } from "./game.js";
import { createRng, rngFromState } from "../core/rng.js";
import type { Rng } from "../core/rng.js";

export type KuhnCard = "J" | "Q" | "K";
export type KuhnMove = "check" | "bet" | "call" | "fold";

export const KUHN_DECK: readonly KuhnCard[] = ["J", "Q", "K"];
export const KUHN_MOVES: readonly KuhnMove[] = ["check", "bet", "call", "fold"];
const RANK: Readonly<Record<KuhnCard, number>> = { J: 0, Q: 1, K: 2 };

/** A finished round, as both seats know it (cards only when a showdown revealed them). */
export interface KuhnRoundResult {
  /** 1-based round number. */
  readonly round: number;
  readonly firstSeat: Seat;
  readonly moves: readonly KuhnMove[];
  readonly winner: Seat;
  /** Total chips in the pot (2, 3 or 4); the winner's net gain is the loser's share. */
  readonly pot: number;
  /** Both cards, indexed by seat, when the round ended in a showdown; null after a fold. */
  readonly shown: readonly [KuhnCard, KuhnCard] | null;
  /** Net chips by seat after this round. */
  readonly chipsAfter: readonly [number, number];
}

export interface KuhnState extends GameState {
  readonly rounds: number;
  /** 0-based index of the round being played; equals `rounds` once the game is over. */
  readonly round: number;
  /** Every deal so far, by 0-based round; each pair is indexed by seat. The last is this round's. */
  readonly dealt: readonly (readonly [KuhnCard, KuhnCard])[];
  /** This round's betting so far. */
  readonly moves: readonly KuhnMove[];
  /** Net chips won so far, by seat (they sum to 0). */
  readonly chips: readonly [number, number];
  readonly results: readonly KuhnRoundResult[];
}

/** What one seat knows: own card, this round's betting, chips and the public round results. */
export interface KuhnInfoState {
  readonly seat: Seat;
  readonly rounds: number;
  /** 1-based round number (the last round once the game is over). */
  readonly round: number;
  /** Own card this round; null once the game is over. */
  readonly card: KuhnCard | null;
  /** This round's betting so far. */
  readonly history: readonly KuhnMove[];
  /** Who acts first this round. */
  readonly firstSeat: Seat;
  /** Net chips by seat. */
  readonly chips: readonly [number, number];
  readonly pot: number;
  readonly results: readonly KuhnRoundResult[];
  /**
   * The information-set key of this decision, "card:history" (e.g. "Q:check,bet"), or null when
   * this seat is not to act. The 1-round game has 12 of them (`kuhnInfoSets`).
   */
  readonly infoSet: string | null;
}

/** The first to act in a 0-based round: Player 1 opens round 1, then seats alternate. */
export function kuhnFirstSeat(roundIndex: number): Seat {
  return roundIndex % 2 === 0 ? 1 : 0;
}

/** The legal moves after a betting history, or [] when the round is over. */
export function kuhnLegalMoves(history: readonly KuhnMove[]): KuhnMove[] {
  switch (history.join(",")) {
    case "":
    case "check":
      return ["check", "bet"];
    case "bet":
    case "check,bet":
      return ["fold", "call"];
    default:
      return [];
  }
}

/** Whether a betting history ends the round: check-check, a call, or a fold. */
function roundOver(history: readonly KuhnMove[]): boolean {
  return history.length >= 2 && kuhnLegalMoves(history).length === 0;
}

/** Chips each seat has put into this round's pot (the ante plus one per bet or call). */
function contributions(state: KuhnState): [number, number] {
  const first = kuhnFirstSeat(state.round);
  const put: [number, number] = [1, 1];
  state.moves.forEach((m, i) => {
    if (m === "bet" || m === "call") put[i % 2 === 0 ? first : otherSeat(first)] += 1;
  });
  return put;
}

/** This round's cards by seat (the last round's once the game is over). */
function cardsNow(state: KuhnState): readonly [KuhnCard, KuhnCard] {
  return state.dealt[state.dealt.length - 1] as readonly [KuhnCard, KuhnCard];
}

function isOver(state: KuhnState): boolean {
  return state.round >= state.rounds;
}

function mover(state: KuhnState): Seat {
  const first = kuhnFirstSeat(state.round);
  return state.moves.length % 2 === 0 ? first : otherSeat(first);
}

function deal(rng: Rng): [KuhnCard, KuhnCard] {
  const deck = rng.shuffle(KUHN_DECK);
  return [deck[0] as KuhnCard, deck[1] as KuhnCard];
}

/** Settles the finished betting round and deals the next one (or ends the game). */
function settleRound(state: KuhnState): KuhnState {
  const first = kuhnFirstSeat(state.round);
  const put = contributions(state);
  const last = state.moves[state.moves.length - 1];
  let winner: Seat;
  let shown: readonly [KuhnCard, KuhnCard] | null;
  if (last === "fold") {
    // The folder is the seat that made the last move.
    const folder: Seat = (state.moves.length - 1) % 2 === 0 ? first : otherSeat(first);
    winner = otherSeat(folder);
    shown = null;
  } else {
    const cards = cardsNow(state);
    winner = RANK[cards[0]] > RANK[cards[1]] ? 0 : 1;
    shown = cards;
  }
  const gain = put[otherSeat(winner)];
  const chips: [number, number] = [state.chips[0], state.chips[1]];
  chips[winner] += gain;
  chips[otherSeat(winner)] -= gain;
  const result: KuhnRoundResult = {
    round: state.round + 1,
    firstSeat: first,
    moves: state.moves,
    winner,
    pot: put[0] + put[1],
    shown,
    chipsAfter: chips,
  };
  const round = state.round + 1;
  const rng = rngFromState(state.rng);
  // Deal before reading the RNG state back, so the next round draws fresh cards.
  const dealt = round < state.rounds ? [...state.dealt, deal(rng)] : state.dealt;
  return {
    rng: rng.state(),
    turn: state.turn,
    rounds: state.rounds,
    round,
    dealt,
    moves: round < state.rounds ? [] : state.moves,
    chips,
    results: [...state.results, result],
  };
}

// ---------------------------------------------------------------------------------------------
// Text

const signed = (n: number): string => (n > 0 ? `+${n}` : String(n));

function rulesText(seat: Seat, rounds: number, reference: boolean): string {
  const opp = otherSeat(seat);
  const roundsText = reference
    ? `The game lasts ${rounds} round${rounds === 1 ? "" : "s"}; Player 1 acts first in round 1 and the first to act alternates each round. Whoever wins the last round wins the game, whatever the chips (the published rule).`
    : rounds === 1
    ? "The game is a single round; Player 1 acts first. Your result is the chips you win or lose."
    : `The game lasts ${rounds} rounds; Player 1 acts first in round 1 and the first to act alternates each round. After the last round, the player with more chips wins; equal chips is a draw.`;
  return [
    `You are Player ${seat} in Kuhn Poker against Player ${opp}.`,
    "The deck has three cards ranked J < Q < K. Each round both players put 1 chip into the pot (the ante) and get one card; you see only your own card.",
    roundsText,
    "Actions, written in square brackets: [check] (pass without betting), [bet] (add 1 chip), [call] (match a bet: add 1 chip), [fold] (give up the pot).",
    "With no bet yet you may [check] or [bet]; facing a bet you may [call] or [fold]. Check-check or a call goes to a showdown: the higher card takes the pot. If a player folds, the other takes the pot and no cards are shown.",
    "Example: to bet, reply [bet].",
  ].join("\n");
}

function dealText(state: KuhnState, roundIndex: number, card: KuhnCard): string {
  return `${dealLine(state.rounds, roundIndex, card)}. Player ${kuhnFirstSeat(roundIndex)} acts first.`;
}

function dealLine(rounds: number, roundIndex: number, card: KuhnCard): string {
  return `Round ${roundIndex + 1}/${rounds}: you are dealt ${card}`;
}

function resultText(r: KuhnRoundResult): string {
  const how = r.shown === null
    ? `Player ${otherSeat(r.winner)} folds; Player ${r.winner} wins the pot of ${r.pot} chips (no cards are shown).`
    : `Showdown: Player 0 shows ${r.shown[0]}, Player 1 shows ${r.shown[1]}. Player ${r.winner} wins the pot of ${r.pot} chips.`;
  return `${how} Chips: Player 0 ${signed(r.chipsAfter[0])}, Player 1 ${signed(r.chipsAfter[1])}.`;
}

function outcomeText(state: KuhnState, seat: Seat, reference: boolean): string {
  const [c0, c1] = state.chips;
  const mine = state.chips[seat];
  if (reference) {
    const winner = state.results[state.results.length - 1]?.winner;
    return `Game over after ${state.rounds} round${state.rounds === 1 ? "" : "s"}: Player 0 ${signed(c0)} chips, Player 1 ${signed(c1)} chips. Player ${String(winner)} won the last round and wins the game. ${winner === seat ? "You win." : "You lose."}`;
  }
  if (state.rounds === 1) {
    return `Game over: you ${mine >= 0 ? "win" : "lose"} ${Math.abs(mine)} chip${Math.abs(mine) === 1 ? "" : "s"}.`;
  }
  const verdict = c0 === c1 ? "It is a draw." : mine > 0 ? "You win." : "You lose.";
  return `Game over after ${state.rounds} rounds: Player 0 ${signed(c0)} chips, Player 1 ${signed(c1)} chips. ${verdict}`;
}

function bettingLine(state: KuhnState): string {
  if (state.moves.length === 0) return "No actions yet this round.";
  const first = kuhnFirstSeat(state.round);
  const parts = state.moves.map((m, i) => `Player ${i % 2 === 0 ? first : otherSeat(first)} [${m}]`);
  return `This round so far: ${parts.join(", ")}.`;
}

function viewText(state: KuhnState, seat: Seat, reference: boolean): string {
  const opp = otherSeat(seat);
  if (isOver(state)) {
    const last = state.results[state.results.length - 1];
    return [last ? `Last round: ${resultText(last)}` : "", outcomeText(state, seat, reference)].filter(Boolean).join("\n");
  }
  const put = contributions(state);
  const lines = [
    `Kuhn Poker, round ${state.round + 1} of ${state.rounds}. You are Player ${seat}.`,
    `Your card: ${cardsNow(state)[seat]} (ranks: J < Q < K).`,
    `Pot: ${put[0] + put[1]} chips (you put in ${put[seat]}, Player ${opp} put in ${put[opp]}).`,
    bettingLine(state),
    `Chips won so far: you ${signed(state.chips[seat])}, Player ${opp} ${signed(state.chips[opp])}.`,
  ];
  if (mover(state) === seat) {
    lines.push(`Your move. Legal actions: ${kuhnLegalMoves(state.moves).map((m) => `[${m}]`).join(", ")}`);
  } else {
    lines.push(`Waiting for Player ${opp}.`);
  }
  return lines.join("\n");
}

/** Rules, each round's deal, betting and result, the outcome when over, then the current view. */
function messageLog(state: KuhnState, seat: Seat, reference: boolean): Message[] {
  const log: Message[] = [{ kind: "rules", text: rulesText(seat, state.rounds, reference) }];
  const played = isOver(state) ? state.rounds : state.round + 1;
  for (let r = 0; r < played; r++) {
    const card = (state.dealt[r] as readonly [KuhnCard, KuhnCard])[seat];
    log.push({ kind: "notice", text: dealText(state, r, card) });
    const result = state.results[r];
    const moves = result ? result.moves : state.moves;
    const first = kuhnFirstSeat(r);
    moves.forEach((m, i) => log.push({ kind: "action", seat: i % 2 === 0 ? first : otherSeat(first), text: `[${m}]` }));
    if (result) log.push({ kind: "notice", text: resultText(result) });
  }
  if (isOver(state)) log.push({ kind: "notice", text: outcomeText(state, seat, reference) });
  log.push({ kind: "state", text: viewText(state, seat, reference) });
  return log;
}

// ---------------------------------------------------------------------------------------------
// The game

/** KuhnPoker-v1 `step`: `re.compile(r"\[(Check|Bet|Fold|Call)\]", re.IGNORECASE).search(action.strip())`. */
const TOKEN = pyRegex(String.raw`\[(Check|Bet|Fold|Call)\]`, { ignoreCase: true });
const TOKEN_NAME = String.raw`\[(Check|Bet|Fold|Call)\] (ignore case, first match)`;

/**
 * `rules: "reference"` plays the published outcome rule: whoever wins the LAST round wins the
 * game (±1, never a draw), whatever the chips. The reference's pot also ignores bets (it stays at
 * the two antes), which its outcome never reads; our chip counts include bets in both modes.
 *
 * Long by design: it is the game's module as a closure over its variant (rounds, rules), a row of
 * small rule functions that read them; splitting it would only thread the variant through each.
 */
export function kuhnPoker(params: { readonly rounds: number; readonly rules?: RulesMode }): Game<KuhnState, KuhnMove> {
  const { rounds } = params;
  const reference = params.rules === "reference";
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 1000) {
    throw new Error(`kuhnPoker: rounds must be an integer in 1..1000; got ${String(rounds)}`);
  }
  const oneRound = rounds === 1;
  const baseId = oneRound ? "KuhnPoker-v1-1round" : rounds === 5 ? "KuhnPoker-v1" : `KuhnPoker-v1-${rounds}rounds`;
  const info: GameInfo = {
    id: reference ? `${baseId}:reference` : baseId,
    name: oneRound ? "Kuhn Poker (1 round)" : "Kuhn Poker",
    summary: oneRound
      ? "Textbook one-round Kuhn poker (J<Q<K); returns are the chips won, value −1/18 for the first to act."
      : `${rounds} rounds of Kuhn poker (J<Q<K, ante 1, bet 1); more chips at the end wins.`,
    params: reference ? { rounds, rules: "reference" } : { rounds },
    seats: 2,
    maxTurns: 3 * rounds,
    minReturn: oneRound && !reference ? -2 : -1,
    maxReturn: oneRound && !reference ? 2 : 1,
    information: "imperfect",
    actionSpace: "enumerable",
    simultaneous: false,
    solvable: oneRound && !reference,
  };

  const legal = (state: KuhnState, seat: Seat): KuhnMove[] =>
    isOver(state) || mover(state) !== seat ? [] : kuhnLegalMoves(state.moves);

  const game: Game<KuhnState, KuhnMove> = {
    info,

    init(seed) {
      const rng = createRng(seed);
      const cards = deal(rng);
      return { rng: rng.state(), turn: 0, rounds, round: 0, dealt: [cards], moves: [], chips: [0, 0], results: [] };
    },

    toAct(state) {
      return isOver(state) ? [] : [mover(state)];
    },

    legalActions: legal,

    isLegal(state, seat, action) {
      return legal(state, seat).includes(action);
    },

    parse(state, seat, text): ParseResult<KuhnMove> {
      const match = typeof text === "string" ? TOKEN.exec(text) : null;
      if (match === null) {
        return { ok: false, reason: "No action found: reply with one of [check], [bet], [call], [fold] in square brackets.", match: replyMatch(TOKEN_NAME, null) };
      }
      const matched = replyMatch(TOKEN_NAME, match[0]);
      const move = (match[1] as string).toLowerCase() as KuhnMove;
      const allowed = legal(state, seat);
      if (!allowed.includes(move)) {
        const options = allowed.map((m) => `[${m}]`).join(", ");
        return {
          ok: false,
          reason: allowed.length === 0
            ? `It is not your turn to act, so [${move}] cannot be played.`
            : `[${move}] is not possible now: the legal actions are ${options}.`,
          match: matched,
        };
      }
      return { ok: true, action: move, match: matched };
    },

    format(action) {
      return `[${action}]`;
    },

    apply(state, seat, action) {
      if (!legal(state, seat).includes(action)) {
        throw new Error(
          `${info.id}: Player ${seat} cannot play ${String(action)} now (legal: ${JSON.stringify(legal(state, seat))})`,
        );
      }
      const next: KuhnState = { ...state, turn: state.turn + 1, moves: [...state.moves, action] };
      return roundOver(next.moves) ? settleRound(next) : next;
    },

    isTerminal: isOver,

    returns(state) {
      if (!isOver(state)) return [0, 0];
      if (reference) return state.results[state.results.length - 1]?.winner === 0 ? [1, -1] : [-1, 1];
      if (oneRound) return [state.chips[0], state.chips[1]];
      return outcomeReturns(state.chips[0] - state.chips[1]);
    },

    observe(state, seat): Observation {
      const over = isOver(state);
      const toAct = !over && mover(state) === seat;
      const put = contributions(state);
      const infoState: KuhnInfoState = {
        seat,
        rounds: state.rounds,
        round: over ? state.rounds : state.round + 1,
        card: over ? null : cardsNow(state)[seat],
        history: over ? [] : state.moves,
        firstSeat: kuhnFirstSeat(over ? state.rounds - 1 : state.round),
        chips: state.chips,
        pot: over ? 0 : put[0] + put[1],
        results: state.results,
        infoSet: toAct ? kuhnInfoSetKey(cardsNow(state)[seat], state.moves) : null,
      };
      return {
        seat,
        turn: state.turn,
        log: messageLog(state, seat, reference),
        view: viewText(state, seat, reference),
        legal: legal(state, seat).map((m) => `[${m}]`),
        infoState,
      };
    },

    privateInfo(state, seat) {
      const last = state.results[state.results.length - 1];
      if (isOver(state) && last?.shown !== null) return [];
      const r = isOver(state) ? state.rounds - 1 : state.round;
      const card = cardsNow(state)[seat];
      return [dealLine(state.rounds, r, card), `Your card: ${card}`];
    },
  };
  return game;
}

/** The information-set key of a decision: own card and this round's betting, e.g. "Q:check,bet". */
export function kuhnInfoSetKey(card: KuhnCard, history: readonly KuhnMove[]): string {
  return `${card}:${history.join(",")}`;
}
