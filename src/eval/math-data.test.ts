import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadMathSet, parseMathSet } from "./math-data.js";
import { isEquivalent } from "./math-grade.js";

const fixtures = join(fileURLToPath(new URL(".", import.meta.url)), "fixtures");

describe("loadMathSet: each benchmark's field layout", () => {
  it.each([
    ["math500.jsonl", ["1", "6", "\\left( \\frac{3}{2}, -13 \\right)"]],
    ["aime24.jsonl", ["025", "045", "055"]],
    ["aime25.jsonl", ["70", "117", "49"]],
    ["amc23.jsonl", ["36", "3159", "8"]],
    ["minerva_math.jsonl", ["5", "4", "1950"]],
    ["olympiadbench.jsonl", ["-1,0,1", "5", "14"]],
  ])("%s", (file, answers) => {
    const problems = loadMathSet(join(fixtures, file));
    expect(problems.map((p) => p.answer)).toEqual(answers);
    for (const p of problems) {
      expect(p.question.length).toBeGreaterThan(10);
      expect(p.id.length).toBeGreaterThan(0);
      expect(isEquivalent(p.answer, p.answer)).toBe(true);
    }
  });

  it("keeps each set's own ids", () => {
    expect(loadMathSet(join(fixtures, "math500.jsonl"))[0]?.id).toMatch(/^test\//);
    expect(loadMathSet(join(fixtures, "minerva_math.jsonl")).map((p) => p.id)).toEqual(["141", "142", "202"]);
  });
});

describe("parseMathSet: bad input says what was expected", () => {
  it.each([
    ["{not json", /x\.jsonl:1: not valid JSON/],
    ['[1, 2]', /expected a JSON object per line/],
    ['{"answer": "5"}', /expected a "problem" or "question" string; found fields answer/],
    ['{"problem": "What?"}', /expected an "answer", a "final_answer" list, or a "solution"/],
    ['{"problem": "What?", "solution": "no box"}', /expected an "answer"/],
    ["\n\n", /no problems found/],
  ])("%j", (content, error) => {
    expect(() => parseMathSet(content, "x.jsonl")).toThrow(error);
  });

  it("names the missing file", () => {
    expect(() => loadMathSet("/nonexistent/set.jsonl")).toThrow(/could not read the math set \/nonexistent\/set\.jsonl/);
  });

  it("keeps the reference answer as the harness reads it where it differs (first list element, its own box rule)", () => {
    const problems = parseMathSet(
      [
        '{"question": "Which?", "final_answer": ["$69$,$84$"]}',
        '{"question": "Which?", "final_answer": ["$3$", "$4$"]}',
        '{"question": "Which?", "final_answer": ["5"]}',
        '{"problem": "Which?", "solution": "So \\\\boxed{41585} \\\\pm 5730$ years."}',
      ].join("\n"),
    );
    expect(problems.map((p) => [p.answer, p.harnessAnswer])).toEqual([
      ["$69$,$84$", "69$,$84"],
      ["$3$, $4$", "3"],
      ["5", undefined],
      ["41585", undefined],
    ]);
  });

  it("uses line numbers as ids when a set has none and skips blank lines", () => {
    const problems = parseMathSet('{"question": "1+1?", "final_answer": ["2"]}\n\n{"problem": "2+2?", "answer": 4}\n');
    expect(problems).toEqual([
      { id: "1", question: "1+1?", answer: "2" },
      { id: "3", question: "2+2?", answer: "4" },
    ]);
  });
});
