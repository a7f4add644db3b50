/**
 * Prompts for the math and reasoning benchmarks: SPIRAL's protocol asks the same thing of every
 * problem — reason step by step, final answer in `\boxed{}` — and grades the last box
 * (`eval/math-grade.ts`). The wording is ours and lives here as data.
 */
import type { ChatMessage } from "../engine/tokenizer/tokenizer.js";
import { R1_FRAME } from "./r1.js";

export const MATH_INSTRUCTION = "Reason step by step, and put your final answer inside \\boxed{}.";
export const MATH_INSTRUCTION_R1 = "Reason step by step; inside <answer> </answer>, put your final answer in \\boxed{}.";

/** One user turn: the problem, then the instruction. */
export function mathPrompt(question: string): ChatMessage[] {
  return [{ role: "user", content: `${question.trim()}\n${MATH_INSTRUCTION}` }];
}

/** The R1-style raw text for a problem (graded by the last box inside or outside the answer tag). */
export function mathPromptR1(question: string): string {
  const prompt = `${question.trim()}\n${MATH_INSTRUCTION_R1}`;
  return R1_FRAME.replace("{prompt}", () => prompt);
}
