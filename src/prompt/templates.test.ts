import { describe, expect, it } from "vitest";
import { COMPACT_CUE, compactPrompt, extractCompact, normaliseView } from "./compact.js";
import { getPromptTemplate, PROMPT_TEMPLATES, renderR1 } from "./templates.js";
import {
  KUHN_INFO,
  KUHN_OBSERVATION,
  NEGOTIATION_INFO,
  NEGOTIATION_OBSERVATION,
  TICTACTOE_INFO,
  TICTACTOE_OBSERVATION,
} from "./test-observations.js";

const byteLength = (text: string): number => Buffer.byteLength(text, "utf8");

describe("compactPrompt", () => {
  it("falls back to the id and seat, the view, and the cue when it has no terse rendering", () => {
    const prompt = compactPrompt(TICTACTOE_INFO, TICTACTOE_OBSERVATION);
    expect(prompt.text).toBe(`TicTacToe-v0 P0\n${normaliseView(TICTACTOE_OBSERVATION.view)}\n${COMPACT_CUE}`);
    expect(prompt.text).toContain("\n O | 1 | 2\n"); // the board keeps its leading space
    expect(prompt.allowed).toEqual(TICTACTOE_OBSERVATION.legal);
  });

  it("carries nothing of the log beyond the view", () => {
    const text = compactPrompt(KUHN_INFO, KUHN_OBSERVATION).text;
    expect(text).not.toContain("Round 1");
    expect(text).not.toContain("J < Q < K");
  });

  it("is short: under 300 bytes for TicTacToe and Kuhn views", () => {
    expect(byteLength(compactPrompt(TICTACTOE_INFO, TICTACTOE_OBSERVATION).text)).toBeLessThan(300);
    expect(byteLength(compactPrompt(KUHN_INFO, KUHN_OBSERVATION).text)).toBeLessThan(300);
  });

  it("is deterministic and independent of line-ending style and trailing spaces", () => {
    const a = compactPrompt(KUHN_INFO, KUHN_OBSERVATION);
    expect(compactPrompt(KUHN_INFO, KUHN_OBSERVATION)).toEqual(a);
    const crlf = { ...TICTACTOE_OBSERVATION, view: TICTACTOE_OBSERVATION.view.replace(/\n/g, "  \r\n") + "\r\n\r\n" };
    expect(compactPrompt(TICTACTOE_INFO, crlf).text).toBe(
      `TicTacToe-v0 P0\n${normaliseView(TICTACTOE_OBSERVATION.view)}\n${COMPACT_CUE}`,
    );
  });

  it("returns a copy of the legal list", () => {
    const prompt = compactPrompt(TICTACTOE_INFO, TICTACTOE_OBSERVATION);
    expect(prompt.allowed).not.toBe(TICTACTOE_OBSERVATION.legal);
  });

  it("extracts allowed strings exactly, case-insensitively, and otherwise by the general rules", () => {
    const allowed = KUHN_OBSERVATION.legal;
    expect(extractCompact("[call]", allowed)).toEqual({ ok: true, action: "[call]", source: "bracket" });
    expect(extractCompact(" [CALL]\n", allowed)).toEqual({ ok: true, action: "[call]", source: "bracket" });
    expect(extractCompact("fold", allowed)).toEqual({ ok: true, action: "[fold]", source: "wrapped" });
    expect(extractCompact("", allowed).ok).toBe(false);
  });
});

describe("prompt templates", () => {
  it("registers qwen3-chat, r1 and compact, and names the known ids on a typo", () => {
    expect(Object.keys(PROMPT_TEMPLATES).sort()).toEqual(["compact", "qwen3-chat", "r1"]);
    expect(() => getPromptTemplate("qwen")).toThrow(/unknown prompt template "qwen"; expected one of: qwen3-chat, r1, compact/);
  });

  it("renders the R1 frame around the game, ending inside <think>", () => {
    const text = renderR1(TICTACTOE_INFO, TICTACTOE_OBSERVATION);
    expect(text.startsWith("A conversation between a User and an Assistant.")).toBe(true);
    expect(text).toContain("User: You are Player 0 in a game of Tic Tac Toe (TicTacToe-v0)");
    expect(text).toContain("<answer>[1]</answer>");
    expect(text.endsWith("\nAssistant: <think>")).toBe(true);
  });

  it("keeps `$` sequences of the observation literal in the R1 frame", () => {
    const observation = { ...KUHN_OBSERVATION, log: [{ kind: "rules" as const, text: "costs $1 and $& and $$" }] };
    expect(renderR1(KUHN_INFO, observation)).toContain("costs $1 and $& and $$");
  });

  // The templates' invariant: a reply in the asked-for form holding legal[i] extracts to legal[i].
  const replies: Record<string, (legal: string) => string> = {
    "qwen3-chat": (legal) => `I weigh the options.\n\\boxed{${legal}}`,
    r1: (legal) => ` weigh the options </think> <answer>${legal}</answer>`,
    compact: (legal) => legal,
  };
  const cases = [
    [TICTACTOE_INFO, TICTACTOE_OBSERVATION],
    [KUHN_INFO, KUHN_OBSERVATION],
    [NEGOTIATION_INFO, NEGOTIATION_OBSERVATION],
  ] as const;

  for (const template of Object.values(PROMPT_TEMPLATES)) {
    it(`${template.id}: renders every game and round-trips every legal action`, () => {
      for (const [info, observation] of cases) {
        const rendered = template.render(info, observation);
        if (template.kind === "chat") expect(Array.isArray(rendered)).toBe(true);
        else if (template.kind === "raw") expect(typeof rendered).toBe("string");
        else expect(rendered).toHaveProperty("allowed");
        const reply = replies[template.id];
        if (reply === undefined) throw new Error(`no reply form for template ${template.id}`);
        for (const legal of observation.legal) {
          const result = template.extract(reply(legal), observation);
          expect(result.ok && result.action).toBe(legal);
        }
      }
    });
  }
});
