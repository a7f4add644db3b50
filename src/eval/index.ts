/**
 * The public API of `spiral/eval`: math benchmark sets and the boxed-answer grader. Arenas and
 * exact game analyses used during training live in `spiral/rl` (evaluate) and `spiral/games`
 * (kuhnExploitability, ticTacToeSolve).
 */
export type { AnswerValue } from "./math-grade.js";
export { gradeReply, isEquivalent, lastBoxed, normalizeAnswer, parseAnswer, ABSOLUTE_TOLERANCE, RELATIVE_TOLERANCE } from "./math-grade.js";
export type { MathProblem } from "./math-data.js";
export { loadMathSet, parseMathSet } from "./math-data.js";
export { mathPrompt, mathPromptR1 } from "../prompt/math.js";
