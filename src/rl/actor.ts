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
 *
 * Self-play: the policy plays both seats and both seats' samples are kept. Fixed opponent: the
 * policy's seat alternates with the game index (even games seat 0) and only its samples are kept.
 * Determinism: all draws come from `rng` (split up front into game, policy, opponent and
 * subsample streams), so the same rng state and policy give the same rollout.
 */
import type { Agent } from "../games/agent.js";
import type { AnyGame, GameInfo, Observation, Seat } from "../games/game.js";
import { judgeReply, scoreInvalid, type Scoring } from "../games/match.js";
import type { Rng } from "../games/rng.js";
import type { Policy, PolicyRequest } from "./policy.js";
import type { GameResult, MoveRecord, Rollout, Sample, Trajectory } from "./types.js";

/** How observations become policy requests and replies become the text a game parses. */
export interface PromptMode {
  readonly name: "compact" | "chat" | string;
  request(info: GameInfo, observation: Observation, maxNewTokens: number): PolicyRequest;
  /** The text the game parses, or why the reply holds no action. Never throws. */
  extract(reply: string, observation: Observation): { readonly ok: true; readonly action: string } | { readonly ok: false; readonly reason: string };
}

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
  /** A fixed opponent, or one per game id; absent means self-play. */
  readonly opponent?: Agent | ((gameId: string) => Agent);
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

interface LiveGame {
  readonly gameIndex: number;
  readonly game: AnyGame;
  readonly seed: number;
  state: unknown;
  readonly policySeats: readonly Seat[];
  readonly samples: Sample[];
  readonly moves: MoveRecord[];
  /** The opponent's own stream, so its draws do not depend on other games. */
  readonly opponentRng: Rng;
  readonly opponent: Agent | undefined;
}

/** One seat's pending move in one game. */
type Pending =
  | { readonly by: "policy"; readonly live: LiveGame; readonly seat: Seat; readonly observation: Observation; readonly request: PolicyRequest }
  | { readonly by: "opponent"; readonly live: LiveGame; readonly seat: Seat; readonly observation: Observation };

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
  const selfPlay = options.opponent === undefined;
  const opponents = new Map<string, Agent>();
  const opponentFor = (gameId: string): Agent | undefined => {
    const o = options.opponent;
    if (o === undefined || typeof o !== "function") return o;
    let agent = opponents.get(gameId);
    if (agent === undefined) opponents.set(gameId, (agent = o(gameId)));
    return agent;
  };

  const live: LiveGame[] = [];
  const finished: Trajectory[] = [];
  const perGame = new Map<string, { games: number; samples: number }>();
  let finishedSamples = 0;
  let nextIndex = 0;
  let policyCalls = 0;
  let generatedTokens = 0;

  const expected = (g: LiveGame): number => {
    const seen = perGame.get(g.game.info.id);
    const guess = seen === undefined ? g.game.info.maxTurns * (g.policySeats.length / 2) : seen.samples / seen.games;
    return Math.max(g.samples.length, guess);
  };
  const cap = (game: AnyGame): number => Math.min(game.info.maxTurns, options.turnCap ?? Infinity);

  const finish = (g: LiveGame, result: Omit<GameResult, "gameId" | "seed" | "actorId" | "gameIndex" | "moves" | "trainedSeats" | "players">): void => {
    const players: [string, string] = g.opponent === undefined
      ? [options.policy.name, options.policy.name]
      : g.policySeats[0] === 0
        ? [options.policy.name, g.opponent.name]
        : [g.opponent.name, options.policy.name];
    finished.push({
      result: {
        gameId: g.game.info.id, seed: g.seed, actorId, gameIndex: g.gameIndex, moves: g.moves, trainedSeats: g.policySeats, players, ...result,
      },
      samples: g.samples,
    });
    finishedSamples += g.samples.length;
    const stats = perGame.get(g.game.info.id) ?? { games: 0, samples: 0 };
    perGame.set(g.game.info.id, { games: stats.games + 1, samples: stats.samples + g.samples.length });
  };

  for (;;) {
    // 1. Top up the live games.
    const wantMore = (): boolean =>
      options.gameCount === undefined
        ? finishedSamples + live.reduce((s, g) => s + expected(g), 0) < options.rolloutBatch
        : nextIndex < options.gameCount;
    while (live.length < options.envs && wantMore()) {
      const game = pickGame(options.games, gameRng);
      const gameIndex = nextIndex++;
      const policySeats: Seat[] = selfPlay ? [0, 1] : [gameIndex % 2 === 0 ? 0 : 1];
      live.push({
        gameIndex, game, seed: gameRng.nextUint32(), state: undefined, policySeats, samples: [], moves: [], opponentRng: opponentRng.split(),
        opponent: opponentFor(game.info.id),
      });
      const g = live[live.length - 1] as LiveGame;
      g.state = game.init(g.seed);
    }
    if (live.length === 0) break;

    // 2. Every pending decision: policy requests in one batch, opponent moves alongside.
    const pending: Pending[] = [];
    for (const g of live) {
      for (const seat of g.game.toAct(g.state)) {
        const observation = g.game.observe(g.state, seat);
        if (g.policySeats.includes(seat)) {
          pending.push({ by: "policy", live: g, seat, observation, request: options.mode.request(g.game.info, observation, options.maxNewTokens) });
        } else {
          pending.push({ by: "opponent", live: g, seat, observation });
        }
      }
    }
    const requests = pending.flatMap((p) => (p.by === "policy" ? [p.request] : []));
    const [results, opponentReplies] = await Promise.all([
      requests.length > 0 ? options.policy.generate(requests, policyRng) : Promise.resolve([]),
      Promise.all(pending.map((p) => (p.by === "opponent" ? (p.live.opponent as Agent).act(p.observation, p.live.opponentRng) : Promise.resolve(null)))),
    ]);
    if (results.length !== requests.length) throw new Error(`policy ${options.policy.name} returned ${results.length} results for ${requests.length} requests`);
    if (requests.length > 0) policyCalls++;

    // 3. Judge and apply, game by game, seats in `toAct` order.
    let r = 0;
    const done = new Set<LiveGame>();
    const invalid = new Map<LiveGame, { seats: Seat[] }>();
    const moves = new Map<LiveGame, { seat: Seat; action: unknown }[]>();
    pending.forEach((p, i) => {
      const g = p.live;
      let reply: string;
      let raw: string | undefined;
      if (p.by === "policy") {
        const res = results[r++];
        if (res === undefined) throw new Error("internal: missing policy result");
        generatedTokens += res.generatedIds.length;
        g.samples.push({
          gameId: g.game.info.id, seat: p.seat, actorId, gameIndex: g.gameIndex, turn: p.observation.turn,
          promptIds: res.promptIds, generatedIds: res.generatedIds, logprobs: res.logprobs,
          ...(res.allowedIds === undefined ? {} : { allowedIds: res.allowedIds }),
          policyVersion: res.policyVersion ?? options.policy.version, text: res.text,
          ...(res.untrainable === undefined ? {} : { untrainable: res.untrainable }),
        });
        const extracted = options.mode.extract(res.text, p.observation);
        raw = res.text;
        if (!extracted.ok) {
          g.moves.push({ seat: p.seat, action: "", raw, invalidReason: extracted.reason });
          (invalid.get(g) ?? invalid.set(g, { seats: [] }).get(g))!.seats.push(p.seat);
          return;
        }
        reply = extracted.action;
      } else {
        const answer = opponentReplies[i];
        if (answer === null || answer === undefined) throw new Error("internal: missing opponent reply");
        reply = answer.action;
        raw = answer.raw;
      }
      const verdict = judgeReply(g.game, g.state, p.seat, reply);
      if (!verdict.valid) {
        g.moves.push({ seat: p.seat, action: verdict.canonical ?? reply, ...(raw === undefined || raw === reply ? {} : { raw }), invalidReason: verdict.reason });
        (invalid.get(g) ?? invalid.set(g, { seats: [] }).get(g))!.seats.push(p.seat);
        return;
      }
      g.moves.push({ seat: p.seat, action: verdict.canonical, ...(raw === undefined || raw === verdict.canonical ? {} : { raw }) });
      (moves.get(g) ?? moves.set(g, []).get(g))!.push({ seat: p.seat, action: verdict.action });
    });

    for (const g of live) {
      const offenders = invalid.get(g)?.seats;
      if (offenders !== undefined) {
        // No retry during training: the round does not happen and the game ends.
        finish(g, { returns: scoreInvalid(offenders, options.scoring ?? "training") as [number, number], endReason: "invalid", invalidSeat: offenders[0] as Seat });
        done.add(g);
        continue;
      }
      for (const m of moves.get(g) ?? []) g.state = g.game.apply(g.state, m.seat, m.action);
      if (g.game.isTerminal(g.state)) {
        finish(g, { returns: g.game.returns(g.state) as [number, number], endReason: "terminal", invalidSeat: null });
        done.add(g);
      } else if ((g.state as { turn: number }).turn >= cap(g.game)) {
        finish(g, { returns: [0, 0], endReason: "turn-cap", invalidSeat: null });
        done.add(g);
      }
    }
    for (let k = live.length - 1; k >= 0; k--) if (done.has(live[k] as LiveGame)) live.splice(k, 1);
  }

  // 4. Exactly `rolloutBatch` samples, drawn without replacement, kept in play order.
  const all = finished.flatMap((t) => t.samples);
  if (options.gameCount !== undefined) {
    return { trajectories: finished, batch: all, policyCalls, generatedTokens, seconds: (performance.now() - started) / 1000 };
  }
  const picked = subsampleRng.shuffle(all.map((_, i) => i)).slice(0, options.rolloutBatch).sort((a, b) => a - b);
  return {
    trajectories: finished,
    batch: picked.map((i) => all[i] as Sample),
    policyCalls,
    generatedTokens,
    seconds: (performance.now() - started) / 1000,
  };
}
