import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { getGame } from "../games/registry.js";
import { pickRecordedGames, writeGameRecords } from "./game-records.js";
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

describe("pickRecordedGames", () => {
  // A step's finished games in the order they finished: the short games first, negotiation last.
  const finished = (ids: string[]) => ids.map((gameId, gameIndex) => ({ result: { gameId, gameIndex }, samples: [] }) as unknown as Trajectory);
  const ids = ["TicTacToe-v0", "KuhnPoker-v1-1round", "SimpleNegotiation-v1"];
  const step = finished(["KuhnPoker-v1-1round", "KuhnPoker-v1-1round", "TicTacToe-v0", "KuhnPoker-v1-1round", "TicTacToe-v0", "SimpleNegotiation-v1"]);
  const picked = (budget: number, s: number) => pickRecordedGames(step, budget, ids, s).map((t) => `${t.result.gameId.slice(0, 4)}${t.result.gameIndex}`);

  it("takes the ids in turn, each its first finished games, starting one id further each step", () => {
    expect(picked(3, 0)).toEqual(["TicT2", "Kuhn0", "Simp5"]);
    expect(picked(5, 0)).toEqual(["TicT2", "Kuhn0", "Simp5", "TicT4", "Kuhn1"]);
    expect(picked(2, 0)).toEqual(["TicT2", "Kuhn0"]);
    expect(picked(2, 1)).toEqual(["Kuhn0", "Simp5"]);
    expect(picked(2, 2)).toEqual(["Simp5", "TicT2"]);
    expect(picked(100, 0)).toHaveLength(6); // never more than there are
    expect(picked(0, 0)).toEqual([]);
  });

  it("over a run with a budget of 2, every game of the mix is recorded about equally often", () => {
    const counts: Record<string, number> = {};
    for (let s = 1; s <= 60; s++) for (const t of pickRecordedGames(step, 2, ids, s)) counts[t.result.gameId] = (counts[t.result.gameId] ?? 0) + 1;
    expect(counts).toEqual({ "TicTacToe-v0": 40, "KuhnPoker-v1-1round": 40, "SimpleNegotiation-v1": 40 });
  });

  it("records a game id missing from the list after the listed ones, and skips ids with no finished game", () => {
    const other = finished(["Nim-v0", "TicTacToe-v0"]);
    expect(pickRecordedGames(other, 3, ids, 0).map((t) => t.result.gameId)).toEqual(["TicTacToe-v0", "Nim-v0"]);
  });
});
