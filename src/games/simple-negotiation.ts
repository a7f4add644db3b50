/**
 * SimpleNegotiation-v1: two players trade Wood and Gold for 10 actions (alternating, Player 0
 * first). Both start with 10 of each; Player 0 values Wood 5 and Gold 15, Player 1 Wood 15 and
 * Gold 5, so both start at 200. Each player is told only its own values (private information).
 *
 * A reply is free text with at most one action token:
 *   [Offer: 3 Wood -> 2 Gold]   the proposer gives the left side, receives the right side
 *                                (several items: "3 Wood, 2 Gold -> 5 Gold"; "," "and" "+" "&" join)
 *   [Accept] / [Deny]           answer the offer addressed to you
 * Tokens are case-insensitive and tolerate whitespace. A reply with no token is a message-only
 * move: the turn passes and the text is delivered. The whole reply (token in canonical form, text
 * capped at MESSAGE_CAP characters) is delivered to the opponent as the action message.
 *
 * An offer stays open until its recipient accepts, denies or counters (a counter denies it); the
 * proposer may replace its own open offer. Accepting checks that both sides can still pay: an
 * acceptor who cannot pay makes an invalid move; a proposer who cannot pay cancels the trade
 * without penalty (a notice). Invalid: offering what you do not have, a malformed token, more than
 * one token, accepting or denying with no offer addressed to you, an empty reply.
 *
 * Outcome: the player whose inventory value (by its own values) rose more wins (+1/−1); equal
 * change draws. `legalActions` (for constrained decoding) lists moves only: [Accept]/[Deny] when
 * an offer is open to this seat, plus every single-resource offer [Offer: a R -> b S] with
 * a, b in 1..10, R ≠ S and a ≤ the proposer's stock. Message-only moves are valid but not listed.
 */
import type { Game, GameState, Message, Observation, ParseResult, Seat } from "./game.js";
import { otherSeat, outcomeReturns } from "./game.js";
import { createRng } from "./rng.js";

export type Resource = "Wood" | "Gold";
export const RESOURCES: readonly Resource[] = ["Wood", "Gold"];

/** Amounts of each resource (an inventory, or one side of an offer). */
export type Bundle = Readonly<Record<Resource, number>>;

export interface Offer {
  readonly from: Seat;
  /** What the proposer gives. */
  readonly give: Bundle;
  /** What the proposer receives. */
  readonly receive: Bundle;
}

export type NegotiationAction =
  | { readonly kind: "offer"; readonly give: Bundle; readonly receive: Bundle; readonly text: string }
  | { readonly kind: "accept"; readonly text: string }
  | { readonly kind: "deny"; readonly text: string }
  | { readonly kind: "message"; readonly text: string };

/** One applied move, as both seats were told it. */
interface NegotiationEvent {
  readonly seat: Seat;
  /** The delivered reply (token in canonical form). */
  readonly text: string;
  /** What the game master announced after it (trade done, offer denied …), if anything. */
  readonly notice: string | null;
}

export interface NegotiationState extends GameState {
  readonly inventories: readonly [Bundle, Bundle];
  readonly offer: Offer | null;
  readonly events: readonly NegotiationEvent[];
}

/** What one seat knows: both inventories (trades are public), its own values, the open offer. */
export interface NegotiationInfoState {
  readonly seat: Seat;
  readonly turn: number;
  readonly maxTurns: number;
  /** Moves left in the game (both seats). */
  readonly turnsLeft: number;
  readonly toMove: Seat | null;
  readonly inventory: Bundle;
  readonly opponentInventory: Bundle;
  /** Own values per unit (the opponent's are private). */
  readonly values: Bundle;
  readonly startValue: number;
  readonly value: number;
  readonly offer: Offer | null;
}

export const NEGOTIATION_MAX_TURNS = 10;
export const START_INVENTORY: Bundle = { Wood: 10, Gold: 10 };
export const NEGOTIATION_VALUES: readonly [Bundle, Bundle] = [
  { Wood: 5, Gold: 15 },
  { Wood: 15, Gold: 5 },
];
/** Delivered free text is capped (the token always survives): longer text is cut with "…". */
export const MESSAGE_CAP = 1000;
/** The largest amount on one side of a canonical offer. */
const MAX_OFFER_UNITS = 10;

export function bundleValue(bundle: Bundle, values: Bundle): number {
  return bundle.Wood * values.Wood + bundle.Gold * values.Gold;
}

function covers(inventory: Bundle, cost: Bundle): boolean {
  return inventory.Wood >= cost.Wood && inventory.Gold >= cost.Gold;
}

function plus(a: Bundle, b: Bundle): Bundle {
  return { Wood: a.Wood + b.Wood, Gold: a.Gold + b.Gold };
}

function minus(a: Bundle, b: Bundle): Bundle {
  return { Wood: a.Wood - b.Wood, Gold: a.Gold - b.Gold };
}

/** "3 Wood, 2 Gold" (resources in fixed order, zero amounts left out). */
export function formatBundle(bundle: Bundle): string {
  return RESOURCES.filter((r) => bundle[r] > 0).map((r) => `${bundle[r]} ${r}`).join(", ");
}

export function formatOffer(give: Bundle, receive: Bundle): string {
  return `[Offer: ${formatBundle(give)} -> ${formatBundle(receive)}]`;
}

function isOver(state: NegotiationState): boolean {
  return state.turn >= NEGOTIATION_MAX_TURNS;
}

function mover(state: NegotiationState): Seat {
  return state.turn % 2 === 0 ? 0 : 1;
}

function openTo(state: NegotiationState, seat: Seat): Offer | null {
  return state.offer !== null && state.offer.from !== seat ? state.offer : null;
}

// ---------------------------------------------------------------------------------------------
// Parsing

const OPENER = /\[\s*(offer|accept|deny)/gi;
const ITEM = /^(\d+)\s*(wood|gold)s?$/i;

function capText(text: string): string {
  return text.length > MESSAGE_CAP ? text.slice(0, MESSAGE_CAP) + "…" : text;
}

/** One side of an offer, e.g. "3 Wood, 2 Gold"; a reason string when malformed. */
function parseBundle(side: string, which: string): Bundle | string {
  // Split on the separators only and trim afterwards: no regex here may scan a whitespace run
  // more than once (a reply can hold 100 KB of spaces).
  const items = side.split(/,|\band\b|\+|&/i).map((s) => s.trim()).filter((s) => s.length > 0);
  if (items.length === 0) return `the ${which} side of the offer is empty`;
  const total = { Wood: 0, Gold: 0 };
  for (const item of items) {
    const m = ITEM.exec(item);
    if (m === null) {
      const shown = item.length > 40 ? item.slice(0, 40) + "…" : item;
      return `"${shown}" is not an amount of a resource (write e.g. "3 Wood" or "2 Gold")`;
    }
    const digits = m[1] as string;
    const amount = digits.length > 6 ? Number.POSITIVE_INFINITY : Number(digits);
    if (amount < 1) return `amounts must be at least 1 (got "${item}")`;
    if (!Number.isFinite(amount)) return `the amount ${digits.slice(0, 12)}… is far more than exists`;
    const resource: Resource = (m[2] as string).toLowerCase() === "wood" ? "Wood" : "Gold";
    total[resource] += amount;
  }
  return total;
}

/**
 * "Offer: 3 Wood -> 2 Gold" → ["3 Wood", "2 Gold"], split at the first arrow ("->" or "→"); null
 * without one. Done by index, not by one regex: a lazy group before an optional-whitespace arrow
 * backtracks cubically on long whitespace runs (a 4,000-space reply took a minute).
 */
function offerSides(content: string): [string, string] | null {
  const rest = content.slice("offer".length).replace(/^\s*:?/, "");
  const ascii = rest.indexOf("->");
  const unicode = rest.indexOf("→");
  const at = ascii < 0 ? unicode : unicode < 0 ? ascii : Math.min(ascii, unicode);
  if (at < 0) return null;
  const width = at === ascii ? 2 : 1;
  return [rest.slice(0, at), rest.slice(at + width)];
}

const SYNTAX = "[Offer: 3 Wood -> 2 Gold], [Accept] or [Deny]";

/** Reads a reply's single action token (or none), without checking it against the state. */
function readReply(text: string): ParseResult<NegotiationAction> {
  const trimmed = text.trim();
  if (trimmed.length === 0) {
    return { ok: false, reason: `Empty reply: write a message, optionally with one action: ${SYNTAX}.` };
  }
  const openers = [...trimmed.matchAll(OPENER)].slice(0, 2);
  if (openers.length === 0) return { ok: true, action: { kind: "message", text: capText(trimmed) } };
  if (openers.length > 1) {
    return { ok: false, reason: `More than one action token: a reply may contain at most one of ${SYNTAX}.` };
  }
  const opener = openers[0] as RegExpExecArray;
  const start = opener.index;
  const close = trimmed.indexOf("]", start);
  const nested = trimmed.indexOf("[", start + 1);
  if (close < 0 || (nested >= 0 && nested < close)) {
    return { ok: false, reason: `Malformed action token: close it with "]" and do not nest brackets, e.g. ${SYNTAX}.` };
  }
  const content = trimmed.slice(start + 1, close).trim();
  const kind = (opener[1] as string).toLowerCase();
  let action: NegotiationAction;
  const around = (token: string): string =>
    capText(trimmed.slice(0, start).trimEnd()) + (start > 0 ? " " : "") + token +
    (close + 1 < trimmed.length ? " " + capText(trimmed.slice(close + 1).trimStart()) : "");
  if (kind === "offer") {
    const sides = offerSides(content);
    if (sides === null) {
      return { ok: false, reason: 'Malformed offer: write "[Offer: <what you give> -> <what you receive>]", e.g. [Offer: 3 Wood -> 2 Gold].' };
    }
    const give = parseBundle(sides[0], "give");
    if (typeof give === "string") return { ok: false, reason: `Malformed offer: ${give}.` };
    const receive = parseBundle(sides[1], "receive");
    if (typeof receive === "string") return { ok: false, reason: `Malformed offer: ${receive}.` };
    action = { kind: "offer", give, receive, text: around(formatOffer(give, receive)) };
  } else if (/^(accept|deny)$/i.test(content)) {
    action = kind === "accept" ? { kind: "accept", text: around("[Accept]") } : { kind: "deny", text: around("[Deny]") };
  } else {
    const shown = content.length > 40 ? content.slice(0, 40) + "…" : content;
    return { ok: false, reason: `Unknown action "[${shown}]": write exactly [Accept] or [Deny], or an offer like [Offer: 3 Wood -> 2 Gold].` };
  }
  return { ok: true, action };
}

/** Why `seat` may not play `action` now, or null when it may. */
function illegalReason(state: NegotiationState, seat: Seat, action: NegotiationAction): string | null {
  if (isOver(state)) return "The game is over.";
  if (mover(state) !== seat) return `It is Player ${mover(state)}'s turn, not yours.`;
  const inventory = state.inventories[seat];
  switch (action.kind) {
    case "message":
      return null;
    case "offer": {
      const amounts = [action.give.Wood, action.give.Gold, action.receive.Wood, action.receive.Gold];
      if (amounts.some((n) => !Number.isInteger(n) || n < 0)) return "Offer amounts must be whole numbers.";
      if (action.give.Wood + action.give.Gold === 0 || action.receive.Wood + action.receive.Gold === 0) {
        return "An offer must give something and ask for something.";
      }
      if (!covers(inventory, action.give)) {
        return `You cannot offer ${formatBundle(action.give)}: you have ${formatBundle(inventory) || "nothing"}.`;
      }
      return null;
    }
    case "accept": {
      const offer = openTo(state, seat);
      if (offer === null) return "There is no offer addressed to you to accept.";
      if (!covers(inventory, offer.receive)) {
        return `You cannot pay ${formatBundle(offer.receive)} with ${formatBundle(inventory) || "nothing"}: [Deny] or make another offer.`;
      }
      return null;
    }
    case "deny":
      return openTo(state, seat) === null ? "There is no offer addressed to you to deny." : null;
  }
}

// ---------------------------------------------------------------------------------------------
// Text

function valuesLine(values: Bundle): string {
  return `values per unit: Wood ${values.Wood}, Gold ${values.Gold}`;
}

function worthSentence(values: Bundle): string {
  return `each Wood is worth ${values.Wood} and each Gold is worth ${values.Gold}`;
}

function rulesText(seat: Seat): string {
  const opp = otherSeat(seat);
  const values = NEGOTIATION_VALUES[seat];
  return [
    `You are Player ${seat} in Simple Negotiation against Player ${opp}. There are two resources, Wood and Gold, and both players start with 10 Wood and 10 Gold.`,
    `To you, ${worthSentence(values)}, so your starting inventory is worth ${bundleValue(START_INVENTORY, values)}. Player ${opp} has its own values, which you are not told.`,
    `The game lasts ${NEGOTIATION_MAX_TURNS} actions in total, alternating, Player 0 first (${NEGOTIATION_MAX_TURNS / 2} each).`,
    "On your turn, write a message to the other player; it may contain at most one action in square brackets:",
    "  [Offer: 3 Wood -> 2 Gold] proposes that you give 3 Wood and receive 2 Gold (several items: [Offer: 3 Wood, 1 Gold -> 5 Gold]).",
    "  [Accept] accepts the offer the other player made to you; [Deny] rejects it. Making your own offer instead also rejects it.",
    "An offer stays open until the other player accepts, denies or counters it. A message with no action just passes the turn.",
    "Offering what you do not have, a malformed action, more than one action, or accepting or denying when no offer is open to you, is an invalid move.",
    "At the end, the player whose inventory value (by their own values) rose more wins; equal gains draw.",
    "Example: I need Gold more than Wood. [Offer: 3 Wood -> 2 Gold]",
  ].join("\n");
}

function offerSentence(offer: Offer, seat: Seat): string {
  if (offer.from === seat) {
    return `Your open offer to Player ${otherSeat(seat)}: you give ${formatBundle(offer.give)} and receive ${formatBundle(offer.receive)}.`;
  }
  return `Open offer from Player ${offer.from}: you would receive ${formatBundle(offer.give)} and give ${formatBundle(offer.receive)}. You may [Accept], [Deny] or counter with your own offer.`;
}

function outcomeText(state: NegotiationState, seat: Seat): string {
  const opp = otherSeat(seat);
  const gain = (s: Seat): number =>
    bundleValue(state.inventories[s], NEGOTIATION_VALUES[s]) - bundleValue(START_INVENTORY, NEGOTIATION_VALUES[s]);
  const mine = gain(seat);
  const theirs = gain(opp);
  const verdict = mine === theirs ? "It is a draw." : mine > theirs ? "You win." : "You lose.";
  const signed = (n: number): string => (n > 0 ? `+${n}` : String(n));
  return `Game over. Your inventory value changed by ${signed(mine)}; Player ${opp}'s changed by ${signed(theirs)} (by its own values). ${verdict}`;
}

function viewText(state: NegotiationState, seat: Seat): string {
  const opp = otherSeat(seat);
  const values = NEGOTIATION_VALUES[seat];
  const mine = state.inventories[seat];
  const lines = [
    `Simple Negotiation. You are Player ${seat}. Your ${valuesLine(values)} (Player ${opp}'s values are private).`,
    `Your inventory: ${mine.Wood} Wood, ${mine.Gold} Gold (worth ${bundleValue(mine, values)} to you; you started at ${bundleValue(START_INVENTORY, values)}).`,
    `Player ${opp}'s inventory: ${state.inventories[opp].Wood} Wood, ${state.inventories[opp].Gold} Gold.`,
  ];
  if (isOver(state)) {
    lines.push(outcomeText(state, seat));
    return lines.join("\n");
  }
  lines.push(`Actions left: ${NEGOTIATION_MAX_TURNS - state.turn} of ${NEGOTIATION_MAX_TURNS}.`);
  lines.push(state.offer === null ? "No offer is open." : offerSentence(state.offer, seat));
  if (mover(state) === seat) {
    const answer = openTo(state, seat) !== null ? "[Accept], [Deny], " : "";
    lines.push(`Your move: a message with at most one action: ${answer}[Offer: <give> -> <receive>] (e.g. [Offer: 3 Wood -> 2 Gold]).`);
  } else {
    lines.push(`Waiting for Player ${opp}.`);
  }
  return lines.join("\n");
}

function messageLog(state: NegotiationState, seat: Seat): Message[] {
  const log: Message[] = [{ kind: "rules", text: rulesText(seat) }];
  for (const event of state.events) {
    log.push({ kind: "action", seat: event.seat, text: event.text });
    if (event.notice !== null) log.push({ kind: "notice", text: event.notice });
  }
  if (isOver(state)) log.push({ kind: "notice", text: outcomeText(state, seat) });
  log.push({ kind: "state", text: viewText(state, seat) });
  return log;
}

// ---------------------------------------------------------------------------------------------
// The game

/** Every canonical single-resource offer, built once (shared, frozen). */
const ALL_OFFERS: readonly NegotiationAction[] = (() => {
  const out: NegotiationAction[] = [];
  for (const give of RESOURCES) {
    for (const get of RESOURCES) {
      if (give === get) continue;
      for (let a = 1; a <= MAX_OFFER_UNITS; a++) {
        for (let b = 1; b <= MAX_OFFER_UNITS; b++) {
          const giveBundle = Object.freeze({ Wood: give === "Wood" ? a : 0, Gold: give === "Gold" ? a : 0 });
          const receiveBundle = Object.freeze({ Wood: get === "Wood" ? b : 0, Gold: get === "Gold" ? b : 0 });
          out.push(Object.freeze({ kind: "offer", give: giveBundle, receive: receiveBundle, text: formatOffer(giveBundle, receiveBundle) }));
        }
      }
    }
  }
  return out;
})();

const CANONICAL_OFFERS: ReadonlySet<NegotiationAction> = new Set(ALL_OFFERS);

/** Canonical offer text → action: the fast path of `parse` for constrained-decoding replies. */
const OFFER_BY_TEXT: ReadonlyMap<string, NegotiationAction> = new Map(ALL_OFFERS.map((a) => [a.text, a]));

/** The canonical offers a seat holding `inventory` can pay for, memoised by inventory (≤ 441 of them). */
const offersByInventory = new Map<string, readonly NegotiationAction[]>();
function canonicalOffers(inventory: Bundle): readonly NegotiationAction[] {
  const key = `${inventory.Wood},${inventory.Gold}`;
  let offers = offersByInventory.get(key);
  if (offers === undefined) {
    offers = ALL_OFFERS.filter((a) => a.kind === "offer" && covers(inventory, a.give));
    offersByInventory.set(key, offers);
  }
  return offers;
}

function legalMoves(state: NegotiationState, seat: Seat): NegotiationAction[] {
  if (isOver(state) || mover(state) !== seat) return [];
  const moves: NegotiationAction[] = [];
  const accept: NegotiationAction = { kind: "accept", text: "[Accept]" };
  if (openTo(state, seat) !== null) {
    if (illegalReason(state, seat, accept) === null) moves.push(accept);
    moves.push({ kind: "deny", text: "[Deny]" });
  }
  return [...moves, ...canonicalOffers(state.inventories[seat])];
}

function formatAction(action: NegotiationAction): string {
  switch (action.kind) {
    case "offer":
      // The shared canonical offers carry their canonical text already.
      return CANONICAL_OFFERS.has(action) ? action.text : formatOffer(action.give, action.receive);
    case "accept":
      return "[Accept]";
    case "deny":
      return "[Deny]";
    case "message":
      return action.text;
  }
}

/** The state after a legal move: the delivered event, any trade, the offer left open. */
function applyMove(state: NegotiationState, seat: Seat, action: NegotiationAction): NegotiationState {
  const opp = otherSeat(seat);
  let inventories = state.inventories;
  let offer = state.offer;
  let notice: string | null = null;
  switch (action.kind) {
    case "message":
      break;
    case "offer": {
      const countered = openTo(state, seat);
      notice = countered !== null
        ? `Player ${seat} counters: the open offer from Player ${opp} is denied and a new offer is open.`
        : state.offer !== null
          ? `Player ${seat} replaces its open offer.`
          : null;
      offer = { from: seat, give: action.give, receive: action.receive };
      break;
    }
    case "accept": {
      const open = openTo(state, seat) as Offer;
      const proposer = open.from;
      if (!covers(state.inventories[proposer], open.give)) {
        notice = `Player ${proposer} can no longer pay ${formatBundle(open.give)}: the trade is cancelled (no penalty).`;
      } else {
        const next: [Bundle, Bundle] = [state.inventories[0], state.inventories[1]];
        next[proposer] = plus(minus(next[proposer], open.give), open.receive);
        next[seat] = plus(minus(next[seat], open.receive), open.give);
        inventories = next;
        notice = `Trade done: Player ${proposer} gave ${formatBundle(open.give)} to Player ${seat} for ${formatBundle(open.receive)}.`;
      }
      offer = null;
      break;
    }
    case "deny":
      notice = `Player ${seat} denies the offer from Player ${opp}.`;
      offer = null;
      break;
  }
  const turn = state.turn + 1;
  if (turn >= NEGOTIATION_MAX_TURNS && offer !== null) {
    notice = (notice === null ? "" : notice + " ") + "The game has ended, so the open offer lapses.";
    offer = null;
  }
  return {
    rng: state.rng,
    turn,
    inventories,
    offer,
    events: [...state.events, { seat, text: action.text, notice }],
  };
}

export const simpleNegotiation: Game<NegotiationState, NegotiationAction> = {
  info: {
    id: "SimpleNegotiation-v1",
    name: "Simple Negotiation",
    summary: "Trade Wood and Gold with private values over 10 alternating actions; the larger value gain wins.",
    params: { maxTurns: NEGOTIATION_MAX_TURNS },
    seats: 2,
    maxTurns: NEGOTIATION_MAX_TURNS,
    minReturn: -1,
    maxReturn: 1,
    information: "imperfect",
    actionSpace: "free-text",
    simultaneous: false,
  },

  init(seed) {
    // No chance events; the RNG is carried only to honour the common state shape.
    return { rng: createRng(seed).state(), turn: 0, inventories: [START_INVENTORY, START_INVENTORY], offer: null, events: [] };
  },

  toAct(state) {
    return isOver(state) ? [] : [mover(state)];
  },

  legalActions: legalMoves,

  isLegal(state, seat, action) {
    return illegalReason(state, seat, action) === null;
  },

  parse(state, seat, text): ParseResult<NegotiationAction> {
    if (typeof text !== "string") return { ok: false, reason: `Expected a text reply, optionally with one action: ${SYNTAX}.` };
    const read: ParseResult<NegotiationAction> = OFFER_BY_TEXT.has(text)
      ? { ok: true, action: OFFER_BY_TEXT.get(text) as NegotiationAction }
      : readReply(text);
    if (!read.ok) return read;
    const reason = illegalReason(state, seat, read.action);
    return reason === null ? read : { ok: false, reason };
  },

  format: formatAction,

  apply(state, seat, action) {
    const reason = illegalReason(state, seat, action);
    if (reason !== null) throw new Error(`SimpleNegotiation: Player ${seat} cannot play ${formatAction(action).slice(0, 80)}: ${reason}`);
    return applyMove(state, seat, action);
  },

  isTerminal: isOver,

  returns(state) {
    if (!isOver(state)) return [0, 0];
    const gain = (s: Seat): number =>
      bundleValue(state.inventories[s], NEGOTIATION_VALUES[s]) - bundleValue(START_INVENTORY, NEGOTIATION_VALUES[s]);
    return outcomeReturns(gain(0) - gain(1));
  },

  observe(state, seat): Observation {
    const values = NEGOTIATION_VALUES[seat];
    const infoState: NegotiationInfoState = {
      seat,
      turn: state.turn,
      maxTurns: NEGOTIATION_MAX_TURNS,
      turnsLeft: NEGOTIATION_MAX_TURNS - state.turn,
      toMove: isOver(state) ? null : mover(state),
      inventory: state.inventories[seat],
      opponentInventory: state.inventories[otherSeat(seat)],
      values,
      startValue: bundleValue(START_INVENTORY, values),
      value: bundleValue(state.inventories[seat], values),
      offer: state.offer,
    };
    return {
      seat,
      turn: state.turn,
      log: messageLog(state, seat),
      view: viewText(state, seat),
      legal: legalMoves(state, seat).map(formatAction),
      infoState,
    };
  },

  privateInfo(_state, seat) {
    const values = NEGOTIATION_VALUES[seat];
    return [valuesLine(values), worthSentence(values)];
  },
};
