import { describe, expect, it } from "vitest";
import { KUHN_INFO, KUHN_OBSERVATION, NEGOTIATION_INFO, NEGOTIATION_OBSERVATION, TICTACTOE_INFO, TICTACTOE_OBSERVATION } from "../prompt/test-observations.js";
import { chatMode, compactMode, promptMode, type PromptMode } from "./prompt-mode.js";

const cases = [
  [TICTACTOE_INFO, TICTACTOE_OBSERVATION],
  [KUHN_INFO, KUHN_OBSERVATION],
  [NEGOTIATION_INFO, NEGOTIATION_OBSERVATION],
] as const;

describe("prompt modes", () => {
  it("are named compact and chat", () => {
    expect(promptMode("compact")).toBe(compactMode);
    expect(promptMode("chat").name).toBe("chat");
  });

  it("compact: a text prompt constrained to the legal moves", () => {
    const r = compactMode.request(TICTACTOE_INFO, TICTACTOE_OBSERVATION, 9);
    expect(r.prompt.kind).toBe("text");
    expect(r.constraint?.choices).toEqual(TICTACTOE_OBSERVATION.legal);
    expect(r).toMatchObject({ maxNewTokens: 9, legal: TICTACTOE_OBSERVATION.legal });
  });

  it("chat: messages, free reasoning; with constrainAnswer only what follows \\boxed{ is constrained", () => {
    const free = chatMode().request(KUHN_INFO, KUHN_OBSERVATION, 64);
    expect(free.prompt.kind).toBe("chat");
    expect(free.constraint).toBeUndefined();
    const constrained = chatMode({ constrainAnswer: true }).request(KUHN_INFO, KUHN_OBSERVATION, 64);
    expect(constrained.constraint).toEqual({ choices: KUHN_OBSERVATION.legal, trigger: "\\boxed{", suffix: "}" });
  });

  // Every mode's invariant: a reply in the asked-for form holding legal[i] extracts to legal[i];
  // a reply with no action is refused with a reason, never thrown.
  const replies: [PromptMode, (legal: string) => string][] = [
    [chatMode(), (legal) => `I weigh the options.\n\\boxed{${legal}}`],
    [compactMode, (legal) => legal],
  ];
  for (const [mode, reply] of replies) {
    it(`${mode.name}: round-trips every legal action and refuses junk`, () => {
      for (const [info, observation] of cases) {
        mode.request(info, observation, 32);
        for (const legal of observation.legal) {
          const result = mode.extract(reply(legal), observation);
          expect(result.ok && result.action).toBe(legal);
        }
        const junk = mode.extract("", observation);
        expect(junk.ok).toBe(false);
        if (!junk.ok) expect(junk.reason.length).toBeGreaterThan(0);
      }
    });
  }
});
