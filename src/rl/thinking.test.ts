import { describe, expect, it } from "vitest";
import { ByteTokenizer } from "../engine/tokenizer/byte-tokenizer.js";
import { meanThinkingTokens, thinkingText } from "./thinking.js";

describe("thinking length of chat replies", () => {
  it("is the text before the answer: the last box, else the last </think>, else the whole reply", () => {
    expect(thinkingText("Centre is strongest. \\boxed{[4]}")).toBe("Centre is strongest. ");
    // The last box decides, as in action extraction; a box inside <think> counts too.
    expect(thinkingText("<think>maybe \\boxed{[0]}</think> no: \\boxed{[4]}")).toBe("<think>maybe \\boxed{[0]}</think> no: ");
    expect(thinkingText("<think>corner</think>[8]")).toBe("<think>corner");
    expect(thinkingText("\\boxed{[4]}")).toBe("");
    expect(thinkingText("I think the centre")).toBe("I think the centre");
    expect(thinkingText("")).toBe("");
  });

  it("is counted in the policy's tokens and averaged over the batch", () => {
    const bytes = new ByteTokenizer();
    const encode = (t: string) => bytes.encode(t);
    // 5 bytes of reasoning, 0, and 12 (a reply without an answer): mean 17/3.
    expect(meanThinkingTokens([{ text: "hmm. \\boxed{[1]}" }, { text: "\\boxed{[2]}" }, { text: "no answer..." }], encode)).toBeCloseTo(17 / 3, 12);
    expect(meanThinkingTokens([], encode)).toBe(0);
  });
});
