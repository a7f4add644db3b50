/**
 * A small LaTeX arithmetic reader for answer grading: `2\sqrt{3}`, `\frac{\pi}{6}`, `3x^2-1`,
 * `\log_2 8`, `5!` → a function of its variables that returns a number.
 *
 * What it reads: decimal numbers (`3`, `0.5`, `.5`); `+ - * /`, `\cdot`, `\times`, `\div`, implicit
 * multiplication (`2x`, `3\pi`, `2(x+1)`, but never two bare numbers side by side); `^` with a
 * group or a single token (TeX reads `x^23` as `x^2·3`, and so do we; likewise `\frac12` and
 * `\sqrt3`); `\frac`, `\binom`, `\sqrt[n]{…}`, `n!`, `|x|`, `\lfloor…\rfloor`, `\lceil…\rceil`,
 * brackets as parentheses; `\pi`, `\infty`; `\sin \cos \tan \sec
 * \csc \cot \arcsin \arccos \arctan \ln \log \log_b \exp`; variables (one Latin letter, or a Greek
 * command such as `\theta` or `\hbar`, each with an optional subscript: `x_1`, `a_{10}`; a letter
 * applied to a number, `f(2)`, is one opaque variable, not a product). `e` and `i` are
 * variables, not constants: two answers equal as polynomials in them are equal, nothing more.
 *
 * Invariants: never throws (unreadable input gives undefined); no recursion deeper than
 * `MAX_DEPTH` and no input longer than `MAX_LENGTH` characters, so adversarial text is cheap.
 */

/** Longest expression attempted; longer answers are compared as strings only. */
export const MAX_LENGTH = 2000;
const MAX_DEPTH = 200;

type Token =
  | { readonly kind: "number"; readonly text: string }
  | { readonly kind: "letter"; readonly text: string }
  | { readonly kind: "command"; readonly text: string }
  | { readonly kind: "symbol"; readonly text: string };

/** A readable expression: its variables and how to evaluate it at an assignment of them. */
export interface Expression {
  readonly variables: ReadonlySet<string>;
  evaluate(values: ReadonlyMap<string, number>): number;
}

type Eval = (values: ReadonlyMap<string, number>) => number;

const GREEK = new Set([
  "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta", "iota", "kappa",
  "lambda", "mu", "nu", "xi", "rho", "sigma", "tau", "upsilon", "phi", "varphi", "chi", "psi", "omega",
  "Gamma", "Delta", "Theta", "Lambda", "Xi", "Sigma", "Phi", "Psi", "Omega", "hbar", "ell",
]);

const FUNCTIONS: Readonly<Record<string, (x: number) => number>> = {
  sin: Math.sin,
  cos: Math.cos,
  tan: Math.tan,
  sec: (x) => 1 / Math.cos(x),
  csc: (x) => 1 / Math.sin(x),
  cot: (x) => 1 / Math.tan(x),
  arcsin: Math.asin,
  arccos: Math.acos,
  arctan: Math.atan,
  sinh: Math.sinh,
  cosh: Math.cosh,
  tanh: Math.tanh,
  ln: Math.log,
  log: Math.log10,
  exp: Math.exp,
};

/** Plain-letter function names written without a backslash (`sqrt(2)`, `log(8)`). */
const BARE_FUNCTIONS = ["arcsin", "arccos", "arctan", "sqrt", "sinh", "cosh", "tanh", "sin", "cos", "tan", "log", "exp", "ln"];

/** The tokens of `text`, or undefined at the first character it cannot read (with `prefix`: the tokens before it). */
function tokenize(text: string, prefix = false): Token[] | undefined {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (/[0-9.]/.test(c)) {
      const match = /^(?:\d+(?:\.\d*)?|\.\d+)/.exec(text.slice(i, i + 400));
      if (match === null) return prefix ? tokens : undefined;
      tokens.push({ kind: "number", text: match[0] });
      i += match[0].length;
    } else if (c === "\\") {
      const match = /^\\([A-Za-z]+|.)/.exec(text.slice(i, i + 64));
      if (match === null) return prefix ? tokens : undefined;
      tokens.push({ kind: "command", text: match[1] as string });
      i += match[0].length;
    } else if (/[A-Za-z]/.test(c)) {
      const bare = BARE_FUNCTIONS.find((name) => text.startsWith(name, i) && !/[A-Za-z]/.test(text[i + name.length] ?? ""));
      if (bare !== undefined) {
        tokens.push({ kind: "command", text: bare });
        i += bare.length;
      } else {
        tokens.push({ kind: "letter", text: c });
        i++;
      }
    } else if ("+-*/^_()[]{}!|,".includes(c)) {
      tokens.push({ kind: "symbol", text: c });
      i++;
    } else {
      return prefix ? tokens : undefined;
    }
  }
  return tokens;
}

/** Lanczos coefficients (g = 7, n = 9): Γ to about 15 significant digits. */
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

function gamma(x: number): number {
  if (x < 0.5) return Math.PI / (Math.sin(Math.PI * x) * gamma(1 - x));
  const z = x - 1;
  let a = LANCZOS[0] as number;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += (LANCZOS[i] as number) / (z + i);
  return Math.sqrt(2 * Math.PI) * Math.pow(t, z + 0.5) * Math.exp(-t) * a;
}

/**
 * n! — exact for integers up to 170; Γ(n + 1) between, so that expressions in a variable can be
 * compared at non-integer sample points (`\binom{2n}{n}` = `\frac{(2n)!}{(n!)^2}`).
 */
function factorial(n: number): number {
  if (Number.isInteger(n)) {
    if (n < 0 || n > 170) return Number.NaN;
    let result = 1;
    for (let k = 2; k <= n; k++) result *= k;
    return result;
  }
  return n > -1 && n < 170 ? gamma(n + 1) : Number.NaN;
}

/** C(n, k) — exact for integers, through Γ otherwise (see `factorial`). */
function binomial(n: number, k: number): number {
  if (Number.isInteger(n) && Number.isInteger(k)) {
    if (k < 0 || n < 0 || k > n) return Number.NaN;
    let result = 1;
    for (let j = 1; j <= k; j++) result = (result * (n - k + j)) / j;
    return Math.round(result);
  }
  return factorial(n) / (factorial(k) * factorial(n - k));
}

class ParseError extends Error {}

/** Commands with a syntactic role, never read as a symbol (see `Reader`'s `opaqueCommands`). */
const STRUCTURAL_COMMANDS = new Set([
  "rfloor", "rceil", "cdot", "times", "div", "le", "ge", "leq", "geq", "ne", "neq", "lt", "gt", "cup", "cap", "in", "to",
  "pm", "mp", "left", "right", "begin", "end", "frac", "dfrac", "tfrac", "binom", "sqrt", "text", "mathrm", "mathbf",
  "quad", "qquad", "circ", "infty", "pi", "approx", "equiv", "sim", "setminus", "mid", "colon", "ldots", "cdots", "dots",
]);

/** Recursive-descent reader over the token list; each method returns an evaluator. */
class Reader {
  private pos = 0;
  private depth = 0;
  readonly variables = new Set<string>();

  /**
   * @param opaqueCommands read as sympy's `parse_latex` does: an unknown `\name` is a symbol of
   *   that name (`\omegat`, `\geslant`; structural commands such as `\rceil`, `\le` stay
   *   unknown), a letter before `(` names a function (`u(t)`), and juxtaposition binds tighter
   *   than `*` and `/` (`1/3E` is 1/(3E)).
   */
  constructor(
    private readonly tokens: Token[],
    private readonly opaqueCommands = false,
  ) {}

  private isOpaque(name: string): boolean {
    return this.opaqueCommands && /^[A-Za-z]+$/.test(name) && !STRUCTURAL_COMMANDS.has(name) && !(name in FUNCTIONS);
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  private isSymbol(text: string): boolean {
    const token = this.peek();
    return token !== undefined && token.kind === "symbol" && token.text === text;
  }

  private expectSymbol(text: string): void {
    if (!this.isSymbol(text)) throw new ParseError(`expected ${text}`);
    this.pos++;
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) throw new ParseError("too deep");
  }

  atEnd(): boolean {
    return this.pos >= this.tokens.length;
  }

  /** The first token not read, if any. */
  stoppedAt(): Token | undefined {
    return this.peek();
  }

  expression(): Eval {
    this.enter();
    let left = this.term();
    for (;;) {
      if (this.isSymbol("+")) {
        this.pos++;
        const a = left;
        const b = this.term();
        left = (v) => a(v) + b(v);
      } else if (this.isSymbol("-")) {
        this.pos++;
        const a = left;
        const b = this.term();
        left = (v) => a(v) - b(v);
      } else {
        break;
      }
    }
    this.depth--;
    return left;
  }

  private term(): Eval {
    let left = this.unary();
    for (;;) {
      const token = this.peek();
      if (token === undefined) break;
      const isMul = (token.kind === "symbol" && token.text === "*") || (token.kind === "command" && (token.text === "cdot" || token.text === "times"));
      const isDiv = (token.kind === "symbol" && token.text === "/") || (token.kind === "command" && token.text === "div");
      const a = left;
      if (isMul || isDiv) {
        this.pos++;
        // sympy's grammar binds juxtaposition tighter than * and /: `1/3E` is 1/(3E) there.
        const b = this.opaqueCommands ? this.implicitProduct() : this.unary();
        left = isMul ? (v) => a(v) * b(v) : (v) => a(v) / b(v);
      } else if (this.startsPrimary(token)) {
        const previous = this.tokens[this.pos - 1];
        if (previous?.kind === "number" && token.kind === "number") throw new ParseError("two numbers side by side");
        const b = this.power();
        left = (v) => a(v) * b(v);
      } else {
        break;
      }
    }
    return left;
  }

  /** A factor and the factors written right after it (`3E`, `2x(y+1)`). */
  private implicitProduct(): Eval {
    let left = this.unary();
    for (let token = this.peek(); token !== undefined && this.startsPrimary(token); token = this.peek()) {
      const previous = this.tokens[this.pos - 1];
      if (previous?.kind === "number" && token.kind === "number") throw new ParseError("two numbers side by side");
      const a = left;
      const b = this.power();
      left = (v) => a(v) * b(v);
    }
    return left;
  }

  private startsPrimary(token: Token): boolean {
    if (token.kind === "number" || token.kind === "letter") return true;
    if (token.kind === "symbol") return token.text === "(" || token.text === "{";
    const name = token.text;
    return name in FUNCTIONS || GREEK.has(name) || ["frac", "binom", "sqrt", "pi", "infty", "lfloor", "lceil"].includes(name) || this.isOpaque(name);
  }

  private unary(): Eval {
    if (this.isSymbol("-")) {
      this.pos++;
      this.enter();
      const a = this.unary();
      this.depth--;
      return (v) => -a(v);
    }
    if (this.isSymbol("+")) {
      this.pos++;
      return this.unary();
    }
    return this.power();
  }

  private power(): Eval {
    const base = this.postfix();
    if (!this.isSymbol("^")) return base;
    this.pos++;
    this.enter();
    const exponent = this.isSymbol("-") || this.isSymbol("+") ? this.unary() : this.argument();
    this.depth--;
    return (v) => Math.pow(base(v), exponent(v));
  }

  private postfix(): Eval {
    let value = this.primary();
    while (this.isSymbol("!")) {
      this.pos++;
      const a = value;
      value = (v) => factorial(a(v));
    }
    return value;
  }

  /**
   * A TeX macro argument: a braced group, or a single token — and of a number only its first
   * digit (`\frac12` is ½, `x^23` is x²·3), the rest staying in the stream.
   */
  private argument(): Eval {
    const token = this.peek();
    if (token === undefined) throw new ParseError("missing argument");
    if (token.kind === "symbol" && token.text === "{") return this.group("{", "}");
    if (token.kind === "number" && token.text.length > 1) {
      const digit = Number(token.text[0]);
      if (Number.isNaN(digit)) throw new ParseError("bad argument");
      this.tokens[this.pos] = { kind: "number", text: token.text.slice(1) };
      return () => digit;
    }
    return this.primary();
  }

  private group(open: string, close: string): Eval {
    this.expectSymbol(open);
    const inner = this.expression();
    this.expectSymbol(close);
    return inner;
  }

  /** A subscript after a variable name: `_1`, `_{10}`, `_{ab}` → its text. */
  private subscript(): string {
    if (!this.isSymbol("_")) return "";
    this.pos++;
    const token = this.peek();
    if (token === undefined) throw new ParseError("missing subscript");
    if (token.kind === "symbol" && token.text === "{") {
      const parts: string[] = [];
      this.pos++;
      while (!this.isSymbol("}")) {
        const t = this.peek();
        if (t === undefined || parts.length > 20) throw new ParseError("bad subscript");
        parts.push(t.text);
        this.pos++;
      }
      this.pos++;
      return `_${parts.join("")}`;
    }
    this.pos++;
    return `_${token.text}`;
  }

  private variable(name: string): Eval {
    const full = name + this.subscript();
    this.variables.add(full);
    return (v) => v.get(full) ?? Number.NaN;
  }

  private primary(): Eval {
    this.enter();
    const value = this.primaryInner();
    this.depth--;
    return value;
  }

  private primaryInner(): Eval {
    const token = this.peek();
    if (token === undefined) throw new ParseError("unexpected end");
    if (token.kind === "number") {
      this.pos++;
      const n = Number(token.text);
      return () => n;
    }
    if (token.kind === "letter") {
      this.pos++;
      // `f(2)`, `I(0)`: a letter applied to a number is a function value, not a product.
      const [open, arg, close] = [this.tokens[this.pos], this.tokens[this.pos + 1], this.tokens[this.pos + 2]];
      if (open?.text === "(" && arg?.kind === "number" && close?.text === ")") {
        this.pos += 3;
        return this.variable(`${token.text}(${arg.text})`);
      }
      if (this.opaqueCommands && open?.kind === "symbol" && open.text === "(") return this.application(token.text);
      return this.variable(token.text);
    }
    if (token.kind === "symbol") {
      if (token.text === "(") return this.group("(", ")");
      if (token.text === "{") return this.group("{", "}");
      if (token.text === "[") return this.group("[", "]"); // inside a scalar, brackets only group
      if (token.text === "|") {
        const inner = this.group("|", "|");
        return (v) => Math.abs(inner(v));
      }
      throw new ParseError(`unexpected ${token.text}`);
    }
    this.pos++;
    const name = token.text;
    if (name === "frac" || name === "binom") {
      const a = this.argument();
      const b = this.argument();
      return name === "frac" ? (v) => a(v) / b(v) : (v) => binomial(a(v), b(v));
    }
    if (name === "sqrt") {
      let index: Eval = () => 2;
      if (this.isSymbol("[")) index = this.group("[", "]");
      const radicand = this.argument();
      return (v) => {
        const n = index(v);
        const x = radicand(v);
        // Odd roots of negatives are real: \sqrt[3]{-8} = -2.
        if (x < 0 && Number.isInteger(n) && n % 2 === 1) return -Math.pow(-x, 1 / n);
        return Math.pow(x, 1 / n);
      };
    }
    if (name === "lfloor" || name === "lceil") {
      const inner = this.expression();
      const close = this.peek();
      const closeName = name === "lfloor" ? "rfloor" : "rceil";
      if (close?.kind !== "command" || close.text !== closeName) throw new ParseError(`expected \\${closeName}`);
      this.pos++;
      return name === "lfloor" ? (v) => Math.floor(inner(v)) : (v) => Math.ceil(inner(v));
    }
    if (name === "pi") return () => Math.PI;
    if (name === "infty") return () => Number.POSITIVE_INFINITY;
    if (GREEK.has(name)) return this.variable(`\\${name}`);
    const fn = FUNCTIONS[name];
    if (fn !== undefined) return this.functionCall(name, fn);
    if (this.isOpaque(name)) return this.variable(`\\${name}`);
    throw new ParseError(`unknown command \\${name}`);
  }

  /**
   * sympy's reading of `f(…)`: the value of an unknown function, one opaque symbol per function
   * name and argument text (`u(t)`, `m(dv)`).
   */
  private application(name: string): Eval {
    const start = this.pos;
    let depth = 0;
    do {
      const t = this.peek();
      if (t === undefined) throw new ParseError("unclosed (");
      if (t.kind === "symbol" && t.text === "(") depth++;
      else if (t.kind === "symbol" && t.text === ")") depth--;
      this.pos++;
    } while (depth > 0);
    return this.variable(`${name}${this.tokens.slice(start, this.pos).map((t) => (t.kind === "command" ? `\\${t.text}` : t.text)).join("")}`);
  }

  /** `\sin x`, `\sin(x)`, `\sin^2 x`, `\log_2 8`. */
  private functionCall(name: string, fn: (x: number) => number): Eval {
    let base: Eval | undefined;
    if (name === "log" && this.isSymbol("_")) {
      this.pos++;
      base = this.argument();
    }
    let power: Eval | undefined;
    if (this.isSymbol("^")) {
      this.pos++;
      power = this.argument();
    }
    const arg = this.isSymbol("(") ? this.group("(", ")") : this.power();
    const logBase = base;
    const apply: Eval = logBase === undefined ? (v) => fn(arg(v)) : (v) => Math.log(arg(v)) / Math.log(logBase(v));
    const p = power;
    return p === undefined ? apply : (v) => Math.pow(apply(v), p(v));
  }
}

/**
 * Reads the longest expression `text` starts with, as sympy's `parse_latex` (sympy 1.12, whose
 * grammar has no end-of-input rule) does: `100,\frac{1}{100}` reads as 100, `0]+` as 0. Text is
 * read up to its first character the tokenizer does not know. For the reference-compatible grader
 * only; the strict grader wants the whole text to be one expression.
 */
export function parseExpressionPrefix(text: string): Expression | undefined {
  if (text.length === 0 || text.length > MAX_LENGTH) return undefined;
  const tokens = tokenize(text, true);
  if (tokens === undefined || tokens.length === 0) return undefined;
  try {
    const reader = new Reader(tokens, true);
    const evaluate = reader.expression();
    // sympy's lexer has no token for a backslash before a digit (`3\2`): an error, not a stop.
    if (reader.stoppedAt()?.kind === "command" && /^[0-9]/.test(reader.stoppedAt()?.text ?? "")) return undefined;
    return { variables: reader.variables, evaluate };
  } catch {
    return undefined;
  }
}

/** Reads `text` as an arithmetic expression, or undefined when it is not one. */
export function parseExpression(text: string): Expression | undefined {
  if (text.length === 0 || text.length > MAX_LENGTH) return undefined;
  const tokens = tokenize(text);
  if (tokens === undefined || tokens.length === 0) return undefined;
  try {
    const reader = new Reader(tokens);
    const evaluate = reader.expression();
    if (!reader.atEnd()) return undefined;
    return { variables: reader.variables, evaluate };
  } catch {
    // ParseError for unreadable text; anything else (a RangeError on a huge stack) reads the same.
    return undefined;
  }
}
