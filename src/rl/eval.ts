/**
 * Evaluation during training: the policy against fixed opponents in both seats, and the exact
 * exploitability of its 1-round Kuhn strategy.
 *
 * Matchups: `games` games per pairing, the policy's seat alternating (even game index: seat 0),
 * played by the same vectorised actor as training with evaluation scoring (an invalid move loses,
 * −1/+1). Outcomes are from the policy's side, with 95% Wilson intervals, overall and per seat.
 *
 * Kuhn exploitability: every decision of KuhnPoker-v1-1round belongs to one of 12 information
 * sets ("card:history"). For each, one observation where it arises is rendered exactly as in
 * play, and the policy's exact probability of the aggressive move ([bet] or [call]) as its whole
 * reply is read with `policy.choiceProbabilities`; the resulting behaviour profile goes to the
 * exact best-response computation in `games/kuhn-exact.ts`. Uniform play scores 11/24 ≈ 0.458,
 * a Nash equilibrium 0. Probabilities are renormalised over the legal moves, so probability mass
 * a free-text policy puts on invalid replies is not counted here (it shows in the matchups).
 */
import type { Agent } from "../games/agent.js";
import type { AnyGame, Seat } from "../games/game.js";
import { kuhnExploitability, type KuhnBehaviour } from "../games/kuhn-exact.js";
import { kuhnProfileOf } from "../eval/analyses.js";
import type { Rng } from "../core/rng.js";
import { collectRollout } from "./actor.js";
import type { PromptMode } from "../policy/prompt-mode.js";
import type { Policy } from "../policy/policy.js";
import { addOutcome, NO_OUTCOMES, outcomeRates, type OutcomeRates, type Outcomes } from "../eval/stats.js";

export interface Matchup {
  readonly game: AnyGame;
  readonly opponent: Agent;
  /** Games to play; the policy's seat alternates, so an even count splits the seats evenly. */
  readonly games: number;
}

export interface MatchupReport {
  readonly gameId: string;
  readonly opponent: string;
  readonly outcomes: Outcomes;
  readonly rates: OutcomeRates;
  /** Outcomes with the policy in seat 0 and in seat 1. */
  readonly bySeat: readonly [Outcomes, Outcomes];
  /** Games the policy lost by an invalid move. */
  readonly invalid: number;
  /** Mean return of the policy's seat (evaluation scoring). */
  readonly meanReturn: number;
}

export interface EvalOptions {
  readonly policy: Policy;
  readonly mode: PromptMode;
  readonly maxNewTokens: number;
  /** Live games per policy call. */
  readonly envs: number;
  readonly matchups: readonly Matchup[];
  /** KuhnPoker-v1-1round, to compute exploitability; omitted when absent. */
  readonly kuhn?: AnyGame;
}

export interface EvalReport {
  readonly matchups: readonly MatchupReport[];
  readonly kuhn?: { readonly exploitability: number; readonly profile: KuhnBehaviour };
  readonly seconds: number;
}

export async function playMatchup(options: Omit<EvalOptions, "matchups" | "kuhn">, matchup: Matchup, rng: Rng): Promise<MatchupReport> {
  const rollout = await collectRollout(
    {
      games: [{ game: matchup.game, weight: 1 }],
      policy: options.policy,
      mode: options.mode,
      rolloutBatch: 1,
      envs: options.envs,
      maxNewTokens: options.maxNewTokens,
      opponent: matchup.opponent,
      scoring: "evaluation",
      gameCount: matchup.games,
    },
    rng,
  );
  let outcomes = NO_OUTCOMES;
  const bySeat: [Outcomes, Outcomes] = [NO_OUTCOMES, NO_OUTCOMES];
  let invalid = 0;
  let total = 0;
  for (const { result } of rollout.trajectories) {
    const seat = result.trainedSeats[0] as Seat;
    const r = result.returns[seat];
    outcomes = addOutcome(outcomes, r);
    bySeat[seat] = addOutcome(bySeat[seat], r);
    if (result.endReason === "invalid" && result.invalidSeat === seat) invalid++;
    total += r;
  }
  return {
    gameId: matchup.game.info.id,
    opponent: matchup.opponent.name,
    outcomes,
    rates: outcomeRates(outcomes),
    bySeat,
    invalid,
    meanReturn: rollout.trajectories.length === 0 ? 0 : total / rollout.trajectories.length,
  };
}

export { findInfoSetObservations, kuhnProfileOf } from "../eval/analyses.js";

export async function evaluate(options: EvalOptions, rng: Rng): Promise<EvalReport> {
  const started = performance.now();
  const matchups: MatchupReport[] = [];
  for (const m of options.matchups) matchups.push(await playMatchup(options, m, rng.split()));
  const kuhn = options.kuhn === undefined ? undefined : await kuhnProfileOf(options.policy, options.mode, options.kuhn, options.maxNewTokens);
  return {
    matchups,
    ...(kuhn === undefined ? {} : { kuhn: { exploitability: kuhnExploitability(kuhn), profile: kuhn } }),
    seconds: (performance.now() - started) / 1000,
  };
}
