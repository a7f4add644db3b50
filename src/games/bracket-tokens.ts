/**
 * Bracket tokens: the `[...]` spans of a reply, in order, as the evaluation games read them.
 *
 * A game's `parse` takes the FIRST token whose content matches its action syntax (as TextArena
 * does), so free text around and between tokens is ignored. Only innermost brackets count:
 * `[[3]]` yields `3`, and an unclosed `[` is plain text. The scan is one linear regex pass, so a
 * 100 KB reply costs microseconds, and it never throws.
 */
import type { ParseResult } from "./game.js";

/** The contents of the innermost `[...]` spans of `text`, oldest first, trimmed. */
export function bracketTokens(text: string): string[] {
  return [...eachToken(text)];
}

function* eachToken(text: string): Generator<string> {
  for (const match of text.matchAll(/\[([^[\]]*)\]/g)) yield (match[1] ?? "").trim();
}

/**
 * Reads the first token in the game's syntax. `read` returns `undefined` for a token that is not
 * in the syntax at all (the next token is tried), and a result otherwise: the action, or why a
 * token in the right syntax is unusable (e.g. "column 9 does not exist"), which decides the reply.
 * `expected` names the syntax for the error message.
 */
export function firstToken<A>(
  text: string,
  read: (token: string) => ParseResult<A> | undefined,
  expected: string,
): ParseResult<A> {
  if (typeof text !== "string") {
    return { ok: false, reason: `Expected a text reply containing ${expected}.` };
  }
  // Lazily: a reply's first token usually decides, however long the rest of the reply is.
  for (const token of eachToken(text)) {
    const result = read(token);
    if (result !== undefined) return result;
  }
  return { ok: false, reason: `No valid action found: expected ${expected}.` };
}

/** A non-negative decimal integer token (at most 9 digits, so it is exact), or undefined. */
export function readIndex(text: string): number | undefined {
  return /^\d{1,9}$/.test(text) ? Number(text) : undefined;
}
