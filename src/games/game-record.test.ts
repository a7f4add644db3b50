import { describe, expect, it } from "vitest";
import { readGameRecord } from "./game-record.js";

const moves = [{ seat: 0, action: "[4]" }, { seat: 1, action: "[0]", raw: "I take 0. \\boxed{0}" }];

describe("readGameRecord", () => {
  it("reads a transcript line (training scoring, trained seats) and a games.jsonl line (evaluation, A's seat)", () => {
    const transcript = { step: 2, gameId: "TicTacToe-v0", seed: 5, players: ["p", "p"], trainedSeats: [0, 1], moves, returns: [0, 0], endReason: "turn-cap", invalidSeat: null };
    expect(readGameRecord(transcript)).toEqual({
      gameId: "TicTacToe-v0", seed: 5, players: ["p", "p"], moves, returns: [0, 0], endReason: "turn-cap", invalidSeat: null, step: 2, policySeats: [0, 1], scoring: "training",
    });
    const arena = { gameId: "TicTacToe-v0", index: 3, seed: 9, aSeat: 1, players: ["b", "a"], moves, returns: [0, 0], endReason: "transport", invalidSeat: null, transport: "connection refused" };
    expect(readGameRecord(arena)).toMatchObject({ endReason: "transport", transport: "connection refused", policySeats: [1], scoring: "evaluation" });
  });

  it("reads a match record's replies as moves, its offender as the invalid seat", () => {
    const match = {
      format: "spiral.match/1", gameId: "TicTacToe-v0", seed: 1, agents: ["a", "b"], scoring: "training", returns: [0.5, -1.5], endReason: "invalid", offenders: [1], transport: null,
      steps: [{ seat: 0, reply: "[4]", raw: "[4]", valid: true, reason: null }, { seat: 1, reply: "x", raw: null, valid: false, reason: "no move" }],
    };
    expect(readGameRecord(match)).toEqual({
      gameId: "TicTacToe-v0", seed: 1, players: ["a", "b"], returns: [0.5, -1.5], endReason: "invalid", invalidSeat: 1, scoring: "training",
      moves: [{ seat: 0, action: "[4]", raw: "[4]" }, { seat: 1, action: "x", invalidReason: "no move" }],
    });
  });

  it("says what it expected of a bad value", () => {
    expect(readGameRecord(null)).toBe("expected a JSON object");
    expect(readGameRecord({ gameId: "x", moves: [] })).toBe("expected gameId, seed and moves");
    expect(readGameRecord({ gameId: "x", seed: 1, moves: [], endReason: "resigned" })).toBe('expected endReason to be one of terminal, invalid, turn-cap, transport; got "resigned"');
    expect(readGameRecord({ gameId: "x", seed: 1, moves: [{ seat: 0, action: "", invalidReason: "?" }] })).toMatchObject({ endReason: "invalid", players: ["?", "?"], returns: [0, 0] });
  });
});
