/**
 * The batched play loop: N live games of any mix, every pending decision of a round answered by
 * its seat's answer provider in one batch per provider, judged by the game, applied, and ended.
 * The trainer's actor (rl/actor.ts) records samples on the per-decision hook; the arena
 * (eval/arena.ts) adds its statistics there. docs/policy.md has the picture.
 *
 * One round:
 * 1. Top up: while fewer than `concurrency` games are live, `next(live)` may start one (a game, a
 *    seed, the provider of each seat, the players' names and the caller's own per-game data).
 * 2. Every live game's seats in `toAct` order are observed; the decisions are grouped by provider
 *    (in game order) and every provider is asked once, all at once, even with no decisions (so a
 *    provider that draws a stream per round draws it every round). A provider listed for several
 *    sides is asked once with its sides' decisions one after the other, in side order: one batch.
 * 3. Game by game, each answer is judged (`judgeReply`, the match runner's rule) and reported to
 *    `onDecision`. A game ends, first reason first:
 *    - transport: a decision got no answer (endpoint down, agent threw); returns [0, 0], void;
 *    - invalid: a reply held no action or an illegal one; the round does not happen and
 *      `scoreInvalid(offenders, scoring)` scores it;
 *    - terminal: after applying the round's moves (seat order) the game says it is over;
 *    - turn cap: `min(maxTurns, turnCap)` moves were made; a draw, [0, 0].
 *    Each ended game goes to `onEnd` with its record (games/game-record.ts), in game order.
 * 4. The loop returns when no game is live and `next` starts none.
 *
 * Determinism: the loop draws no random numbers; providers and `next` own every stream, so the
 * same streams give the same games whatever the timing of the answers.
 */
import type { AnyGame, Observation, Seat } from "../games/game.js";
import type { GameRecord, MoveRecord } from "../games/game-record.js";
import { judgeReply, scoreInvalid, type Scoring } from "../games/match.js";
import type { PolicyResult } from "./policy.js";
import type { PromptMode } from "./prompt-mode.js";

/** What a provider answered for one decision. */
export type Answer =
  | {
      readonly kind: "reply";
      /** The text the game parses; null when the reply holds no action (an invalid move). */
      readonly action: string | null;
      /** Why there is no action. */
      readonly reason?: string;
      /** The whole reply, when the provider has one beyond `action`. */
      readonly raw?: string;
      /** Reply length in tokens, when known. */
      readonly tokens: number | null;
      /** A policy's result (tokens, log-probs), for callers that learn from it. */
      readonly result?: PolicyResult;
    }
  | { readonly kind: "transport"; readonly error: string };

/** A game as the loop keeps it; `context` is the caller's. */
export interface LiveGame<C> {
  readonly game: AnyGame;
  readonly seed: number;
  /** Index into `providers` per seat. */
  readonly sides: readonly [number, number];
  readonly players: readonly [string, string];
  readonly context: C;
  /** The current state (the loop replaces it as moves are applied). */
  readonly state: unknown;
  readonly moves: readonly MoveRecord[];
}

/** What `next` returns to start a game. */
export type GameStart<C> = Pick<LiveGame<C>, "game" | "seed" | "sides" | "players" | "context">;

/** One seat's pending decision in one game. */
export interface Decision<C> {
  readonly live: LiveGame<C>;
  readonly seat: Seat;
  readonly observation: Observation;
}

/** Answers a round's decisions of the seats it plays: one answer per decision, in order. */
export interface AnswerProvider<C> {
  answer(decisions: readonly Decision<C>[]): Promise<readonly Answer[]>;
}

/** How a decision went: no answer, an invalid reply, or a legal move. */
export type Verdict = "transport" | "invalid" | "valid";

export interface PlayOptions<C> {
  readonly providers: readonly AnswerProvider<C>[];
  /** Live games at once. */
  readonly concurrency: number;
  /** Starts a game, or returns undefined when no more should start now. */
  next(live: readonly LiveGame<C>[]): GameStart<C> | undefined;
  /** How an invalid move is scored. */
  readonly scoring: Scoring;
  /** An extra turn cap below each game's own `maxTurns` (a draw when reached). */
  readonly turnCap?: number;
  onDecision?(decision: Decision<C>, answer: Answer, verdict: Verdict): void;
  onEnd(live: LiveGame<C>, record: GameRecord): void;
}

interface Game<C> extends LiveGame<C> {
  state: unknown;
  readonly moves: MoveRecord[];
}

/** `raw` when it says more than `shown`. */
const rawUnless = (raw: string | undefined, shown: string | null): { raw?: string } => (raw === undefined || raw === shown ? {} : { raw });

/** Plays until no game is live and `next` starts none; see the file comment. */
export async function playGames<C>(options: PlayOptions<C>): Promise<void> {
  const live: Game<C>[] = [];
  for (;;) {
    while (live.length < options.concurrency) {
      const start = options.next(live);
      if (start === undefined) break;
      live.push({ ...start, state: start.game.init(start.seed), moves: [] });
    }
    if (live.length === 0) return;
    const pending: Decision<C>[] = [];
    for (const g of live) for (const seat of g.game.toAct(g.state)) pending.push({ live: g, seat, observation: g.game.observe(g.state, seat) });
    const answers = await answerRound(options.providers, pending);
    const ended = new Set<LiveGame<C>>();
    let next = 0;
    for (const g of live) {
      const mine: Decision<C>[] = [];
      while (next < pending.length && pending[next]?.live === g) mine.push(pending[next++] as Decision<C>);
      const end = playRound(g, mine, answers, options);
      if (end !== null) {
        options.onEnd(g, { gameId: g.game.info.id, seed: g.seed, players: g.players, moves: g.moves, ...end });
        ended.add(g);
      }
    }
    for (let k = live.length - 1; k >= 0; k--) if (ended.has(live[k] as Game<C>)) live.splice(k, 1);
  }
}

/** Every provider asked once (see the file comment); the answers per decision. */
async function answerRound<C>(providers: readonly AnswerProvider<C>[], pending: readonly Decision<C>[]): Promise<Map<Decision<C>, Answer>> {
  const distinct = [...new Set(providers)];
  const batches = distinct.map((p) => providers.flatMap((q, side) => (q === p ? pending.filter((d) => d.live.sides[d.seat] === side) : [])));
  const answered = await Promise.all(distinct.map((p, i) => p.answer(batches[i] as Decision<C>[])));
  const out = new Map<Decision<C>, Answer>();
  batches.forEach((batch, i) => {
    const answers = answered[i] as readonly Answer[];
    if (answers.length !== batch.length) throw new Error(`an answer provider returned ${answers.length} answers for ${batch.length} decisions`);
    batch.forEach((d, j) => out.set(d, answers[j] as Answer));
  });
  return out;
}

type End = Pick<GameRecord, "returns" | "endReason" | "invalidSeat" | "transport">;

/** Judges one game's answers, records its moves and applies them; how the game ended, or null. */
function playRound<C>(g: Game<C>, decisions: readonly Decision<C>[], answers: ReadonlyMap<Decision<C>, Answer>, options: PlayOptions<C>): End | null {
  let failed: string | undefined;
  const offenders: Seat[] = [];
  const moves: { seat: Seat; action: unknown }[] = [];
  for (const d of decisions) {
    const answer = answers.get(d) as Answer;
    const verdict = judgeAnswer(g, d.seat, answer, offenders, moves);
    if (answer.kind === "transport") failed ??= answer.error;
    options.onDecision?.(d, answer, verdict);
  }
  if (failed !== undefined) return { returns: [0, 0], endReason: "transport", invalidSeat: null, transport: failed };
  if (offenders.length > 0) return { returns: scoreInvalid(offenders, options.scoring), endReason: "invalid", invalidSeat: offenders[0] as Seat };
  for (const m of moves) g.state = g.game.apply(g.state, m.seat, m.action);
  if (g.game.isTerminal(g.state)) return { returns: g.game.returns(g.state), endReason: "terminal", invalidSeat: null };
  if ((g.state as { turn: number }).turn >= Math.min(g.game.info.maxTurns, options.turnCap ?? Infinity)) {
    return { returns: [0, 0], endReason: "turn-cap", invalidSeat: null };
  }
  return null;
}

/** Records one answer as a move (or an offence) and says how it went. */
function judgeAnswer<C>(g: Game<C>, seat: Seat, answer: Answer, offenders: Seat[], moves: { seat: Seat; action: unknown }[]): Verdict {
  if (answer.kind === "transport") return "transport";
  if (answer.action === null) {
    g.moves.push({ seat, action: "", ...rawUnless(answer.raw, null), invalidReason: answer.reason ?? "no action in the reply" });
    offenders.push(seat);
    return "invalid";
  }
  const verdict = judgeReply(g.game, g.state, seat, answer.action);
  if (!verdict.valid) {
    g.moves.push({ seat, action: verdict.canonical ?? answer.action, ...rawUnless(answer.raw, answer.action), invalidReason: verdict.reason });
    offenders.push(seat);
    return "invalid";
  }
  g.moves.push({ seat, action: verdict.canonical, ...rawUnless(answer.raw, verdict.canonical) });
  moves.push({ seat, action: verdict.action });
  return "valid";
}

/** A policy's reply read by the prompt mode: the action, or why there is none. */
export function readReply(mode: PromptMode, result: PolicyResult & { readonly completionTokens?: number | null }, observation: Observation): Answer {
  const extracted = mode.extract(result.text, observation);
  const tokens = result.generatedIds.length > 0 ? result.generatedIds.length : (result.completionTokens ?? null);
  return extracted.ok
    ? { kind: "reply", action: extracted.action, raw: result.text, tokens, result }
    : { kind: "reply", action: null, reason: extracted.reason, raw: result.text, tokens, result };
}
