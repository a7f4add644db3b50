/**
 * The match runner: one game between two agents, with a full record that can be written as JSON
 * and replayed.
 *
 * What a match is (docs/training.md, "One policy step" 2):
 * 1. Each step, every seat in `toAct` is shown `game.observe(state, seat)` and replies through
 *    `Agent.act`. Simultaneous games (two seats to act) ask both seats in parallel and apply their
 *    moves in seat order; both saw the same pre-round state.
 * 2. A reply is read by `game.parse` and checked by `game.isLegal` (`judgeReply`). An invalid reply
 *    while the seat still has allowance for this decision is answered with a notice giving the
 *    reason, and the seat replies again (TextArena's error allowance: it counts invalid replies per
 *    decision and resets after a valid move). With no allowance left the game ends and
 *    `scoreInvalid` scores it: training −1.5 for the offender and +0.5 for the other seat,
 *    evaluation −1/+1. The default allowance is 0, as in SPIRAL's training.
 * 3. A game still running after `info.maxTurns` moves ends as a draw (a safety net: every game is
 *    meant to end itself within its cap).
 * 4. An agent that throws or exceeds `actTimeoutMs` ends the match with end reason "transport",
 *    returns [0, 0] and the failure recorded in `transport`: a broken connection is not a game
 *    loss, so consumers must filter these records rather than count them.
 *
 * The per-step rules live in small exported functions (`judgeReply`, `scoreInvalid`,
 * `retryNotice`) so the trainer's vectorised loop, which drives `game.apply` directly, scores
 * exactly as this runner does.
 */
import type { Agent, AgentReply } from "./agent.js";
import type { EndReason } from "./game-record.js";
import type { AnyGame, Message, Observation, Seat } from "./game.js";
import { createRng } from "../core/rng.js";
import type { Rng } from "../core/rng.js";

/** How invalid moves are scored: SPIRAL's training penalty, or a plain loss for evaluation. */
export type Scoring = "training" | "evaluation";

export type { EndReason } from "./game-record.js";

/** Returns for an invalid move that ends the game, per scoring. */
export const INVALID_MOVE_SCORES: Readonly<Record<Scoring, { readonly offender: number; readonly other: number }>> = {
  training: { offender: -1.5, other: 0.5 },
  evaluation: { offender: -1, other: 1 },
};

/**
 * Returns when the seats in `offenders` end the game with invalid moves. Two offenders (both
 * seats of a simultaneous round) both get the offender's score: neither played the game.
 */
export function scoreInvalid(offenders: readonly Seat[], scoring: Scoring): readonly [number, number] {
  if (offenders.length === 0) throw new Error("scoreInvalid needs at least one offending seat");
  const { offender, other } = INVALID_MOVE_SCORES[scoring];
  const score = (seat: Seat): number => (offenders.includes(seat) ? offender : other);
  return [score(0), score(1)];
}

/** The verdict on one reply: a legal action with its canonical text, or the reason it is invalid. */
export type Judgement =
  | { readonly valid: true; readonly action: unknown; readonly canonical: string }
  /** `canonical` is the parsed action's text when the reply parsed but the move is illegal now. */
  | { readonly valid: false; readonly canonical: string | null; readonly reason: string };

/** How many legal moves an illegal-move reason lists before it says "…". */
const LEGAL_LISTED = 12;

/** Reads `text` as `seat`'s move in `state`: parse, then legality. Never throws for any text. */
export function judgeReply(game: AnyGame, state: unknown, seat: Seat, text: string): Judgement {
  const parsed = game.parse(state, seat, text);
  if (!parsed.ok) return { valid: false, canonical: null, reason: parsed.reason };
  const canonical = game.format(parsed.action);
  if (game.isLegal(state, seat, parsed.action)) return { valid: true, action: parsed.action, canonical };
  const legal = game.legalActions(state, seat).map((a) => game.format(a));
  const listed = legal.slice(0, LEGAL_LISTED).join(", ") + (legal.length > LEGAL_LISTED ? ", …" : "");
  return { valid: false, canonical, reason: `${canonical} is not a legal move now; legal moves: ${listed}` };
}

/** The notice a seat gets before it retries an invalid reply. */
export function retryNotice(reason: string, retriesLeft: number): Message {
  const left = Number.isFinite(retriesLeft) ? ` (${retriesLeft} more invalid ${retriesLeft === 1 ? "reply" : "replies"} allowed)` : "";
  return { kind: "notice", text: `Invalid move: ${reason.replace(/[.\s]+$/, "")}. Please try again${left}.` };
}

/** The observation for a retry: what the seat saw, plus the notices about its invalid replies. */
export function withNotices(observation: Observation, notices: readonly Message[]): Observation {
  return notices.length === 0 ? observation : { ...observation, log: [...observation.log, ...notices] };
}

/** One reply of one seat, as recorded. A decision with retries has one step per reply. */
export interface MatchStep {
  readonly seat: Seat;
  /** Moves applied before this reply. */
  readonly turn: number;
  /** 0 for the first reply of a decision, k for its k-th retry. */
  readonly attempt: number;
  /** Exactly what the agent was shown (retry notices included). */
  readonly observation: Observation;
  /** The text the game parsed (`AgentReply.action`); null when the agent failed to reply. */
  readonly reply: string | null;
  /** The full reply, reasoning included, when the agent gave one. */
  readonly raw: string | null;
  /** Canonical text of the parsed action; null when the reply did not parse. */
  readonly action: string | null;
  readonly valid: boolean;
  readonly reason: string | null;
  /** Whether the game was over after this reply. */
  readonly done: boolean;
  /** Returns after this reply: [0, 0] until the game is over. */
  readonly returns: readonly [number, number];
}

export interface TransportFailure {
  readonly seat: Seat;
  readonly kind: "error" | "timeout";
  readonly message: string;
}

/** Everything needed to inspect and replay one match. Plain data: `JSON.stringify` writes it. */
export interface MatchRecord {
  readonly format: "spiral.match/1";
  readonly gameId: string;
  readonly params: Readonly<Record<string, number | string | boolean>>;
  /** The seed given to `game.init`. */
  readonly seed: number;
  readonly agents: readonly [string, string];
  readonly scoring: Scoring;
  /** Invalid replies each seat may retry per decision; null means unlimited (a person at a terminal). */
  readonly errorAllowance: readonly [number | null, number | null];
  readonly steps: readonly MatchStep[];
  /** Moves applied. */
  readonly moves: number;
  /** Invalid replies per seat, retried ones included. */
  readonly invalid: readonly [number, number];
  /** Retries per seat: invalid replies that were answered with a notice instead of ending the game. */
  readonly retries: readonly [number, number];
  readonly endReason: EndReason;
  readonly returns: readonly [number, number];
  /** Seats whose invalid reply ended the game (end reason "invalid"). */
  readonly offenders: readonly Seat[];
  readonly transport: TransportFailure | null;
  /** What each seat sees when the match is over. */
  readonly finalObservations: readonly [Observation, Observation];
}

export interface MatchOptions {
  readonly game: AnyGame;
  /** Agents by seat: agents[0] plays Player 0. */
  readonly agents: readonly [Agent, Agent];
  readonly seed: number;
  /** Invalid replies a seat may retry per decision: one number for both seats or one per seat (Infinity: unlimited). Default 0. */
  readonly errorAllowance?: number | readonly [number, number];
  /** Wall-clock limit per `act`, in milliseconds; none by default. */
  readonly actTimeoutMs?: number;
  /** Default "evaluation". */
  readonly scoring?: Scoring;
  /** The agents' randomness; by default a stream derived from `seed`. */
  readonly rng?: Rng;
}

/** What a seat's reply source answered: a reply, a transport failure, or (replay) nothing left. */
type Answer = { readonly kind: "reply"; readonly reply: AgentReply } | { readonly kind: "failed"; readonly failure: TransportFailure } | { readonly kind: "exhausted" };

/** The outcome of one seat's decision: a legal action, an invalid end, or no reply. */
type Decision =
  | { readonly kind: "move"; readonly action: unknown; readonly steps: StepDraft[] }
  | { readonly kind: "invalid"; readonly steps: StepDraft[] }
  | { readonly kind: "failed"; readonly failure: TransportFailure; readonly steps: StepDraft[] }
  | { readonly kind: "exhausted"; readonly steps: StepDraft[] };

/** A step before the game knows whether it is over. */
type StepDraft = Omit<MatchStep, "done" | "returns">;

type Ask = (seat: Seat, observation: Observation, attempt: number) => Promise<Answer>;

interface CoreOptions {
  readonly game: AnyGame;
  readonly seed: number;
  readonly allowance: readonly [number, number];
  readonly scoring: Scoring;
  /** Ask the two seats of a simultaneous round at once (agents) or one after the other (replay). */
  readonly parallel: boolean;
  readonly onState?: (state: unknown) => void;
}

interface CoreResult {
  readonly steps: MatchStep[];
  readonly state: unknown;
  readonly endReason: EndReason | "incomplete";
  readonly returns: readonly [number, number];
  readonly offenders: readonly Seat[];
  readonly transport: TransportFailure | null;
  readonly invalid: readonly [number, number];
  readonly retries: readonly [number, number];
}

/** One seat's decision: ask, judge, and retry with notices while its allowance lasts. */
async function decide(game: AnyGame, state: unknown, seat: Seat, allowance: number, ask: Ask): Promise<Decision> {
  const base = game.observe(state, seat);
  const notices: Message[] = [];
  const steps: StepDraft[] = [];
  for (let attempt = 0; ; attempt++) {
    const observation = withNotices(base, notices);
    const answer = await ask(seat, observation, attempt);
    if (answer.kind === "exhausted") return { kind: "exhausted", steps };
    const turn = base.turn;
    if (answer.kind === "failed") {
      steps.push({ seat, turn, attempt, observation, reply: null, raw: null, action: null, valid: false, reason: answer.failure.message });
      return { kind: "failed", failure: answer.failure, steps };
    }
    const { action: reply, raw } = answer.reply;
    const verdict = judgeReply(game, state, seat, reply);
    steps.push({
      seat,
      turn,
      attempt,
      observation,
      reply,
      raw: raw ?? reply,
      action: verdict.canonical,
      valid: verdict.valid,
      reason: verdict.valid ? null : verdict.reason,
    });
    if (verdict.valid) return { kind: "move", action: verdict.action, steps };
    if (attempt >= allowance) return { kind: "invalid", steps };
    notices.push(retryNotice(verdict.reason, allowance - attempt - 1));
  }
}

/** Appends a decision's steps; only its last carries `done` and the returns. */
function recordSteps(steps: MatchStep[], drafts: readonly StepDraft[], done: boolean, returns: readonly [number, number]): void {
  drafts.forEach((d, i) => {
    const last = i === drafts.length - 1;
    // Fields copied one by one: an object spread here was 18% of a TicTacToe match's time.
    steps.push({
      seat: d.seat,
      turn: d.turn,
      attempt: d.attempt,
      observation: d.observation,
      reply: d.reply,
      raw: d.raw,
      action: d.action,
      valid: d.valid,
      reason: d.reason,
      done: last && done,
      returns: last ? returns : [0, 0],
    });
  });
}

/** The match loop shared by `playMatch` (agents) and `replayActions` (a list of replies). */
async function runCore(options: CoreOptions, ask: Ask): Promise<CoreResult> {
  const { game, scoring } = options;
  let state: unknown = game.init(options.seed);
  options.onState?.(state);
  const steps: MatchStep[] = [];
  const invalid: [number, number] = [0, 0];
  const retries: [number, number] = [0, 0];
  const finish = (
    endReason: CoreResult["endReason"],
    returns: readonly [number, number],
    extra: { offenders?: readonly Seat[]; transport?: TransportFailure } = {},
  ): CoreResult => ({
    steps,
    state,
    endReason,
    returns,
    offenders: extra.offenders ?? [],
    transport: extra.transport ?? null,
    invalid,
    retries,
  });
  const record = (drafts: readonly StepDraft[], done: boolean, returns: readonly [number, number]): void => recordSteps(steps, drafts, done, returns);

  while (!game.isTerminal(state)) {
    if ((state as { turn: number }).turn >= game.info.maxTurns) return finish("turn-cap", [0, 0]);
    const seats = game.toAct(state);
    const decisions: Decision[] = [];
    if (options.parallel) {
      decisions.push(...(await Promise.all(seats.map((seat) => decide(game, state, seat, options.allowance[seat], ask)))));
    } else {
      for (const seat of seats) decisions.push(await decide(game, state, seat, options.allowance[seat], ask));
    }
    for (const [i, decision] of decisions.entries()) {
      const seat = seats[i] as Seat;
      for (const step of decision.steps) {
        if (!step.valid && step.reply !== null) invalid[seat]++;
      }
      retries[seat] += decision.steps.filter((s) => !s.valid && s.reply !== null).length - (decision.kind === "invalid" ? 1 : 0);
    }

    const failed = decisions.find((d) => d.kind === "failed");
    const offenders = seats.filter((_, i) => decisions[i]?.kind === "invalid");
    const stops = decisions.some((d) => d.kind !== "move");
    if (stops) {
      // The round does not happen: record every reply, then end on the first reason in priority
      // order (a transport failure voids the match; an invalid move loses it; a replay that ran out
      // of actions is merely incomplete).
      let ended: CoreResult;
      if (failed?.kind === "failed") ended = finish("transport", [0, 0], { transport: failed.failure });
      else if (offenders.length > 0) ended = finish("invalid", scoreInvalid(offenders, scoring), { offenders });
      else ended = finish("incomplete", [0, 0]);
      const drafts = decisions.flatMap((d) => d.steps);
      record(drafts, ended.endReason !== "incomplete", ended.returns);
      return ended;
    }
    for (const [i, decision] of decisions.entries()) {
      if (decision.kind !== "move") continue;
      state = game.apply(state, seats[i] as Seat, decision.action);
      options.onState?.(state);
      const done = game.isTerminal(state);
      record(decision.steps, done, done ? game.returns(state) : [0, 0]);
    }
  }
  return finish("terminal", game.returns(state));
}

/** Asks one agent, turning a throw, a malformed reply or a timeout into a transport failure. */
async function askAgent(agent: Agent, seat: Seat, observation: Observation, rng: Rng, timeoutMs: number | undefined): Promise<Answer> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<Answer>((resolve) => {
    if (timeoutMs === undefined) return;
    timer = setTimeout(
      () => resolve({ kind: "failed", failure: { seat, kind: "timeout", message: `${agent.name} did not reply within ${timeoutMs} ms` } }),
      timeoutMs,
    );
  });
  const reply = (async (): Promise<Answer> => {
    try {
      const answer = await agent.act(observation, rng);
      if (answer === null || typeof answer !== "object" || typeof answer.action !== "string") {
        return { kind: "failed", failure: { seat, kind: "error", message: `${agent.name} returned no action text (expected { action: string })` } };
      }
      return { kind: "reply", reply: answer };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      return { kind: "failed", failure: { seat, kind: "error", message: `${agent.name} failed: ${message}` } };
    }
  })();
  try {
    return await Promise.race([reply, timeout]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

function normaliseAllowance(allowance: number | readonly [number, number] | undefined): readonly [number, number] {
  const pair: readonly [number, number] = typeof allowance === "number" ? [allowance, allowance] : (allowance ?? [0, 0]);
  for (const a of pair) {
    if (!(a === Number.POSITIVE_INFINITY || (Number.isInteger(a) && a >= 0))) {
      throw new Error(`errorAllowance must be a non-negative integer or Infinity per seat; got ${String(a)}`);
    }
  }
  return pair;
}

/** Plays one match between two agents and returns its full record. */
export async function playMatch(options: MatchOptions): Promise<MatchRecord> {
  const { game, agents, seed } = options;
  if (!Number.isInteger(seed)) throw new Error(`playMatch needs an integer seed; got ${String(seed)}`);
  if (options.actTimeoutMs !== undefined && !(options.actTimeoutMs > 0)) {
    throw new Error(`actTimeoutMs must be a positive number of milliseconds; got ${String(options.actTimeoutMs)}`);
  }
  const allowance = normaliseAllowance(options.errorAllowance);
  const scoring = options.scoring ?? "evaluation";
  const rng = options.rng ?? createRng(`match-agents:${seed}`);
  // One stream per seat, split up front, so parallel replies of a simultaneous round draw the same
  // numbers whichever agent answers first.
  const seatRngs: readonly [Rng, Rng] = [rng.split(), rng.split()];
  const result = await runCore({ game, seed, allowance, scoring, parallel: true }, (seat, observation) =>
    askAgent(agents[seat], seat, observation, seatRngs[seat], options.actTimeoutMs),
  );
  if (result.endReason === "incomplete") throw new Error("internal: an agent match cannot run out of replies");
  return {
    format: "spiral.match/1",
    gameId: game.info.id,
    params: game.info.params,
    seed,
    agents: [agents[0].name, agents[1].name],
    scoring,
    errorAllowance: [finiteOrNull(allowance[0]), finiteOrNull(allowance[1])],
    steps: result.steps,
    moves: (result.state as { turn: number }).turn,
    invalid: result.invalid,
    retries: result.retries,
    endReason: result.endReason,
    returns: result.returns,
    offenders: result.offenders,
    transport: result.transport,
    finalObservations: [game.observe(result.state, 0), game.observe(result.state, 1)],
  };
}

function finiteOrNull(n: number): number | null {
  return Number.isFinite(n) ? n : null;
}

export interface ReplayOptions {
  /** As in `playMatch`; default 0 (an invalid reply ends the replay). */
  readonly errorAllowance?: number | readonly [number, number];
  readonly scoring?: Scoring;
}

export interface ReplayResult {
  /** One step per reply consumed, with the observation the seat would have been shown. */
  readonly steps: readonly MatchStep[];
  /** `states[0]` is the initial state, then the state after each applied move. */
  readonly states: readonly unknown[];
  /** "incomplete" when the replies ran out before the game ended. */
  readonly endReason: Exclude<EndReason, "transport"> | "incomplete";
  readonly returns: readonly [number, number];
  readonly offenders: readonly Seat[];
  /** Replies consumed; those after the end of the game are ignored. */
  readonly used: number;
}

/**
 * Replays a list of replies from `init(seed)`, scoring exactly as `playMatch` does. Replies are
 * consumed in the order the runner records steps: the seat to act, and for a simultaneous round
 * seat 0's replies (retries included) before seat 1's.
 */
export async function replayActions(game: AnyGame, seed: number, replies: readonly string[], options: ReplayOptions = {}): Promise<ReplayResult> {
  const states: unknown[] = [];
  let used = 0;
  const result = await runCore(
    {
      game,
      seed,
      allowance: normaliseAllowance(options.errorAllowance),
      scoring: options.scoring ?? "evaluation",
      parallel: false,
      onState: (s) => states.push(s),
    },
    async () => {
      const reply = replies[used];
      if (reply === undefined) return { kind: "exhausted" };
      used++;
      return { kind: "reply", reply: { action: reply } };
    },
  );
  if (result.endReason === "transport") throw new Error("replay cannot end in a transport failure");
  return { steps: result.steps, states, endReason: result.endReason, returns: result.returns, offenders: result.offenders, used };
}
