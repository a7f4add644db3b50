/**
 * The reference environments' reply patterns, run with Python `re` semantics.
 *
 * The published games (TextArena, SPIRAL's envs) read a reply with a Python regular expression:
 * `re.search` for the first match, `int()` of the digits. To read replies exactly as they do, we
 * keep each pattern's source character for character and translate the three places where
 * Python's `re` on `str` differs from JavaScript's `RegExp`:
 * - `\d` is any Unicode decimal digit (`٣`, `３`), and `int()` reads it; JS `\d` is ASCII only.
 * - `\s` is Python's `str.isspace()` set (it has U+001C–U+001F and U+0085; JS has U+FEFF instead).
 * - `.` (without DOTALL) is any character but `\n`; JS `.` also stops at `\r`, U+2028 and U+2029.
 * Patterns are compiled with the `u` flag, so they work on code points as Python does, and
 * `re.IGNORECASE` maps to `i` (both use Unicode simple case folding).
 *
 * Each game names its patterns, and `parse` reports which one decided a reply (`ReplyMatch`), so
 * `spiral replay` can show why a reply counted.
 */

/** Python's `\s` for `str` patterns, as a JS character-class body. */
const PY_SPACE_CLASS = "\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const PY_DIGIT_CLASS = "\\p{Nd}";

/**
 * Compiles a Python regex source (the subset the reference games use: literals, escapes, classes,
 * groups, quantifiers, `\d`, `\s`, `.`) into an equivalent JS RegExp with the `u` flag.
 */
export function pyRegex(source: string, options: { readonly ignoreCase?: boolean; readonly dotAll?: boolean; readonly global?: boolean } = {}): RegExp {
  let out = "";
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i] as string;
    if (c === "\\") {
      const next = source[i + 1] ?? "";
      i++;
      if (next === "s") out += inClass ? PY_SPACE_CLASS : `[${PY_SPACE_CLASS}]`;
      else if (next === "d") out += PY_DIGIT_CLASS;
      else out += `\\${next}`;
    } else if (inClass) {
      if (c === "]") inClass = false;
      out += c;
    } else if (c === "[") {
      inClass = true;
      out += c;
      // A literal "]" or "^]" right after "[" stays in the class, as in Python.
      if (source[i + 1] === "^") out += source[++i];
    } else if (c === ".") {
      out += options.dotAll === true ? "[^]" : "[^\\n]";
    } else {
      out += c;
    }
  }
  return new RegExp(out, `u${options.ignoreCase === true ? "i" : ""}${options.global === true ? "g" : ""}`);
}

/**
 * Python's `int()` of a `\d+` match: every Unicode decimal digit counts with its value. Numbers
 * beyond 2^53 lose precision and very long ones become Infinity; every caller only compares them
 * with small bounds, so that is exact enough.
 */
export function pyInt(digits: string): number {
  let ascii = "";
  for (const ch of digits) ascii += String(digitValue(ch));
  return Number(ascii.replace(/^0+(?=\d)/, ""));
}

/**
 * The value of one Unicode decimal digit. Unicode encodes decimal digits in contiguous runs of
 * 0–9 (a stability guarantee), so the value is the distance from the start of the run, mod 10.
 */
function digitValue(ch: string): number {
  const code = ch.codePointAt(0) ?? 0;
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  let start = code;
  while (start > 0 && ND.test(String.fromCodePoint(start - 1))) start--;
  return (code - start) % 10;
}

const ND = /^\p{Nd}$/u;

/** Python's `str.isspace()` characters, for `str.split()` and `str.strip()`. */
export const PY_SPACE = new RegExp(`[${PY_SPACE_CLASS}]`, "u");

/** Python's `" ".join(s.split())`: runs of whitespace become one space, ends trimmed. */
export function pyCollapseSpace(text: string): string {
  return text.split(new RegExp(`[${PY_SPACE_CLASS}]+`, "u")).filter((part) => part !== "").join(" ");
}

/** Python's `s.strip()` (whitespace only). A loop, not a `\s+$` regex: that is quadratic on long inner runs. */
export function pyStrip(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && PY_SPACE.test(text[start] as string)) start++;
  while (end > start && PY_SPACE.test(text[end - 1] as string)) end--;
  return text.slice(start, end);
}

/** Which reference pattern decided a reply, for `spiral replay` and tests. */
export interface ReplyMatch {
  /** The pattern's name and source, e.g. `action_pattern \[(roll|hold|r|h)\] (first match)`. */
  readonly pattern: string;
  /** The text it matched in the reply (cut to 80 characters); null when nothing matched. */
  readonly text: string | null;
}

/** A `ReplyMatch` for `match` (or for no match), with the matched text cut for display. */
export function replyMatch(pattern: string, matched: string | null | undefined): ReplyMatch {
  if (matched === null || matched === undefined) return { pattern, text: null };
  return { pattern, text: matched.length > 80 ? `${matched.slice(0, 79)}…` : matched };
}
