import { describe, expect, it } from "vitest";
import { baseGameId, parseGameSpec, parseRules, withRules } from "./game.js";
import { gameIds, gameVariants, getGame, getVariant, hasReferenceRules, listGames } from "./registry.js";

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

  it("builds the reference-rules variant from ID:reference where the rules differ, and the same game elsewhere", () => {
    expect(gameIds().filter(hasReferenceRules)).toEqual(["KuhnPoker-v1", "KuhnPoker-v1-1round", "SimpleTak-v0", "Snake-v0"]);
    for (const id of gameIds()) {
      const reference = getGame(`${id}:reference`);
      expect(getGame(`${id}:reference`)).toBe(reference);
      if (hasReferenceRules(id)) {
        expect(reference.info.id).toBe(`${id}:reference`);
        expect(reference.info.params.rules).toBe("reference");
        expect(reference).not.toBe(getGame(id));
      } else {
        expect(reference).toBe(getGame(id));
      }
      expect(getGame(`${id}:spiral`)).toBe(getGame(id));
    }
    expect(() => getGame("Snake-v0:published")).toThrow(/Unknown rules "published" in game "Snake-v0:published": expected spiral or reference/);
    expect(() => getGame("Chess-v0:reference")).toThrow(/Unknown game "Chess-v0"/);
  });

  it("reads and writes game specs", () => {
    expect(parseGameSpec("Snake-v0")).toEqual({ id: "Snake-v0", rules: "spiral" });
    expect(parseGameSpec("Snake-v0:reference")).toEqual({ id: "Snake-v0", rules: "reference" });
    expect(baseGameId("KuhnPoker-v1:reference")).toBe("KuhnPoker-v1");
    expect(withRules("KuhnPoker-v1", "reference")).toBe("KuhnPoker-v1:reference");
    expect(withRules("KuhnPoker-v1:reference", "spiral")).toBe("KuhnPoker-v1");
    expect(parseRules("reference")).toBe("reference");
    expect(() => parseRules("textarena")).toThrow(/--rules expects spiral or reference; got "textarena"/);
  });
});
