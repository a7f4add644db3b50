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
import type { AnyGame, Observation, Seat } from "../games/game.js";
import { kuhnExploitability, kuhnInfoSets, type KuhnBehaviour } from "../games/kuhn-exact.js";
import type { Rng } from "../core/rng.js";
import { collectRollout, type PromptMode } from "./actor.js";
import type { Policy } from "./policy.js";
import { addOutcome, NO_OUTCOMES, outcomeRates, type OutcomeRates, type Outcomes } from "./stats.js";

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

/**
 * One observation per information set of a game whose `infoState` carries an `infoSet` key,
 * found by walking every action sequence from seeds 0, 1, … until `expected` keys are seen.
 */
export function findInfoSetObservations(game: AnyGame, expected: number, maxSeeds = 256): Map<string, Observation> {
  const found = new Map<string, Observation>();
  const walk = (state: unknown): void => {
    if (game.isTerminal(state)) return;
    for (const seat of game.toAct(state)) {
      const obs = game.observe(state, seat);
      const key = (obs.infoState as { infoSet?: unknown } | null)?.infoSet;
      if (typeof key !== "string") throw new Error(`${game.info.id}: observations carry no infoState.infoSet key`);
      if (!found.has(key)) found.set(key, obs);
      for (const action of game.legalActions(state, seat)) walk(game.apply(state, seat, action));
    }
  };
  for (let seed = 0; seed < maxSeeds && found.size < expected; seed++) walk(game.init(seed));
  if (found.size < expected) throw new Error(`${game.info.id}: found ${found.size} of ${expected} information sets in ${maxSeeds} deals`);
  return found;
}

/** The policy's behaviour profile on 1-round Kuhn: P(aggressive move) at each of the 12 information sets. */
export async function kuhnProfileOf(policy: Policy, mode: PromptMode, kuhn: AnyGame, maxNewTokens: number): Promise<KuhnBehaviour> {
  const observations = findInfoSetObservations(kuhn, kuhnInfoSets.length);
  const profile: Record<string, number> = {};
  for (const set of kuhnInfoSets) {
    const obs = observations.get(set.key);
    if (obs === undefined) throw new Error(`Kuhn information set ${set.key} was not reached`);
    const aggressive = obs.legal.findIndex((a) => a.toLowerCase() === `[${set.aggressive}]`);
    if (aggressive < 0) throw new Error(`Kuhn information set ${set.key}: no [${set.aggressive}] among ${obs.legal.join(", ")}`);
    const probs = await policy.choiceProbabilities(mode.request(kuhn.info, obs, maxNewTokens), obs.legal);
    const mass = probs.reduce((a, b) => a + b, 0);
    if (!(mass > 0)) throw new Error(`policy ${policy.name} gives no probability to any legal move at Kuhn ${set.key}`);
    profile[set.key] = (probs[aggressive] as number) / mass;
  }
  return profile;
}

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
