/**
 * Exact analysis of one-round Kuhn poker (KuhnPoker-v1-1round) for behaviour strategies.
 *
 * A behaviour profile gives, at each of the 12 information sets, the probability of the
 * aggressive action there: [bet] when no bet is pending, [call] when facing a bet (the other
 * action, [check] or [fold], has the rest). Keys are "card:history" (`kuhnInfoSetKey`):
 *   first to act:  "J:", "Q:", "K:" (open)       and "J:check,bet", … (facing a bet after checking)
 *   second to act: "J:check", … (after a check)   and "J:bet", …       (facing a bet)
 * One profile covers both positions, as a self-play policy does.
 *
 * Values are in chips for the first to act, averaged over the 6 equally likely deals.
 * Exploitability convention (OpenSpiel's): (BR₁ + BR₂) / 2, where BRᵢ is the value a best
 * responder in position i gets against the profile's other position. It is 0 exactly at a Nash
 * equilibrium and 11/24 ≈ 0.458 for the uniform-random profile.
 */
import type { Observation, Seat } from "./game.js";
import { otherSeat } from "./game.js";
import type { KuhnCard, KuhnMove, KuhnState } from "./kuhn-poker.js";
import { KUHN_DECK, kuhnFirstSeat, kuhnPoker } from "./kuhn-poker.js";

/** Probability of the aggressive action ([bet] or [call]) at each information-set key. */
export type KuhnBehaviour = Readonly<Record<string, number>>;

/** The 12 information sets of one-round Kuhn poker, with the position that acts there. */
export const kuhnInfoSets: readonly { readonly key: string; readonly position: "first" | "second"; readonly aggressive: "bet" | "call" }[] =
  KUHN_DECK.flatMap((card) => [
    { key: `${card}:`, position: "first" as const, aggressive: "bet" as const },
    { key: `${card}:check,bet`, position: "first" as const, aggressive: "call" as const },
    { key: `${card}:check`, position: "second" as const, aggressive: "bet" as const },
    { key: `${card}:bet`, position: "second" as const, aggressive: "call" as const },
  ]);

const RANK: Readonly<Record<KuhnCard, number>> = { J: 0, Q: 1, K: 2 };

/** +1 if `a` beats `b` at a showdown, −1 otherwise. */
function sign(a: KuhnCard, b: KuhnCard): number {
  return RANK[a] > RANK[b] ? 1 : -1;
}

function prob(profile: KuhnBehaviour, key: string): number {
  const p = profile[key];
  if (p === undefined || !Number.isFinite(p) || p < 0 || p > 1) {
    throw new Error(`Kuhn behaviour needs a probability in [0, 1] at information set "${key}"; got ${String(p)}`);
  }
  return p;
}

function others(card: KuhnCard): KuhnCard[] {
  return KUHN_DECK.filter((c) => c !== card);
}

/** The first to act's expected chips when the first position plays `first` and the second plays `second`. */
export function kuhnValue(first: KuhnBehaviour, second: KuhnBehaviour = first): number {
  let total = 0;
  for (const a of KUHN_DECK) {
    for (const b of others(a)) {
      const open = prob(first, `${a}:`);
      const callBet = prob(second, `${b}:bet`);
      const betAfterCheck = prob(second, `${b}:check`);
      const callAfterCheck = prob(first, `${a}:check,bet`);
      const s = sign(a, b);
      const afterBet = callBet * 2 * s + (1 - callBet) * 1;
      const afterCheckBet = callAfterCheck * 2 * s + (1 - callAfterCheck) * -1;
      const afterCheck = (1 - betAfterCheck) * s + betAfterCheck * afterCheckBet;
      total += open * afterBet + (1 - open) * afterCheck;
    }
  }
  return total / 6;
}

/** The best value the first to act can get against the second position of `profile`. */
export function kuhnBestResponseFirst(profile: KuhnBehaviour): number {
  let total = 0;
  for (const a of KUHN_DECK) {
    let bet = 0;
    let checkThenShowdown = 0;
    let callAfterCheckBet = 0;
    let foldAfterCheckBet = 0;
    for (const b of others(a)) {
      const s = sign(a, b);
      const q = prob(profile, `${b}:bet`);
      const r = prob(profile, `${b}:check`);
      bet += 0.5 * (q * 2 * s + (1 - q));
      checkThenShowdown += 0.5 * (1 - r) * s;
      callAfterCheckBet += 0.5 * r * 2 * s;
      foldAfterCheckBet += 0.5 * r * -1;
    }
    const check = checkThenShowdown + Math.max(callAfterCheckBet, foldAfterCheckBet);
    total += Math.max(bet, check);
  }
  return total / 3;
}

/** The best value the second to act can get against the first position of `profile` (its own chips). */
export function kuhnBestResponseSecond(profile: KuhnBehaviour): number {
  let total = 0;
  for (const b of KUHN_DECK) {
    let call = 0;
    let fold = 0;
    let check = 0;
    let bet = 0;
    for (const a of others(b)) {
      const s = sign(b, a);
      const p = prob(profile, `${a}:`);
      const c = prob(profile, `${a}:check,bet`);
      call += 0.5 * p * 2 * s;
      fold += 0.5 * p * -1;
      check += 0.5 * (1 - p) * s;
      bet += 0.5 * (1 - p) * (c * 2 * s + (1 - c) * 1);
    }
    total += Math.max(call, fold) + Math.max(check, bet);
  }
  return total / 3;
}

/** (BR_first + BR_second) / 2: 0 at a Nash equilibrium, 11/24 for the uniform profile. */
export function kuhnExploitability(profile: KuhnBehaviour): number {
  return (kuhnBestResponseFirst(profile) + kuhnBestResponseSecond(profile)) / 2;
}

/**
 * The closed-form Nash equilibria, one per α ∈ [0, 1/3] (α is the first player's bluff rate):
 * the first to act bets J with α, never bets Q, bets K with 3α; facing a bet after checking it
 * folds J, calls with Q with α + 1/3, always calls with K. The second to act, after a check,
 * bets K always, J with 1/3, checks Q; facing a bet it calls with K, with Q at 1/3, folds J.
 * Every α gives the first to act −1/18.
 */
export function kuhnNashProfile(alpha = 1 / 6): KuhnBehaviour {
  if (!Number.isFinite(alpha) || alpha < 0 || alpha > 1 / 3) {
    throw new Error(`Kuhn Nash profile needs α in [0, 1/3]; got ${String(alpha)}`);
  }
  return {
    "J:": alpha,
    "Q:": 0,
    "K:": 3 * alpha,
    "J:check,bet": 0,
    "Q:check,bet": alpha + 1 / 3,
    "K:check,bet": 1,
    "J:check": 1 / 3,
    "Q:check": 0,
    "K:check": 1,
    "J:bet": 0,
    "Q:bet": 1 / 3,
    "K:bet": 1,
  };
}

/** The uniform-random profile: every information set mixes 50/50. */
export function kuhnUniformProfile(): KuhnBehaviour {
  return Object.fromEntries(kuhnInfoSets.map((s) => [s.key, 0.5]));
}

/** One information set of the 1-round game, with a state and seat that reach it. */
export interface KuhnInfoSetPoint {
  readonly key: string;
  readonly position: "first" | "second";
  /** The action whose probability the profile holds there. */
  readonly aggressive: "bet" | "call";
  /** Player 1 acts first in the 1-round game, so "first" is Player 1 and "second" Player 0. */
  readonly seat: Seat;
  /** A state at this information set (the opponent's card is one of the two consistent ones). */
  readonly state: KuhnState;
  /** What the seat observes there; identical whichever card the opponent holds. */
  readonly observation: Observation;
}

/**
 * The 12 decision points of KuhnPoker-v1-1round, for measuring a policy exactly: ask it for the
 * probability of `aggressive` at each point's observation, collect them into a `KuhnBehaviour`,
 * and pass that to `kuhnExploitability` / `kuhnValue`.
 */
export function kuhnInfoSetPoints(): KuhnInfoSetPoint[] {
  const game = kuhnPoker({ rounds: 1 });
  return kuhnInfoSets.map(({ key, position, aggressive }) => {
    const [card, historyText] = key.split(":") as [KuhnCard, string];
    const history = historyText === "" ? [] : (historyText.split(",") as KuhnMove[]);
    const seat: Seat = position === "first" ? kuhnFirstSeat(0) : otherSeat(kuhnFirstSeat(0));
    const opponentCard = KUHN_DECK.find((c) => c !== card) as KuhnCard;
    const cards: [KuhnCard, KuhnCard] = seat === 0 ? [card, opponentCard] : [opponentCard, card];
    let state: KuhnState = { ...game.init(0), dealt: [cards] };
    for (const move of history) state = game.apply(state, game.toAct(state)[0] as Seat, move);
    return { key, position, aggressive, seat, state, observation: game.observe(state, seat) };
  });
}
