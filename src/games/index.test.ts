import { describe, expect, it } from "vitest";
import * as games from "./index.js";

describe("spiral/games public API", () => {
  it("plays a registered game end to end through the public entry", async () => {
    const game = games.getGame("KuhnPoker-v1-1round");
    const record = await games.playMatch({ game, agents: [games.randomAgent(), games.makeReferenceAgent("nash", game.info.id)], seed: 3 });
    expect(record.endReason).toBe("terminal");
    expect(await games.verifyReplay(game, games.parseMatchRecord(JSON.stringify(record)))).toEqual([]);
    expect(games.checkConformance(game, { games: 20 }).failures).toEqual([]);
  });

  it("exports the games, solvers and reference agents by name", () => {
    for (const name of ["ticTacToe", "kuhnPoker", "simpleNegotiation", "connectFour", "nim", "pigDice", "liarsDice", "simpleTak", "snake", "createRng", "scoreInvalid", "judgeReply", "kuhnExploitability", "ticTacToeMinimaxAgent"]) {
      expect(games, name).toHaveProperty(name);
    }
    expect(games.kuhnNashProfile).toBeTypeOf("function");
  });
});
