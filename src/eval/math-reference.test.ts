import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { gradeReply, isEquivalent } from "./math-grade.js";
import { harnessExtractAnswer, harnessGroundTruth, harnessMathEqual, harnessStripString, referenceClose } from "./math-reference.js";

// Each example's reference answer is from the real test sets (set named); the verdicts are the
// Python harness's (grader.py math_equal, parser.py strip_string, sympy 1.12), checked by running it.

describe("strip_string (parser.py)", () => {
  it.each([
    ["\\dfrac{14}{3}", false, "\\frac{14}{3}"], // math500: dfrac → frac
    ["\\left( 3, \\frac{\\pi}{2} \\right)", false, "(3,\\frac{\\pi}{2})"], // math500: \left \right and spaces dropped
    ["\\text{east}", false, ""], // math500's reference: the unit word "east" is deleted, leaving nothing
    ["5 \\text{ east}", false, "5"], // a trailing \text{} is a unit
    ["10 east", false, "10"], // unit words from MathQA deleted…
    ["\\text{Evelyn}", false, "Evelyn"],
    ["a+b", false, "+b"], // …even single letters standing alone ("a", "t", "h", "c", "d", "l", "s", "m", "g", "o")
    ["10 east", true, "10east"], // minerva_math keeps units (skip_unit)
    ["30^\\circ", false, "30"],
    ["\\$18.90", false, "18.90"], // dollars
    ["50\\%", false, "50"], // percent signs
    ["x=5", false, "5"], // "x=" removed; short left-hand sides dropped
    ["k=-3", false, "-3"],
    ["025", false, "25"], // aime: word2number's isdigit → int drops leading zeros
    ["two", false, "2"], // word numbers
    ["two point five", false, "2.5"],
    ["three quarters", false, "3"], // word2number keeps the number words it knows
    ["\\sqrt3", false, "\\sqrt{3}"],
    ["\\frac12", false, "\\frac{1}{2}"],
    ["3/4", false, "\\frac{3}{4}"],
    ["\\text{Sandy}", false, "Sy"], // "and" deleted anywhere
    ["2.0", false, "2"],
    [".5", false, "0.5"],
    ["\\begin{bmatrix}1\\\\2\\end{bmatrix}", false, "\\begin{pmatrix}1\\\\2\\end{pmatrix}"],
    ["(-\\infty,\\infty)", false, "\\mathbb{R}"],
    ["\\emptyset", false, "{}"],
    ["3+2j", false, "3+2i"],
    ["3 \\pm 2 \\sqrt{2}", false, "3\\2\\sqrt{2}"], // math500: "pm" (afternoon) is a unit word
  ] as const)("%j (skip units: %s) → %j", (input, skipUnit, expected) => {
    expect(harnessStripString(input, skipUnit)).toBe(expected);
  });
});

describe("extract_answer (parser.py)", () => {
  it.each([
    ["so $\\boxed{\\frac{1}{2}}$.", "\\frac{1}{2}", "boxed"],
    ["First \\boxed{3}, then \\boxed{5}", "5", "boxed"],
    ["Hence $\\boxed 5$.", "5", "boxed"],
    ["The final answer is $12$. I hope it is correct.", "12", "minerva"],
    ["Putting it together, the answer is 27.", "27", "answer-is"],
    ["Thus the final answer is 9", "9", "final-answer"],
    ["We get 3 + 4 = 7 and then 10", "10", "last-number"],
    ["Final answer: x = 1,000", "1000", "last-number"], // "Final answer:" is no trigger; commas dropped
    ["no numbers here", "", "none"],
  ] as const)("%j → %j (%s)", (reply, answer, extraction) => {
    expect(harnessExtractAnswer(reply, "math500")).toEqual({ answer, extraction });
  });

  it("reads the reference the way parse_ground_truth does per set", () => {
    expect(harnessGroundTruth("$69$,$84$", "olympiadbench")).toBe("69,84"); // olympiadbench: $ stripped
    expect(harnessGroundTruth("4100 \\text{angstroms}", "minerva_math")).toBe("4100"); // trailing \text{} still goes
    expect(harnessGroundTruth("27.0", "amc23")).toBe("27");
    expect(harnessGroundTruth("\\text{east}", "math500")).toBe("");
  });
});

describe("math_equal (grader.py)", () => {
  it.each([
    // The percentage rule: x, x/100 and x*100 all count.
    ["27", "27", true],
    ["2700", "27", true], // amc23 27 × 100
    ["0.27", "27", true],
    ["28", "27", false],
    // isclose(rel_tol=1e-4): off-by-one above 10⁴ passes.
    ["10081", "10080", true], // math500 10080
    ["10082", "10080", false],
    ["0.33333", "\\frac{1}{3}", true],
    ["0.333", "\\frac{1}{3}", false],
    // Brackets: stripped and compared as text, or compared part by part with any bracket types.
    ["(0,\\infty)", "[0,\\infty)", true],
    ["[1,2]", "(1,2)", true],
    ["(2,1)", "(1,2)", false],
    // Lists: parse_latex reads the first element only ("100,\frac{1}{100}" is 100).
    ["100", "100,\\frac{1}{100}", true], // olympiadbench
    ["\\frac{1}{100}", "100,\\frac{1}{100}", false],
    // …and stops where its grammar cannot go on: "0]+1" reads as 0, so the parts of an interval match.
    ["(-\\infty,0]+1", "(-\\infty,0]", true], // math500
    ["3\\2\\sqrt{2*2}", "3\\2\\sqrt{2}", false], // a backslash before a digit is an error, not a stop
    ["f(n)=n+1", "f(n)=n", false], // olympiadbench: equations are read whole
    ["x_{0}\\cos(\\omegat)+1", "x_{0}\\cos(\\omegat)", false], // minerva_math: unknown commands are symbols
    ["k\\geslant2+1", "k\\geslant2", false],
    // parse_latex binds juxtaposition tighter than "/" and reads a letter before "(" as a function.
    ["1/3x", "\\frac{x}{3}", false],
    ["x/3", "\\frac{1}{3}x", true],
    ["(1)/(3)E_{1}", "\\frac{1}{3}E_{1}", false], // minerva_math
    ["x(x+1)", "x^2+x", false],
    // Equations: l - (r) equal up to sign.
    ["-5x+7y-11z-4=0", "5x-7y+11z+4=0", true], // math500
    ["10x-14y+22z+8=0", "5x-7y+11z+4=0", false], // a factor of 2 is not accepted
    ["y=2x+3", "2x+3", true], // short left-hand side dropped
    ["2x+3=y", "2x+3", false],
    // Symbolic: sympy's simplify and N().
    ["x^2+2x+1", "(x+1)^2", true],
    ["\\frac{\\sqrt{3}}{2}", "\\frac{1}{2}\\sqrt{3}", true],
    ["2\\sqrt{2}", "2\\sqrt{3}", false],
    ["\\frac{20,000}{\\pi}", "\\frac{20000}{\\pi}", true],
    // Choice letters.
    ["(C)", "C", true],
    // Matrices.
    ["\\begin{pmatrix}-2\\\\-14\\\\-7\\end{pmatrix}", "\\begin{pmatrix}-2\\\\-14\\\\-7\\end{pmatrix}", true],
    ["\\begin{pmatrix}-2\\\\-14\\\\-6.9999\\end{pmatrix}", "\\begin{pmatrix}-2\\\\-14\\\\-7\\end{pmatrix}", true],
    ["\\begin{pmatrix}-2\\\\-14\\\\-8\\end{pmatrix}", "\\begin{pmatrix}-2\\\\-14\\\\-7\\end{pmatrix}", false],
    ["", "0", false],
  ] as const)("%j vs %j → %s", (pred, ref, verdict) => {
    expect(harnessMathEqual(pred, ref)).toBe(verdict);
  });

  it("isclose is relative only", () => {
    expect(referenceClose(10000, 10001)).toBe(true);
    expect(referenceClose(0, 1e-20)).toBe(false);
    expect(referenceClose(Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY)).toBe(true);
  });
});

describe("the reference grader through gradeReply / isEquivalent", () => {
  it("accepts what the harness accepts and strict does not", () => {
    // math500 "\text{east}": the unit-word rule empties the reference; math_eval.py then takes an
    // empty reference for a multiple-choice answer and keeps only the letters A-E of each
    // prediction, so any reply without them is right ("north", no answer) and "East" is wrong.
    const east = (box: string): boolean => gradeReply(`So she ends up $\\boxed{${box}}$.`, "\\text{east}", { grader: "reference", dataset: "math500" }).correct;
    expect([east("\\text{east}"), east("\\text{north}"), east("\\text{East}")]).toEqual([true, true, false]);
    expect(gradeReply("I do not know", "\\text{east}", { grader: "reference", dataset: "math500" }).correct).toBe(true);
    expect(gradeReply("So she ends up $\\boxed{\\text{north}}$.", "\\text{east}").correct).toBe(false);
    expect(isEquivalent("2700", "27", { grader: "reference", dataset: "amc23" })).toBe(true);
    expect(isEquivalent("2700", "27")).toBe(false);
    expect(isEquivalent("[0,\\infty)", "(0,\\infty)", { grader: "reference" })).toBe(true);
    expect(isEquivalent("[0,\\infty)", "(0,\\infty)")).toBe(false);
  });

  it("reports where the answer came from; an empty extraction is no prediction", () => {
    expect(gradeReply("the answer is 27.", "27", { grader: "reference", dataset: "amc23" })).toEqual({ correct: true, prediction: "27", extraction: "answer-is" });
    expect(gradeReply("We add 3 and 24 to get 27", "27", { grader: "reference", dataset: "amc23" })).toEqual({ correct: true, prediction: "27", extraction: "last-number" });
    expect(gradeReply("I cannot tell.", "27", { grader: "reference", dataset: "amc23" })).toEqual({ correct: false, prediction: undefined, extraction: "none" });
  });

  it("never throws on adversarial replies", () => {
    for (const reply of ["\\boxed{" + "{".repeat(10_000), "boxed", "\\boxed{" + "(".repeat(5_000) + "}", "x".repeat(1 << 16), "=".repeat(3000)]) {
      expect(() => gradeReply(reply, "1", { grader: "reference" })).not.toThrow();
    }
  });
});

describe("agreement with the Python harness on the committed corpus", () => {
  // bench/math-harness: 1,010 pairs and the harness's verdicts on them (harness_verdicts.py, sympy 1.12).
  const root = join(import.meta.dirname, "..", "..", "bench", "math-harness");
  const lines = (name: string): string[] => readFileSync(join(root, name), "utf8").trim().split("\n");
  const pairs = lines("corpus.jsonl").map((l) => JSON.parse(l) as { set: string; harness_answer: string; reply: string });
  const verdicts = lines("harness-verdicts.jsonl").map((l) => JSON.parse(l) as { correct: boolean });

  it("agrees on at least 99.5% of the 1,010 pairs (measured: 1,009)", () => {
    expect(pairs.length).toBe(1010);
    expect(verdicts.length).toBe(pairs.length);
    const agree = pairs.filter((p, i) => gradeReply(p.reply, p.harness_answer, { grader: "reference", dataset: p.set }).correct === verdicts[i]?.correct).length;
    expect(agree).toBeGreaterThanOrEqual(1005);
  });
});
