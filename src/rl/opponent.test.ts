import { describe, expect, it } from "vitest";
import { parseTrainConfig } from "./config.js";
import { parsePolicySpec } from "../policy/policy-spec.js";
import { checkOpponentSpecs, openOpponent, opponentSpecOf, parseOpponentSpec } from "./opponent.js";

const MIX = [{ id: "TicTacToe-v0" }, { id: "KuhnPoker-v1-1round" }, { id: "SimpleNegotiation-v1" }];
const STRONG = { "TicTacToe-v0": "minimax", "KuhnPoker-v1-1round": "nash", "SimpleNegotiation-v1": "heuristic" };

describe("per-game training opponents (opponentByGame)", () => {
  it("a game's own opponent wins over the run's", () => {
    const config = parseTrainConfig({ games: MIX, opponent: "random", opponentByGame: { "TicTacToe-v0": "minimax" } });
    expect(MIX.map((g) => opponentSpecOf(config, g.id))).toEqual(["minimax", "random", "random"]);
    expect(opponentSpecOf(parseTrainConfig({ games: MIX }), "TicTacToe-v0")).toBe("self");
  });

  it("opens each game's strongest reference player, and none for self-play", async () => {
    const strong = await openOpponent(parseTrainConfig({ games: MIX, opponentByGame: STRONG }), 1);
    expect(MIX.map((g) => strong?.agentFor(g.id)?.name)).toEqual(["minimax", "nash", "heuristic"]);
    // The same agent object for every call of one game (one batched agent per game id).
    expect(strong?.agentFor("TicTacToe-v0")).toBe(strong?.agentFor("TicTacToe-v0"));
    await strong?.close();

    const mixed = await openOpponent(parseTrainConfig({ games: MIX, opponentByGame: { "KuhnPoker-v1-1round": "nash" } }), 1);
    expect(MIX.map((g) => mixed?.agentFor(g.id)?.name)).toEqual([undefined, "nash", undefined]);
    await mixed?.close();

    expect(await openOpponent(parseTrainConfig({ games: MIX }), 1)).toBeUndefined();
    expect(await openOpponent(parseTrainConfig({ games: MIX, opponent: "random", opponentByGame: { "TicTacToe-v0": "self", "KuhnPoker-v1-1round": "self", "SimpleNegotiation-v1": "self" } }), 1)).toBeUndefined();
  });

  it("tells an unknown opponent what training takes: no endpoints in the list, which training refuses", () => {
    expect(() => parseOpponentSpec("bogus")).toThrow(/^opponent: Unknown policy "bogus": not a directory and not a reference agent\. Expected a checkpoint directory or a reference agent \(random, optimal, minimax, nash, heuristic, tactics, hold-at-20\); or "self" for self-play$/);
    expect(() => parsePolicySpec("bogus")).toThrow(/or openai:<base-url>#<model>$/);
    expect(() => parseOpponentSpec("openai:http://127.0.0.1:1/v1#m")).toThrow(/cannot be a training opponent/);
  });

  it("checks every game's opponent, naming the key", () => {
    expect(checkOpponentSpecs(parseTrainConfig({ games: MIX, opponentByGame: STRONG }))).toEqual([]);
    expect(() => checkOpponentSpecs(parseTrainConfig({ games: MIX, opponent: "minimax" }))).toThrow(/^opponent: No reference agent "minimax" for KuhnPoker-v1-1round/);
    expect(() => checkOpponentSpecs(parseTrainConfig({ games: MIX, opponent: "pool:2", opponentByGame: STRONG }))).toThrow(/^opponentByGame: cannot be combined with opponent "pool:2"/);
  });
});
