/**
 * Compact mode: an observation → a short prompt for tiny byte-level models trained from scratch,
 * whose reply is constrained to the legal action strings.
 *
 * Layout (every line ends in "\n" except the cue, which the reply continues):
 *
 *     <header>                 a short game tag and "P" + the seat
 *     <body>                   the decision's state in a few terse lines (below)
 *     >                        the cue: "> " — the reply is one of `allowed`, e.g. "[4]"
 *
 * Why terse: a byte-level model pays for every prompt byte in every forward and backward pass,
 * and a from-scratch model learns much faster when the few bytes that decide the move sit at
 * fixed places. The three training games have their own renderings, read from the observation's
 * typed `infoState` (the same knowledge as the text view, nothing of the other seat's hidden
 * information); any other game falls back to its id and its own `view` text. The renderings
 * (docs/prompting.md has examples):
 *
 * - TicTacToe: `ttt P0` and the board in three rows; an empty cell shows its number (the move
 *   that takes it), a taken cell the letter of its number (0 → a … 8 → i), uppercase for the
 *   reader's marks and lowercase for the opponent's: `aB2` is the opponent on 0, you on 1.
 *   Marks relative to the reader let one rule serve both seats; a letter per cell makes every
 *   byte say both where and whose.
 * - Kuhn Poker: `kuhn P1`, own card, the round's betting so far (`-` when none); with more than
 *   one round, also the round (`r2/5`) and own net chips.
 * - Simple Negotiation: `neg P0`, own values per unit, both inventories, moves left, and the open
 *   offer from the reader's side in tally marks, one letter per unit, uppercase received and
 *   lowercase given (`get GGG give wwwww`: 3 Gold for 5 Wood), or `none`. Tallies let a
 *   byte-level model compare the two sides by counting letters rather than by reading numbers.
 *
 * Invariants: a pure function of (info.id, observation); `allowed` is `observation.legal` in its
 * order (empty when the seat is not to act); the text ends in the cue, and no body line can equal
 * the cue because lines are right-trimmed.
 */
import type { GameInfo, Observation, Seat } from "../games/game.js";
import type { Bundle } from "../games/simple-negotiation.js";
import { extractAction, type ExtractResult } from "./extract.js";

export interface CompactPrompt {
  /** The whole prompt; the model continues it with one allowed string. */
  readonly text: string;
  /** The completions the decoder may produce (canonical legal actions). */
  readonly allowed: readonly string[];
}

/** The cue the reply continues. */
export const COMPACT_CUE = "> ";

/** The view with CRLF normalised, trailing spaces removed per line, and blank edges dropped. */
export function normaliseView(view: string): string {
  return view
    .replace(/\r\n?/g, "\n")
    .split("\n")
    .map((line) => line.replace(/\s+$/, ""))
    .join("\n")
    .replace(/^\n+|\n+$/g, "");
}

type Render = (seat: Seat, infoState: unknown) => string | undefined;

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null;
const isInt = (x: unknown): x is number => typeof x === "number" && Number.isInteger(x);

/** `ttt P0` + rows like `aB2`: uppercase yours, lowercase theirs, digits empty. */
const renderTicTacToe: Render = (seat, s) => {
  if (!isRecord(s) || !Array.isArray(s.cells) || s.cells.length !== 9) return undefined;
  const cells: string[] = [];
  for (let i = 0; i < 9; i++) {
    const c: unknown = s.cells[i];
    if (c === null) cells.push(String(i));
    else if (c === 0 || c === 1) cells.push(String.fromCharCode((c === seat ? 65 : 97) + i));
    else return undefined;
  }
  return `ttt P${seat}\n${cells.slice(0, 3).join("")}\n${cells.slice(3, 6).join("")}\n${cells.slice(6, 9).join("")}`;
};

const KUHN_CARDS = new Set(["J", "Q", "K"]);
const KUHN_MOVES = new Set(["check", "bet", "call", "fold"]);

/** `kuhn P1 K: check bet` (1 round) or `kuhn P1 r2/5 +1 K: -`. */
const renderKuhn: Render = (seat, s) => {
  if (!isRecord(s) || typeof s.card !== "string" || !KUHN_CARDS.has(s.card) || !Array.isArray(s.history)) return undefined;
  if (!s.history.every((m) => typeof m === "string" && KUHN_MOVES.has(m))) return undefined;
  const history = s.history.length === 0 ? "-" : s.history.join(" ");
  let header = `kuhn P${seat}`;
  if (isInt(s.rounds) && s.rounds > 1) {
    if (!isInt(s.round) || !Array.isArray(s.chips) || !isInt(s.chips[seat])) return undefined;
    const own = s.chips[seat] as number;
    header += ` r${s.round}/${s.rounds} ${own >= 0 ? "+" : ""}${own}`;
  }
  return `${header} ${s.card}: ${history}`;
};

const isBundle = (x: unknown): x is Bundle => isRecord(x) && isInt(x.Wood) && isInt(x.Gold);
const bundle = (b: Bundle): string => `W${b.Wood} G${b.Gold}`;
/**
 * One side of an offer as tally marks, one letter per unit: uppercase for what the reader would
 * receive (`GGG` = 3 Gold), lowercase for what they would give (`ww` = 2 Wood); "0" when empty.
 */
const tally = (b: Bundle, receive: boolean): string =>
  ((receive ? "W" : "w").repeat(b.Wood) + (receive ? "G" : "g").repeat(b.Gold)) || "0";

/** `neg P0 W5 G15` / `me W10 G10 opp W10 G10 9 left` / `offer get GGG give wwwww` (or `offer none`). */
const renderNegotiation: Render = (seat, s) => {
  if (!isRecord(s) || !isBundle(s.values) || !isBundle(s.inventory) || !isBundle(s.opponentInventory) || !isInt(s.turnsLeft)) return undefined;
  let offer = "none";
  if (s.offer !== null && s.offer !== undefined) {
    const o = s.offer;
    if (!isRecord(o) || (o.from !== 0 && o.from !== 1) || !isBundle(o.give) || !isBundle(o.receive)) return undefined;
    // From the reader's side: an offer addressed to me gives me the proposer's `give`.
    offer = o.from === seat ? `mine get ${tally(o.receive, true)} give ${tally(o.give, false)}` : `get ${tally(o.give, true)} give ${tally(o.receive, false)}`;
  }
  return `neg P${seat} ${bundle(s.values)}\nme ${bundle(s.inventory)} opp ${bundle(s.opponentInventory)} ${s.turnsLeft} left\noffer ${offer}`;
};

const RENDERERS: readonly (readonly [prefix: string, render: Render])[] = [
  ["TicTacToe-", renderTicTacToe],
  ["KuhnPoker-", renderKuhn],
  ["SimpleNegotiation-", renderNegotiation],
];

/** The terse body for the three training games, or undefined (another game, or an unexpected infoState). */
export function compactBody(info: Pick<GameInfo, "id">, observation: Observation): string | undefined {
  const entry = RENDERERS.find(([prefix]) => info.id.startsWith(prefix));
  return entry === undefined ? undefined : entry[1](observation.seat, observation.infoState);
}

export function compactPrompt(info: Pick<GameInfo, "id">, observation: Observation): CompactPrompt {
  // The terse bodies are built without trailing spaces or blank lines; only views need normalising.
  const terse = compactBody(info, observation);
  const view = terse === undefined ? normaliseView(observation.view) : undefined;
  const body = terse ?? (view === "" ? `${info.id} P${observation.seat}` : `${info.id} P${observation.seat}\n${view}`);
  return { text: `${body}\n${COMPACT_CUE}`, allowed: [...observation.legal] };
}

/**
 * A compact-mode reply → the action. With constrained decoding the reply is exactly one of the
 * allowed strings; an unconstrained reply is trimmed, matched case-insensitively, and otherwise
 * read by the general rules of `extractAction` (so the game's parser has the last word).
 */
export function extractCompact(reply: string, allowed: readonly string[]): ExtractResult {
  if (typeof reply !== "string") return { ok: false, reason: `expected the reply as a string; got ${typeof reply}` };
  const trimmed = reply.trim();
  if (allowed.includes(trimmed)) return { ok: true, action: trimmed, source: "bracket" };
  const lower = trimmed.toLowerCase();
  const match = allowed.find((a) => a.toLowerCase() === lower);
  if (match !== undefined) return { ok: true, action: match, source: "bracket" };
  return extractAction(reply);
}
