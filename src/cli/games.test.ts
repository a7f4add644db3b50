import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { gameIds, getGame } from "../games/registry.js";
import { runGames } from "./games.js";
import { scriptedIo } from "./io.js";

describe("spiral games", () => {
  it("prints one table row per registered game with its metadata", () => {
    const io = scriptedIo([]);
    runGames({}, io);
    const lines = io.stdout().split("\n");
    expect(lines[0]).toMatch(/^id\s+split\s+seats\s+max turns\s+returns\s+information\s+actions\s+simultaneous\s+params$/);
    for (const id of gameIds()) {
      const { info } = getGame(id);
      const row = lines.find((l) => l.startsWith(`${id} `));
      expect(row?.split(/\s{2,}/).slice(2)).toEqual([
        "2",
        String(info.maxTurns),
        `[${info.minReturn}, ${info.maxReturn}]`,
        info.information,
        info.actionSpace,
        info.simultaneous ? "yes" : "no",
        ...(Object.keys(info.params).length > 0 ? [Object.entries(info.params).map(([k, v]) => `${k}=${String(v)}`).join(" ")] : []),
      ]);
    }
    expect(io.stdout()).toContain("TicTacToe-v0: ");
    expect(lines.find((l) => l.startsWith("KuhnPoker-v1-1round "))).toMatch(/rounds=1$/);
  });

  it("prints the metadata as JSON", () => {
    const io = scriptedIo([]);
    runGames({ json: true }, io);
    const rows = JSON.parse(io.stdout()) as { id: string; split: string; maxTurns: number }[];
    expect(rows.map((r) => r.id)).toEqual(gameIds());
    expect(rows.find((r) => r.id === "TicTacToe-v0")).toMatchObject({ split: "training", maxTurns: 9 });
  });

  it("runs as a real process: games, play with piped input writing a record, replay of that record", () => {
    // The CLI entry from sources (tsx), so the test does not depend on a fresh build in dist/.
    const run = (args: string[], input = "") =>
      spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", `import { main } from "./src/cli/main.js"; await main(["node", "spiral", ...${JSON.stringify(args)}]);`], {
        encoding: "utf8",
        input,
        timeout: 30_000,
      });
    const games = run(["games", "--json"]);
    expect(games.status).toBe(0);
    expect((JSON.parse(games.stdout) as unknown[]).length).toBe(gameIds().length);

    const dir = mkdtempSync(join(tmpdir(), "spiral-cli-"));
    // A person who tries every cell in order: taken cells are refused with a reason, then retried.
    const play = run(["play", "--game", "TicTacToe-v0", "--p0", "human", "--p1", "random", "--seed", "3", "--record", join(dir, "match.json")], "[9]\n[0]\n[1]\n[2]\n[3]\n[4]\n[5]\n[6]\n[7]\n[8]\n");
    expect(play.status).toBe(0);
    expect(play.stdout).toContain("Invalid move: ");
    expect(play.stdout).toMatch(/(Player 0 \(human\) wins|Player 1 \(random\) wins|Draw)\. Returns/);

    // The person's match record replays from its file, step for step.
    const replay = run(["replay", "--record", join(dir, "match.json"), "--json"]);
    expect(replay.status).toBe(0);
    const lines = replay.stdout.trim().split("\n").map((l) => JSON.parse(l) as { type: string; valid?: boolean });
    expect(lines.at(-1)?.type).toBe("result");
    expect(lines.filter((l) => l.valid === false).length).toBeGreaterThanOrEqual(1); // "[9]" was refused
    expect(replay.stderr).toContain("The replay matches the record");
  });
});
