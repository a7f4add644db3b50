/**
 * SimpleNegotiation-v1: two players trade Wood and Gold for 10 actions (alternating, Player 0
 * first). Both start with 10 of each; Player 0 values Wood 5 and Gold 15, Player 1 Wood 15 and
 * Gold 5, so both start at 200. Each player is told only its own values (private information).
 *
 * A reply is free text read as the reference (SPIRAL's `SimpleNegotiationEnv.step`) reads it:
 *   1. an offer open to the mover: [Accept] anywhere accepts it, else [Deny] anywhere denies it
 *      (the proposer's own [Accept] is invalid; with no offer open both are plain text);
 *   2. then the first [Offer: 3 Wood -> 2 Gold] (the reference's `offer_pattern` and
 *      `_parse_offer` grammar: "," and "and" join items, "I give" is allowed, trailing dots
 *      dropped) is a new offer; a malformed offer or one the mover cannot pay is invalid;
 *   3. anything else is a message-only move: the turn passes and the text is delivered.
 * The whole reply (deciding tokens in canonical form, text capped at MESSAGE_CAP characters per
 * piece) is delivered to the opponent as the action message.
 *
 * An offer stays open until its recipient accepts, denies or counters (a counter denies it); the
 * proposer may replace its own open offer. Accepting checks that both sides can still pay: an
 * acceptor who cannot pay makes an invalid move; a proposer who cannot pay cancels the trade
 * without penalty (a notice).
 *
 * Outcome: the player whose inventory value (by its own values) rose more wins (+1/−1); equal
 * change draws. `legalActions` (for constrained decoding) lists moves only: [Accept]/[Deny] when
 * an offer is open to this seat, plus every single-resource offer [Offer: a R -> b S] with
 * a, b in 1..10, R ≠ S and a ≤ the proposer's stock. Message-only and combined replies are valid
 * but not listed.
 */
import type { Game, GameState, Message, Observation, ParseResult, Seat } from "./game.js";
import { otherSeat, outcomeReturns } from "./game.js";
import { pyCollapseSpace, pyInt, pyRegex, pyStrip, replyMatch } from "./reply-pattern.js";
import { createRng } from "../core/rng.js";

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

/** The terms of an offer: what the proposer gives and receives. */
export interface OfferTerms {
  readonly give: Bundle;
  readonly receive: Bundle;
}

/**
 * One reply's effect. As in the reference, a reply may answer the open offer ([Accept] or
 * [Deny]) AND make a new offer: `offer` on an accept or deny is the offer made after the answer.
 */
export type NegotiationAction =
  | { readonly kind: "offer"; readonly give: Bundle; readonly receive: Bundle; readonly text: string }
  | { readonly kind: "accept"; readonly text: string; readonly offer?: OfferTerms }
  | { readonly kind: "deny"; readonly text: string; readonly offer?: OfferTerms }
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
// Parsing: the reference's patterns and its `step` order (SimpleNegotiation-v1, SPIRAL's env).
//   1. `_check_and_execute_existing_offer`: with an offer open to the mover, `[Accept]` anywhere
//      accepts it, else `[Deny]` anywhere denies it; the proposer's own `[Accept]` is invalid;
//      with no offer open both are ignored (plain text).
//   2. `_check_for_new_offer`: the first match of `offer_pattern` is an offer, read by
//      `_parse_offer`; a malformed offer, or one the mover cannot pay, is invalid.
//   3. Anything else is a message: the turn passes.

const ACCEPT_PATTERN = pyRegex(String.raw`\[Accept\]`, { ignoreCase: true });
const DENY_PATTERN = pyRegex(String.raw`\[Deny\]`, { ignoreCase: true });
const ACCEPT_NAME = String.raw`\[Accept\] (ignore case, anywhere; before [Deny])`;
const DENY_NAME = String.raw`\[Deny\] (ignore case, anywhere)`;
/** The reference's `offer_pattern` (IGNORECASE | DOTALL), searched for its first match. */
const OFFER_NAME = String.raw`\[Offer:\s*(?:I\s+(?:give|offer)\s+)?([^\[\]]+?)\s*\.*\] (ignore case, first match)`;
const OFFER_OPENER = pyRegex(String.raw`\[Offer:`, { ignoreCase: true, global: true });

/** The largest amount kept exactly; larger ones can never be paid (20 units exist), so they are clamped. */
const AMOUNT_CLAMP = 1e15;

function capText(text: string): string {
  return text.length > MESSAGE_CAP ? text.slice(0, MESSAGE_CAP) + "…" : text;
}

/**
 * The first match of `offer_pattern`, found in linear time. Its group cannot hold a bracket, so a
 * match at an opener ends at the first "]" after it, with no "[" in between; it exists exactly when
 * that content is not empty (the lazy group takes at least one character). Returns the group and
 * the span of the whole match, or null.
 */
function findOffer(text: string): { readonly group: string; readonly start: number; readonly end: number } | null {
  let close = -1;
  for (const opener of text.matchAll(OFFER_OPENER)) {
    const from = opener.index + opener[0].length;
    // One forward scan for "]" serves every opener before it (a reply can hold thousands).
    if (close < from) close = text.indexOf("]", from);
    if (close < 0) return null;
    const nested = text.indexOf("[", from);
    if ((nested >= 0 && nested < close) || close === from) continue;
    return { group: text.slice(from, close), start: opener.index, end: close + 1 };
  }
  return null;
}

/** Python `str.title()` compared with a resource name (ASCII case folding is all the names need). */
function resourceName(name: string): Resource | null {
  const lower = name.toLowerCase();
  if (lower === "wood" || lower === "woods") return "Wood";
  if (lower === "gold" || lower === "golds") return "Gold";
  return null;
}

const ITEM_SPLIT = pyRegex(String.raw`,\s*|\s+and\s+`, { ignoreCase: true, global: true });
const ITEM = pyRegex(String.raw`^(\d+)\s+(.+)$`);

/** The reference's `_parse_resource_list`: a bundle, or null when the list is malformed or empty. */
function parseResourceList(side: string): Bundle | null {
  const total = { Wood: 0, Gold: 0 };
  let any = false;
  for (const raw of side.split(ITEM_SPLIT)) {
    const item = pyStrip(raw);
    if (item === "") continue;
    const m = ITEM.exec(item);
    if (m === null) return null;
    const resource = resourceName(pyStrip(m[2] ?? ""));
    const amount = pyInt(m[1] ?? "");
    if (resource === null || amount <= 0) return null;
    total[resource] = Math.min(AMOUNT_CLAMP, total[resource] + amount);
    any = true;
  }
  return any ? total : null;
}

/** The reference's `_parse_offer` of the matched group: the terms, or null for "incorrect format". */
function parseOfferTerms(group: string): OfferTerms | null {
  let offer = pyCollapseSpace(pyStrip(group));
  offer = offer.replace(/[.,!?]+$/u, "");
  offer = offer.replace(pyRegex(String.raw`^(I\s+(?:give|offer)\s+)`, { ignoreCase: true }), "");
  const parts = offer.split(pyRegex(String.raw`\s*->\s*`));
  if (parts.length !== 2) return null;
  const give = parseResourceList(pyStrip(parts[0] ?? ""));
  const receive = parseResourceList(pyStrip(parts[1] ?? ""));
  return give === null || receive === null ? null : { give, receive };
}

const SYNTAX = "[Offer: 3 Wood -> 2 Gold], [Accept] or [Deny]";

/** A token of the reply to deliver in canonical form. */
interface Span {
  readonly start: number;
  readonly end: number;
  readonly canonical: string;
}

/** The delivered reply: trimmed, the deciding tokens in canonical form, the free text around them capped. */
function delivered(text: string, spans: readonly Span[]): string {
  const parts: string[] = [];
  let at = 0;
  for (const span of [...spans].sort((a, b) => a.start - b.start)) {
    if (span.start < at) continue;
    parts.push(capText(pyStrip(text.slice(at, span.start))), span.canonical);
    at = span.end;
  }
  parts.push(capText(pyStrip(text.slice(at))));
  return parts.filter((part) => part !== "").join(" ");
}

/** Reads a reply against the state, in the reference's order; `match` names what decided it. */
function readReply(state: NegotiationState, seat: Seat, text: string): ParseResult<NegotiationAction> {
  const open = state.offer;
  let answer: (Span & { readonly kind: "accept" | "deny" }) | null = null;
  const matches: string[] = [];
  if (open !== null) {
    const accept = ACCEPT_PATTERN.exec(text);
    if (open.from === seat) {
      if (accept !== null) {
        return { ok: false, reason: "You cannot accept your own offer: [Accept] answers an offer made to you.", match: replyMatch(ACCEPT_NAME, accept[0]) };
      }
    } else if (accept !== null) {
      answer = { kind: "accept", start: accept.index, end: accept.index + accept[0].length, canonical: "[Accept]" };
      matches.push(ACCEPT_NAME);
    } else {
      const deny = DENY_PATTERN.exec(text);
      if (deny !== null) {
        answer = { kind: "deny", start: deny.index, end: deny.index + deny[0].length, canonical: "[Deny]" };
        matches.push(DENY_NAME);
      }
    }
  }
  const found = findOffer(text);
  let terms: OfferTerms | null = null;
  if (found !== null) {
    terms = parseOfferTerms(found.group);
    const matched = replyMatch(OFFER_NAME, text.slice(found.start, found.end));
    if (terms === null) {
      return {
        ok: false,
        reason: 'Malformed offer: write "[Offer: <what you give> -> <what you receive>]" with amounts like "3 Wood, 2 Gold", e.g. [Offer: 3 Wood -> 2 Gold].',
        match: matched,
      };
    }
    matches.push(OFFER_NAME);
  }
  const spans: Span[] = answer === null ? [] : [answer];
  if (terms !== null && found !== null) spans.push({ start: found.start, end: found.end, canonical: formatOffer(terms.give, terms.receive) });
  const shown = delivered(text, spans);
  const matchedText = spans.map((span) => text.slice(span.start, span.end)).join(" ");
  const match = replyMatch(matches.length === 0 ? `${ACCEPT_NAME}; ${DENY_NAME}; ${OFFER_NAME}: none applies, a message` : matches.join("; then "), matches.length === 0 ? null : matchedText);
  let action: NegotiationAction;
  if (answer !== null) action = terms === null ? { kind: answer.kind, text: shown } : { kind: answer.kind, text: shown, offer: terms };
  else if (terms !== null) action = { kind: "offer", give: terms.give, receive: terms.receive, text: shown };
  else action = { kind: "message", text: shown };
  return { ok: true, action, match };
}

/** Why `terms` cannot be offered by a seat holding `inventory`, or null. */
function offerProblem(terms: OfferTerms, inventory: Bundle): string | null {
  const amounts = [terms.give.Wood, terms.give.Gold, terms.receive.Wood, terms.receive.Gold];
  if (amounts.some((n) => !Number.isInteger(n) || n < 0)) return "Offer amounts must be whole numbers.";
  if (terms.give.Wood + terms.give.Gold === 0 || terms.receive.Wood + terms.receive.Gold === 0) {
    return "An offer must give something and ask for something.";
  }
  if (!covers(inventory, terms.give)) return `You cannot offer ${formatBundle(terms.give)}: you have ${formatBundle(inventory) || "nothing"}.`;
  return null;
}

/** Why `seat` may not play `action` now, or null when it may. */
function illegalReason(state: NegotiationState, seat: Seat, action: NegotiationAction): string | null {
  if (isOver(state)) return "The game is over.";
  if (mover(state) !== seat) return `It is Player ${mover(state)}'s turn, not yours.`;
  const inventory = state.inventories[seat];
  switch (action.kind) {
    case "message":
      return null;
    case "offer":
      return offerProblem(action, inventory);
    case "accept": {
      const offer = openTo(state, seat);
      if (offer === null) return "There is no offer addressed to you to accept.";
      if (!covers(inventory, offer.receive)) {
        return `You cannot pay ${formatBundle(offer.receive)} with ${formatBundle(inventory) || "nothing"}: [Deny] or make another offer.`;
      }
      // A new offer in the same reply is checked against the inventory after the trade.
      const after = covers(state.inventories[offer.from], offer.give) ? plus(minus(inventory, offer.receive), offer.give) : inventory;
      return action.offer === undefined ? null : offerProblem(action.offer, after);
    }
    case "deny":
      if (openTo(state, seat) === null) return "There is no offer addressed to you to deny.";
      return action.offer === undefined ? null : offerProblem(action.offer, inventory);
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
    "On your turn, write a message to the other player; it may contain actions in square brackets:",
    "  [Offer: 3 Wood -> 2 Gold] proposes that you give 3 Wood and receive 2 Gold (several items: [Offer: 3 Wood, 1 Gold -> 5 Gold]).",
    "  [Accept] accepts the offer the other player made to you; [Deny] rejects it ([Accept] counts first if you write both). Making your own offer instead also rejects it.",
    "An offer stays open until the other player accepts, denies or counters it. A message with no action just passes the turn.",
    "Offering what you do not have, a malformed offer, accepting your own offer, or accepting an offer you cannot pay, is an invalid move.",
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
    lines.push(`Your move: a message with your action: ${answer}[Offer: <give> -> <receive>] (e.g. [Offer: 3 Wood -> 2 Gold]).`);
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
      return action.offer === undefined ? "[Accept]" : `[Accept] ${formatOffer(action.offer.give, action.offer.receive)}`;
    case "deny":
      return action.offer === undefined ? "[Deny]" : `[Deny] ${formatOffer(action.offer.give, action.offer.receive)}`;
    case "message":
      return action.text;
  }
}

/** The state after a legal move: the delivered event, any trade, the offer left open. */
function applyMove(state: NegotiationState, seat: Seat, action: NegotiationAction): NegotiationState {
  const opp = otherSeat(seat);
  let inventories = state.inventories;
  let offer = state.offer;
  const notices: string[] = [];
  let newOffer: OfferTerms | undefined;
  switch (action.kind) {
    case "message":
      break;
    case "offer": {
      const countered = openTo(state, seat);
      if (countered !== null) notices.push(`Player ${seat} counters: the open offer from Player ${opp} is denied and a new offer is open.`);
      else if (state.offer !== null) notices.push(`Player ${seat} replaces its open offer.`);
      offer = { from: seat, give: action.give, receive: action.receive };
      break;
    }
    case "accept": {
      const open = openTo(state, seat) as Offer;
      const proposer = open.from;
      if (!covers(state.inventories[proposer], open.give)) {
        notices.push(`Player ${proposer} can no longer pay ${formatBundle(open.give)}: the trade is cancelled (no penalty).`);
      } else {
        const next: [Bundle, Bundle] = [state.inventories[0], state.inventories[1]];
        next[proposer] = plus(minus(next[proposer], open.give), open.receive);
        next[seat] = plus(minus(next[seat], open.receive), open.give);
        inventories = next;
        notices.push(`Trade done: Player ${proposer} gave ${formatBundle(open.give)} to Player ${seat} for ${formatBundle(open.receive)}.`);
      }
      offer = null;
      newOffer = action.offer;
      break;
    }
    case "deny":
      notices.push(`Player ${seat} denies the offer from Player ${opp}.`);
      offer = null;
      newOffer = action.offer;
      break;
  }
  if (newOffer !== undefined) {
    offer = { from: seat, give: newOffer.give, receive: newOffer.receive };
    notices.push(`Player ${seat} makes a new offer.`);
  }
  const turn = state.turn + 1;
  if (turn >= NEGOTIATION_MAX_TURNS && offer !== null) {
    notices.push("The game has ended, so the open offer lapses.");
    offer = null;
  }
  return {
    rng: state.rng,
    turn,
    inventories,
    offer,
    events: [...state.events, { seat, text: action.text, notice: notices.length === 0 ? null : notices.join(" ") }],
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
    const canonical = OFFER_BY_TEXT.get(text);
    const read: ParseResult<NegotiationAction> = canonical !== undefined
      ? { ok: true, action: canonical, match: replyMatch(OFFER_NAME, text) }
      : readReply(state, seat, text);
    if (!read.ok) return read;
    const reason = illegalReason(state, seat, read.action);
    return reason === null ? read : { ok: false, reason, match: read.match };
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
