import { describe, expect, it } from "vitest";
import { extractAction } from "./extract.js";
import { renderR1 } from "./r1.js";
import { KUHN_INFO, KUHN_OBSERVATION, NEGOTIATION_INFO, NEGOTIATION_OBSERVATION, TICTACTOE_INFO, TICTACTOE_OBSERVATION } from "./test-observations.js";

describe("renderR1", () => {
  it("renders the R1 frame around the game, ending inside <think>", () => {
    const text = renderR1(TICTACTOE_INFO, TICTACTOE_OBSERVATION);
    expect(text.startsWith("A conversation between a User and an Assistant.")).toBe(true);
    expect(text).toContain("User: You are Player 0 in a game of Tic Tac Toe (TicTacToe-v0)");
    expect(text).toContain("<answer>[1]</answer>");
    expect(text.endsWith("\nAssistant: <think>")).toBe(true);
  });

  it("keeps `$` sequences of the observation literal", () => {
    const observation = { ...KUHN_OBSERVATION, log: [{ kind: "rules" as const, text: "costs $1 and $& and $$" }] };
    expect(renderR1(KUHN_INFO, observation)).toContain("costs $1 and $& and $$");
  });

  it("a reply in the asked-for form holding legal[i] extracts to legal[i]", () => {
    for (const [info, observation] of [[TICTACTOE_INFO, TICTACTOE_OBSERVATION], [KUHN_INFO, KUHN_OBSERVATION], [NEGOTIATION_INFO, NEGOTIATION_OBSERVATION]] as const) {
      expect(typeof renderR1(info, observation)).toBe("string");
      for (const legal of observation.legal) {
        const result = extractAction(` weigh the options </think> <answer>${legal}</answer>`, { format: "answer-tag" });
        expect(result.ok && result.action).toBe(legal);
      }
    }
  });
});
