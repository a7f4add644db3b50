import { describe, expect, it } from "vitest";
import { findBoxed, lastBoxed, unwrapCommands } from "./boxed.js";
import { extractAction, type ExtractResult } from "./extract.js";

function action(result: ExtractResult): string {
  if (!result.ok) throw new Error(`expected an action, got: ${result.reason}`);
  return result.action;
}

describe("lastBoxed", () => {
  it.each([
    ["The answer is \\boxed{4}.", "4"],
    ["\\boxed{1} then \\boxed{2}", "2"],
    ["\\boxed{\\frac{1}{2}}", "\\frac{1}{2}"],
    ["\\boxed {7}", "7"],
    ["\\boxed\n{7}", "7"],
    ["\\fbox{8}", "8"],
    ["\\boxed{\\boxed{4}}", "4"],
    ["\\boxed{a \\} b}", "a \\} b"],
    ["\\boxed{\\{1, 2\\}}", "\\{1, 2\\}"],
    ["\\boxed{5} and a late unclosed \\boxed{6", "5"],
    ["}}}} \\boxed{3} }}}", "3"],
    ["{ { \\boxed{x^{2}}", "x^{2}"],
    ["\\boxed{}", ""],
  ])("%j → %j", (text, expected) => {
    expect(lastBoxed(text)).toBe(expected);
  });

  it.each([["no box here"], ["\\boxed{"], ["\\boxed{{}"], ["\\boxedx{4}"], ["\\boxed 4"], [""], ["\\"], ["\\\\boxed{9}"]])("%j has none", (text) => {
    expect(lastBoxed(text)).toBeUndefined();
  });

  it("lists nested boxes in order of their start", () => {
    expect(findBoxed("\\boxed{a \\boxed{b}} \\boxed{c}").map((b) => b.content)).toEqual(["a \\boxed{b}", "b", "c"]);
  });
});

describe("unwrapCommands", () => {
  it.each([
    ["\\text{bet}", "bet"],
    ["\\textbf{\\text{bet}}", "bet"],
    ["\\text {Offer: 3 Wood}", "Offer: 3 Wood"],
    ["5\\mathrm{~cm}", "5~cm"],
    ["\\frac{\\text{a}}{2}", "\\frac{a}{2}"],
    ["\\textbackslash{x}", "\\textbackslash{x}"],
    ["\\text{unclosed", "unclosed"],
  ])("%j → %j", (text, expected) => {
    expect(unwrapCommands(text)).toBe(expected);
  });
});

describe("extractAction: boxed answers", () => {
  it.each([
    ["I take the centre. \\boxed{4}", "[4]"],
    ["\\boxed{[4]}", "[4]"],
    ["\\boxed{ [ 4 ] }", "[ 4 ]"],
    ["\\boxed{\\text{bet}}", "[bet]"],
    ["\\boxed{\\textbf{call}}", "[call]"],
    ["\\boxed{Offer: 3 Wood -> 2 Gold}", "[Offer: 3 Wood -> 2 Gold]"],
    ["\\boxed{\\text{Offer: 3 Wood} \\rightarrow \\text{2 Gold}}", "[Offer: 3 Wood -> 2 Gold]"],
    ["\\boxed{\\text{Offer: 3 Wood \\to 2 Gold}}", "[Offer: 3 Wood -> 2 Gold]"],
    ["\\boxed{Offer: 3 Wood → 2 Gold}", "[Offer: 3 Wood -> 2 Gold]"],
    ["\\boxed{\\text{Offer:}\\ 3\\,\\text{Wood}~\\to~2~Gold}", "[Offer: 3 Wood -> 2 Gold]"],
    ["\\boxed{$4$}", "[4]"],
    ["\\boxed{\\$4}", "[4]"],
    ["\\boxed{\\left[ 4 \\right]}", "[ 4 ]"],
    ["\\boxed{\\[4\\]}", "[4]"],
    ["\\boxed{\\text{raise\\_bet}}", "[raise_bet]"],
    ["\\boxed{[Accept]} since the offer is good", "[Accept]"],
    ["first \\boxed{3}, no wait: \\boxed{5}", "[5]"],
    ["<think>maybe \\boxed{2}</think> I play 7", "[2]"],
    ["\\fbox{bet}", "[bet]"],
    ["\\boxed{\\top}", "[\\top]"], // \top is not \to
  ])("%j → %j", (reply, expected) => {
    const result = extractAction(reply);
    expect(action(result)).toBe(expected);
    expect(result.ok && result.source).toBe("boxed");
  });

  it.each([["\\boxed{}"], ["\\boxed{ \\text{} }"], ["\\boxed{[4}"], ["\\boxed{4]}"]])("%j is an invalid move", (reply) => {
    const result = extractAction(reply);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason.length).toBeGreaterThan(10);
  });
});

describe("extractAction: replies without a box", () => {
  it.each([
    ["bet", "[bet]", "wrapped"],
    ["  call \n", "[call]", "wrapped"],
    ["4", "[4]", "wrapped"],
    ["**4**.", "[4]", "wrapped"],
    ['"fold"', "[fold]", "wrapped"],
    ["Final answer: call", "[call]", "wrapped"],
    ["**Answer:** 4", "[4]", "wrapped"],
    ["Move: *bet*", "[bet]", "wrapped"],
    ["call<|im_end|>", "[call]", "wrapped"],
    ["<think>hmm</think>\n\nfold<|im_end|><|endoftext|>", "[fold]", "wrapped"],
    ["I will check now", "[I will check now]", "wrapped"],
    ["one two three four five", "[one two three four five]", "wrapped"],
    ["one two three four five six", "one two three four five six", "text"],
    ["I play [4] because it blocks", "I play [4] because it blocks", "bracket"],
    ["[Offer: 3 Wood -> 2 Gold]", "[Offer: 3 Wood -> 2 Gold]", "bracket"],
    ["<think>I should bet, I think [bet]</think>\ncall", "[call]", "wrapped"],
    ["<think>long thought</think> Let us trade, here is my offer [Offer: 1 Gold -> 2 Wood]", "Let us trade, here is my offer [Offer: 1 Gold -> 2 Wood]", "bracket"],
  ])("%j → %j (%s)", (reply, expected, source) => {
    const result = extractAction(reply);
    expect(action(result)).toBe(expected);
    expect(result.ok && result.source).toBe(source);
  });

  it("respects maxWrapWords", () => {
    expect(action(extractAction("I will check", { maxWrapWords: 2 }))).toBe("I will check");
    expect(action(extractAction("check", { maxWrapWords: 2 }))).toBe("[check]");
  });

  it.each([[""], ["   \n\t "], ["<think>still thinking about [4]"], ["..."], ["**"]])("%j is an invalid move", (reply) => {
    expect(extractAction(reply).ok).toBe(false);
  });
});

describe("extractAction: R1 answer tags", () => {
  const r1 = { format: "answer-tag" } as const;
  it.each([
    ["reasoning </think> <answer>[4]</answer>", "[4]"],
    ["</think><answer> bet </answer>", "[bet]"],
    ["<answer>[1]</answer> no, <answer>\\boxed{2}</answer>", "[2]"],
    ["<answer>Offer: 2 Gold \\to 3 Wood</answer>", "[Offer: 2 Gold -> 3 Wood]"],
    ["<answer>Deal! [Accept]</answer>", "Deal! [Accept]"],
    ["no tag but \\boxed{7}", "[7]"],
  ])("%j → %j", (reply, expected) => {
    expect(action(extractAction(reply, r1))).toBe(expected);
  });

  it.each([["no tag at all [4]"], ["<answer>unclosed [4]"], ["<answer></answer>"]])("%j is an invalid move", (reply) => {
    expect(extractAction(reply, r1).ok).toBe(false);
  });
});

describe("extractAction never throws and stays linear", () => {
  const big = 1 << 20; // 1 MB replies
  const cases: [string, string][] = [
    ["unclosed box", "\\boxed{" + "a".repeat(big)],
    ["10,000 nested braces", "\\boxed{" + "{".repeat(10_000) + "4" + "}".repeat(10_000) + "}"],
    ["10,000 nested boxes", "\\boxed{".repeat(10_000) + "4" + "}".repeat(10_000)],
    ["unbalanced closers", "}".repeat(big) + "\\boxed{4}"],
    ["1 MB of prose", "word ".repeat(big / 5)],
    ["1 MB with one box at the end", "x".repeat(big) + "\\boxed{bet}"],
    ["1 MB of asterisks", "*".repeat(big)],
    ["1 MB of backslashes", "\\".repeat(big)],
    ["1 MB of brackets", "[".repeat(big)],
    ["1 MB of think tags", "<think>".repeat(big / 7)],
    ["1 MB of answer tags", "<answer>".repeat(big / 8) + "</answer>"],
    ["unicode", "🎲 Ünïcödé \\boxed{\\text{cœur ♥}} 你好"],
    ["lone surrogate", "\uD800\\boxed{\uDC00}"],
    ["NUL bytes", "\u0000\\boxed{\u0000}"],
  ];

  it.each(cases)("%s", (_name, reply) => {
    for (const format of ["boxed", "answer-tag"] as const) {
      const result = extractAction(reply, { format });
      expect(typeof result.ok).toBe("boolean");
      if (result.ok) expect(typeof result.action).toBe("string");
      else expect(result.reason.length).toBeGreaterThan(0);
    }
  });

  it("reads the deepest of 10,000 nested boxes and the braces inside the outer one", () => {
    expect(action(extractAction("\\boxed{".repeat(10_000) + "4" + "}".repeat(10_000)))).toBe("[4]");
    expect(action(extractAction("x".repeat(big) + "\\boxed{bet}"))).toBe("[bet]");
  });

  it("is not fooled by a non-string", () => {
    expect(extractAction(undefined as unknown as string).ok).toBe(false);
  });
});
