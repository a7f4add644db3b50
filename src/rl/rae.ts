/**
 * Role-conditioned Advantage Estimation (RAE): docs/training.md, "One policy step" 3.
 *
 * One baseline per (game, seat), b[g][s] = 0 at the start of training. For each finished game
 * g, in the order games finished, and each seat s whose moves the trained policy made:
 *
 *   A      = R_s − b[g][s]                  (the baseline BEFORE this game's update)
 *   b[g][s] ← α·b[g][s] + (1 − α)·R_s       α = 0.95
 *
 * Every sample of seat s in that game gets the scalar A on all its generated tokens (γ = 1, no
 * per-turn credit). Samples with A = 0 are dropped: they carry no gradient and would only dilute
 * the Dr.GRPO mean. `enabled: false` (the `--no-rae` ablation) keeps b fixed at 0, so A = R.
 *
 * Differences from the paper's code: the reference implementation keys the baseline by seat only
 * (it trained one game per run); we key by game and seat, as the paper describes, so TicTacToe's
 * first-mover advantage does not leak into Kuhn Poker's baseline. Against a fixed opponent only the
 * trained seat's baseline moves. The state is plain data and goes into every checkpoint.
 */
import type { Seat } from "../games/game.js";
import type { GameResult, Sample, ScoredSample, Trajectory } from "./types.js";

export const DEFAULT_RAE_ALPHA = 0.95;

/** Serialisable RAE state (stored in checkpoints). */
export interface RaeState {
  readonly alpha: number;
  /** False for the `--no-rae` ablation: baselines stay 0. */
  readonly enabled: boolean;
  /** b[gameId] = [b(seat 0), b(seat 1)]. Games never seen have baseline 0. */
  readonly baselines: Readonly<Record<string, readonly [number, number]>>;
  /** Finished games folded in per game id and seat (for logs). */
  readonly counts: Readonly<Record<string, readonly [number, number]>>;
}

export function createRae(options: { alpha?: number; enabled?: boolean } = {}): RaeState {
  const alpha = options.alpha ?? DEFAULT_RAE_ALPHA;
  if (!(Number.isFinite(alpha) && alpha >= 0 && alpha < 1)) {
    throw new Error(`RAE alpha must be a number in [0, 1); got ${alpha}`);
  }
  return { alpha, enabled: options.enabled ?? true, baselines: {}, counts: {} };
}

/** Checks a state read from a checkpoint; throws naming what is wrong. */
export function checkRaeState(value: unknown): RaeState {
  const v = value as Partial<RaeState> | null;
  if (v === null || typeof v !== "object") throw new Error("RAE state must be an object");
  if (typeof v.alpha !== "number" || typeof v.enabled !== "boolean") {
    throw new Error("RAE state needs a numeric `alpha` and a boolean `enabled`");
  }
  for (const table of [v.baselines, v.counts]) {
    if (table === null || typeof table !== "object") throw new Error("RAE state needs `baselines` and `counts` objects");
    for (const [game, pair] of Object.entries(table)) {
      if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((x) => typeof x === "number" && Number.isFinite(x))) {
        throw new Error(`RAE state entry for ${game} must be two finite numbers; got ${JSON.stringify(pair)}`);
      }
    }
  }
  return v as RaeState;
}

export function baseline(state: RaeState, gameId: string, seat: Seat): number {
  return state.baselines[gameId]?.[seat] ?? 0;
}

/** The advantage of each seat in one finished game, and the state after folding it in. */
export function raeUpdate(state: RaeState, result: GameResult): { advantages: [number, number]; state: RaeState } {
  const b = state.baselines[result.gameId] ?? [0, 0];
  const n = state.counts[result.gameId] ?? [0, 0];
  const next: [number, number] = [b[0], b[1]];
  const count: [number, number] = [n[0], n[1]];
  const advantages: [number, number] = [0, 0];
  for (const seat of result.trainedSeats) {
    const r = result.returns[seat];
    advantages[seat] = r - b[seat];
    if (state.enabled) next[seat] = state.alpha * b[seat] + (1 - state.alpha) * r;
    count[seat] += 1;
  }
  return {
    advantages,
    state: {
      ...state,
      baselines: { ...state.baselines, [result.gameId]: next },
      counts: { ...state.counts, [result.gameId]: count },
    },
  };
}

function gameKey(actorId: number, gameIndex: number): string {
  return `${actorId}:${gameIndex}`;
}

/**
 * Folds every finished game into the baselines (in the given order; void games, end reason
 * "transport", have no outcome and are skipped) and scores `batch`, the samples chosen for the
 * learner: each gets its game's and seat's advantage; samples with A = 0 are dropped. Every
 * sample of `batch` must come from one of `trajectories`, none from a void game.
 */
export function scoreSamples(
  state: RaeState,
  trajectories: readonly Trajectory[],
  batch: readonly Sample[],
): { samples: ScoredSample[]; dropped: number; state: RaeState } {
  const advantageOf = new Map<string, [number, number]>();
  const seen = new Set<string>();
  let s = state;
  for (const t of trajectories) {
    const key = gameKey(t.result.actorId, t.result.gameIndex);
    if (seen.has(key)) throw new Error(`RAE: game ${key} appears twice in one step`);
    seen.add(key);
    // A void game (a transport failure) has no outcome to fold in, and keeps no samples.
    if (t.result.endReason === "transport") continue;
    const u = raeUpdate(s, t.result);
    advantageOf.set(key, u.advantages);
    s = u.state;
  }
  const samples: ScoredSample[] = [];
  let dropped = 0;
  for (const sample of batch) {
    const adv = advantageOf.get(gameKey(sample.actorId, sample.gameIndex));
    if (adv === undefined) {
      throw new Error(`RAE: sample of ${sample.gameId} (actor ${sample.actorId}, game ${sample.gameIndex}) has no finished game`);
    }
    const a = adv[sample.seat];
    if (a === 0) dropped++;
    else samples.push({ ...sample, advantage: a });
  }
  return { samples, dropped, state: s };
}
