import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseMatchRecord, verifyReplay } from "../games/record.js";
import { getGame } from "../games/registry.js";
import { scriptedIo } from "./io.js";
import { playCommand, runPlay } from "./play.js";

const base = { errorAllowance: 0 } as const;

describe("spiral play --rules reference", () => {
  it("plays the reference rules and records them in the game id, so the record replays under them", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "spiral-play-")), "match.json");
    const command = playCommand(scriptedIo([]));
    await command.parseAsync(["--game", "Snake-v0", "--rules", "reference", "--p0", "random", "--p1", "random", "--seed", "4", "--record", path], { from: "user" });
    const read = parseMatchRecord(readFileSync(path, "utf8"));
    expect(read.gameId).toBe("Snake-v0:reference");
    expect(read.params.rules).toBe("reference");
    expect(await verifyReplay(getGame(read.gameId), read)).toEqual([]);
    await expect(playCommand(scriptedIo([])).parseAsync(["--game", "Snake-v0", "--rules", "published"], { from: "user" })).rejects.toThrow(/--rules expects spiral or reference; got "published"/);
  });
});

describe("spiral play", () => {
  it("shows a person the rules once, the opponent's moves, the view and legal moves, and retries bad input", async () => {
    const io = scriptedIo(["hello", "[9]", "[0]", "[1]", "[2]", "[3]", "[4]", "[5]", "[6]", "[7]", "[8]"]);
    const record = await runPlay({ ...base, game: "TicTacToe-v0", p0: "human", p1: "random", seed: 5 }, io);
    const out = io.stdout();
    expect(out.split("You are Player 0 in TicTacToe").length - 1).toBe(1); // rules printed once
    expect(out).toContain("[0], [1], [2], [3], [4], [5], [6], [7], [8]");
    expect(out).toContain("Player 0 > ");
    expect(out).toMatch(/Invalid move: [^\n]*[^.]\. Please try again\./);
    expect(out).toMatch(/Player 1: \[\d\]/); // the opponent's move, as the person's log delivers it
    expect(record.endReason).toBe("terminal");
    expect(record.retries[0]).toBeGreaterThanOrEqual(2); // "hello" and "[9]" at least
    expect(record.errorAllowance).toEqual([null, 0]);
    expect(out.trimEnd()).toMatch(/(Player 0 \(human\) wins|Player 1 \(random\) wins|Draw)\. Returns -?\d, -?\d\.$/);
  });

  it("plays two reference agents against each other, announcing moves, and writes a replayable record", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "spiral-play-")), "match.json");
    const io = scriptedIo([]);
    const record = await runPlay({ ...base, game: "TicTacToe-v0", p0: "minimax", p1: "minimax", seed: 2, record: path }, io);
    expect(record.returns).toEqual([0, 0]); // perfect play draws
    expect(io.stdout()).toMatch(/Player 0 \(minimax\): \[\d\]\nPlayer 1 \(minimax\): \[\d\]/);
    expect(io.stdout()).toContain("Draw. Returns 0, 0.");
    const read = parseMatchRecord(readFileSync(path, "utf8"));
    expect(await verifyReplay(getGame("TicTacToe-v0"), read)).toEqual([]);
  });

  it("lists at most a screenful of legal moves when the view does not list them", async () => {
    const io = scriptedIo(["Deal? [Offer: 1 Wood -> 1 Gold]"]);
    await runPlay({ ...base, game: "SimpleNegotiation-v1", p0: "human", p1: "heuristic", seed: 1 }, io);
    expect(io.stdout()).toMatch(/Legal moves: \[Offer: 1 Wood -> 1 Gold\] .* … \(\d+ in all\)\n/);
  });

  it("prompts two people one after the other in a simultaneous game", async () => {
    const scripted = scriptedIo(Array.from({ length: 80 }, (_, i) => (i % 4 < 2 ? "[up]" : "[down]")));
    // What was on screen when each typed line arrived (a moment after the prompt, as at a real
    // keyboard): it must still end with that seat's own prompt.
    const screens: string[] = [];
    const io = {
      ...scripted,
      readLine: async () => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        screens.push(scripted.stdout());
        return scripted.readLine();
      },
    };
    const record = await runPlay({ ...base, game: "Snake-v0", p0: "human", p1: "human", seed: 2 }, io);
    expect(record.steps.length).toBeGreaterThanOrEqual(2);
    expect(screens[0]?.endsWith("Player 0 > ")).toBe(true);
    expect(screens[0]).not.toContain("You are Player 1"); // Player 1 is not shown anything yet
    expect(screens[1]?.endsWith("Player 1 > ")).toBe(true);
    expect(screens[2]?.endsWith("Player 0 > ")).toBe(true);
  });

  it("aborts cleanly when the person's input ends", async () => {
    const io = scriptedIo(["[4]"]);
    const record = await runPlay({ ...base, game: "TicTacToe-v0", p0: "human", p1: "random", seed: 1 }, io);
    expect(record.endReason).toBe("transport");
    expect(io.stderr()).toBe("\nInput ended before the game did (Player 0 (human) was to move). No result.\n");
    expect(io.stdout()).not.toContain("Returns");
  });

  it("as a real process: exit code 1 when input ends mid-game, 0 for a finished game", () => {
    // The CLI entry from sources (tsx), so the test does not depend on a fresh build in dist/.
    const run = (input: string) =>
      spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", `import { main } from "./src/cli/main.js"; await main(["node", "spiral", "play", "--game", "TicTacToe-v0", "--seed", "1"]);`], {
        encoding: "utf8", input, timeout: 30_000,
      });
    const cut = run("[4]\n");
    expect(cut.status).toBe(1);
    expect(cut.stderr).toBe("\nInput ended before the game did (Player 0 (human) was to move). No result.\n");
    const whole = run("[0]\n[1]\n[2]\n[3]\n[4]\n[5]\n[6]\n[7]\n[8]\n");
    expect(whole.status).toBe(0);
    expect(whole.stdout.match(/Game over/g)).toHaveLength(1);
  }, 60_000);

  it("tells the outcome once at the end of a game", async () => {
    // Every cell in turn: taken ones are refused and retried, until the game ends.
    const io = scriptedIo(["[0]", "[3]", "[6]", "[1]", "[2]", "[4]", "[5]", "[7]", "[8]"]);
    const record = await runPlay({ ...base, game: "TicTacToe-v0", p0: "human", p1: "random", seed: 1 }, io);
    expect(record.endReason).toBe("terminal");
    const out = io.stdout();
    expect(out.match(/Game over/g)).toHaveLength(1);
    expect(out.trimEnd()).toMatch(/Game over: [^\n]+\n\n(Player 0 \(human\) wins|Player 1 \(random\) wins|Draw)\. Returns -?\d, -?\d\.$/);
  });

  it("takes optimal as spiral eval does (the game's perfect player), and --help lists every reference agent by game", async () => {
    const io = scriptedIo([]);
    const record = await runPlay({ ...base, game: "TicTacToe-v0", p0: "optimal", p1: "random", seed: 2 }, io);
    expect(record.agents).toEqual(["optimal", "random"]);
    expect(record.returns[0]).toBeGreaterThanOrEqual(0); // perfect play does not lose
    let help = "";
    playCommand(scriptedIo([])).configureOutput({ writeOut: (text) => void (help += text) }).outputHelp();
    for (const [name, game] of [["minimax", "TicTacToe-v0"], ["nash", "KuhnPoker-v1-1round"], ["heuristic", "SimpleNegotiation-v1"], ["optimal", "Nim-v0"], ["tactics", "ConnectFour-v0"], ["hold-at-20", "PigDice-v1"]]) {
      expect(help).toMatch(new RegExp(`\\n  ${name} +[^\\n]*${game}`));
    }
  });

  it("refuses a --timeout-ms below 1 before the game starts", async () => {
    const io = scriptedIo([]);
    await expect(playCommand(io).parseAsync(["--game", "TicTacToe-v0", "--p0", "random", "--timeout-ms", "-5"], { from: "user" })).rejects.toThrow('--timeout-ms expects an integer ≥ 1; got "-5"');
    expect(io.stdout()).toBe("");
  });

  it("names the valid players for the game when one is unknown", async () => {
    await expect(runPlay({ ...base, game: "TicTacToe-v0", p0: "nash", p1: "random", seed: 1 }, scriptedIo([]))).rejects.toThrow(
      'Unknown player "nash" for TicTacToe-v0. Valid players: human, random, minimax, optimal.',
    );
    await expect(runPlay({ ...base, game: "Nope", p0: "human", p1: "random", seed: 1 }, scriptedIo([]))).rejects.toThrow(/Unknown game "Nope"/);
  });
});
