import { describe, expect, it } from "vitest";
import { mathPrompt, mathPromptR1 } from "./math.js";

describe("math prompts", () => {
  it("asks for a boxed answer after the problem", () => {
    const [turn, ...rest] = mathPrompt("  What is $1+1$?\n");
    expect(rest).toEqual([]);
    expect(turn).toEqual({ role: "user", content: "What is $1+1$?\nReason step by step, and put your final answer inside \\boxed{}." });
  });

  it("frames the R1 variant, keeping `$` sequences literal", () => {
    const text = mathPromptR1("Pay $1 and $& now.");
    expect(text).toContain("User: Pay $1 and $& now.\n");
    expect(text.endsWith("Assistant: <think>")).toBe(true);
    expect(text).toContain("\\boxed{}");
  });
});
