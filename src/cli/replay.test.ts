import { describe, expect, it } from "vitest";
import { randomAgent } from "../games/agents/random.js";
import { playMatch } from "../games/match.js";
import { getGame } from "../games/registry.js";
import { createRng } from "../core/rng.js";
import { runArena } from "../eval/arena.js";
import { referenceAgentFor, type AgentPlayer } from "../policy/policy-spec.js";
import { scriptedIo } from "./io.js";
import { parseActionsFile, replayCommand, runReplay, runReplayRecord } from "./replay.js";

interface StepLine {
  type: string;
  seat: number;
  observation: string;
  legal: string[];
  raw: string;
  action: string | null;
  valid: boolean;
  done: boolean;
  returns: number[];
}

describe("spiral replay", () => {
  it("reads a JSON array or one reply per line", () => {
    expect(parseActionsFile('["[4]", "[0]"]')).toEqual(["[4]", "[0]"]);
    expect(parseActionsFile("[4]\n\n[0]\r\n")).toEqual(["[4]", "[0]"]);
    expect(parseActionsFile("[4]")).toEqual(["[4]"]); // JSON [4] is not a list of strings
    expect(() => parseActionsFile(" \n", "moves.txt")).toThrow(/Expected actions in moves.txt/);
  });

  it("prints one JSON object per step and a result, ending the game at an invalid reply", async () => {
    const io = scriptedIo([]);
    await runReplay({ game: "TicTacToe-v0", seed: 1, actions: ["[4]", "[0]", "[4]", "[8]"], json: true, scoring: "training" }, io);
    const lines = io.stdout().trim().split("\n").map((l) => JSON.parse(l) as StepLine);
    expect(lines).toHaveLength(4);
    const [first, , third, result] = lines;
    expect(first).toMatchObject({ type: "step", seat: 0, raw: "[4]", action: "[4]", valid: true, done: false, returns: [0, 0] });
    expect(first?.legal).toHaveLength(9);
    expect(first?.observation).toContain("You are Player 0");
    expect(third).toMatchObject({ type: "step", seat: 0, raw: "[4]", valid: false, done: true, returns: [-1.5, 0.5] });
    expect(result).toMatchObject({ type: "result", endReason: "invalid", returns: [-1.5, 0.5], offenders: [0], used: 3, ignored: 1 });
    expect(io.stderr()).toContain("1 action(s) after the end of the game were ignored");
  });

  it("prints a readable transcript and says when the actions run out", async () => {
    const io = scriptedIo([]);
    await runReplay({ game: "TicTacToe-v0", seed: 1, actions: ["[4]", "[0]"] }, io);
    expect(io.stdout()).toContain("--- step 1: move 1, Player 1 ---");
    expect(io.stdout()).toContain('Reply: "[0]" -> [0] (valid)');
    expect(io.stdout()).toContain("End: incomplete; returns 0, 0.");
    expect(io.stderr()).toContain("The actions ran out before the game ended (2 used).");
  });
});

describe("spiral replay shows which pattern decided each reply", () => {
  it("names the pattern and the text it matched, or that nothing matched", async () => {
    const io = scriptedIo([]);
    await runReplay({ game: "ConnectFour-v0", seed: 1, actions: ["[3] no wait, [col 4]\n[6]", "I pass"] }, io);
    const out = io.stdout();
    expect(out).toContain('Reply: "[3] no wait, [col 4]\\n[6]" -> [col 4] (valid)');
    expect(out).toContain('Pattern: .*\\[(?:col\\s*)?(\\d+)\\].* (ignore case; greedy: the last match on the first line with one) matched "[col 4]"');
    expect(out).toContain("(no match)");
  });

  it("puts the match into --json steps, and replays reference rules with ID:reference", async () => {
    const io = scriptedIo([]);
    await runReplay({ game: "PigDice-v1", seed: 3, actions: ["[H]", "I will [r]oll: [r]"], json: true }, io);
    const lines = io.stdout().trim().split("\n").map((l) => JSON.parse(l) as { type: string; action?: string; match?: { pattern: string; text: string | null } });
    expect(lines[0]).toMatchObject({ action: "[hold]", match: { text: "[H]" } });
    expect(lines[1]).toMatchObject({ action: "[roll]", match: { text: "[r]" } });
    expect(lines[0]?.match?.pattern).toContain("\\[(roll|hold|r|h)\\]");

    // KuhnPoker-v1:reference: whoever wins the last round wins the game.
    const ref = scriptedIo([]);
    await runReplay({ game: "KuhnPoker-v1-1round:reference", seed: 0, actions: ["[check]", "[check]"], json: true }, ref);
    const result = JSON.parse(ref.stdout().trim().split("\n").at(-1) as string) as { returns: number[] };
    expect(Math.abs(result.returns[0] as number)).toBe(1);
  });
});

describe("spiral replay --record", () => {
  it("replays a saved match and confirms it, or names the steps that differ", async () => {
    const game = getGame("TicTacToe-v0");
    const record = await playMatch({ game, agents: [randomAgent(), randomAgent()], seed: 6 });
    const io = scriptedIo([]);
    await runReplayRecord(JSON.stringify(record), { json: true }, io);
    const lines = io.stdout().trim().split("\n").map((l) => JSON.parse(l) as { type: string });
    expect(lines).toHaveLength(record.steps.length + 1);
    expect(io.stderr()).toContain(`The replay matches the record: ${record.steps.length} steps`);
    const tampered = { ...record, steps: record.steps.map((s, i) => (i === 0 ? { ...s, action: "[8]" } : s)) };
    await expect(runReplayRecord(JSON.stringify(tampered), {}, scriptedIo([]))).rejects.toThrow(/does not replay faithfully:\nstep 0: action/);
    // A match record holds one match: --index (a line of a game-records file) is refused, not ignored.
    await expect(runReplayRecord(JSON.stringify(record), { index: 1 }, scriptedIo([]))).rejects.toThrow(/^--index picks a game of a file of game records .* leave --index out$/);
  });
});

describe("spiral replay --record on game records", () => {
  // Lines in the shapes earlier versions wrote: a training transcript line and a games.jsonl line.
  const transcript = {
    step: 3, gameId: "TicTacToe-v0", seed: 11, players: ["model:micro", "model:micro"], trainedSeats: [0, 1],
    moves: [{ seat: 0, action: "[4]" }, { seat: 1, action: "[0]" }, { seat: 0, action: "[9]", invalidReason: "[9] is not a legal move now" }],
    returns: [-1.5, 0.5], endReason: "invalid", invalidSeat: 0,
  };

  it("replays a transcript line under training scoring and an arena line under evaluation scoring", async () => {
    const io = scriptedIo([]);
    await runReplayRecord(JSON.stringify(transcript) + "\n", { json: true }, io);
    expect(io.stderr()).toContain("The replay matches the record: 3 moves, invalid, returns -1.5, 0.5.");
    const game = getGame("Nim-v0");
    const lines: string[] = [];
    await runArena({ game, a: referencePlayer("random"), b: referencePlayer("optimal"), games: 4, concurrency: 2, onGame: (g) => lines.push(JSON.stringify(g)) }, createRng(3));
    for (const index of [0, 3]) {
      const out = scriptedIo([]);
      await runReplayRecord(lines.join("\n") + "\n", { index }, out);
      expect(out.stderr()).toMatch(/The replay matches the record: \d+ moves, terminal, returns/);
    }
  });

  it("refuses --index without --record (it picks a game of a records file)", async () => {
    const args = ["--game", "TicTacToe-v0", "--seed", "1", "--actions", "/nonexistent-actions", "--index", "2"];
    await expect(replayCommand(scriptedIo([])).parseAsync(args, { from: "user" })).rejects.toThrow("--index picks a game of the file given by --record FILE; add --record");
  });

  it("names what differs, and what was expected of a bad line", async () => {
    const edited = { ...transcript, returns: [-1, 1] };
    await expect(runReplayRecord(JSON.stringify(edited), {}, scriptedIo([]))).rejects.toThrow(/does not replay faithfully:\nfinal returns \[-1\.5,0\.5\] on replay, \[-1,1\] recorded/);
    await expect(runReplayRecord(JSON.stringify(transcript), { index: 2 }, scriptedIo([]))).rejects.toThrow(/Expected a game at --index 2; the file holds 1 game record/);
    await expect(runReplayRecord(JSON.stringify({ seed: 1 }), {}, scriptedIo([]))).rejects.toThrow(/Not a game record at line 1: expected gameId, seed and moves/);
    await expect(runReplayRecord(JSON.stringify({ ...transcript, endReason: "won" }), {}, scriptedIo([]))).rejects.toThrow(/expected endReason to be one of terminal, invalid, turn-cap, transport; got "won"/);
  });
});

function referencePlayer(name: string): AgentPlayer {
  return { kind: "agent", name, agentFor: (gameId) => referenceAgentFor(name, gameId), close: () => Promise.resolve() };
}
