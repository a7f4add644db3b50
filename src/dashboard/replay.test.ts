import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { indexGames, listGameFiles, readGameFile, readOneGame, replayGame, toRecordedGame } from "./replay.js";
import { INVALID_GAME, TICTACTOE_GAME, writeRun } from "./test-runs.js";

describe("replayGame", () => {
  it("plays a recorded game again with both seats' views before each reply", () => {
    const record = toRecordedGame(TICTACTOE_GAME);
    if (typeof record === "string") throw new Error(record);
    const replay = replayGame(record);
    expect(replay.frames).toHaveLength(5);
    expect(replay.frames.every((f) => f.valid)).toBe(true);
    expect(replay.frames[0]?.raw).toBe("I take the centre. [4]");
    expect(replay.frames[0]?.parsed).toBe("[4]");
    // Before the first move the board is empty; at the end P0 holds 2, 4, 6 and P1 holds 0, 1.
    expect((replay.frames[0]?.before.infos[0] as { cells: unknown[] }).cells.every((c) => c === null)).toBe(true);
    expect((replay.final.infos[0] as { cells: unknown[] }).cells).toEqual([1, 1, 0, null, 0, null, 0, null, null]);
    expect(replay.returns).toEqual([1, -1]);
    expect(replay.mismatch).toBeNull();
  });

  it("flags a record whose replay ends differently", () => {
    const edited = toRecordedGame({ ...TICTACTOE_GAME, returns: [-1, 1] });
    const short = toRecordedGame({ ...TICTACTOE_GAME, moves: TICTACTOE_GAME.moves.slice(0, 3) });
    if (typeof edited === "string" || typeof short === "string") throw new Error("expected records");
    expect(replayGame(edited).mismatch).toBe("replayed returns [1, -1] differ from the recorded [-1, 1]");
    expect(replayGame(short).mismatch).toMatch(/do not finish the game/);
  });

  it("marks an invalid reply and does not apply it", () => {
    const record = toRecordedGame(INVALID_GAME);
    if (typeof record === "string") throw new Error(record);
    const replay = replayGame(record);
    expect(replay.frames.map((f) => f.valid)).toEqual([true, false]);
    expect(replay.frames[1]?.reason).toBe("cell 4 is taken");
    expect((replay.final.infos[1] as { cells: unknown[] }).cells.filter((c) => c !== null)).toHaveLength(1);
  });

  it("reads match records (spiral.match/1) and says what a bad line lacks", () => {
    const match = { format: "spiral.match/1", gameId: "TicTacToe-v0", seed: 1, agents: ["a", "b"], returns: [0, 0], endReason: "turn-cap",
      steps: [{ seat: 0, reply: "[4]", raw: null, valid: true, reason: null }, { seat: 1, reply: "hm", raw: "hm", valid: false, reason: "no move" }] };
    const record = toRecordedGame(match);
    if (typeof record === "string") throw new Error(record);
    expect(record.moves).toEqual([{ seat: 0, action: "[4]" }, { seat: 1, action: "hm", raw: "hm", invalidReason: "no move" }]);
    expect(toRecordedGame({ seed: 1 })).toBe("expected gameId, seed and moves");
  });
});

describe("game files", () => {
  it("lists transcripts and eval games.jsonl, and skips bad lines with notices", async () => {
    const root = mkdtempSync(join(tmpdir(), "dash-replay-"));
    const dir = writeRun(root, "r", 2);
    writeFileSync(join(dir, "games.jsonl"), `${JSON.stringify(TICTACTOE_GAME)}\n{"gameId":"NoSuchGame-v0","seed":1,"moves":[]}\n{bad\n`);
    const files = await listGameFiles(dir);
    expect(files).toEqual([{ path: "transcripts/step-000002.jsonl", games: 2 }, { path: "games.jsonl", games: 3 }]);
    const { replays, notices } = await readGameFile(dir, "games.jsonl");
    expect(replays).toHaveLength(1);
    expect(notices).toHaveLength(2);
    expect(notices[0]).toMatch(/^games\.jsonl line 2: skipped, .*NoSuchGame-v0/);
    expect(notices[1]).toMatch(/^games\.jsonl line 3: skipped, not JSON/);
  });

  it("indexes every game of a run with its seats and outcome, and replays one by file and index", async () => {
    const root = mkdtempSync(join(tmpdir(), "dash-index-"));
    const dir = writeRun(root, "r", 4);
    writeFileSync(join(dir, "games.jsonl"), `${JSON.stringify({ ...TICTACTOE_GAME, step: undefined, trainedSeats: undefined, aSeat: 1, players: ["random", "ckpt"] })}\n{bad\n`);
    const games = await indexGames(dir);
    expect(games.map((g) => `${g.path}#${g.index} ${g.gameId} ${g.step} ${JSON.stringify(g.policySeats)} ${g.invalidSeat}`)).toEqual([
      "transcripts/step-000002.jsonl#0 TicTacToe-v0 2 [0,1] null",
      "transcripts/step-000002.jsonl#1 TicTacToe-v0 2 [0] 1",
      "transcripts/step-000004.jsonl#0 KuhnPoker-v1-1round 4 [0,1] null",
      "transcripts/step-000004.jsonl#1 TicTacToe-v0 4 [1] null",
      "transcripts/step-000004.jsonl#2 ConnectFour-v0 4 [0,1] null",
      "games.jsonl#0 TicTacToe-v0 null [1] null",
    ]);
    expect(games[3]?.returns).toEqual([-1, 1]);
    expect(games[4]?.moves).toBe(7);
    const c4 = await readOneGame(dir, "transcripts/step-000004.jsonl", 2);
    expect(c4.gameId).toBe("ConnectFour-v0");
    expect(c4.mismatch).toBeNull();
    expect(c4.returns).toEqual([1, -1]);
    await expect(readOneGame(dir, "games.jsonl", 1)).rejects.toThrow(/games\.jsonl line 2: not JSON/);
    await expect(readOneGame(dir, "games.jsonl", 5)).rejects.toThrow(/has no game 5/);
  });
});
