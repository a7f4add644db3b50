/**
 * The conformance check every game is held to (the invariants of `game.ts`), by uniform-random
 * play over many fixed seeds. `conformance.test.ts` runs it over every registered game; a new
 * game's author can run it too.
 *
 * Checked at every state of every game:
 * - the seats to act have non-empty legal actions, unique by `format`, each of which parses back
 *   to the same text and is legal; seats not to act have none; `observe(...).legal` lists them;
 * - junk replies (empty, 100 KB, unicode, nested brackets, several tokens, prototype names) never
 *   make `parse` throw, and an invalid one comes with a reason; an action that parses but is illegal,
 *   or a move played out of turn, is refused by `isLegal` and makes `apply` throw;
 * - each seat's observation (every message, the view and the JSON of its infoState) contains none
 *   of the other seat's `privateInfo` strings (except one that is also its own, as when both seats
 *   hold the same dice);
 * - `apply` never mutates its input (JSON compared, and the input deep-frozen in the first games),
 *   and advances `turn` by exactly one;
 * - non-terminal returns are [0, 0]; terminal returns sum to 0 within [minReturn, maxReturn];
 * - a game ends within `info.maxTurns` moves; two seats are to act only in a simultaneous game;
 * - `init(seed)` twice gives the same state.
 */
import type { AnyGame, GameState, Observation, Seat } from "./game.js";
import { SEATS } from "./game.js";
import { createRng, type Rng } from "../core/rng.js";

export interface ConformanceOptions {
  /** Random games to play (seeds 0..games−1). Default 500. */
  readonly games?: number;
  /** Games whose states are deep-frozen before `apply` (catches in-place mutation at once). Default 50. */
  readonly frozenGames?: number;
  /** Every how many games the junk replies are tried at every state. Default 10. */
  readonly junkEvery?: number;
  /** Stop collecting after this many failures. Default 10. */
  readonly maxFailures?: number;
}

export interface ConformanceReport {
  readonly gameId: string;
  readonly games: number;
  /** Moves applied over all games. */
  readonly moves: number;
  /** Decision points checked (one per seat to act per state). */
  readonly decisions: number;
  readonly maxMoves: number;
  /** Distinct terminal returns seen, as "r0,r1" → count. */
  readonly outcomes: Readonly<Record<string, number>>;
  /** Human-readable violations, empty when the game conforms. */
  readonly failures: readonly string[];
}

/** Replies no game should choke on. The huge ones are built once. */
export function junkReplies(rng: Rng): readonly string[] {
  const printable = Array.from({ length: 100_000 }, () => String.fromCharCode(32 + rng.int(95))).join("");
  return [
    "",
    " ",
    "\n\t",
    "[",
    "]",
    "[]",
    "[ ]",
    "[[[[]]]]",
    "[[1]]",
    "[".repeat(50_000),
    "]".repeat(50_000),
    "a".repeat(100_000),
    printable,
    `[${"9".repeat(1000)}]`,
    "[-1]",
    "[NaN]",
    "[Infinity]",
    "[1e309]",
    "[0x10]",
    "[1.5]",
    "[１]",
    "🎲🎲 [🂡] ∑",
    "\u0000[0]\u0000",
    "\uD800[\uDFFF]",
    "[Offer: 999999999999999999999 Wood -> -3 Gold]",
    "[Offer: -> ]",
    "[Offer: 3 Wood, 3 Wood -> 2 Gold]",
    "[Offer: 0 Wood -> 0 Gold]",
    "[Bid: 0, 0]",
    "[Bid: 99999999999999999999, 7]",
    "[Bid: 3]",
    "[col 99]",
    "[col -1]",
    "[pile 0 0]",
    "[0 999]",
    "[check] [bet] [call] [fold]",
    "[Accept] [Deny]",
    "[roll][hold]",
    "[up] [down] [left] [right]",
    "<think>[1]</think>",
    "\\boxed{[4]}",
    "__proto__",
    "[__proto__]",
    "[constructor]",
    "[toString]",
    "[hasOwnProperty]",
    "{}",
    "null",
    "undefined",
  ];
}

/** The text a seat is shown, everything included, for the privacy check. */
function observationHaystack(observation: Observation): string {
  return [...observation.log.map((m) => m.text), observation.view, JSON.stringify(observation.infoState) ?? ""].join("\n");
}

function deepFreeze(value: unknown): void {
  if (value === null || typeof value !== "object" || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
}

function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Plays `games` uniform-random games of `game` and reports every violated invariant. */
export function checkConformance(game: AnyGame, options: ConformanceOptions = {}): ConformanceReport {
  const games = options.games ?? 500;
  const frozenGames = options.frozenGames ?? 50;
  const junkEvery = options.junkEvery ?? 10;
  const maxFailures = options.maxFailures ?? 10;
  const { info } = game;
  const failures: string[] = [];
  const fail = (message: string): void => {
    if (failures.length < maxFailures) failures.push(`${info.id}: ${message}`);
  };
  const outcomes: Record<string, number> = {};
  const counts = { moves: 0, decisions: 0 };
  let maxMoves = 0;

  if (info.seats !== 2) fail(`info.seats is ${String(info.seats)}, expected 2`);
  if (!Number.isInteger(info.maxTurns) || info.maxTurns < 1) fail(`info.maxTurns must be a positive integer; got ${info.maxTurns}`);
  if (!(info.minReturn <= info.maxReturn)) fail(`info.minReturn ${info.minReturn} > info.maxReturn ${info.maxReturn}`);

  const junk = junkReplies(createRng(`conformance-junk:${info.id}`));

  for (let seed = 0; seed < games && failures.length < maxFailures; seed++) {
    const rng = createRng(`conformance:${info.id}:${seed}`);
    let state = game.init(seed);
    if (JSON.stringify(game.init(seed)) !== JSON.stringify(state)) fail(`init(${seed}) is not deterministic`);
    for (const seat of SEATS) {
      const first = game.observe(state, seat).log[0];
      if (first?.kind !== "rules") fail(`seed ${seed}: the first message of Player ${seat}'s log is ${first?.kind ?? "missing"}, expected rules`);
    }
    const play: PlayCheck = { game, seed, fail, rng, tryJunk: seed % junkEvery === 0, junk, freeze: seed < frozenGames, counts };

    for (;;) {
      const where = `seed ${seed}, move ${state.turn}`;
      checkObservations(game, state, where, fail);
      if (game.isTerminal(state)) break;
      if (state.turn >= info.maxTurns) {
        fail(`${where}: not over after info.maxTurns = ${info.maxTurns} moves`);
        break;
      }
      const ret = game.returns(state);
      if (ret[0] !== 0 || ret[1] !== 0) fail(`${where}: non-terminal returns ${JSON.stringify(ret)}, expected [0,0]`);
      const seats = game.toAct(state);
      if (seats.length === 0) {
        fail(`${where}: not terminal but no seat is to act`);
        break;
      }
      if (seats.length > 1 && !info.simultaneous) fail(`${where}: two seats to act in a game whose info.simultaneous is false`);
      checkIdleSeats(play, state, seats, where);
      const chosen = chooseRound(play, state, seats, where);
      if (chosen.length !== seats.length) break;
      const round = applyRound(play, state, chosen);
      state = round.state;
      if (round.broken || failures.length >= maxFailures) break;
    }
    maxMoves = Math.max(maxMoves, state.turn);
    if (game.isTerminal(state)) checkTerminal(game, state, seed, fail, outcomes);
  }
  return { gameId: info.id, games, moves: counts.moves, decisions: counts.decisions, maxMoves, outcomes, failures };
}

/** One game of `checkConformance`: what its checks share. */
interface PlayCheck {
  readonly game: AnyGame;
  readonly seed: number;
  readonly fail: (message: string) => void;
  /** Draws the uniform-random moves. */
  readonly rng: Rng;
  /** Whether this game tries junk replies and out-of-turn moves (one game in `junkEvery`). */
  readonly tryJunk: boolean;
  readonly junk: readonly string[];
  /** Freeze each state before `apply`, so a mutation throws. */
  readonly freeze: boolean;
  readonly counts: { moves: number; decisions: number };
}

/** Seats not to act have no legal actions and (in junk games) cannot play the acting seat's move. */
function checkIdleSeats(play: PlayCheck, state: GameState, seats: readonly Seat[], where: string): void {
  const { game, fail } = play;
  for (const seat of SEATS) {
    if (seats.includes(seat)) continue;
    const theirs = game.legalActions(state, seat);
    if (theirs.length > 0) fail(`${where}: Player ${seat} is not to act but has legal actions`);
    // Out of turn, even a move that is legal for the seat to act must be refused.
    const actor = seats[0] as Seat;
    const move = game.legalActions(state, actor)[0];
    if (play.tryJunk && move !== undefined) {
      if (game.isLegal(state, seat, move)) fail(`${where}: isLegal accepts ${game.format(move)} from Player ${seat}, who is not to act`);
      else checkApplyRefuses(game, state, seat, move, `Player ${seat} out of turn`, where, fail);
    }
  }
}

/** Every acting seat's move, chosen from the same pre-round state, after checking its decision. */
function chooseRound(play: PlayCheck, state: GameState, seats: readonly Seat[], where: string): { seat: Seat; action: unknown; text: string }[] {
  const { game, fail } = play;
  const chosen: { seat: Seat; action: unknown; text: string }[] = [];
  for (const seat of seats) {
    play.counts.decisions++;
    const legal = game.legalActions(state, seat);
    if (legal.length === 0) {
      fail(`${where}: Player ${seat} is to act but has no legal actions`);
      continue;
    }
    const texts = legal.map((a) => game.format(a));
    if (new Set(texts).size !== texts.length) fail(`${where}: duplicate legal actions for Player ${seat}`);
    const shown = game.observe(state, seat).legal;
    if (JSON.stringify(shown) !== JSON.stringify(texts)) fail(`${where}: observe().legal differs from legalActions for Player ${seat}`);
    for (const text of texts) checkRoundTrip(game, state, seat, text, where, fail);
    if (play.tryJunk) for (const reply of play.junk) checkJunk(game, state, seat, reply, where, fail);
    const index = play.rng.int(legal.length);
    chosen.push({ seat, action: legal[index], text: texts[index] as string });
  }
  return chosen;
}

/** Applies the chosen moves in seat order, checking that `apply` is pure and counts the move. */
function applyRound(play: PlayCheck, start: GameState, chosen: readonly { seat: Seat; action: unknown; text: string }[]): { state: GameState; broken: boolean } {
  const { game, fail } = play;
  let state = start;
  for (const { seat, action, text } of chosen) {
    const where = `seed ${play.seed}, move ${state.turn}`;
    if (!game.isLegal(state, seat, action)) {
      fail(`${where}: Player ${seat}'s ${text}, legal at the start of the round, is illegal after the other seat's move`);
      return { state, broken: true };
    }
    const before = JSON.stringify(state);
    if (play.freeze) deepFreeze(state);
    let next: GameState;
    try {
      next = game.apply(state, seat, action);
    } catch (err) {
      fail(`${where}: apply(${text}) threw: ${describeError(err)}`);
      return { state, broken: true };
    }
    if (JSON.stringify(state) !== before) fail(`${where}: apply(${text}) mutated its input state`);
    if (next.turn !== state.turn + 1) fail(`${where}: apply advanced turn from ${state.turn} to ${next.turn}, expected +1`);
    state = next;
    play.counts.moves++;
    if (game.isTerminal(state)) break;
    // Mid-round of a simultaneous game: the first seat's buffered move must stay hidden.
    if (chosen.length > 1) checkObservations(game, state, `seed ${play.seed}, move ${state.turn} (mid-round)`, fail);
  }
  return { state, broken: false };
}

/** A terminal state: nobody to act, zero-sum returns within the declared bounds; tallies the outcome. */
function checkTerminal(game: AnyGame, state: GameState, seed: number, fail: (m: string) => void, outcomes: Record<string, number>): void {
  const { info } = game;
  if (game.toAct(state).length !== 0) fail(`seed ${seed}: terminal state with seats to act`);
  for (const seat of SEATS) {
    if (game.legalActions(state, seat).length > 0 || game.observe(state, seat).legal.length > 0) fail(`seed ${seed}: Player ${seat} has legal actions at the terminal state`);
  }
  const [r0, r1] = game.returns(state);
  if (info.zeroSum !== false && Math.abs(r0 + r1) > 1e-9) fail(`seed ${seed}: terminal returns ${r0}, ${r1} do not sum to 0`);
  for (const r of [r0, r1]) {
    if (!(r >= info.minReturn && r <= info.maxReturn)) fail(`seed ${seed}: return ${r} outside [${info.minReturn}, ${info.maxReturn}]`);
  }
  const key = `${r0},${r1}`;
  outcomes[key] = (outcomes[key] ?? 0) + 1;
}

/** Both seats' observations: well-formed, and free of the other seat's private strings. */
function checkObservations(game: AnyGame, state: { turn: number }, where: string, fail: (m: string) => void): void {
  for (const seat of SEATS) {
    let observation: Observation;
    try {
      observation = game.observe(state, seat);
    } catch (err) {
      fail(`${where}: observe(Player ${seat}) threw: ${describeError(err)}`);
      continue;
    }
    if (observation.seat !== seat || observation.turn !== state.turn) fail(`${where}: observation of Player ${seat} has seat ${observation.seat} and turn ${observation.turn}`);
    if (typeof observation.view !== "string" || observation.view.length === 0) fail(`${where}: empty view for Player ${seat}`);
    const other: Seat = seat === 0 ? 1 : 0;
    const secrets = game.privateInfo(state, other);
    if (secrets.length === 0) continue;
    const haystack = observationHaystack(observation);
    // A string that is also this seat's own secret (both dealt the same dice) proves nothing.
    const own = new Set(game.privateInfo(state, seat));
    for (const secret of secrets) {
      if (secret.length === 0) fail(`${where}: privateInfo(Player ${other}) contains an empty string`);
      else if (!own.has(secret) && haystack.includes(secret)) fail(`${where}: Player ${seat}'s observation reveals Player ${other}'s private "${secret}"`);
    }
  }
}

function checkRoundTrip(game: AnyGame, state: unknown, seat: Seat, text: string, where: string, fail: (m: string) => void): void {
  let parsed;
  try {
    parsed = game.parse(state, seat, text);
  } catch (err) {
    fail(`${where}: parse(${JSON.stringify(text)}) threw: ${describeError(err)}`);
    return;
  }
  if (!parsed.ok) fail(`${where}: legal action ${text} does not parse for Player ${seat}: ${parsed.reason}`);
  else if (game.format(parsed.action) !== text) fail(`${where}: ${text} parses back as ${game.format(parsed.action)}`);
  else if (!game.isLegal(state, seat, parsed.action)) fail(`${where}: ${text} parses but isLegal says no`);
}

/** `apply` must throw for an illegal action rather than return a state (contract item 3). */
function checkApplyRefuses(game: AnyGame, state: unknown, seat: Seat, action: unknown, what: string, where: string, fail: (m: string) => void): void {
  const before = JSON.stringify(state);
  let threw = false;
  try {
    game.apply(state, seat, action);
  } catch {
    threw = true;
  }
  if (!threw) fail(`${where}: apply accepted the illegal action from ${what}`);
  if (JSON.stringify(state) !== before) fail(`${where}: apply mutated its input while refusing ${what}`);
}

function checkJunk(game: AnyGame, state: unknown, seat: Seat, reply: string, where: string, fail: (m: string) => void): void {
  const shown = reply.length > 40 ? `${JSON.stringify(reply.slice(0, 40))}… (${reply.length} chars)` : JSON.stringify(reply);
  try {
    const parsed = game.parse(state, seat, reply);
    if (parsed.ok) {
      if (typeof game.format(parsed.action) !== "string") fail(`${where}: parse(${shown}) gave an action that does not format`);
      if (!game.isLegal(state, seat, parsed.action)) checkApplyRefuses(game, state, seat, parsed.action, `parse(${shown})`, where, fail);
    } else if (typeof parsed.reason !== "string" || parsed.reason.trim() === "") {
      fail(`${where}: parse(${shown}) is invalid without a reason`);
    }
  } catch (err) {
    fail(`${where}: parse or isLegal on ${shown} threw: ${describeError(err)}`);
  }
}
