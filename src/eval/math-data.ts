/**
 * Math benchmark sets (JSONL, one problem per line) → `{ id, question, answer }`.
 *
 * The sets SPIRAL evaluates on name their fields differently (see ../shared/data/math/README.md):
 *
 * | set                          | question   | reference answer                          |
 * | ---------------------------- | ---------- | ----------------------------------------- |
 * | math500, aime24, aime25      | `problem`  | `answer`                                  |
 * | amc23                        | `question` | `answer` (a JSON number: 27.0 → "27")     |
 * | minerva_math                 | `problem`  | last `\boxed{}` in `solution`             |
 * | olympiadbench                | `question` | `final_answer`, a list joined with ", "   |
 *
 * The reader does not look at the file name: per line it takes `problem`, else `question`; then
 * `answer`, else `final_answer`, else the last box of `solution`. Ids come from `id`, `unique_id`
 * or `idx`, else the line number. A line it cannot read is an error naming the file, the line and
 * what was expected, so a wrong file fails at once rather than scoring zero.
 */
import { readFileSync } from "node:fs";
import { lastBoxed } from "../prompt/boxed.js";
import { braceMatched } from "./math-reference.js";

export interface MathProblem {
  /** The set's own id for the problem (or its 1-based line number). */
  readonly id: string;
  readonly question: string;
  /** The reference answer, as LaTeX text; grade with `isEquivalent`. */
  readonly answer: string;
  /**
   * The reference answer as the Qwen2.5-Math harness reads it, for `{ grader: "reference" }`, where
   * it differs from `answer`: olympiadbench's `final_answer[0]` without its `$` (the harness
   * grades against the first element only), or the harness's own reading of a solution's box
   * (the text after the last "boxed").
   */
  readonly harnessAnswer?: string;
}

function text(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return undefined;
}

/** The harness's box rule (parser.py `extract_answer`): after the last "boxed", brace-matched to its close or the end. */
function harnessBox(solution: string): string {
  const after = solution.split("boxed").at(-1) as string;
  if (!after.startsWith("{")) return (after.split("$")[0] as string).trim();
  return braceMatched(after);
}

/** `harnessAnswer` (see `MathProblem`), when it differs from `answer`. */
function harnessAnswer(record: Record<string, unknown>, answer: string): string | undefined {
  const own = text(record.answer);
  if (own !== undefined && own.trim() !== "") return undefined;
  const final = record.final_answer;
  if (Array.isArray(final) && final.length > 0) {
    const first = (text(final[0]) ?? "").replace(/^\$+|\$+$/g, "");
    return first === answer ? undefined : first;
  }
  const solution = text(record.solution);
  if (text(final) === undefined && solution !== undefined) {
    const box = harnessBox(solution);
    return box === answer ? undefined : box;
  }
  return undefined;
}

function referenceAnswer(record: Record<string, unknown>): string | undefined {
  const answer = text(record.answer);
  if (answer !== undefined && answer.trim() !== "") return answer;
  const final = record.final_answer;
  if (Array.isArray(final) && final.length > 0 && final.every((a) => text(a) !== undefined)) {
    return final.map((a) => text(a) as string).join(", ");
  }
  const finalText = text(final);
  if (finalText !== undefined && finalText.trim() !== "") return finalText;
  const solution = text(record.solution);
  return solution === undefined ? undefined : lastBoxed(solution);
}

/** One JSONL line → a problem. `where` names the line in errors ("math500.jsonl:12"). */
export function parseMathRecord(line: string, where: string, lineNumber: number): MathProblem {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch (error) {
    throw new Error(`${where}: not valid JSON (${(error as Error).message})`, { cause: error });
  }
  if (record === null || typeof record !== "object" || Array.isArray(record)) {
    throw new Error(`${where}: expected a JSON object per line`);
  }
  const fields = record as Record<string, unknown>;
  const question = text(fields.problem) ?? text(fields.question);
  if (question === undefined || question.trim() === "") {
    throw new Error(`${where}: expected a "problem" or "question" string; found fields ${Object.keys(fields).join(", ")}`);
  }
  const answer = referenceAnswer(fields);
  if (answer === undefined) {
    throw new Error(`${where}: expected an "answer", a "final_answer" list, or a "solution" with a \\boxed{} answer`);
  }
  const id = text(fields.id) ?? text(fields.unique_id) ?? text(fields.idx) ?? String(lineNumber);
  const harness = harnessAnswer(fields, answer);
  return { id, question, answer, ...(harness === undefined ? {} : { harnessAnswer: harness }) };
}

/** Parses a whole JSONL text; blank lines are skipped. */
export function parseMathSet(content: string, name = "<input>"): MathProblem[] {
  const problems: MathProblem[] = [];
  const lines = content.split("\n");
  for (const [i, line] of lines.entries()) {
    if (line.trim() === "") continue;
    problems.push(parseMathRecord(line, `${name}:${i + 1}`, i + 1));
  }
  if (problems.length === 0) throw new Error(`${name}: no problems found (expected one JSON object per line)`);
  return problems;
}

/** Reads a benchmark file. */
export function loadMathSet(path: string): MathProblem[] {
  let content: string;
  try {
    content = readFileSync(path, "utf8");
  } catch (error) {
    throw new Error(`could not read the math set ${path}: expected a JSONL file such as math500.jsonl (${(error as Error).message})`, {
      cause: error,
    });
  }
  return parseMathSet(content, path);
}
