/**
 * The grader against the real benchmark sets, when they are present (../shared/data/math, or the
 * directory in SPIRAL_MATH_DATA); skipped otherwise. Checks that every reference equals itself,
 * that MATH500's answers equal the boxes of its worked solutions, and that distinct answers of
 * neighbouring problems are not called equal (false positives).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { lastBoxed } from "../prompt/boxed.js";
import { loadMathSet } from "./math-data.js";
import { isEquivalent, normalizeAnswer } from "./math-grade.js";

const dataDir = process.env.SPIRAL_MATH_DATA ?? "/work/shared/data/math";
const NEIGHBOURS = 10;


describe.skipIf(!existsSync(join(dataDir, "math500.jsonl")))("grader on the benchmark sets", () => {
  it.each(["math500", "aime24", "aime25", "amc23", "minerva_math", "olympiadbench"])("%s: self-equal, no false positives among neighbours", (name) => {
    const answers = loadMathSet(join(dataDir, `${name}.jsonl`)).map((p) => p.answer);
    const notSelf = answers.filter((a) => !isEquivalent(a, a));
    expect(notSelf).toEqual([]);
    const falseEqual: string[] = [];
    for (const [i, a] of answers.entries()) {
      for (let k = 1; k <= NEIGHBOURS; k++) {
        const b = answers[(i + k) % answers.length] as string;
        const pair = `${normalizeAnswer(a)} ~ ${normalizeAnswer(b)}`;
        if (normalizeAnswer(a) !== normalizeAnswer(b) && isEquivalent(a, b)) falseEqual.push(pair);
      }
    }
    expect(falseEqual).toEqual([]);
  });

  it("math500: every answer equals the last box of its worked solution", () => {
    const lines = readFileSync(join(dataDir, "math500.jsonl"), "utf8").trim().split("\n");
    const disagree = lines
      .map((line) => JSON.parse(line) as { answer: string; solution: string })
      .filter((p) => !isEquivalent(lastBoxed(p.solution), p.answer))
      .map((p) => p.answer);
    expect(disagree).toEqual([]);
  });
});
