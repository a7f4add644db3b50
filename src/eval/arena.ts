/**
 * The arena: N games of one game between two players A and B, many at once.
 *
 * 1. Game i puts A in seat 0 when i is even, seat 1 when odd, so an even N splits the seats
 *    evenly; its seed is drawn from the arena rng.
 * 2. Up to `concurrency` games are live. Each round every live game's pending decisions are
 *    gathered per player: a local model answers all of its decisions in ONE batched `generate`
 *    call; an HTTP policy sends one request per decision (bounded by its own concurrency);
 *    reference agents act per decision.
 * 3. Replies are read by the player's prompt mode (boxed extraction or the compact reply) and
 *    judged by the game (`judgeReply`, the match runner's rule). Evaluation scoring: an
 *    unreadable or illegal reply ends the game, offender −1, other seat +1. A game reaching its
 *    turn cap is a draw.
 * 4. A decision that fails in transport (the endpoint unreachable after retries, an agent that
 *    throws) voids its game: it is recorded with end reason "transport" and counted separately,
 *    never as a win, draw or loss.
 * Determinism: game seeds, each game's agent stream and each policy call's stream come from the
 * arena rng, so the same seed and players give the same games (for deterministic endpoints).
 */
import type { Agent } from "../games/agent.js";
import type { AnyGame, GameInfo, Observation, Seat } from "../games/game.js";
import type { Rng } from "../core/rng.js";
import { addOutcome, NO_OUTCOMES, outcomeRates, type OutcomeRates, type Outcomes } from "./stats.js";
import type { EndReason, GameRecord } from "../games/game-record.js";
import type { RemoteResult } from "../policy/openai-policy.js";
import { playGames, readReply, type Answer, type AnswerProvider, type Verdict } from "../policy/play.js";
import type { PolicyResult } from "../policy/policy.js";
import type { OpenedPolicy, PolicyPlayer } from "../policy/policy-spec.js";

/** @deprecated the one `EndReason` of games/game-record.ts. */
export type ArenaEndReason = EndReason;

/** One finished game of an arena, as written to games.jsonl (one JSON line): the one game record and A's seat. */
export interface ArenaGame extends GameRecord {
  /** The game's index in the arena (seats alternate with it). */
  readonly index: number;
  /** Seat A played. */
  readonly aSeat: Seat;
}

/** Per player: how its decisions went. */
export interface SideStats {
  readonly decisions: number;
  /** Replies that did not parse or were illegal (each ends its game). */
  readonly invalid: number;
  /** Decisions lost to transport failures. */
  readonly transportFailures: number;
  /** Sum of reply lengths in characters, over decisions with a reply. */
  readonly replyChars: number;
  /** Sum of reply lengths in tokens, over `tokenReplies` decisions whose token count is known. */
  readonly replyTokens: number;
  readonly tokenReplies: number;
}

export interface ArenaReport {
  readonly gameId: string;
  readonly a: string;
  readonly b: string;
  /** Games played to the end (transport failures excluded). */
  readonly outcomes: Outcomes;
  readonly rates: OutcomeRates;
  /** A's outcomes with A in seat 0 and in seat 1. */
  readonly bySeat: readonly [Outcomes, Outcomes];
  readonly transportFailures: number;
  /** The first transport failure's message (why games were voided), if any. */
  readonly firstTransportError?: string;
  /** [A, B]. */
  readonly sides: readonly [SideStats, SideStats];
  readonly seconds: number;
}

export interface ArenaOptions {
  readonly game: AnyGame;
  readonly a: OpenedPolicy;
  readonly b: OpenedPolicy;
  readonly games: number;
  /** Live games at once. */
  readonly concurrency: number;
  /** An extra turn cap below the game's own (draw when reached). */
  readonly turnCap?: number;
  /** Called with each game as it finishes (transcripts). */
  readonly onGame?: (game: ArenaGame) => void;
}

interface Decision {
  readonly info: GameInfo;
  readonly observation: Observation;
  /** The game's own stream for agents, so their draws do not depend on other games. */
  readonly rng: Rng;
}

/** One answer per decision as the arena reads it: the whole reply is always known (`raw`). */
export type Reply = Extract<Answer, { kind: "transport" }> | (Extract<Answer, { kind: "reply" }> & { readonly raw: string });

async function decidePolicy(player: PolicyPlayer, decisions: readonly Decision[], rng: Rng): Promise<Reply[]> {
  const requests = decisions.map((d) => player.mode.request(d.info, d.observation, player.maxNewTokens));
  const read = (d: Decision, result: PolicyResult & Partial<Pick<RemoteResult, "completionTokens">>): Reply => readReply(player.mode, result, d.observation) as Reply;
  if (player.batched) {
    try {
      const results = await player.policy.generate(requests, rng);
      return decisions.map((d, i) => read(d, results[i] as (typeof results)[number]));
    } catch (e) {
      return decisions.map(() => ({ kind: "transport", error: (e as Error).message }));
    }
  }
  const streams = requests.map(() => rng.split());
  return Promise.all(
    requests.map(async (r, i): Promise<Reply> => {
      try {
        const [result] = await player.policy.generate([r], streams[i] as Rng);
        if (result === undefined) throw new Error(`${player.name} returned no result`);
        return read(decisions[i] as Decision, result);
      } catch (e) {
        return { kind: "transport", error: (e as Error).message };
      }
    }),
  );
}

/** One reply per decision, in order; failures are per decision, never thrown. */
export async function decide(player: OpenedPolicy, agent: Agent | undefined, decisions: readonly Decision[], rng: Rng): Promise<Reply[]> {
  if (decisions.length === 0) return [];
  if (player.kind === "policy") return decidePolicy(player, decisions, rng);
  if (agent === undefined) throw new Error(`internal: no agent for ${player.name}`);
  return Promise.all(
    decisions.map(async (d): Promise<Reply> => {
      try {
        const r = await agent.act(d.observation, d.rng);
        return { kind: "reply", action: r.action, raw: r.raw ?? r.action, tokens: null };
      } catch (e) {
        return { kind: "transport", error: (e as Error).message };
      }
    }),
  );
}

/** The arena's own data about one game, beside the play loop's. */
interface ArenaSlot {
  readonly index: number;
  readonly aSeat: Seat;
  /** The game's own stream for agents. */
  readonly rng: Rng;
}

const EMPTY_SIDE: SideStats = { decisions: 0, invalid: 0, transportFailures: 0, replyChars: 0, replyTokens: 0, tokenReplies: 0 };

function checkArenaOptions(o: ArenaOptions): void {
  for (const [key, v] of [["games", o.games], ["concurrency", o.concurrency], ["turnCap", o.turnCap ?? 1]] as const) {
    if (!(Number.isInteger(v) && v >= 1)) throw new Error(`${key} must be a positive integer; got ${v}`);
  }
}

export async function runArena(options: ArenaOptions, rng: Rng): Promise<ArenaReport> {
  checkArenaOptions(options);
  const started = performance.now();
  const { game, a, b } = options;
  const gameRng = rng.split();
  const callRng = rng.split();
  const sides: [SideStats, SideStats] = [EMPTY_SIDE, EMPTY_SIDE];
  const tally: Tally = { outcomes: NO_OUTCOMES, bySeat: [NO_OUTCOMES, NO_OUTCOMES], transportFailures: 0 };
  // Side 0 is A, side 1 is B; one model in both seats (self-play) answers both sides in one batch.
  const selfPlay = a === b && a.kind === "policy";
  const providerA = sideProvider(a, game, callRng);
  const providers = [providerA, selfPlay ? providerA : sideProvider(b, game, callRng)];
  let next = 0;
  await playGames<ArenaSlot>({
    providers,
    concurrency: options.concurrency,
    next() {
      if (next >= options.games) return undefined;
      const index = next++;
      const aSeat: Seat = index % 2 === 0 ? 0 : 1;
      const seed = gameRng.nextUint32();
      return { game, seed, sides: aSeat === 0 ? [0, 1] : [1, 0], players: aSeat === 0 ? [a.name, b.name] : [b.name, a.name], context: { index, aSeat, rng: gameRng.split() } };
    },
    scoring: "evaluation",
    ...(options.turnCap === undefined ? {} : { turnCap: options.turnCap }),
    onDecision(d, answer, verdict) {
      const side = d.seat === d.live.context.aSeat ? 0 : 1;
      sides[side] = countDecision(sides[side], answer, verdict);
    },
    onEnd({ context: { index, aSeat } }, record) {
      const { gameId, seed, players, moves, ...end } = record;
      options.onGame?.({ gameId, index, seed, aSeat, players, moves, ...end });
      tallyGame(tally, aSeat, end);
    },
  });
  const { outcomes, bySeat, transportFailures, firstTransportError } = tally;
  return {
    gameId: game.info.id, a: a.name, b: b.name, outcomes, rates: outcomeRates(outcomes), bySeat, transportFailures, sides,
    ...(firstTransportError === undefined ? {} : { firstTransportError }),
    seconds: (performance.now() - started) / 1000,
  };
}

interface Tally {
  outcomes: Outcomes;
  readonly bySeat: [Outcomes, Outcomes];
  transportFailures: number;
  firstTransportError?: string;
}

/** A's outcome of one game; a transport failure is counted apart, never as a result. */
function tallyGame(tally: Tally, aSeat: Seat, end: Pick<GameRecord, "returns" | "endReason" | "transport">): void {
  if (end.endReason === "transport") {
    tally.transportFailures++;
    if (tally.firstTransportError === undefined && end.transport !== undefined) tally.firstTransportError = end.transport;
    return;
  }
  const r = end.returns[aSeat];
  tally.outcomes = addOutcome(tally.outcomes, r);
  tally.bySeat[aSeat] = addOutcome(tally.bySeat[aSeat], r);
}

/** One side's player as the play loop's answer provider: a fresh call stream each round. */
function sideProvider(player: OpenedPolicy, game: AnyGame, callRng: Rng): AnswerProvider<ArenaSlot> {
  const agent = player.kind === "agent" ? player.agentFor(game.info.id) : undefined;
  return {
    answer: (decisions) => decide(player, agent, decisions.map((d) => ({ info: game.info, observation: d.observation, rng: d.live.context.rng })), callRng.split()),
  };
}

/** A side's statistics after one more decision. */
function countDecision(s: SideStats, answer: Answer, verdict: Verdict): SideStats {
  if (answer.kind === "transport") return { ...s, decisions: s.decisions + 1, transportFailures: s.transportFailures + 1 };
  const counted: SideStats = {
    ...s, decisions: s.decisions + 1, replyChars: s.replyChars + (answer.raw ?? answer.action ?? "").length,
    ...(answer.tokens === null ? {} : { replyTokens: s.replyTokens + answer.tokens, tokenReplies: s.tokenReplies + 1 }),
  };
  return verdict === "invalid" ? { ...counted, invalid: counted.invalid + 1 } : counted;
}

/** Mean reply length of a side: tokens where known, characters otherwise. */
export function meanReply(s: SideStats): { tokens: number | null; chars: number } {
  const replies = s.decisions - s.transportFailures;
  return { tokens: s.tokenReplies === 0 ? null : s.replyTokens / s.tokenReplies, chars: replies === 0 ? 0 : s.replyChars / replies };
}
