/**
 * Compact mode: an observation → a short prompt for tiny byte-level models trained from scratch,
 * whose reply is constrained to the legal action strings.
 *
 * Layout (every line ends in "\n" except the cue, which the reply continues):
 *
 *     TicTacToe-v0 P0          game id, space, "P" and the seat
 *     <observation.view>       the game's own short view, lines right-trimmed, CRLF → LF
 *     >                        the cue: "> " — the reply is one of `allowed`, e.g. "[4]"
 *
 * Nothing of the history goes in beyond what the view carries: tiny models have ~2k positions and
 * the view is the game's statement of what the decision needs.
 *
 * Invariants: a pure function of (info.id, observation.seat, observation.view, observation.legal);
 * `allowed` is `observation.legal` in its order (empty when the seat is not to act); the text ends
 * in the cue, and no view line can equal the cue because view lines are right-trimmed.
 */
import type { GameInfo, Observation } from "../games/game.js";
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

export function compactPrompt(info: Pick<GameInfo, "id">, observation: Observation): CompactPrompt {
  const view = normaliseView(observation.view);
  const header = `${info.id} P${observation.seat}`;
  const text = view.length > 0 ? `${header}\n${view}\n${COMPACT_CUE}` : `${header}\n${COMPACT_CUE}`;
  return { text, allowed: [...observation.legal] };
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
