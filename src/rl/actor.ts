/**
 * The actor: a vector of live games played by one policy, turned into samples and results.
 * Steps 1–2 of docs/training.md, "One policy step".
 *
 * One call to `collectRollout` is one policy step's worth of play:
 * 1. Keep up to `envs` games live. A new game draws its game id by `weight` and its seed from the
 *    step's rng. New games start only while the samples of finished games plus the expected
 *    samples of live ones fall short of `rolloutBatch` (expected = samples so far, or this step's
 *    mean per finished game of that id, whichever is larger; `maxTurns` before any finished).
 * 2. Each round, every live game's pending decision by the trained policy goes through ONE
 *    `policy.generate` call; fixed-opponent moves (an `Agent`) are asked at the same time.
 * 3. Replies are read by the prompt mode (`extract`: boxed extraction in chat mode, the reply
 *    itself in compact mode) and judged by the game (`judgeReply` from the match runner, so scoring
 *    is the runner's). An invalid reply ends the game at once: offender −1.5, other seat +0.5
 *    (`scoreInvalid(…, "training")`). A game reaching its turn cap is a draw.
 * 4. When the live games are done and the finished ones hold ≥ `rolloutBatch` samples, exactly
 *    `rolloutBatch` of them are drawn without replacement (kept in play order); all finished games
 *    are returned so RAE folds in every outcome.
 * 5. Transport (remote policies, `Policy.generateSettled`): a decision the policy could not answer
 *    at all (every server tried failed) ends its game as "transport", void: the game is returned
 *    and counted, but none of its samples is kept. A sample's advantage is its game's return
 *    against the baseline, and a void game has no return; crediting its earlier turns with a made-up
 *    one ([0, 0], a draw) would teach the policy that those moves draw. More games start to fill the
 *    batch. When the policy can answer nothing any more (`PolicyUnavailableError`), the games live
 *    at that moment end as "transport", no game starts, and the rollout comes back short with `lost`
 *    saying why (the loop decides whether the run can go on).
 *
 * Self-play: the policy plays both seats and both seats' samples are kept. Fixed opponent: the
 * policy's seat alternates with the game index (even games seat 0) and only its samples are kept.
 * A per-game opponent may leave some games to self-play (no agent for that game id).
 * Determinism: all draws come from `rng` (split up front into game, policy, opponent and
 * subsample streams), so the same rng state and policy give the same rollout.
 */
import type { Agent } from "../games/agent.js";
import type { AnyGame, Seat } from "../games/game.js";
import type { Scoring } from "../games/match.js";
import type { Rng } from "../core/rng.js";
import { playGames, readReply, type Answer, type AnswerProvider, type Decision, type GameStart, type LiveGame } from "../policy/play.js";
import { isTransportFailure, PolicyUnavailableError, type Policy, type PolicyResult, type TransportFailure } from "../policy/policy.js";
import type { PromptMode } from "../policy/prompt-mode.js";
import type { Rollout, Sample, Trajectory } from "./types.js";


export interface WeightedGame {
  readonly game: AnyGame;
  /** Relative sampling weight (> 0). */
  readonly weight: number;
}

export interface ActorOptions {
  readonly actorId?: number;
  readonly games: readonly WeightedGame[];
  readonly policy: Policy;
  readonly mode: PromptMode;
  /** Samples handed to the learner per step. Default 128. */
  readonly rolloutBatch: number;
  /** Live games at once (the batch of one policy call is at most this, ×2 for simultaneous games). */
  readonly envs: number;
  readonly maxNewTokens: number;
  /** A fixed opponent, or one per game id (undefined: self-play in that game); absent means self-play. */
  readonly opponent?: Agent | ((gameId: string) => Agent | undefined);
  /** An extra turn cap below each game's own `maxTurns` (draw when reached). */
  readonly turnCap?: number;
  /** "training" (default): invalid −1.5/+0.5. "evaluation": invalid −1/+1. */
  readonly scoring?: Scoring;
  /**
   * Evaluation: play exactly this many games instead of collecting `rolloutBatch` samples; the
   * rollout's `batch` is then every sample of every game.
   */
  readonly gameCount?: number;
}

/** The actor's own data about one game, beside the play loop's. */
interface ActorGame {
  readonly gameIndex: number;
  readonly policySeats: readonly Seat[];
  readonly samples: Sample[];
  /** The opponent's own stream, so its draws do not depend on other games. */
  readonly opponentRng: Rng;
  readonly opponent: Agent | undefined;
}

export function checkActorOptions(o: ActorOptions): void {
  if (o.games.length === 0) throw new Error("the actor needs at least one game");
  for (const g of o.games) {
    if (!(Number.isFinite(g.weight) && g.weight > 0)) throw new Error(`game weight must be a positive number; got ${g.weight} for ${g.game.info.id}`);
  }
  for (const [key, v] of [["rolloutBatch", o.rolloutBatch], ["envs", o.envs], ["maxNewTokens", o.maxNewTokens], ["gameCount", o.gameCount ?? 1]] as const) {
    if (!(Number.isInteger(v) && v >= 1)) throw new Error(`${key} must be a positive integer; got ${v}`);
  }
}

function pickGame(games: readonly WeightedGame[], rng: Rng): AnyGame {
  const total = games.reduce((s, g) => s + g.weight, 0);
  let x = rng.next() * total;
  for (const g of games) {
    x -= g.weight;
    if (x < 0) return g.game;
  }
  return (games[games.length - 1] as WeightedGame).game;
}

/** Plays until `rolloutBatch` samples from finished games exist; see the file comment. */
export async function collectRollout(options: ActorOptions, rng: Rng): Promise<Rollout> {
  checkActorOptions(options);
  const started = performance.now();
  const actorId = options.actorId ?? 0;
  const gameRng = rng.split();
  const policyRng = rng.split();
  const opponentRng = rng.split();
  const subsampleRng = rng.split();
  const finished: Trajectory[] = [];
  const counts = { policyCalls: 0, generatedTokens: 0 };
  const lost: { why?: string } = {};
  const startGame = gameStarter(options, gameRng, opponentRng, finished);
  await playGames<ActorGame>({
    providers: [policyProvider(options, policyRng, counts, lost), OPPONENT],
    concurrency: options.envs,
    next: (live) => (lost.why === undefined ? startGame(live) : undefined),
    scoring: options.scoring ?? "training",
    ...(options.turnCap === undefined ? {} : { turnCap: options.turnCap }),
    onDecision(d, answer) {
      // Every decision of the trained policy is a sample, an invalid reply included.
      const res = answer.kind === "reply" ? answer.result : undefined;
      if (res === undefined) return;
      counts.generatedTokens += res.generatedIds.length;
      d.live.context.samples.push({
        gameId: d.live.game.info.id, seat: d.seat, actorId, gameIndex: d.live.context.gameIndex, turn: d.observation.turn,
        promptIds: res.promptIds, generatedIds: res.generatedIds, logprobs: res.logprobs,
        ...(res.allowedIds === undefined ? {} : { allowedIds: res.allowedIds }),
        policyVersion: res.policyVersion ?? options.policy.version, text: res.text,
        ...(res.untrainable === undefined ? {} : { untrainable: res.untrainable }),
      });
    },
    onEnd({ context: c }, record) {
      // 5. A void game keeps none of its samples.
      const samples = record.endReason === "transport" ? [] : c.samples;
      finished.push({ result: { ...record, actorId, gameIndex: c.gameIndex, trainedSeats: c.policySeats }, samples });
    },
  });

  // 4. Exactly `rolloutBatch` samples, drawn without replacement, kept in play order.
  const all = finished.flatMap((t) => t.samples);
  const seconds = (): number => (performance.now() - started) / 1000;
  const stopped = lost.why === undefined ? {} : { lost: lost.why };
  if (options.gameCount !== undefined) return { trajectories: finished, batch: all, ...counts, seconds: seconds(), ...stopped };
  const picked = subsampleRng.shuffle(all.map((_, i) => i)).slice(0, options.rolloutBatch).sort((a, b) => a - b);
  return { trajectories: finished, batch: picked.map((i) => all[i] as Sample), ...counts, seconds: seconds(), ...stopped };
}

/**
 * Step 1 of the file comment: starts games while more samples (or, for evaluation, more games)
 * are wanted. Draws, per game and in this order: the game id and seed from `gameRng`, the
 * opponent's stream from `opponentRng`.
 */
function gameStarter(options: ActorOptions, gameRng: Rng, opponentRng: Rng, finished: readonly Trajectory[]): (live: readonly LiveGame<ActorGame>[]) => GameStart<ActorGame> | undefined {
  const opponents = new Map<string, Agent | undefined>();
  const opponentFor = (gameId: string): Agent | undefined => {
    const o = options.opponent;
    if (o === undefined || typeof o !== "function") return o;
    if (!opponents.has(gameId)) opponents.set(gameId, o(gameId));
    return opponents.get(gameId);
  };
  // Samples per finished game of each id, for the expected size of live games.
  const perGame = new Map<string, { games: number; samples: number }>();
  let counted = 0;
  let nextIndex = 0;
  const expected = (g: LiveGame<ActorGame>): number => {
    const seen = perGame.get(g.game.info.id);
    const guess = seen === undefined ? g.game.info.maxTurns * (g.context.policySeats.length / 2) : seen.samples / seen.games;
    return Math.max(g.context.samples.length, guess);
  };
  return (live) => {
    for (; counted < finished.length; counted++) {
      const t = finished[counted] as Trajectory;
      if (t.result.endReason === "transport") continue; // void: says nothing about a game's length
      const stats = perGame.get(t.result.gameId) ?? { games: 0, samples: 0 };
      perGame.set(t.result.gameId, { games: stats.games + 1, samples: stats.samples + t.samples.length });
    }
    const finishedSamples = finished.reduce((s, t) => s + t.samples.length, 0);
    const wantMore = options.gameCount === undefined
      ? finishedSamples + live.reduce((s, g) => s + expected(g), 0) < options.rolloutBatch
      : nextIndex < options.gameCount;
    if (!wantMore) return undefined;
    const game = pickGame(options.games, gameRng);
    const gameIndex = nextIndex++;
    const opponent = opponentFor(game.info.id);
    const selfPlay = opponent === undefined;
    const policySeats: Seat[] = selfPlay ? [0, 1] : [gameIndex % 2 === 0 ? 0 : 1];
    const seed = gameRng.nextUint32();
    const context: ActorGame = { gameIndex, policySeats, samples: [], opponentRng: opponentRng.split(), opponent };
    const name = options.policy.name;
    const other = context.opponent?.name ?? name;
    const sides: [number, number] = selfPlay ? [POLICY, POLICY] : policySeats[0] === 0 ? [POLICY, OPPONENT_SIDE] : [OPPONENT_SIDE, POLICY];
    return { game, seed, sides, players: policySeats[0] === 0 ? [name, other] : [other, name], context };
  };
}

const POLICY = 0;
const OPPONENT_SIDE = 1;

/**
 * The trained policy: every decision of a round in ONE `generate` call on the policy stream (a
 * remote policy's `generateSettled`, whose failed turns become transport answers; see step 5).
 */
function policyProvider(options: ActorOptions, policyRng: Rng, counts: { policyCalls: number }, lost: { why?: string }): AnswerProvider<ActorGame> {
  const { policy } = options;
  return {
    async answer(decisions) {
      if (decisions.length === 0) return [];
      const requests = decisions.map((d) => options.mode.request(d.live.game.info, d.observation, options.maxNewTokens));
      let results: readonly (PolicyResult | TransportFailure)[];
      try {
        results = policy.generateSettled === undefined ? await policy.generate(requests, policyRng) : await policy.generateSettled(requests, policyRng);
      } catch (e) {
        if (!(e instanceof PolicyUnavailableError)) throw e;
        lost.why = e.message;
        return decisions.map((): Answer => ({ kind: "transport", error: e.message }));
      }
      if (results.length !== requests.length) throw new Error(`policy ${policy.name} returned ${results.length} results for ${requests.length} requests`);
      counts.policyCalls++;
      return results.map((r, i): Answer => (isTransportFailure(r) ? r : readReply(options.mode, r, (decisions[i] as Decision<ActorGame>).observation)));
    },
  };
}

/** A fixed opponent: its game's agent acts on the game's own opponent stream; a throw fails the rollout. */
const OPPONENT: AnswerProvider<ActorGame> = {
  answer(decisions) {
    return Promise.all(
      decisions.map(async ({ live, observation }): Promise<Answer> => {
        const reply = await (live.context.opponent as Agent).act(observation, live.context.opponentRng);
        return { kind: "reply", action: reply.action, ...(reply.raw === undefined ? {} : { raw: reply.raw }), tokens: null };
      }),
    );
  },
};
