/**
 * Math answer grading: is a model's final answer the reference answer?
 *
 * Two graders (docs/eval.md, "Math grading"): this file's strict one (the default), and the
 * reference-compatible one (`{ grader: "reference" }`, `math-reference.ts`), which reproduces the
 * Qwen2.5-Math harness that published numbers come from, quirks included.
 *
 * Strict: `gradeReply(reply, reference)` takes the last `\boxed{…}` of the reply (brace-matched,
 * shared with action extraction in `prompt/boxed.ts`) — or, with none, a marked fallback
 * (`\boxed 5`, "the answer is …", "final answer: …") — and asks `isEquivalent(prediction, reference)`:
 *
 * 1. Both are normalised (`normalizeAnswer`): math delimiters, `\left`/`\right`, `\displaystyle`,
 *    thin spaces (`\,` `\!` `\;` `\:` `~` `\quad`), `\text{}`-style wrappers (content kept), `\$`,
 *    `\%`, degrees (`^\circ`, `^{\circ}`, `°`), trailing units of one or two words ("cm",
 *    "square inches", …), a leading assignment (`x = 5` → `5`, `k \approx 2` → `2`,
 *    `x \in [0,1]` → `[0,1]`), thousands separators (`1,000`, `1{,}000`, `1,\!000` → `1000`, and
 *    inside a brace group: `\frac{20,000}{\pi}`), `\dfrac`/`\tfrac` → `\frac`, `\sqrt3` → `\sqrt{3}`,
 *    `\frac12` → `\frac{1}{2}`, multiple-choice `(B)` or `(B) Plane` → `B`, a mixed number
 *    `1\frac{4}{5}` → `\frac{9}{5}`, `\mp` → `\pm`, base-n `52_8` → `52_{8}`, a number in e-notation
 *    `1.5e3` → `1.5\times10^{3}`.
 * 2. Each is read into a structure (`parseAnswer`): a matrix (`pmatrix`/`bmatrix`/…, a factor in
 *    front multiplying every entry); a union of intervals (`\cup`); a set `\{…\}`; a bracketed
 *    sequence — a tuple or an interval — kept with its opening and closing bracket, so
 *    `(1, 2)` ≠ `[1, 2]` ≠ `[1, 2)` and order matters; a bare comma-separated list; a scalar with one
 *    `\pm` (two answers, also as an item of a set or list); or a scalar.
 * 3. Structures must agree in kind (a one-element set also against its element). Multiple
 *    answers: a bare list, a set or a union is compared as a multiset (`1, 2` = `2, 1`); a sequence
 *    or a matrix position by position.
 * 4. Scalars are equal when their normalised text is equal; or, when both read as arithmetic
 *    (`math-expr.ts`), when their values agree within a relative tolerance of 1e-6 (absolute 1e-9
 *    against an exact zero) — constants directly (`\frac{1}{2}` = `0.5` = `1/2`, `2\sqrt{3}` = `\sqrt{12}`),
 *    expressions with variables at five fixed assignments of positive values (`\frac{x}{2}` = `x/2`,
 *    `\binom{2n}{n}` = `\frac{(2n)!}{(n!)^2}`); or, for words, when they are equal ignoring case
 *    (`\text{Evelyn}` = `evelyn`); or, for a base-n numeral, against the same digits (`4210` =
 *    `4210_{5}`); or, for equations, side by side or up to a nonzero factor
 *    (`-5x+7y-11z-4=0` = `5x-7y+11z+4=0`).
 *
 * Percentages are compared as written: `50\%` = `50`, but ≠ `0.5`. `e` and `i` are variables, not
 * constants. Invariants: never throws; symmetric in its two arguments; the same inputs always give
 * the same verdict.
 */
import { lastBoxed, unwrapCommands } from "../prompt/boxed.js";
import { parseExpression, type Expression } from "./math-expr.js";
import { gradeReplyReference, isEquivalentReference, type ReferenceExtraction } from "./math-reference.js";

/** Relative tolerance of numeric equality. */
export const RELATIVE_TOLERANCE = 1e-6;
/**
 * Absolute tolerance, only against an exact zero (`\sin\pi` ≈ 1e-16 = 0). Elsewhere it would make
 * every tiny physical quantity equal (Minerva's 3.89e-10 and 7.4e-12).
 */
export const ABSOLUTE_TOLERANCE = 1e-9;

/** Longest answer normalised and compared structurally; longer ones are compared verbatim. */
const MAX_ANSWER_LENGTH = 10_000;

/** Stands in for `\\` (a TeX line break: matrix rows) while normalising. */
const ROW_BREAK = "\u0001";

// ---------------------------------------------------------------------------------------------
// Normalisation

const UNICODE: readonly (readonly [RegExp, string])[] = [
  [/−|–/g, "-"],
  [/×/g, "\\times "],
  [/·|⋅/g, "\\cdot "],
  [/÷/g, "\\div "],
  [/π/g, "\\pi "],
  [/∞/g, "\\infty "],
  [/√/g, "\\sqrt"],
  [/≤/g, "\\le "],
  [/≥/g, "\\ge "],
  [/≠/g, "\\ne "],
  [/∪/g, "\\cup "],
  [/°/g, "^\\circ"],
  [/²/g, "^2"],
  [/³/g, "^3"],
];

/** Unit words stripped from the end of an answer that ends in a number or a closing bracket. */
const UNITS = [
  "square", "sq", "cubic", "units", "unit",
  "centimeters", "centimetres", "centimeter", "cm", "millimeters", "mm", "kilometers", "km", "meters", "metres", "meter", "metre",
  "inches", "inch", "in", "feet", "foot", "ft", "yards", "yard", "yd", "miles", "mile", "mi", "mph", "kph",
  "degrees", "degree", "deg", "radians", "radian", "rad",
  "dollars", "dollar", "cents", "cent", "euros", "pounds", "lbs", "lb", "ounces", "oz",
  "hours", "hour", "hrs", "hr", "minutes", "minute", "mins", "min", "seconds", "second", "secs", "sec",
  "days", "day", "weeks", "week", "months", "month", "years", "year",
  "grams", "gram", "kilograms", "kg", "liters", "litres", "liter", "ml", "gallons", "gallon",
  "people", "persons", "students", "ways", "points", "times", "percent",
];
/** One-letter units, stripped only after a space (`6.5 m`), since `5m` may be a product. */
const SHORT_UNITS = ["m", "s", "h", "g", "L", "K", "N", "J", "W", "V"];

/** A unit of one or two words: "cm", "square inches", "cubic feet". */
const UNIT_WORDS = `(?:${UNITS.join("|")})(?:\\s+(?:${UNITS.join("|")}))?`;
const UNIT_PATTERN = new RegExp(
  `(?<=[0-9}).\\]])\\s*${UNIT_WORDS}(?:\\s*\\^\\s*\\{?[23]\\}?)?(?:\\s*(?:/|per)\\s*(?:${UNITS.join("|")}|${SHORT_UNITS.join("|")}))?\\.?$`,
);
const SHORT_UNIT_PATTERN = new RegExp(`(?<=[0-9}).\\]])\\s+(?:${SHORT_UNITS.join("|")})(?:\\s*\\^\\s*\\{?[23]\\}?)?(?:\\s*/\\s*(?:${SHORT_UNITS.join("|")})(?:\\^\\{?2\\}?)?)?$`);

/** `x = 5`, `a_1 = 5`, `\theta \approx 2`, `x \in (0, 1)` → the right-hand side. */
const ASSIGNMENT = /^(?:[A-Za-z](?:_\{?[A-Za-z0-9]+\}?)?|\\[A-Za-z]+(?:_\{?[A-Za-z0-9]+\}?)?|[A-Za-z]\([A-Za-z]\))\s*(?:=|\\approx|\\in)\s*(?=\S)/;

function stripUnits(text: string): string {
  let s = text;
  for (let pass = 0; pass < 4; pass++) {
    const next = s.replace(UNIT_PATTERN, "").replace(SHORT_UNIT_PATTERN, "").trimEnd();
    if (next === s || next.length === 0) return s;
    s = next;
  }
  return s;
}

/** Drops leading assignments (`x = 5`, also chained: `x = y = 5`) when the rest holds no `=`. */
function stripAssignment(text: string): string {
  let rest = text;
  for (let match = ASSIGNMENT.exec(rest); match !== null; match = ASSIGNMENT.exec(rest)) {
    rest = rest.slice(match[0].length);
    if (!rest.includes("=")) return rest;
  }
  return text;
}

/** Removes `$…$`, `\(…\)`, `\[…\]` delimiters around the whole answer. */
function stripDelimiters(text: string): string {
  let s = text.trim();
  for (;;) {
    const next = s
      .replace(/^\$+([\s\S]*?)\$+$/, "$1")
      .replace(/^\\\(([\s\S]*)\\\)$/, "$1")
      .replace(/^\\\[([\s\S]*)\\\]$/, "$1")
      .trim();
    if (next === s) return s;
    s = next;
  }
}

/**
 * An answer in canonical text (rules in the file header, step 1). Idempotent on its own output
 * for ordinary answers; never throws.
 */
export function normalizeAnswer(answer: string): string {
  if (typeof answer !== "string") return "";
  let s = answer.length > MAX_ANSWER_LENGTH ? answer.slice(0, MAX_ANSWER_LENGTH) : answer;
  for (const [pattern, replacement] of UNICODE) s = s.replace(pattern, replacement);
  s = s.replace(/\\\$/g, "").replace(/\\%|%/g, "");
  s = stripDelimiters(s).replace(/\$/g, "");
  s = s.replace(/\n/g, " ");
  // TeX line breaks (matrix rows) are set aside so the spacing rules below cannot split them.
  s = s.replace(/\\\\/g, ROW_BREAK);
  // Thousands separators written as TeX: 1{,}000 and 1,\!000.
  s = s.replace(/(\d)\{,\}(?=\d{3})/g, "$1").replace(/(\d),\\!\s*(?=\d{3}(?!\d))/g, "$1");
  s = unwrapCommands(s);
  s = s
    .replace(/\\(?:left|right|bigl|bigr|Bigl|Bigr|big|Big|biggl|biggr|bigg|Bigg)(?![A-Za-z])\s*(\\?[()[\]{}|.]|\\langle|\\rangle)?/g, (_w, d: string | undefined) =>
      d === "." || d === undefined ? "" : d,
    )
    .replace(/\\(?:displaystyle|textstyle|limits|nolimits|mathstrut)(?![A-Za-z])/g, "")
    .replace(/\\[dt]frac(?![A-Za-z])/g, "\\frac")
    .replace(/\\[dt]binom(?![A-Za-z])/g, "\\binom")
    .replace(/\\(?:quad|qquad)(?![A-Za-z])|\\[ ,;:!>]|~/g, " ")
    .replace(/\^\s*\{\s*\\circ\s*\}|\^\s*\\circ(?![A-Za-z])|\\circ(?![A-Za-z])|\\degree(?![A-Za-z])/g, "")
    .replace(/\\leq(?:slant)?(?![A-Za-z])/g, "\\le")
    .replace(/\\geq(?:slant)?(?![A-Za-z])/g, "\\ge")
    .replace(/\\neq(?![A-Za-z])/g, "\\ne")
    .replace(/\\varnothing(?![A-Za-z])/g, "\\emptyset")
    .replace(/\\(?:infinity|inf)(?![A-Za-z])|^infinity$|^inf$/gi, "\\infty");
  s = s.replace(/\s+/g, " ").trim();
  s = s.replace(/ (?:and|or) /g, ", ");
  s = stripUnits(s);
  s = stripAssignment(s);
  s = s.replace(/[.。]+\s*$/, "").trim();
  s = s.replace(/\\sqrt\s*(\w)/g, "\\sqrt{$1}").replace(/\\frac\s*(\d)\s*(\d)/g, "\\frac{$1}{$2}");
  // A choice letter, alone or followed by the choice's text: (C), (C) Plane → C.
  s = s.replace(/^\(([A-Ea-e])\)(?:\s*[A-Za-z][A-Za-z ]*)?$/, "$1");
  s = thousandsInGroups(s);
  s = mixedNumber(s);
  s = s.replace(/\\mp(?![A-Za-z])/g, "\\pm");
  // Base-n numerals: 52_8, 52_{8} → 52_{8}.
  s = s.replace(/(\d+)_\{?(\d+)\}?/g, "$1_{$2}");
  if (/^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$/.test(s)) s = s.replace(/,/g, "");
  return canonicalSpacing(s).replace(E_NOTATION, "$1\\times10^{$2}").split(ROW_BREAK).join("\\\\");
}

/**
 * Thousands separators inside a brace group (`\frac{20,000}{\pi}`): there a comma cannot separate
 * answers. Digit groups of three after the first group of one to three digits only.
 */
function thousandsInGroups(text: string): string {
  let depth = 0;
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === "\\") {
      out += text.slice(i, i + 2);
      i++;
      continue;
    }
    if (c === "{") depth++;
    else if (c === "}") depth--;
    if (depth > 0 && c === "," && /\d$/.test(out) && /^\d{3}(?!\d)/.test(text.slice(i + 1)) && /(?:^|[^\d,])\d{1,3}(?:,\d{3})*$/.test(out)) continue;
    out += c;
  }
  return out;
}

/** A mixed number written as a whole answer, `1\frac{4}{5}` → `\frac{9}{5}` (proper fraction only). */
function mixedNumber(text: string): string {
  const m = /^(-?)(\d+)\s*\\frac\{(\d+)\}\{(\d+)\}$/.exec(text);
  if (m === null) return text;
  const [, sign, whole, num, den] = m as unknown as [string, string, string, string, string];
  if (Number(num) >= Number(den) || Number(den) === 0) return text;
  return `${sign}\\frac{${Number(whole) * Number(den) + Number(num)}}{${den}}`;
}

/** Spaces removed, except one between a command and a following letter (`\pi r`). */
function canonicalSpacing(text: string): string {
  return text.replace(/(\\[A-Za-z]+)\s+(?=[A-Za-z])|\s+/g, (_space, command: string | undefined) => (command === undefined ? "" : `${command} `));
}

// ---------------------------------------------------------------------------------------------
// Structure

export type AnswerValue =
  | { readonly kind: "scalar"; readonly text: string }
  | { readonly kind: "list"; readonly items: readonly AnswerValue[] }
  | { readonly kind: "set"; readonly items: readonly AnswerValue[] }
  | { readonly kind: "union"; readonly items: readonly AnswerValue[] }
  | { readonly kind: "sequence"; readonly open: string; readonly close: string; readonly items: readonly AnswerValue[] }
  | { readonly kind: "matrix"; readonly rows: readonly (readonly AnswerValue[])[] };

/** Splits at `separator` where no bracket is open. Brackets of any type count (intervals mix them). */
function splitTopLevel(text: string, separator: string): string[] {
  // A command separator (`\cup`, `\pm`) must not be the start of a longer command (`\pmb`).
  const commandSeparator = /^\\[A-Za-z]+$/.test(separator);
  const separatorAt = (i: number): boolean =>
    text.startsWith(separator, i) && !(commandSeparator && /[A-Za-z]/.test(text[i + separator.length] ?? ""));
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === "\\") {
      // `\{` and `\}` open and close sets; any other escaped character is skipped.
      const next = text[i + 1];
      if (next === "{") depth++;
      else if (next === "}") depth--;
      else if (depth === 0 && separatorAt(i)) {
        parts.push(text.slice(start, i));
        start = i + separator.length;
        i = start - 1;
        continue;
      }
      i++;
      continue;
    }
    if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") depth--;
    else if (depth === 0 && separatorAt(i)) {
      parts.push(text.slice(start, i));
      start = i + separator.length;
      i = start - 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** Whether the bracket opening at 0 closes exactly at the last character. */
function enclosesWhole(text: string): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === "\\") {
      i++;
      continue;
    }
    if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") {
      depth--;
      if (depth === 0) return i === text.length - 1;
    }
  }
  return false;
}

const MATRIX = /^\\begin\{([pbvBV]?matrix|array)\}(?:\{[^}]*\})?(.*)\\end\{\1\}$/s;

/** A `\pm` item of a set or list stands for its two values: `\{1\pm\sqrt{5},-2\}` has three. */
function flattenPlusMinus(items: readonly AnswerValue[]): AnswerValue[] {
  return items.flatMap((item) => (item.kind === "list" ? item.items : [item]));
}

/** Reads a normalised answer into its structure (file header, step 2). */
export function parseAnswer(normalized: string): AnswerValue {
  const text = normalized.trim();
  // A factor in front of a matrix multiplies every entry: 2\begin{pmatrix}1\\3\end{pmatrix}.
  const begin = text.indexOf("\\begin{");
  const factor = begin > 0 ? text.slice(0, begin).replace(/(?:\\cdot|\\times)$/, "") : undefined;
  const matrix = MATRIX.exec(begin > 0 && factor !== undefined && parseExpression(factor) !== undefined ? text.slice(begin) : text);
  if (matrix !== null) {
    const scale = begin > 0 ? factor : undefined;
    const rows = (matrix[2] as string)
      .split(/\\\\/)
      .map((row) => row.trim())
      .filter((row) => row.length > 0)
      .map((row) => row.split("&").map((cell): AnswerValue => (scale === undefined ? parseAnswer(cell) : { kind: "scalar", text: `(${scale})(${cell.trim()})` })));
    return { kind: "matrix", rows };
  }
  const union = splitTopLevel(text, "\\cup");
  if (union.length > 1) return { kind: "union", items: union.map((part) => parseAnswer(part.trim())) };
  if (text.startsWith("\\{") && text.endsWith("\\}")) {
    const inner = text.slice(2, -2);
    if (splitTopLevel(inner, "\\}").length === 1) {
      return { kind: "set", items: inner.trim() === "" ? [] : flattenPlusMinus(splitTopLevel(inner, ",").map((item) => parseAnswer(stripAssignment(item.trim())))) };
    }
  }
  const first = text[0];
  const last = text[text.length - 1];
  if ((first === "(" || first === "[") && (last === ")" || last === "]") && enclosesWhole(text)) {
    const items = splitTopLevel(text.slice(1, -1), ",");
    if (items.length > 1) {
      return { kind: "sequence", open: first, close: last, items: items.map((item) => parseAnswer(item.trim())) };
    }
    if (first === "(" && last === ")") return parseAnswer(text.slice(1, -1));
  }
  const list = splitTopLevel(text, ",");
  if (list.length > 1) return { kind: "list", items: flattenPlusMinus(list.map((item) => parseAnswer(stripAssignment(item.trim())))) };
  // One ± stands for two answers: 1\pm\sqrt{2} = 1+\sqrt{2}, 1-\sqrt{2}.
  const plusMinus = splitTopLevel(text, "\\pm");
  if (plusMinus.length === 2) {
    const [before, after] = plusMinus as [string, string];
    return { kind: "list", items: [{ kind: "scalar", text: `${before}+${after}` }, { kind: "scalar", text: `${before}-${after}` }] };
  }
  // e-notation also inside brackets, `\left(1e-3\right)`, and once spaces are gone, `1e- 8`.
  return { kind: "scalar", text: text.replace(E_NOTATION, "$1\\times10^{$2}") };
}

const E_NOTATION = /^([-+]?\d+(?:\.\d+)?)[eE]([-+]?\d+)$/;

// ---------------------------------------------------------------------------------------------
// Comparison

/** Numeric equality within the stated tolerances; equal infinities are equal. */
export function numbersClose(a: number, b: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return false;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return a === b;
  if (a === 0 || b === 0) return Math.abs(a - b) <= ABSOLUTE_TOLERANCE;
  return Math.abs(a - b) <= RELATIVE_TOLERANCE * Math.max(Math.abs(a), Math.abs(b));
}

/** Positive, distinct, unremarkable values; variable j at point p gets VALUES[(3p + 7j) mod 10]. */
const VALUES = [0.5772, 1.4142, 2.7183, 0.3679, 1.7321, 3.1416, 0.6931, 2.2361, 1.618, 0.866];
const POINTS = 5;

function expressionsEqual(a: Expression, b: Expression): boolean {
  const names = [...new Set([...a.variables, ...b.variables])].sort();
  if (names.length > VALUES.length) return false;
  let compared = 0;
  for (let p = 0; p < POINTS; p++) {
    const values = new Map(names.map((name, j) => [name, VALUES[(3 * p + 7 * j) % VALUES.length] as number]));
    const x = a.evaluate(values);
    const y = b.evaluate(values);
    if (Number.isNaN(x) && Number.isNaN(y)) continue; // outside both domains at this point
    if (!numbersClose(x, y)) return false;
    compared++;
  }
  return compared > 0;
}

const WORDS = /^[A-Za-z][A-Za-z ]*$/;

/** Parsed scalars, memoised: list comparisons read the same items many times. */
const parsed = new Map<string, Expression | undefined>();
const MAX_MEMO = 4096;

function readExpression(text: string): Expression | undefined {
  if (parsed.has(text)) return parsed.get(text);
  const expression = parseExpression(text);
  if (parsed.size >= MAX_MEMO) parsed.clear();
  parsed.set(text, expression);
  return expression;
}

function scalarsEqual(pred: string, ref: string): boolean {
  if (pred === ref) return true;
  if (pred.length === 0 || ref.length === 0) return false;
  if (WORDS.test(pred) && WORDS.test(ref) && (pred.length > 1 || ref.length > 1)) {
    return pred.toLowerCase() === ref.toLowerCase();
  }
  const a = readExpression(pred);
  const b = readExpression(ref);
  if (a !== undefined && b !== undefined) {
    // Overflowing values (200!) are unreadable, not equal; written infinities are.
    const constant = a.variables.size === 0 && b.variables.size === 0;
    if (constant) {
      const x = a.evaluate(new Map());
      const y = b.evaluate(new Map());
      if ((!Number.isFinite(x) || !Number.isFinite(y)) && !(pred.includes("\\infty") && ref.includes("\\infty"))) return false;
      return numbersClose(x, y);
    }
    return expressionsEqual(a, b);
  }
  const base = baseNumeralsEqual(pred, ref);
  if (base !== undefined) return base;
  const predSides = splitTopLevel(pred, "=");
  const refSides = splitTopLevel(ref, "=");
  if (predSides.length === 2 && refSides.length === 2) {
    const [p0, p1] = predSides as [string, string];
    const [r0, r1] = refSides as [string, string];
    if ((scalarsEqual(p0, r0) && scalarsEqual(p1, r1)) || (scalarsEqual(p0, r1) && scalarsEqual(p1, r0))) return true;
    return equationsProportional(p0, p1, r0, r1);
  }
  return false;
}

const BASE_NUMERAL = /^(\d+)_\{(\d+)\}$/;

/**
 * Base-n numerals: `52_{8}` = `52_{8}`; a bare digit string equals a numeral with the same digits
 * (the question gave the base: `4210` = `4210_{5}`); different bases or digits differ. Undefined
 * when neither side is a base-n numeral.
 */
function baseNumeralsEqual(pred: string, ref: string): boolean | undefined {
  const p = BASE_NUMERAL.exec(pred);
  const r = BASE_NUMERAL.exec(ref);
  if (p === null && r === null) return undefined;
  const digits = (m: RegExpExecArray | null, s: string): string | undefined => (m !== null ? m[1] : /^\d+$/.test(s) ? s : undefined);
  const a = digits(p, pred);
  const b = digits(r, ref);
  if (a === undefined || b === undefined) return false;
  return a === b && (p === null || r === null || p[2] === r[2]);
}

/**
 * Two equations with the same solutions because one is the other times a nonzero constant:
 * `-5x+7y-11z-4=0` = `5x-7y+11z+4=0`, `2y=4x+6` = `y=2x+3`. Checked as (l - r) of one being a
 * constant multiple of (l - r) of the other at the fixed sample points.
 */
function equationsProportional(p0: string, p1: string, r0: string, r1: string): boolean {
  const sides = [p0, p1, r0, r1].map((side) => readExpression(side));
  if (sides.some((side) => side === undefined)) return false;
  const [a0, a1, b0, b1] = sides as [Expression, Expression, Expression, Expression];
  const names = [...new Set([...a0.variables, ...a1.variables, ...b0.variables, ...b1.variables])].sort();
  if (names.length === 0 || names.length > VALUES.length) return false;
  let ratio: number | undefined;
  for (let p = 0; p < POINTS; p++) {
    const values = new Map(names.map((name, j) => [name, VALUES[(3 * p + 7 * j) % VALUES.length] as number]));
    const u = a0.evaluate(values) - a1.evaluate(values);
    const v = b0.evaluate(values) - b1.evaluate(values);
    if (!Number.isFinite(u) || !Number.isFinite(v)) return false;
    if (numbersClose(u, 0) || numbersClose(v, 0)) {
      if (!(numbersClose(u, 0) && numbersClose(v, 0))) return false;
      continue;
    }
    const k = u / v;
    if (ratio === undefined) ratio = k;
    else if (!numbersClose(k, ratio)) return false;
  }
  return ratio !== undefined;
}

/** Items left after exact matching beyond which no tolerant matching is tried (it is quadratic). */
const MAX_FUZZY_ITEMS = 64;

/**
 * Each reference item matched by a distinct prediction item: identical items first (by their
 * structure), then the rest greedily by `valuesEqual`, for at most `MAX_FUZZY_ITEMS` leftovers.
 */
function multisetEqual(pred: readonly AnswerValue[], ref: readonly AnswerValue[]): boolean {
  if (pred.length !== ref.length) return false;
  const unmatched = new Map<string, AnswerValue[]>();
  for (const p of pred) {
    const key = JSON.stringify(p);
    const bucket = unmatched.get(key);
    if (bucket === undefined) unmatched.set(key, [p]);
    else bucket.push(p);
  }
  const refLeft: AnswerValue[] = [];
  for (const r of ref) {
    const bucket = unmatched.get(JSON.stringify(r));
    if (bucket !== undefined && bucket.length > 0) bucket.pop();
    else refLeft.push(r);
  }
  if (refLeft.length === 0) return true;
  if (refLeft.length > MAX_FUZZY_ITEMS) return false;
  const predLeft = [...unmatched.values()].flat();
  const used = new Array<boolean>(predLeft.length).fill(false);
  for (const r of refLeft) {
    const j = predLeft.findIndex((p, k) => !used[k] && valuesEqual(p, r));
    if (j < 0) return false;
    used[j] = true;
  }
  return true;
}

function pairwiseEqual(pred: readonly AnswerValue[], ref: readonly AnswerValue[]): boolean {
  return pred.length === ref.length && pred.every((p, k) => valuesEqual(p, ref[k] as AnswerValue));
}

/** Structural equality (file header, steps 3 and 4). */
export function valuesEqual(pred: AnswerValue, ref: AnswerValue): boolean {
  switch (ref.kind) {
    case "scalar":
      // A one-element set states its element: \{13\} = 13.
      if (pred.kind === "set" && pred.items.length === 1) return valuesEqual(pred.items[0] as AnswerValue, ref);
      return pred.kind === "scalar" && scalarsEqual(pred.text, ref.text);
    case "list":
    case "set":
      if (ref.kind === "set" && ref.items.length === 1 && pred.kind === "scalar") return valuesEqual(pred, ref.items[0] as AnswerValue);
      // A set answered as a bare list (or the other way round) still lists the same values.
      return (pred.kind === "list" || pred.kind === "set") && multisetEqual(pred.items, ref.items);
    case "union":
      return pred.kind === "union" && multisetEqual(pred.items, ref.items);
    case "sequence":
      return pred.kind === "sequence" && pred.open === ref.open && pred.close === ref.close && pairwiseEqual(pred.items, ref.items);
    case "matrix":
      return (
        pred.kind === "matrix" &&
        pred.rows.length === ref.rows.length &&
        pred.rows.every((row, k) => pairwiseEqual(row, ref.rows[k] as readonly AnswerValue[]))
      );
  }
}

/** Which grader: spiral's own (`strict`, the default) or the Qwen2.5-Math harness's (`reference`). */
export type GraderName = "strict" | "reference";
export const GRADERS: readonly GraderName[] = ["strict", "reference"];

export interface GradeOptions {
  /** Default "strict". */
  readonly grader?: GraderName;
  /**
   * The set the reference belongs to (math500, minerva_math, olympiadbench, aime24, …): the
   * reference grader treats some sets differently (minerva_math keeps unit words). Strict ignores it.
   */
  readonly dataset?: string;
}

/** Whether `prediction` states the same answer as `reference`. Never throws. */
export function isEquivalent(prediction: string | undefined, reference: string, options: GradeOptions = {}): boolean {
  if (options.grader === "reference") {
    return typeof prediction === "string" && typeof reference === "string" && isEquivalentReference(prediction, reference, options.dataset);
  }
  try {
    if (typeof prediction !== "string" || typeof reference !== "string") return false;
    if (prediction.trim().length === 0) return false;
    if (prediction.length > MAX_ANSWER_LENGTH) return false;
    const pred = normalizeAnswer(prediction);
    const ref = normalizeAnswer(reference);
    if (pred === ref) return pred.length > 0;
    return valuesEqual(parseAnswer(pred), parseAnswer(ref));
  } catch {
    // Defensive: the steps above are written not to throw; a bug must not end a benchmark run.
    return false;
  }
}

/**
 * Where a reply's answer was found. Strict: `boxed` (the last `\boxed{}`), else one of the
 * fallbacks `boxed-unbraced` (`\boxed 5`), `answer-is` ("the answer is …"), `final-answer`
 * ("Final answer: …"), else `none`. The reference grader adds the harness's own: `minerva`
 * ("final answer is $…$. I hope") and `last-number` (the last number in the reply).
 */
export type Extraction = "boxed" | "boxed-unbraced" | "answer-is" | "final-answer" | ReferenceExtraction;

export interface ReplyGrade {
  readonly correct: boolean;
  /** The answer read from the reply (the reference grader's after its clean-up); undefined when none. */
  readonly prediction: string | undefined;
  readonly extraction: Extraction;
}

/** Longest tail of a reply searched for a fallback answer phrase. */
const FALLBACK_WINDOW = 4000;
const UNBRACED_BOX = /\\boxed\s+([^\s$]+?)\s*(?:\$|\.?\s*$|\.\s|,|\n)/g;
const ANSWER_PHRASES: readonly (readonly [RegExp, Extraction])[] = [
  [/\bthe (?:final )?answer is:?\s*([^\n]+)/gi, "answer-is"],
  [/\bfinal answer\s*(?::|is\b)\s*([^\n]+)/gi, "final-answer"],
];

/** An answer phrase's text without the sentence's end and math delimiters: "$5$." → "5". */
function cleanPhrase(text: string): string {
  let s = text.trim();
  s = s.replace(/^\*\*|\*\*$/g, "").trim();
  const math = /^(\$\$?|\\\(|\\\[)(.+?)(\$\$?|\\\)|\\\])/.exec(s);
  if (math !== null) return (math[2] as string).trim();
  return s.replace(/[.。]\s*$/, "").trim();
}

/**
 * The strict grader's answer extraction: the last `\boxed{}`; without one, the last of `\boxed 5`,
 * "the answer is …", "final answer: …" (searched in the reply's last 4,000 characters).
 */
export function extractAnswer(reply: string): { prediction: string | undefined; extraction: Extraction } {
  if (typeof reply !== "string") return { prediction: undefined, extraction: "none" };
  const boxed = lastBoxed(reply);
  if (boxed !== undefined) return { prediction: boxed, extraction: "boxed" };
  const tail = reply.slice(-FALLBACK_WINDOW);
  let best: { at: number; prediction: string; extraction: Extraction } | undefined;
  const consider = (at: number, prediction: string, extraction: Extraction): void => {
    if (prediction.length > 0 && (best === undefined || at > best.at)) best = { at, prediction, extraction };
  };
  for (const m of tail.matchAll(UNBRACED_BOX)) consider(m.index, m[1] as string, "boxed-unbraced");
  for (const [pattern, extraction] of ANSWER_PHRASES) {
    for (const m of tail.matchAll(pattern)) consider(m.index, cleanPhrase(m[1] as string), extraction);
  }
  return best === undefined ? { prediction: undefined, extraction: "none" } : { prediction: best.prediction, extraction: best.extraction };
}

/** The verdict on a whole reply (strict: its last `\boxed{}`, or a fallback) against the reference. */
export function gradeReply(reply: string, reference: string, options: GradeOptions = {}): ReplyGrade {
  if (options.grader === "reference") {
    const g = gradeReplyReference(reply, reference, options.dataset);
    return { correct: g.correct, prediction: g.extraction === "none" && g.prediction === "" ? undefined : g.prediction, extraction: g.extraction };
  }
  const { prediction, extraction } = extractAnswer(reply);
  return { correct: isEquivalent(prediction, reference), prediction, extraction };
}

export { lastBoxed };
