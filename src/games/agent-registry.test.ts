import { describe, expect, it } from "vitest";
import { makeReferenceAgent, referenceAgentNames } from "./agent-registry.js";
import { playMatch } from "./match.js";
import { gameIds, getGame } from "./registry.js";

describe("reference agents by name", () => {
  it("offers random everywhere and the specialists only for their games", () => {
    for (const id of gameIds()) expect(referenceAgentNames(id)[0]).toBe("random");
    expect(referenceAgentNames("TicTacToe-v0")).toEqual(["random", "minimax"]);
    expect(referenceAgentNames("KuhnPoker-v1-1round")).toEqual(["random", "nash"]);
    expect(referenceAgentNames("SimpleNegotiation-v1")).toEqual(["random", "heuristic"]);
    expect(referenceAgentNames("Nim-v0")).toEqual(["random", "optimal"]);
    expect(referenceAgentNames("ConnectFour-v0")).toEqual(["random", "tactics"]);
    expect(referenceAgentNames("PigDice-v1")).toEqual(["random", "hold-at-20"]);
  });

  it("names the valid agents when one does not exist or does not play the game", () => {
    expect(() => makeReferenceAgent("alphazero", "Nim-v0")).toThrow('No reference agent "alphazero" for Nim-v0. Valid agents for Nim-v0: random, optimal.');
    expect(() => makeReferenceAgent("minimax", "Nim-v0")).toThrow(/\(it plays TicTacToe-v0\)/);
  });

  it("plays every game it is offered for without an invalid move, as either seat", async () => {
    for (const id of gameIds()) {
      const game = getGame(id);
      for (const name of referenceAgentNames(id)) {
        for (let seed = 0; seed < 6; seed++) {
          const agents = seed % 2 === 0 ? ([makeReferenceAgent(name, id), makeReferenceAgent("random", id)] as const) : ([makeReferenceAgent("random", id), makeReferenceAgent(name, id)] as const);
          const record = await playMatch({ game, agents, seed });
          expect(record.endReason, `${name} on ${id}, seed ${seed}`).toBe("terminal");
        }
      }
    }
  });

  it("minimax never loses a TicTacToe game to random play", async () => {
    const game = getGame("TicTacToe-v0");
    for (let seed = 0; seed < 40; seed++) {
      const seat = seed % 2;
      const agents = seat === 0 ? ([makeReferenceAgent("minimax", game.info.id), makeReferenceAgent("random", game.info.id)] as const) : ([makeReferenceAgent("random", game.info.id), makeReferenceAgent("minimax", game.info.id)] as const);
      const record = await playMatch({ game, agents, seed });
      expect(record.returns[seat]).toBeGreaterThanOrEqual(0);
    }
  });
});
