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
