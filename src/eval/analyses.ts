/**
 * Exact game analyses of one player, for games small enough to enumerate.
 *
 * TicTacToe optimal-move rate: every position reachable from the empty board where a move is
 * owed (or a uniform sample of them: `positions`; exact scoring of a tiny checkpoint over all of
 * them takes ~5 minutes on 2 cores, one full forward per legal move per position) (4,520 of the 5,478 reachable positions; the player is asked as whichever seat is to move),
 * reached by the first move order a depth-first walk finds, observed exactly as in play. A move is
 * optimal when it keeps the minimax value (`ticTacToeOptimalMoves`). The rate is the mean over
 * positions of P(optimal move):
 * - local models: exact, from `choiceProbabilities` over the legal moves (renormalised: mass on
 *   unparseable replies is not counted here; it shows as invalid moves in the arena);
 * - agents and endpoints: one sampled reply per position (an unreadable reply counts as not
 *   optimal).
 *
 * Kuhn (1-round) exploitability: the behaviour profile P(bet or call) at the 12 information sets,
 * exact for local models (`kuhnProfileOf`, shared with training's evaluation), estimated from
 * `samples` replies per information set otherwise; then the exact best-response value
 * (`kuhnExploitability`): uniform play 11/24 ≈ 0.458, a Nash equilibrium 0.
 */
import type { AnyGame, Observation } from "../games/game.js";
import { kuhnExploitability, kuhnInfoSets, type KuhnBehaviour } from "../games/kuhn-exact.js";
import type { Rng } from "../core/rng.js";
import { ticTacToeKey, ticTacToeOptimalMoves, type TicTacToeState } from "../games/tictactoe.js";
import { decide } from "./arena.js";
import type { Policy } from "../policy/policy.js";
import type { OpenedPolicy } from "../policy/policy-spec.js";
import type { PromptMode } from "../policy/prompt-mode.js";

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

export interface OptimalMoveReport {
  /** Positions scored (all 4,520 where a move is owed, or a uniform sample of them). */
  readonly positions: number;
  /** Mean P(optimal move) over positions. */
  readonly rate: number;
  /** The same, over positions where O (seat 0) and X (seat 1) is to move. */
  readonly bySeat: readonly [number, number];
  /** True when computed from exact probabilities, false when sampled. */
  readonly exact: boolean;
  /** Replies that did not name a legal move (sampled players only). */
  readonly invalid: number;
}

/** Every reachable TicTacToe position with a move owed, once each, with its observation. */
export function ticTacToeDecisionPoints(game: AnyGame): { state: TicTacToeState; observation: Observation }[] {
  const seen = new Set<string>();
  const out: { state: TicTacToeState; observation: Observation }[] = [];
  const walk = (state: TicTacToeState): void => {
    const key = ticTacToeKey(state.cells);
    if (seen.has(key)) return;
    seen.add(key);
    if (game.isTerminal(state)) return;
    const seat = game.toAct(state)[0];
    if (seat === undefined) return;
    out.push({ state, observation: game.observe(state, seat) });
    for (const a of game.legalActions(state, seat)) walk(game.apply(state, seat, a) as TicTacToeState);
  };
  walk(game.init(0) as TicTacToeState);
  return out;
}

/** Cells named by the legal move strings, via the game's own parser. */
function cellOf(game: AnyGame, state: TicTacToeState, text: string): number | null {
  const seat = game.toAct(state)[0];
  if (seat === undefined) return null;
  const parsed = game.parse(state, seat, text);
  return parsed.ok && game.isLegal(state, seat, parsed.action) ? (parsed.action as number) : null;
}

export async function ticTacToeOptimalRate(game: AnyGame, player: OpenedPolicy, rng: Rng, options: { batch?: number; positions?: number } = {}): Promise<OptimalMoveReport> {
  if (game.info.id !== "TicTacToe-v0") throw new Error(`the optimal-move rate needs TicTacToe-v0; got ${game.info.id}`);
  const all = ticTacToeDecisionPoints(game);
  // A uniform sample of positions, for a faster estimate (exact scoring costs one forward per legal move per position).
  const points = options.positions === undefined || options.positions >= all.length ? all : rng.shuffle(all.slice()).slice(0, options.positions);
  const sums: [number, number] = [0, 0];
  const counts: [number, number] = [0, 0];
  let invalid = 0;
  const exact = player.kind === "policy" && player.exact;
  const add = (point: (typeof points)[number], p: number): void => {
    const seat = point.observation.seat;
    sums[seat] += p;
    counts[seat]++;
  };
  if (player.kind === "policy" && exact) {
    for (const point of points) {
      const request = player.mode.request(game.info, point.observation, player.maxNewTokens);
      const probs = await player.policy.choiceProbabilities(request, point.observation.legal);
      const optimal = new Set(ticTacToeOptimalMoves(point.state.cells));
      const mass = probs.reduce((a, b) => a + b, 0);
      const good = point.observation.legal.reduce((s, text, i) => s + (optimal.has(cellOf(game, point.state, text) ?? -1) ? (probs[i] as number) : 0), 0);
      add(point, mass > 0 ? good / mass : 0);
    }
  } else {
    const agent = player.kind === "agent" ? player.agentFor(game.info.id) : undefined;
    const batch = options.batch ?? 256;
    for (let i = 0; i < points.length; i += batch) {
      const chunk = points.slice(i, i + batch);
      const replies = await decide(player, agent, chunk.map((p) => ({ info: game.info, observation: p.observation, rng: rng.split() })), rng.split());
      chunk.forEach((point, k) => {
        const reply = replies[k];
        const cell = reply?.kind === "reply" && reply.action !== null ? cellOf(game, point.state, reply.action) : null;
        if (cell === null) invalid++;
        add(point, cell !== null && ticTacToeOptimalMoves(point.state.cells).includes(cell) ? 1 : 0);
      });
    }
  }
  const positions = counts[0] + counts[1];
  return { positions, rate: (sums[0] + sums[1]) / positions, bySeat: [sums[0] / counts[0], sums[1] / counts[1]], exact, invalid };
}

export interface KuhnReport {
  readonly profile: KuhnBehaviour;
  readonly exploitability: number;
  readonly exact: boolean;
  /** Replies per information set (sampled players). */
  readonly samples: number;
}

/** P(aggressive move) per information set by sampling `samples` replies (agents, endpoints). */
async function sampledKuhnProfile(kuhn: AnyGame, player: OpenedPolicy, samples: number, rng: Rng): Promise<KuhnBehaviour> {
  const observations = findInfoSetObservations(kuhn, kuhnInfoSets.length);
  const agent = player.kind === "agent" ? player.agentFor(kuhn.info.id) : undefined;
  const profile: Record<string, number> = {};
  for (const set of kuhnInfoSets) {
    const obs = observations.get(set.key) as Observation;
    const replies = await decide(player, agent, Array.from({ length: samples }, () => ({ info: kuhn.info, observation: obs, rng: rng.split() })), rng.split());
    let aggressive = 0;
    let valid = 0;
    for (const r of replies) {
      if (r.kind !== "reply" || r.action === null) continue;
      const move = r.action.trim().toLowerCase().replace(/\s+/g, "");
      if (!obs.legal.some((l) => l.toLowerCase() === move)) continue;
      valid++;
      if (move === `[${set.aggressive}]`) aggressive++;
    }
    // No valid reply at all: the uniform choice, so the profile stays defined (reported as such).
    profile[set.key] = valid === 0 ? 0.5 : aggressive / valid;
  }
  return profile;
}

export async function kuhnAnalysis(kuhn: AnyGame, player: OpenedPolicy, rng: Rng, samples = 64): Promise<KuhnReport> {
  if (kuhn.info.id !== "KuhnPoker-v1-1round") throw new Error(`exploitability needs KuhnPoker-v1-1round; got ${kuhn.info.id}`);
  const exact = player.kind === "policy" && player.exact;
  const profile = player.kind === "policy" && exact
    ? await kuhnProfileOf(player.policy, player.mode, kuhn, player.maxNewTokens)
    : await sampledKuhnProfile(kuhn, player, samples, rng);
  return { profile, exploitability: kuhnExploitability(profile), exact, samples: exact ? 0 : samples };
}
