import { describe, expect, it } from "vitest";
import { parseTrainConfig } from "./config.js";
import { checkFinalGames, EVALUATION_GAME_IDS, finalGameMatchups, finalMatchups, playsFinalGames } from "./final-games.js";
import { gameIds, getVariant } from "../games/registry.js";

describe("out-of-distribution evaluation games (eval.finalGames)", () => {
  it("are off by default: no matchups, and the default config has no such key", () => {
    const config = parseTrainConfig({});
    expect(finalGameMatchups(config)).toEqual([]);
    expect("finalGames" in config.eval).toBe(false);
  });

  it("play every listed game against random, eval.games games each, at step 0 and the last step only", () => {
    const config = parseTrainConfig({ steps: 30, eval: { games: 6, finalGames: ["ConnectFour-v0", "Nim-v0"] } });
    expect(finalGameMatchups(config)).toEqual([{ gameId: "ConnectFour-v0", opponent: "random" }, { gameId: "Nim-v0", opponent: "random" }]);
    expect(finalMatchups(config).map((m) => [m.game.info.id, m.opponent.name, m.games])).toEqual([["ConnectFour-v0", "random", 6], ["Nim-v0", "random", 6]]);
    expect([0, 1, 10, 29, 30].map((s) => playsFinalGames(s, 30))).toEqual([true, false, false, false, true]);
  });

  it("lists exactly the registry's evaluation split", () => {
    expect([...EVALUATION_GAME_IDS].sort()).toEqual(gameIds().filter((id) => getVariant(id).split === "evaluation").sort());
    expect(() => checkFinalGames(parseTrainConfig({ eval: { finalGames: [...EVALUATION_GAME_IDS] } }))).not.toThrow();
  });
});
