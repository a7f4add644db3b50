import { describe, expect, it } from "vitest";
import { gameIds, gameVariants, getGame, getVariant, listGames } from "./registry.js";

describe("registry", () => {
  it("builds every registered game once, under its own id", () => {
    expect(gameVariants.length).toBeGreaterThan(0);
    for (const id of gameIds()) {
      const game = getGame(id);
      expect(game.info.id).toBe(id);
      expect(getGame(id)).toBe(game);
    }
    expect(new Set(gameIds()).size).toBe(gameIds().length);
  });

  it("registers SPIRAL's training games and the held-out evaluation games under their published ids", () => {
    const split = (which: string) => gameVariants.filter((v) => v.split === which).map((v) => v.id);
    expect(split("training")).toEqual(["TicTacToe-v0", "KuhnPoker-v1", "KuhnPoker-v1-1round", "SimpleNegotiation-v1"]);
    expect([...split("evaluation")].sort()).toEqual(["ConnectFour-v0", "LiarsDice-v1", "Nim-v0", "PigDice-v1", "SimpleTak-v0", "Snake-v0"]);
    expect(getGame("KuhnPoker-v1").info.params).toEqual({ rounds: 5 });
    expect(getGame("KuhnPoker-v1-1round").info.params).toEqual({ rounds: 1 });
    expect(getGame("Snake-v0").info.simultaneous).toBe(true);
  });

  it("lists training games before evaluation games, with their metadata", () => {
    const rows = listGames();
    expect(rows.map((r) => r.info.id)).toEqual(gameIds());
    const splits = rows.map((r) => r.split);
    expect(splits).toEqual([...splits].sort((a, b) => (a === b ? 0 : a === "training" ? -1 : 1)));
    expect(rows.find((r) => r.info.id === "TicTacToe-v0")?.split).toBe("training");
  });

  it("names the known games when an id is unknown", () => {
    expect(() => getGame("Chess-v0")).toThrow(/Unknown game "Chess-v0"\. Known games: .*TicTacToe-v0/);
    expect(() => getGame("tictactoe-v0")).toThrow(/Did you mean TicTacToe-v0\?/);
    expect(() => getVariant("")).toThrow(/Unknown game ""\. Known games/);
  });
});
