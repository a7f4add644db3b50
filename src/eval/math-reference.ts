/**
 * The reference-compatible grader: a rule-by-rule re-implementation of the Qwen2.5-Math
 * evaluation harness that SPIRAL's published math numbers come from (its `parser.py`
 * `extract_answer` / `strip_string` / `parse_ground_truth` and `grader.py` `math_equal`), quirks
 * included, so that `{ grader: "reference" }` reproduces published numbers. It is lenient where
 * the harness is lenient (an answer 100× or 1/100 of the reference counts as a "percentage"; a
 * relative tolerance of 1e-4; interval brackets ignored; unit words deleted even when they are
 * the answer). The strict grader (`math-grade.ts`) is the one to measure real progress with.
 *
 * Each rule is documented with the harness's behaviour in docs/eval.md ("The reference grader").
 * Where the harness calls sympy (`symbolic_equal`: `parse_latex`, then `parse_expr`, then
 * latex2sympy; equality by structure, `simplify(a - b) == 0`, or numerically within 1e-4), this
 * file uses the project's expression reader (`math-expr.ts`): constants by value within the
 * harness's tolerance, expressions with variables at fixed sample points. The measured agreement
 * with the real harness and the remaining differences are in docs/eval.md.
 *
 * Invariants: never throws; deterministic; every function is a pure function of its arguments.
 * Not symmetric, as the harness is not: its bracket rule depends on which side has which
 * brackets, and `y=2x+3` against `2x+3` takes a different path from the reverse.
 */
import { parseExpressionPrefix, type Expression } from "./math-expr.js";

/** Sets whose answers the harness keeps units in (`STRIP_EXCEPTIONS`). */
const SKIP_UNIT_SETS = new Set(["carp_en", "minerva_math"]);
/** Sets whose reference answer the harness extracts from a worked solution's box. */
const SOLUTION_SETS = new Set(["math", "minerva_math", "math500"]);

/** `isclose(a, b, rel_tol=1e-4)`: the harness's numeric equality. */
export const REFERENCE_RELATIVE_TOLERANCE = 1e-4;

/** Where the harness found the answer in a reply. */
export type ReferenceExtraction = "minerva" | "boxed" | "answer-is" | "final-answer" | "last-number" | "none";

// ---------------------------------------------------------------------------------------------
// strip_string

/** `unit_texts` of parser.py (mostly MathQA units), in its order; each is also tried plural. */
const UNIT_TEXTS_BASE = [
  "east", "degree", "mph", "kmph", "ft", "m sqaure", " m east", "sq m", "deg", "mile", "q .", "monkey", "prime", "ratio",
  "profit of rs", "rd", "o", "gm", "p . m", "lb", "tile", "per", "dm", "lt", "gain", "ab", "way", "west", "a .", "b .",
  "c .", "d .", "e .", "f .", "g .", "h .", "t", "a", "h", "no change", "men", "soldier", "pie", "bc", "excess", "st",
  "inches", "noon", "percent", "by", "gal", "kmh", "c", "acre", "rise", "a . m", "th", "π r 2", "sq", "mark", "l", "toy",
  "coin", "sq . m", "gallon", "° f", "profit", "minw", "yr", "women", "feet", "am", "pm", "hr", "cu cm", "square",
  "v â € ™", "are", "rupee", "rounds", "cubic", "cc", "mtr", "s", "ohm", "number", "kmph", "day", "hour", "minute", "min",
  "second", "man", "woman", "sec", "cube", "mt", "sq inch", "mp", "∏ cm ³", "hectare", "more", "sec", "unit", "cu . m",
  "cm 2", "rs .", "rs", "kg", "g", "month", "km", "m", "cm", "mm", "apple", "liter", "loss", "yard", "pure", "year",
  "increase", "decrease", "d", "less", "Surface", "litre", "pi sq m", "s .", "metre", "meter", "inch",
];
const UNIT_TEXTS = [...UNIT_TEXTS_BASE, ...UNIT_TEXTS_BASE.map((t) => `${t}s`)];

// Python's `\W` on str patterns is Unicode-aware; so is this one. Unit texts are used as regex
// source exactly as the harness does (its "q ." matches "q" + space + any character).
const NON_WORD = "[^\\p{L}\\p{N}_]";
const UNIT_PATTERNS = UNIT_TEXTS.map((t) => new RegExp(`(^|${NON_WORD})${t}($|${NON_WORD})`, "gu"));

/** `w2n.word_to_num` (word2number 1.1): number words → a number; undefined where it raises. */
const NUMBER_WORDS: Readonly<Record<string, number>> = {
  zero: 0, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10, eleven: 11,
  twelve: 12, thirteen: 13, fourteen: 14, fifteen: 15, sixteen: 16, seventeen: 17, eighteen: 18, nineteen: 19,
  twenty: 20, thirty: 30, forty: 40, fifty: 50, sixty: 60, seventy: 70, eighty: 80, ninety: 90, hundred: 100,
  thousand: 1000, million: 1_000_000, billion: 1_000_000_000,
};
const DECIMAL_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];

function numberFormation(words: readonly string[]): number {
  const n = words.map((w) => NUMBER_WORDS[w] as number);
  if (n.length === 0) throw new Error("no words"); // Python: IndexError
  const [a, b, c, d] = n as [number, number, number, number];
  if (n.length === 4) return a * b + c + d;
  if (n.length === 3) return a * b + c;
  if (n.length === 2) return n.includes(100) ? a * b : a + b;
  return a;
}

function wordToNumber(sentence: string): string | undefined {
  const s = sentence.replace(/-/g, " ").toLowerCase();
  if (/^[0-9]+$/.test(s)) return BigInt(s).toString(); // isdigit → int(): "025" → 25
  const words = s.trim().split(/\s+/).filter((w) => w in NUMBER_WORDS || w === "point");
  if (words.length === 0) return undefined;
  const count = (w: string): number => words.filter((x) => x === w).length;
  if (count("thousand") > 1 || count("million") > 1 || count("billion") > 1 || count("point") > 1) return undefined;
  let clean = words;
  let decimals: string[] = [];
  if (count("point") === 1) {
    decimals = clean.slice(clean.indexOf("point") + 1);
    clean = clean.slice(0, clean.indexOf("point"));
  }
  const bi = clean.indexOf("billion");
  const mi = clean.indexOf("million");
  const th = clean.indexOf("thousand");
  if ((th > -1 && (th < mi || th < bi)) || (mi > -1 && mi < bi)) return undefined;
  try {
    let total = 0;
    if (clean.length === 1) total += NUMBER_WORDS[clean[0] as string] as number;
    else if (clean.length > 1) {
      if (bi > -1) total += numberFormation(clean.slice(0, bi)) * 1e9;
      if (mi > -1) total += numberFormation(clean.slice(bi > -1 ? bi + 1 : 0, mi)) * 1e6;
      if (th > -1) total += numberFormation(clean.slice(mi > -1 ? mi + 1 : bi > -1 ? bi + 1 : 0, th)) * 1000;
      if (th > -1 && th !== clean.length - 1) total += numberFormation(clean.slice(th + 1));
      else if (mi > -1 && mi !== clean.length - 1) total += numberFormation(clean.slice(mi + 1));
      else if (bi > -1 && bi !== clean.length - 1) total += numberFormation(clean.slice(bi + 1));
      else if (th === -1 && mi === -1 && bi === -1) total += numberFormation(clean);
    }
    if (decimals.length > 0) {
      if (decimals.some((w) => !DECIMAL_WORDS.includes(w))) return String(total); // get_decimal_sum returns int 0
      return pythonFloatString(total + Number(`0.${decimals.map((w) => NUMBER_WORDS[w]).join("")}`));
    }
    return String(total);
  } catch {
    return undefined;
  }
}

/** Python's `str(float)` for the values word numbers produce. */
function pythonFloatString(x: number): string {
  return Number.isInteger(x) ? `${x}.0` : String(x);
}

/** parser.py `_fix_fracs`: `\frac12` → `\frac{1}{2}`, `\frac1{72}` → `\frac{1}{72}`. */
function fixFracs(text: string): string {
  const parts = text.split("\\frac");
  let out = parts[0] as string;
  for (const part of parts.slice(1)) {
    out += "\\frac";
    if (part.length > 0 && part[0] === "{") {
      out += part;
      continue;
    }
    if (part.length < 2) return text;
    const a = part[0] as string;
    const b = part[1] as string;
    out += b !== "{" ? `{${a}}{${b}}${part.slice(2)}` : `{${a}}${b}${part.slice(2)}`;
  }
  return out;
}

/** Python's `int(s)` for a string, when it accepts it. */
function pythonInt(s: string): bigint | undefined {
  const t = s.trim();
  if (!/^[+-]?\d+(?:_\d+)*$/.test(t)) return undefined;
  return BigInt(t.replace(/_/g, ""));
}

/** parser.py `_fix_a_slash_b`: `3/4` → `\frac{3}{4}` when both sides are plain integers. */
function fixSlash(text: string): string {
  const parts = text.split("/");
  if (parts.length !== 2) return text;
  const [a, b] = parts as [string, string];
  const x = a.includes("sqrt") ? a : pythonInt(a)?.toString();
  const y = b.includes("sqrt") ? b : pythonInt(b)?.toString();
  if (x === undefined || y === undefined || text !== `${x}/${y}`) return text;
  return `\\frac{${x}}{${y}}`;
}

/** parser.py `strip_string`, step by step (docs/eval.md lists each step). */
export function harnessStripString(input: string, skipUnit = false): string {
  let s = pyStrip(String(input)).replace(/\n/g, "");
  s = s.replace(/\.+$/, "");
  s = s.split("\\!").join("");
  s = s.replace(/\\begin\{array\}\{.*?\}/g, "\\begin{pmatrix}").replace(/\\end\{array\}/g, "\\end{pmatrix}");
  s = s.split("bmatrix").join("pmatrix");
  s = s.split("tfrac").join("frac").split("dfrac").join("frac");
  s = s.split("\\neq").join("\\ne").split("\\leq").join("\\le").split("\\geq").join("\\ge");
  s = s.split("\\left").join("").split("\\right").join("");
  s = s.split("\\{").join("{").split("\\}").join("}");
  // A trailing \text{…} is a unit, unless it is all there is.
  const withoutText = pyStrip(s.replace(/\\text\{.*?\}$/, ""));
  if (withoutText !== "" && withoutText !== s) s = withoutText;
  if (!skipUnit) {
    for (let round = 0; round < 2; round++) {
      for (const pattern of UNIT_PATTERNS) {
        const next = s.replace(pattern, "$1$2");
        if (next !== "") s = next;
      }
    }
  }
  s = s.split("^{\\circ}").join("").split("^\\circ").join("");
  s = s.split("\\$").join("").split("$").join("");
  s = s.split("\\(").join("").split("\\)").join("");
  s = wordToNumber(s) ?? s;
  s = s.replace(/\\text\{(.*?)\}/g, "$1");
  for (const key of ["x=", "y=", "z=", "x\\in", "y\\in", "z\\in", "x\\to", "y\\to", "z\\to"]) s = s.split(key).join("");
  s = s.split("\\emptyset").join("{}");
  s = s.split("(-\\infty,\\infty)").join("\\mathbb{R}");
  s = s.split("\\%").join("").split("%").join("");
  s = s.split(" .").join(" 0.").split("{.").join("{0.");
  s = s.split("infinity").join("\\infty");
  if (!s.includes("\\infty")) s = s.split("inf").join("\\infty");
  s = s.split("+\\inity").join("\\infty");
  s = s.split("and").join("");
  s = s.split("\\mathbf").join("");
  s = s.replace(/\\mbox\{.*?\}/g, "");
  if (s.includes("j") && !s.includes("i")) s = s.split("j").join("i");
  s = s.replace(/(\d+)\.0*([^\d])/g, "$1$2").replace(/(\d+)\.0*$/, "$1");
  if (s.length === 0) return s;
  if (s[0] === ".") s = `0${s}`;
  const sides = s.split("=");
  if (sides.length === 2 && (sides[0] as string).length <= 2) s = sides[1] as string;
  s = s.replace(/\\sqrt([\p{L}\p{N}_]+)/gu, "\\sqrt{$1}");
  s = s.split(" ").join("");
  s = fixFracs(s);
  return fixSlash(s);
}

/** Python's `str.strip()` (whitespace). */
function pyStrip(s: string): string {
  return s.replace(/^\s+|\s+$/g, "");
}

// ---------------------------------------------------------------------------------------------
// extract_answer, parse_ground_truth

/** parser.py `extract_answer` for the math sets (not the multiple-choice ones). */
export function harnessExtractAnswer(reply: string, dataset = ""): { answer: string; extraction: ReferenceExtraction } {
  const text = String(reply).split("\u043a\u0438").join("");
  let pred: string;
  let extraction: ReferenceExtraction;
  if (text.includes("final answer is $") && text.includes("$. I hope")) {
    pred = pyStrip((text.split("final answer is $").slice(1).join("final answer is $").split("$. I hope")[0] as string));
    extraction = "minerva";
  } else if (text.includes("boxed")) {
    const after = text.split("boxed").at(-1) as string;
    if (after.length === 0) return { answer: "", extraction: "boxed" };
    pred = after[0] === "{" ? braceMatched(after) : pyStrip(after.split("$")[0] as string);
    extraction = "boxed";
  } else if (text.includes("he answer is")) {
    pred = pyStrip(text.split("he answer is").at(-1) as string);
    extraction = "answer-is";
  } else if (text.includes("final answer is")) {
    pred = pyStrip(text.split("final answer is").at(-1) as string);
    extraction = "final-answer";
  } else if (text.includes("答案是")) {
    pred = pyStrip(pyStrip(text.split("答案是")[1] as string).split("\n\n")[0] as string);
    extraction = "answer-is";
  } else {
    const numbers = text.replace(/,/g, "").match(/-?\d*\.?\d+/g);
    pred = numbers === null ? "" : (numbers.at(-1) as string);
    extraction = numbers === null ? "none" : "last-number";
  }
  pred = pred.replace(/\n\s*/g, "");
  if (pred.startsWith(":")) pred = pred.slice(1);
  if (pred.endsWith(".")) pred = pred.slice(0, -1);
  if (pred.endsWith("/")) pred = pred.slice(0, -1);
  return { answer: harnessStripString(pred, SKIP_UNIT_SETS.has(dataset)), extraction };
}

/** The harness's box reader: after the opening brace, up to the brace that closes it (or the end). */
export function braceMatched(after: string): string {
  let depth = 1;
  let out = "";
  for (const c of after.slice(1)) {
    if (c === "{") depth++;
    else if (c === "}" && --depth === 0) break;
    out += c;
  }
  return out;
}

/**
 * parser.py `parse_ground_truth` on a reference answer: for math500/minerva the harness reads the
 * box of the worked solution (`raw` is that box's content); olympiadbench's `raw` is
 * `final_answer[0]`, whose `$` it strips.
 */
export function harnessGroundTruth(raw: string, dataset = ""): string {
  let gt = String(raw);
  if (SOLUTION_SETS.has(dataset)) gt = harnessExtractAnswer(`\\boxed{${gt}}`, dataset).answer;
  else if (dataset === "olympiadbench") gt = gt.replace(/^\$+|\$+$/g, "");
  if (!SKIP_UNIT_SETS.has(dataset)) return harnessStripString(gt, dataset === "carp_en");
  return gt.split("\\neq").join("\\ne").split("\\leq").join("\\le").split("\\geq").join("\\ge");
}

/**
 * The prediction as math_eval.py hands it to `math_equal`: `extract_answer`, `strip_string` once
 * more (`run_execute`), and the choice-letter fix-ups.
 */
export function harnessPrediction(reply: string, groundTruth: string, dataset = ""): { answer: string; extraction: ReferenceExtraction } {
  const extracted = harnessExtractAnswer(reply, dataset);
  let answer = harnessStripString(extracted.answer, SKIP_UNIT_SETS.has(dataset));
  const letters = ["A", "B", "C", "D", "E"];
  if (letters.includes(groundTruth) && !letters.includes(answer)) answer = choiceClean(String(reply));
  else if ([...groundTruth].every((c) => letters.includes(c)) && ![...answer].every((c) => letters.includes(c))) {
    answer = [...answer].filter((c) => letters.includes(c)).join("");
  }
  return { answer, extraction: extracted.extraction };
}

/** parser.py `choice_answer_clean` (with its "answer is" split). */
function choiceClean(reply: string): string {
  let pred = reply.replace(/^\n+|\n+$/g, "");
  const triggers = ["choice is", "answer is"];
  if (triggers.some((t) => pred.split(t).length - 1 > 1)) pred = pred.split("\n\n")[0] as string;
  const parts = pred.split(/choice is|answer is/);
  const flagged = parts.length > 1;
  if (flagged) pred = parts.at(-1) as string;
  return pickChoice(pred, flagged);
}

/** The letter-picking tail shared by parser.py's and grader.py's `choice_answer_clean`. */
function pickChoice(text: string, first: boolean): string {
  let pred = text.replace(/^\n+|\n+$/g, "").replace(/\.+$/, "").replace(/\/+$/, "").replace(/^ +| +$/g, "").replace(/^:+/, "");
  const letters = pred.toUpperCase().match(/\b[A-E]\b/g);
  const options = letters ?? [pyStrip(pred).replace(/^\.+|\.+$/g, "")];
  pred = (first ? options[0] : options.at(-1)) ?? "";
  return pred.replace(/\.+$/, "").replace(/\/+$/, "");
}

// ---------------------------------------------------------------------------------------------
// math_equal

/** Python's `float(s)`, or undefined where it raises. */
function pythonFloat(s: string): number | undefined {
  const t = pyStrip(s);
  if (/^[+-]?(?:inf|infinity|nan)$/i.test(t)) return Number(t.replace(/inf(inity)?/i, "Infinity").replace(/nan/i, "NaN"));
  const digits = "\\d(?:_?\\d)*";
  if (!new RegExp(`^[+-]?(?:${digits}(?:\\.(?:${digits})?)?|\\.${digits})(?:[eE][+-]?${digits})?$`).test(t)) return undefined;
  return Number(t.replace(/_/g, ""));
}

/** grader.py `parse_digits`: commas dropped, then a float, or a percentage. */
function parseDigits(s: string): number | undefined {
  let t = String(s).replace(/,/g, "");
  const x = pythonFloat(t);
  if (x !== undefined) return x;
  if (t.endsWith("%")) {
    t = t.slice(0, -1);
    if (t.endsWith("\\")) t = t.slice(0, -1);
    const y = pythonFloat(t);
    if (y !== undefined) return y / 100;
  }
  return undefined;
}

/** `math.isclose(a, b, rel_tol=1e-4)`. */
export function referenceClose(a: number, b: number): boolean {
  if (a === b) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  return Math.abs(a - b) <= REFERENCE_RELATIVE_TOLERANCE * Math.max(Math.abs(a), Math.abs(b));
}

/** grader.py `str_to_pmatrix`. */
function strToPmatrix(text: string): string {
  const found = pyStrip(text).match(/\{.*,.*\}/g) ?? [];
  return found.map((m) => `\\begin{pmatrix}${m.replace(/^[{}]+|[{}]+$/g, "").replace(/,/g, "\\")}\\end{pmatrix}`).join(", ");
}

const MATRIX_BEGIN = ["\\begin{pmatrix}", "\\begin{bmatrix}"];
const MATRIX_END = ["\\end{pmatrix}", "\\end{bmatrix}"];
const isMatrix = (s: string): boolean => MATRIX_BEGIN.some((b) => s.startsWith(b)) && MATRIX_END.some((e) => s.endsWith(e));
const countOf = (s: string, c: string): number => s.split(c).length - 1;
const stripChars = (s: string, chars: string): string => {
  let a = 0;
  let b = s.length;
  while (a < b && chars.includes(s[a] as string)) a++;
  while (b > a && chars.includes(s[b - 1] as string)) b--;
  return s.slice(a, b);
};

/** grader.py `math_equal(prediction, reference)` with its defaults (percentages, isclose). */
export function harnessMathEqual(prediction: string, reference: string, depth = 0): boolean {
  if (depth > 20) return false;
  if (pyStrip(prediction).toLowerCase() === pyStrip(reference).toLowerCase()) return true;
  if (["A", "B", "C", "D", "E"].includes(reference) && pickChoice(prediction, false) === reference) return true;

  const p = parseDigits(prediction);
  const r = parseDigits(reference);
  if (p !== undefined && r !== undefined) {
    // The percentage rule: the reference, or it read as a percentage either way.
    return [r / 100, r, r * 100].some((x) => referenceClose(p, x));
  }
  if (prediction === "") return false;

  let ref = pyStrip(reference);
  const pred = pyStrip(prediction);
  if (pred.includes("pmatrix") && !ref.includes("pmatrix")) ref = strToPmatrix(ref);

  // Brackets: stripped from the ends when the prediction is bracketed and the reference is not
  // bracketed the other way; then every ( ) { } is dropped and the texts compared.
  let predText = pred;
  let refText = ref;
  if ((pred.startsWith("[") && pred.endsWith("]") && !ref.startsWith("(")) || (pred.startsWith("(") && pred.endsWith(")") && !ref.startsWith("["))) {
    predText = stripChars(predText, "[]()");
    refText = stripChars(refText, "[]()");
  }
  predText = predText.replace(/[{}()]/g, "");
  refText = refText.replace(/[{}()]/g, "");
  if (predText.toLowerCase() === refText.toLowerCase()) return true;

  // Both bracketed: the comma-separated parts compared in order (any bracket types).
  const bracketed = /^[([].+[)\]]/;
  if (bracketed.test(pred) && bracketed.test(ref)) {
    const predParts = pred.slice(1, -1).split(",");
    const refParts = ref.slice(1, -1).split(",");
    if (predParts.length === refParts.length && predParts.every((x, i) => harnessMathEqual(x, refParts[i] as string, depth + 1))) return true;
  }

  if (isMatrix(pred) && isMatrix(ref) && matricesEqual(pred, ref, depth)) return true;

  if (countOf(pred, "=") === 1 && countOf(ref, "=") === 1) {
    const [pl, pr] = pred.split("=") as [string, string];
    const [rl, rr] = ref.split("=") as [string, string];
    const a = `${pyStrip(pl)} - (${pyStrip(pr)})`;
    const b = `${pyStrip(rl)} - (${pyStrip(rr)})`;
    if (symbolicEqual(a, b) || symbolicEqual(`-(${a})`, b)) return true;
  } else if (countOf(pred, "=") === 1 && pyStrip(pred.split("=")[0] as string).length <= 2 && !ref.includes("=")) {
    if (harnessMathEqual(pred.split("=")[1] as string, ref, depth + 1)) return true;
  } else if (countOf(ref, "=") === 1 && pyStrip(ref.split("=")[0] as string).length <= 2 && !pred.includes("=")) {
    if (harnessMathEqual(pred, ref.split("=")[1] as string, depth + 1)) return true;
  }

  return symbolicEqual(pred, ref);
}

function matrixRows(m: string): string[][] {
  const body = m.slice("\\begin{pmatrix}".length, m.length - "\\end{pmatrix}".length);
  return body
    .split("\\\\")
    .map((line) => pyStrip(line))
    .filter((line) => line.length > 0)
    .map((line) => line.split("&"));
}

function matricesEqual(pred: string, ref: string, depth: number): boolean {
  const a = matrixRows(pred);
  const b = matrixRows(ref);
  return a.length === b.length && a.every((row, i) => row.length === (b[i] as string[]).length && row.every((x, j) => harnessMathEqual(x, (b[i] as string[])[j] as string, depth + 1)));
}

// ---------------------------------------------------------------------------------------------
// symbolic_equal

/** Sample values for the variables of expressions compared as functions (sympy's simplify). */
const VALUES = [0.5772, 1.4142, 2.7183, 0.3679, 1.7321, 3.1416, 0.6931, 2.2361, 1.618, 0.866];
const POINTS = 5;

function readSymbolic(text: string): Expression | undefined {
  // sympy's parse_latex reads `\\` as `\`; thousands commas inside a number read as one number.
  const t = text.split("\\\\").join("\\").replace(/(\d),(?=\d{3}(?!\d))/g, "$1");
  return parseExpressionPrefix(t);
}

/** grader.py `symbolic_equal`, with sympy's equalities approximated by evaluation. */
function symbolicEqual(a: string, b: string): boolean {
  if (a === b) return true;
  // parse_latex reads `l=r` as an equation: equal to another one when |l - r| agree.
  const aSides = a.split("=");
  const bSides = b.split("=");
  if (aSides.length > 1 || bSides.length > 1) {
    if (aSides.length !== 2 || bSides.length !== 2) return false;
    return expressionsAgree(`|${aSides[0] as string}-(${aSides[1] as string})|`, `|${bSides[0] as string}-(${bSides[1] as string})|`);
  }
  return expressionsAgree(a, b);
}

function expressionsAgree(a: string, b: string): boolean {
  const x = readSymbolic(a);
  const y = readSymbolic(b);
  if (x === undefined || y === undefined) return false;
  const names = [...new Set([...x.variables, ...y.variables])].sort();
  if (names.length === 0) {
    const u = x.evaluate(new Map());
    const v = y.evaluate(new Map());
    if (Number.isNaN(u) || Number.isNaN(v)) return false;
    return referenceClose(u, v) || Math.abs(u - v) <= 1e-12;
  }
  if (names.length > VALUES.length) return false;
  let compared = 0;
  for (let p = 0; p < POINTS; p++) {
    const values = new Map(names.map((name, j) => [name, VALUES[(3 * p + 7 * j) % VALUES.length] as number]));
    const u = x.evaluate(values);
    const v = y.evaluate(values);
    if (Number.isNaN(u) && Number.isNaN(v)) continue;
    // simplify(a - b) == 0 is exact: only rounding error is forgiven here.
    if (!(Math.abs(u - v) <= 1e-9 * Math.max(1, Math.abs(u), Math.abs(v)))) return false;
    compared++;
  }
  return compared > 0;
}

// ---------------------------------------------------------------------------------------------
// Whole replies

export interface ReferenceGrade {
  readonly correct: boolean;
  /** The answer as the harness compares it (after extraction and `strip_string`). */
  readonly prediction: string;
  readonly extraction: ReferenceExtraction;
}

/** The harness's verdict on a reply against a reference answer of `dataset` (math500, …). */
export function gradeReplyReference(reply: string, reference: string, dataset = ""): ReferenceGrade {
  try {
    const gt = harnessGroundTruth(reference, dataset);
    const { answer, extraction } = harnessPrediction(typeof reply === "string" ? reply : "", gt, dataset);
    return { correct: harnessMathEqual(answer, gt), prediction: answer, extraction };
  } catch {
    // Defensive: a bug must not end a benchmark run.
    return { correct: false, prediction: "", extraction: "none" };
  }
}

/** The harness's `math_equal` on two answers, each first cleaned by `strip_string`. */
export function isEquivalentReference(prediction: string, reference: string, dataset = ""): boolean {
  try {
    const gt = harnessGroundTruth(reference, dataset);
    return harnessMathEqual(harnessPrediction(`\\boxed{${prediction}}`, gt, dataset).answer, gt);
  } catch {
    return false;
  }
}
