/**
 * Win/draw/loss counting with 95% Wilson score intervals, and running means for logs.
 *
 * Wilson interval for k successes in n trials, z = 1.96:
 *   centre = (p̂ + z²/2n) / (1 + z²/n),  half = z·sqrt(p̂(1−p̂)/n + z²/4n²) / (1 + z²/n)
 * It stays inside [0, 1] and is sensible at k = 0 or k = n, where the normal approximation
 * collapses to a zero-width interval.
 */
import type { Seat } from "../games/game.js";

export const Z95 = 1.959963984540054;

export interface Interval {
  /** k / n (0 when n = 0). */
  readonly rate: number;
  readonly low: number;
  readonly high: number;
}

export function wilson(successes: number, trials: number, z = Z95): Interval {
  if (!(Number.isInteger(successes) && Number.isInteger(trials) && successes >= 0 && successes <= trials)) {
    throw new Error(`wilson needs integers 0 ≤ successes ≤ trials; got ${successes} of ${trials}`);
  }
  if (trials === 0) return { rate: 0, low: 0, high: 1 };
  const p = successes / trials;
  const z2 = z * z;
  const denom = 1 + z2 / trials;
  const centre = (p + z2 / (2 * trials)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials))) / denom;
  return { rate: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/** Wins, draws and losses from one side's point of view. */
export interface Outcomes {
  readonly wins: number;
  readonly draws: number;
  readonly losses: number;
}

export const NO_OUTCOMES: Outcomes = { wins: 0, draws: 0, losses: 0 };

/** Adds one game by the sign of this side's return. */
export function addOutcome(o: Outcomes, ret: number): Outcomes {
  if (ret > 0) return { ...o, wins: o.wins + 1 };
  if (ret < 0) return { ...o, losses: o.losses + 1 };
  return { ...o, draws: o.draws + 1 };
}

export function totalGames(o: Outcomes): number {
  return o.wins + o.draws + o.losses;
}

export interface OutcomeRates {
  readonly games: number;
  readonly win: Interval;
  readonly draw: Interval;
  readonly loss: Interval;
  /** Win or draw: the TicTacToe criterion. */
  readonly nonLoss: Interval;
}

export function outcomeRates(o: Outcomes): OutcomeRates {
  const n = totalGames(o);
  return { games: n, win: wilson(o.wins, n), draw: wilson(o.draws, n), loss: wilson(o.losses, n), nonLoss: wilson(o.wins + o.draws, n) };
}

/** Outcomes per seat, for "over both seats" tables. */
export type SeatOutcomes = readonly [Outcomes, Outcomes];

export function addSeatOutcome(o: SeatOutcomes, seat: Seat, ret: number): SeatOutcomes {
  return seat === 0 ? [addOutcome(o[0], ret), o[1]] : [o[0], addOutcome(o[1], ret)];
}

export function mergeOutcomes(a: Outcomes, b: Outcomes): Outcomes {
  return { wins: a.wins + b.wins, draws: a.draws + b.draws, losses: a.losses + b.losses };
}

/** A mean accumulated one value at a time (Welford), with the variance for error bars. */
export interface RunningMean {
  readonly count: number;
  readonly mean: number;
  /** Sum of squared deviations from the mean. */
  readonly m2: number;
}

export const EMPTY_MEAN: RunningMean = { count: 0, mean: 0, m2: 0 };

export function addValue(m: RunningMean, x: number): RunningMean {
  const count = m.count + 1;
  const delta = x - m.mean;
  const mean = m.mean + delta / count;
  return { count, mean, m2: m.m2 + delta * (x - mean) };
}

export function meanOf(xs: readonly number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Sample standard deviation (0 for fewer than two values). */
export function stdDev(m: RunningMean): number {
  return m.count < 2 ? 0 : Math.sqrt(m.m2 / (m.count - 1));
}
