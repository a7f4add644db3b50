import { describe, expect, it } from "vitest";
import type { Observation } from "../games/game.js";
import { chatPrompt, chatPromptText, MAX_LISTED_ACTIONS } from "./chat.js";
import { extractAction } from "./extract.js";
import {
  KUHN_INFO,
  KUHN_OBSERVATION,
  NEGOTIATION_INFO,
  NEGOTIATION_OBSERVATION,
  TERMINAL_OBSERVATION,
  TICTACTOE_INFO,
  TICTACTOE_OBSERVATION,
} from "./test-observations.js";

function indexOf(text: string, needle: string): number {
  const i = text.indexOf(needle);
  if (i < 0) throw new Error(`prompt lacks ${JSON.stringify(needle)}:\n${text}`);
  return i;
}

describe("chatPrompt", () => {
  it("is one user turn naming the game, the seat and the zero-sum set-up", () => {
    const messages = chatPrompt(KUHN_INFO, KUHN_OBSERVATION);
    expect(messages).toHaveLength(1);
    expect(messages[0]?.role).toBe("user");
    const text = messages[0]?.content ?? "";
    expect(text.startsWith("You are Player 1 in a game of Kuhn Poker (KuhnPoker-v1)")).toBe(true);
    expect(text).toContain("zero-sum");
  });

  it("gives the rules first, then the log in order, then the boxed request with an example", () => {
    const text = chatPromptText(KUHN_INFO, KUHN_OBSERVATION);
    const order = [
      "Kuhn Poker with the cards J < Q < K",
      "What has happened so far:",
      "[GAME] Round 1: you hold Q.",
      "Player 1 (you): [bet]",
      "Player 0: [fold]",
      "[GAME] Round 2: you hold K.",
      "Player 0: [bet]",
      "Round 2 of 5. Your card: K.",
      "\\boxed{[fold]}",
    ].map((needle) => indexOf(text, needle));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    // The latest state already lists the legal actions: they are not repeated.
    expect(text).not.toContain("Your legal actions now");
    expect(text.trimEnd().endsWith("for example \\boxed{[fold]}.")).toBe(true);
    expect(text).toContain("step by step");
  });

  it("shows the opponent's delivered text only (free text in negotiation, never hidden reasoning)", () => {
    const text = chatPromptText(NEGOTIATION_INFO, NEGOTIATION_OBSERVATION);
    expect(text).toContain("Player 1: Sure, here is my offer [Offer: 3 Wood -> 2 Gold]");
    expect(text).toContain("Player 0 (you): Hello! I would like some gold.");
    expect(text).not.toContain("<think>");
    // Hundreds of enumerable offers are not listed in a free-text game.
    expect(NEGOTIATION_OBSERVATION.legal.length).toBeGreaterThan(MAX_LISTED_ACTIONS);
    expect(text).not.toContain("Your legal actions now");
    expect(text).toContain("\\boxed{[Accept]}");
  });

  it("adds the current view when the log carries no state message", () => {
    const observation: Observation = { ...TICTACTOE_OBSERVATION, log: TICTACTOE_OBSERVATION.log.filter((m) => m.kind !== "state") };
    const text = chatPromptText(TICTACTOE_INFO, observation);
    expect(text).toContain("The current state:\n O | 1 | 2\n---+");
    expect(chatPromptText(TICTACTOE_INFO, TICTACTOE_OBSERVATION)).not.toContain("The current state:");
  });

  it("lists the legal actions when the latest state does not", () => {
    const text = chatPromptText(TICTACTOE_INFO, TICTACTOE_OBSERVATION);
    expect(indexOf(text, "Your legal actions now: [1], [2], [3], [5], [6], [7], [8]")).toBeGreaterThan(indexOf(text, " 6 | 7 | 8"));
    expect(chatPromptText(KUHN_INFO, KUHN_OBSERVATION, { listLegal: true })).toContain("Your legal actions now: [fold], [call]");
  });

  it("honours listLegal and leaves the example out when nothing is legal", () => {
    expect(chatPromptText(TICTACTOE_INFO, TICTACTOE_OBSERVATION, { listLegal: false })).not.toContain("Your legal actions now");
    const terminal = chatPromptText(TICTACTOE_INFO, TERMINAL_OBSERVATION);
    expect(terminal).toContain("[GAME] Player 1 wins.");
    expect(terminal).not.toContain("for example");
    expect(terminal.trimEnd().endsWith("inside \\boxed{}.")).toBe(true);
  });

  it("asks for an answer tag in the answer-tag style", () => {
    const text = chatPromptText(TICTACTOE_INFO, TICTACTOE_OBSERVATION, { answerStyle: "answer-tag" });
    expect(text).toContain("<answer>[1]</answer>");
    expect(text).not.toContain("\\boxed");
  });

  it("is deterministic", () => {
    expect(chatPrompt(NEGOTIATION_INFO, NEGOTIATION_OBSERVATION)).toEqual(chatPrompt(NEGOTIATION_INFO, NEGOTIATION_OBSERVATION));
  });

  it("asks for a form that extracts back to every legal action", () => {
    for (const observation of [TICTACTOE_OBSERVATION, KUHN_OBSERVATION, NEGOTIATION_OBSERVATION]) {
      for (const legal of observation.legal) {
        const reply = `Let me think... the best is this.\n\\boxed{${legal}}`;
        expect(extractAction(reply)).toEqual({ ok: true, action: legal, source: "boxed" });
      }
    }
  });
});
