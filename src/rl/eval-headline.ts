/**
 * The headline numbers of a training evaluation, as the progress line, the end-of-run table
 * (cli/train-progress.ts, cli/train.ts) and the seed sweep's summaries (sweep/run.ts) print them.
 */
import type { EvalMetrics } from "./loop.js";

/** A fraction as a percentage: 0.031 → "3.1%" (digits after the point as given). */
export function formatPercent(x: number | undefined, digits = 0): string {
  return x === undefined ? "–" : `${(100 * x).toFixed(digits)}%`;
}

/**
 * The headline numbers of one evaluation, under short labels that keep the results table within
 * 80 columns (HEADLINE_LEGEND says what they mean).
 */
export function evalHeadline(e: EvalMetrics): Record<string, string> {
  const find = (game: string, opp: string) => e.matchups.find((m) => m.gameId === game && m.opponent === opp);
  return {
    "TTT/random": formatPercent(find("TicTacToe-v0", "random")?.rates.nonLoss.rate),
    "TTT/minimax": formatPercent(find("TicTacToe-v0", "minimax")?.rates.nonLoss.rate),
    "Kuhn/random": formatPercent(find("KuhnPoker-v1-1round", "random")?.rates.win.rate),
    "Kuhn ε": e.kuhn === undefined ? "–" : e.kuhn.exploitability.toFixed(3),
    "Neg/random": formatPercent(find("SimpleNegotiation-v1", "random")?.rates.win.rate),
    "Neg/heuristic": formatPercent(find("SimpleNegotiation-v1", "heuristic")?.rates.nonLoss.rate),
  };
}

/** What the labels of `evalHeadline` mean, one entry per game. */
export const HEADLINE_LEGEND: readonly string[] = [
  "TTT: TicTacToe non-loss rate vs random / minimax",
  "Kuhn: 1-round Kuhn win rate vs random, ε its exact exploitability (Nash: 0)",
  "Neg: negotiation win rate vs random / non-loss rate vs heuristic",
];

