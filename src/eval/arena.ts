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
import { judgeReply, scoreInvalid } from "../games/match.js";
import type { Rng } from "../core/rng.js";
import { addOutcome, NO_OUTCOMES, outcomeRates, type OutcomeRates, type Outcomes } from "../rl/stats.js";
import type { MoveRecord } from "../rl/types.js";
import type { RemoteResult } from "./openai-policy.js";
import type { OpenedPolicy, PolicyPlayer } from "./policy-spec.js";

export type ArenaEndReason = "terminal" | "invalid" | "turn-cap" | "transport";

/** One finished game, as written to the transcript (one JSON line). */
export interface ArenaGame {
  readonly gameId: string;
  readonly index: number;
  readonly seed: number;
  /** Seat A played. */
  readonly aSeat: Seat;
  /** Names per seat. */
  readonly players: readonly [string, string];
  readonly moves: readonly MoveRecord[];
  /** Evaluation returns per seat ([0, 0] for a transport failure). */
  readonly returns: readonly [number, number];
  readonly endReason: ArenaEndReason;
  readonly invalidSeat: Seat | null;
  /** What failed, for a transport failure. */
  readonly transport?: string;
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

export type Reply =
  | { readonly kind: "reply"; readonly action: string | null; readonly reason?: string; readonly raw: string; readonly tokens: number | null }
  | { readonly kind: "transport"; readonly error: string };

function tokenCount(result: { generatedIds: readonly number[] } & Partial<Pick<RemoteResult, "completionTokens">>): number | null {
  if (result.generatedIds.length > 0) return result.generatedIds.length;
  return result.completionTokens ?? null;
}

async function decidePolicy(player: PolicyPlayer, decisions: readonly Decision[], rng: Rng): Promise<Reply[]> {
  const requests = decisions.map((d) => player.mode.request(d.info, d.observation, player.maxNewTokens));
  const read = (d: Decision, result: Parameters<typeof tokenCount>[0] & { text: string }): Reply => {
    const extracted = player.mode.extract(result.text, d.observation);
    return extracted.ok
      ? { kind: "reply", action: extracted.action, raw: result.text, tokens: tokenCount(result) }
      : { kind: "reply", action: null, reason: extracted.reason, raw: result.text, tokens: tokenCount(result) };
  };
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

interface LiveGame {
  readonly index: number;
  readonly seed: number;
  readonly aSeat: Seat;
  readonly rng: Rng;
  state: unknown;
  readonly moves: MoveRecord[];
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
  const { game } = options;
  const gameRng = rng.split();
  const callRng = rng.split();
  const agents = [options.a, options.b].map((p) => (p.kind === "agent" ? p.agentFor(game.info.id) : undefined)) as [Agent | undefined, Agent | undefined];
  const sides: [SideStats, SideStats] = [EMPTY_SIDE, EMPTY_SIDE];
  let outcomes = NO_OUTCOMES;
  const bySeat: [Outcomes, Outcomes] = [NO_OUTCOMES, NO_OUTCOMES];
  let transportFailures = 0;
  let firstTransportError: string | undefined;
  const cap = Math.min(game.info.maxTurns, options.turnCap ?? Infinity);
  const live: LiveGame[] = [];
  let next = 0;

  const finish = (g: LiveGame, end: Omit<ArenaGame, "gameId" | "index" | "seed" | "aSeat" | "players" | "moves">): void => {
    const players: [string, string] = g.aSeat === 0 ? [options.a.name, options.b.name] : [options.b.name, options.a.name];
    options.onGame?.({ gameId: game.info.id, index: g.index, seed: g.seed, aSeat: g.aSeat, players, moves: g.moves, ...end });
    if (end.endReason === "transport") {
      transportFailures++;
      firstTransportError ??= end.transport;
      return;
    }
    const r = end.returns[g.aSeat];
    outcomes = addOutcome(outcomes, r);
    bySeat[g.aSeat] = addOutcome(bySeat[g.aSeat], r);
  };

  for (;;) {
    while (live.length < options.concurrency && next < options.games) {
      const index = next++;
      const seed = gameRng.nextUint32();
      live.push({ index, seed, aSeat: index % 2 === 0 ? 0 : 1, rng: gameRng.split(), state: game.init(seed), moves: [] });
    }
    if (live.length === 0) break;

    // Every pending decision, per side (0 = A, 1 = B).
    const pending: { g: LiveGame; seat: Seat; side: 0 | 1; observation: Observation }[] = [];
    for (const g of live) {
      for (const seat of game.toAct(g.state)) pending.push({ g, seat, side: seat === g.aSeat ? 0 : 1, observation: game.observe(g.state, seat) });
    }
    const perSide = ([0, 1] as const).map((side) => pending.filter((p) => p.side === side));
    const decisions = (side: 0 | 1) => (perSide[side] ?? []).map((p) => ({ info: game.info, observation: p.observation, rng: p.g.rng }));
    let replies: Reply[][];
    if (options.a === options.b && options.a.kind === "policy") {
      // One model in both seats (self-play): both sides' decisions in one batch.
      const both = await decide(options.a, undefined, [...decisions(0), ...decisions(1)], callRng.split());
      const split = perSide[0]?.length ?? 0;
      replies = [both.slice(0, split), both.slice(split)];
    } else {
      replies = await Promise.all(([0, 1] as const).map((side) => decide(side === 0 ? options.a : options.b, agents[side], decisions(side), callRng.split())));
    }
    const replyOf = new Map<(typeof pending)[number], Reply>();
    for (const side of [0, 1] as const) (perSide[side] ?? []).forEach((p, i) => replyOf.set(p, replies[side]?.[i] as Reply));

    const done = new Set<LiveGame>();
    for (const g of live) {
      const mine = pending.filter((p) => p.g === g);
      const failed = mine.map((p) => replyOf.get(p) as Reply).find((r) => r.kind === "transport");
      const offenders: Seat[] = [];
      const moves: { seat: Seat; action: unknown }[] = [];
      for (const p of mine) {
        const reply = replyOf.get(p) as Reply;
        const s = sides[p.side];
        if (reply.kind === "transport") {
          sides[p.side] = { ...s, decisions: s.decisions + 1, transportFailures: s.transportFailures + 1 };
          continue;
        }
        const counted: SideStats = {
          ...s, decisions: s.decisions + 1, replyChars: s.replyChars + reply.raw.length,
          ...(reply.tokens === null ? {} : { replyTokens: s.replyTokens + reply.tokens, tokenReplies: s.tokenReplies + 1 }),
        };
        const raw = reply.raw === reply.action ? {} : { raw: reply.raw };
        if (reply.action === null) {
          g.moves.push({ seat: p.seat, action: "", ...raw, invalidReason: reply.reason ?? "no action in the reply" });
          offenders.push(p.seat);
          sides[p.side] = { ...counted, invalid: counted.invalid + 1 };
          continue;
        }
        const verdict = judgeReply(game, g.state, p.seat, reply.action);
        if (!verdict.valid) {
          g.moves.push({ seat: p.seat, action: verdict.canonical ?? reply.action, ...raw, invalidReason: verdict.reason });
          offenders.push(p.seat);
          sides[p.side] = { ...counted, invalid: counted.invalid + 1 };
          continue;
        }
        sides[p.side] = counted;
        g.moves.push({ seat: p.seat, action: verdict.canonical, ...(reply.raw === verdict.canonical ? {} : { raw: reply.raw }) });
        moves.push({ seat: p.seat, action: verdict.action });
      }
      if (failed !== undefined && failed.kind === "transport") {
        finish(g, { returns: [0, 0], endReason: "transport", invalidSeat: null, transport: failed.error });
        done.add(g);
      } else if (offenders.length > 0) {
        finish(g, { returns: scoreInvalid(offenders, "evaluation"), endReason: "invalid", invalidSeat: offenders[0] as Seat });
        done.add(g);
      } else {
        for (const m of moves) g.state = game.apply(g.state, m.seat, m.action);
        if (game.isTerminal(g.state)) {
          finish(g, { returns: game.returns(g.state), endReason: "terminal", invalidSeat: null });
          done.add(g);
        } else if ((g.state as { turn: number }).turn >= cap) {
          finish(g, { returns: [0, 0], endReason: "turn-cap", invalidSeat: null });
          done.add(g);
        }
      }
    }
    for (let k = live.length - 1; k >= 0; k--) if (done.has(live[k] as LiveGame)) live.splice(k, 1);
  }
  return {
    gameId: game.info.id, a: options.a.name, b: options.b.name, outcomes, rates: outcomeRates(outcomes), bySeat, transportFailures, sides,
    ...(firstTransportError === undefined ? {} : { firstTransportError }),
    seconds: (performance.now() - started) / 1000,
  };
}

/** Mean reply length of a side: tokens where known, characters otherwise. */
export function meanReply(s: SideStats): { tokens: number | null; chars: number } {
  const replies = s.decisions - s.transportFailures;
  return { tokens: s.tokenReplies === 0 ? null : s.replyTokens / s.tokenReplies, chars: replies === 0 ? 0 : s.replyChars / replies };
}
