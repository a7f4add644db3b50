/**
 * Model reply → the text a game parses (docs/prompting.md, "Action extraction").
 *
 * The rules, in the order they are tried (`extractAction`):
 * 1. Boxed. The last closed `\boxed{…}` (or `\fbox{…}`) anywhere in the reply, brace-matched
 *    (see `boxed.ts`). Its content is cleaned: wrapper commands such as `\text{}`, `\textbf{}` and
 *    `\mathrm{}` are removed keeping their content, LaTeX arrows (`\rightarrow`, `\to`,
 *    `\longrightarrow`, `\Rightarrow`, `→`) become `->`, TeX spaces (`\ `, `\,`, `~`) become spaces,
 *    `$`, `\$`, `\left` and `\right` go, escaped characters (`\%`, `\_`, `\{`, `\[`) lose their
 *    backslash, and whitespace is collapsed. If the cleaned content already holds a bracket
 *    token (`[4]`, `[Offer: 3 Wood -> 2 Gold]`) it is used as it is; otherwise it is wrapped:
 *    `\boxed{4}` → `[4]`, `\boxed{\text{Offer: 3 Wood \to 2 Gold}}` → `[Offer: 3 Wood -> 2 Gold]`.
 *    An empty box is an invalid move. A box wins even when it only appears inside `<think>`.
 * 2. Without a box, reasoning is set aside: the text after the last `</think>` is the answer
 *    (a reply that opened `<think>` and never closed it has no answer: invalid), and special-token
 *    markup such as `<|im_end|>` is removed from it.
 * 3. Wrapped. An answer of at most five words (`maxWrapWords`) and 200 characters with no `[` or
 *    `]` is wrapped in brackets after trimming a leading label ("Final answer:", "Move:"),
 *    markdown emphasis, quotes and trailing sentence punctuation: `bet` → `[bet]`, `**4**.` → `[4]`,
 *    `Final answer: call` → `[call]`.
 * 4. Bracket. An answer holding a `[` or `]` is passed through unchanged; the game's own parser
 *    takes its first bracket token.
 * 5. Text. Any other non-empty answer (free text, more than five words) is passed through too:
 *    free-text games (negotiation) deliver it as a message, others will find no action in it.
 *    An empty answer is invalid.
 *
 * For the R1-style template (`format: "answer-tag"`), the last closed `<answer>…</answer>` plays
 * the part of the box: a `\boxed{}` inside it is used if there is one, else its whole content, and
 * either is cleaned and bracketed as in rule 1. With no such tag a `\boxed{}` anywhere in the reply
 * is still accepted; otherwise the move is invalid.
 *
 * Invariants: never throws, whatever the reply; runs in time linear in the reply's length; the
 * result is a pure function of the reply and the options.
 */
import { lastBoxed, unwrapCommands } from "./boxed.js";

export type ExtractSource = "boxed" | "bracket" | "wrapped" | "text";

export type ExtractResult =
  | {
      readonly ok: true;
      /** What the game parses, e.g. "[4]" or "[Offer: 3 Wood -> 2 Gold]". */
      readonly action: string;
      /** Which rule produced it (see the header). */
      readonly source: ExtractSource;
    }
  | { readonly ok: false; readonly reason: string };

export interface ExtractOptions {
  /** "boxed" (default): SPIRAL's `\boxed{}` answers. "answer-tag": R1-style `<answer>…</answer>`. */
  readonly format?: "boxed" | "answer-tag";
  /** Longest bare answer (in words) that is wrapped in brackets. Default 5 (docs/prompting.md). */
  readonly maxWrapWords?: number;
}

const DEFAULT_MAX_WRAP_WORDS = 5;
/** Chat-markup special tokens such as `<|im_end|>`. */
const SPECIAL_TOKEN = /<\|[A-Za-z0-9_]{1,40}\|>/g;

/** A bare answer longer than this is not a short action, whatever its word count. */
const MAX_WRAP_CHARS = 200;

/** LaTeX and unicode arrows → the games' `->`. Commands must not run into a letter (`\top`). */
const ARROWS = /\\(?:longrightarrow|Longrightarrow|rightarrow|Rightarrow|implies|mapsto|to)(?![A-Za-z])|→|⟶|⇒|=>/g;

/** TeX spacing commands and the non-breaking tilde. */
const TEX_SPACES = /\\(?:quad|qquad)(?![A-Za-z])|\\[ ,;:!]|~/g;

/** Cleans the content of a box into plain action text (see rule 1). */
export function cleanBoxedContent(content: string): string {
  return unwrapCommands(content)
    .replace(/\\(?:left|right)(?![A-Za-z])/g, "")
    .replace(ARROWS, "->")
    .replace(TEX_SPACES, " ")
    .replace(/\\?\$/g, "")
    .replace(/\\([%#&_{}[\]])/g, "$1")
    .replace(/\s+/g, " ")
    .trim();
}

/** Markdown emphasis and quote pairs stripped from a bare answer (longest first). */
const BARE_WRAPPERS: readonly (readonly [string, string])[] = [
  ["**", "**"],
  ["__", "__"],
  ["*", "*"],
  ["_", "_"],
  ["`", "`"],
  ['"', '"'],
  ["'", "'"],
  ["“", "”"],
  ["‘", "’"],
];

/** A leading label such as "Final answer:" or "**Action**:" before a bare answer. */
const ANSWER_LABEL = /^(?:\*\*|__)?(?:my\s+|the\s+)?(?:final\s+)?(?:answer|action|move|decision|choice)(?:\*\*|__)?\s*[:：]\s*(?:\*\*|__)?\s*/i;

/** A bare answer with a label, emphasis, quotes and trailing sentence punctuation trimmed (rule 3). */
function trimBare(answer: string): string {
  // Callers bound the length (MAX_WRAP_CHARS), so repeated passes stay cheap.
  let s = answer.trim();
  for (;;) {
    let next = s.replace(ANSWER_LABEL, "").replace(/[.!?,;:]+$/, "").trim();
    const pair = BARE_WRAPPERS.find(([open, close]) => next.length >= open.length + close.length && next.startsWith(open) && next.endsWith(close));
    if (pair !== undefined) next = next.slice(pair[0].length, next.length - pair[1].length).trim();
    if (next === s) return s;
    s = next;
  }
}

function countWords(text: string, limit: number): number {
  // Counting stops past the limit so a long answer is not split in full.
  let words = 0;
  for (const _ of text.matchAll(/\S+/g)) {
    words++;
    if (words > limit) break;
  }
  return words;
}

/** Rules 3–5 applied to an answer that has no box. */
function fromBareAnswer(answer: string, maxWrapWords: number): ExtractResult {
  // Special-token markup left in a decoded reply (`<|im_end|>`, `<|endoftext|>`) is not part of it.
  const trimmed = answer.replace(SPECIAL_TOKEN, "").trim();
  if (trimmed.length === 0) return { ok: false, reason: "empty reply: expected an action such as \\boxed{[4]}" };
  if (/[[\]]/.test(trimmed)) return { ok: true, action: trimmed, source: "bracket" };
  if (trimmed.length <= MAX_WRAP_CHARS && countWords(trimmed, maxWrapWords) <= maxWrapWords) {
    const bare = trimBare(trimmed);
    if (bare.length === 0) return { ok: false, reason: `reply "${trimmed}" holds no action` };
    return { ok: true, action: `[${bare}]`, source: "wrapped" };
  }
  return { ok: true, action: trimmed, source: "text" };
}

/** Rule 1 applied to a box's content. */
function fromBoxed(content: string): ExtractResult {
  const cleaned = cleanBoxedContent(content);
  if (cleaned.length === 0) return { ok: false, reason: "empty answer: put the action inside, e.g. \\boxed{[4]}" };
  if (/\[[^\]]*\]/.test(cleaned)) return { ok: true, action: cleaned, source: "boxed" };
  // A box holding only "[" or "]" fragments is malformed rather than an action to wrap.
  if (/[[\]]/.test(cleaned)) return { ok: false, reason: `unbalanced brackets in \\boxed{${truncate(cleaned)}}` };
  return { ok: true, action: `[${cleaned}]`, source: "boxed" };
}

function truncate(text: string, max = 60): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

/** The text after the last `</think>`; undefined when a `<think>` was opened and never closed. */
export function stripReasoning(reply: string): string | undefined {
  const close = reply.lastIndexOf("</think>");
  if (close >= 0) return reply.slice(close + "</think>".length);
  if (reply.includes("<think>")) return undefined;
  return reply;
}

/** The content of the last closed `<answer>…</answer>`, or undefined. */
export function lastAnswerTag(reply: string): string | undefined {
  const close = reply.lastIndexOf("</answer>");
  if (close < 0) return undefined;
  const open = reply.lastIndexOf("<answer>", close);
  if (open < 0) return undefined;
  return reply.slice(open + "<answer>".length, close);
}

/** A model reply → the action text for the game's parser, or why there is none. Never throws. */
export function extractAction(reply: string, options: ExtractOptions = {}): ExtractResult {
  try {
    if (typeof reply !== "string") return { ok: false, reason: `expected the reply as a string; got ${typeof reply}` };
    const maxWrapWords = options.maxWrapWords ?? DEFAULT_MAX_WRAP_WORDS;
    if (options.format === "answer-tag") {
      const answer = lastAnswerTag(reply);
      if (answer === undefined) {
        const boxed = lastBoxed(reply);
        if (boxed !== undefined) return fromBoxed(boxed);
        return { ok: false, reason: "no <answer>…</answer> in the reply: end with <answer>[your action]</answer>" };
      }
      return fromBoxed(lastBoxed(answer) ?? answer);
    }
    const boxed = lastBoxed(reply);
    if (boxed !== undefined) return fromBoxed(boxed);
    const answer = stripReasoning(reply);
    if (answer === undefined) return { ok: false, reason: "the reply ended inside <think> without an answer" };
    return fromBareAnswer(answer, maxWrapWords);
  } catch (error) {
    // Defensive: the rules above are written not to throw; a bug must still be an invalid move.
    return { ok: false, reason: `could not read the reply (${(error as Error).message})` };
  }
}
