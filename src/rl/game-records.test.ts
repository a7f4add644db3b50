import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { getGame } from "../games/registry.js";
import { writeGameRecords } from "./game-records.js";
import type { Trajectory } from "./types.js";

describe("writeGameRecords", () => {
  it("writes one JSON line per game whose seed and moves replay to the recorded returns", async () => {
    const result = {
      gameId: "TicTacToe-v0", seed: 3, actorId: 0, gameIndex: 0, returns: [1, -1] as const, endReason: "terminal" as const, invalidSeat: null,
      moves: [{ seat: 0 as const, action: "[0]" }, { seat: 1 as const, action: "[3]" }, { seat: 0 as const, action: "[1]" }, { seat: 1 as const, action: "[4]" }, { seat: 0 as const, action: "[2]", raw: "top row [2]" }],
      trainedSeats: [0, 1] as const, players: ["policy", "policy"] as const,
    };
    const dir = mkdtempSync(join(tmpdir(), "game-records-"));
    await writeGameRecords(dir, 12, [{ result, samples: [] } as unknown as Trajectory]);
    const lines = readFileSync(join(dir, "transcripts", "step-000012.jsonl"), "utf8").trim().split("\n");
    expect(lines).toHaveLength(1);
    const record = JSON.parse(lines[0] as string) as typeof result & { step: number };
    expect(record.step).toBe(12);
    expect(record.moves[4]?.raw).toBe("top row [2]");
    const game = getGame(record.gameId);
    let state = game.init(record.seed);
    for (const move of record.moves) {
      const parsed = game.parse(state, move.seat, move.action);
      if (!parsed.ok) throw new Error(parsed.reason);
      state = game.apply(state, move.seat, parsed.action);
    }
    expect(game.returns(state)).toEqual(record.returns);
  });
});
