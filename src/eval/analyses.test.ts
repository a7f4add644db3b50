import { describe, expect, it } from "vitest";
import { getGame } from "../games/registry.js";
import { createRng } from "../core/rng.js";
import { ticTacToeOptimalMoves } from "../games/tictactoe.js";
import { randomPolicy } from "../policy/policy.js";
import { compactMode } from "../policy/prompt-mode.js";
import { kuhnAnalysis, ticTacToeDecisionPoints, ticTacToeOptimalRate } from "./analyses.js";
import { openPolicy, parsePolicySpec, type PolicyPlayer } from "../policy/policy-spec.js";

const settings = { temperature: 0.6, maxNewTokens: 16 };
const ticTacToe = getGame("TicTacToe-v0");
const kuhn = getGame("KuhnPoker-v1-1round");
const uniform: PolicyPlayer = { kind: "policy", name: "uniform", policy: randomPolicy(), mode: compactMode, maxNewTokens: 16, batched: true, exact: true, close: () => Promise.resolve() };

describe("exact analyses", () => {
  const points = ticTacToeDecisionPoints(ticTacToe);
  // Uniform play's expected rate, computed here straight from the solver.
  const uniformRate = points.reduce((s, p) => s + ticTacToeOptimalMoves(p.state.cells).length / p.observation.legal.length, 0) / points.length;

  it("walks the 4,520 TicTacToe positions where a move is owed", () => {
    expect(points).toHaveLength(4520);
    expect(uniformRate).toBeGreaterThan(0.3);
    expect(uniformRate).toBeLessThan(0.9);
  });

  it("TicTacToe optimal-move rate: 1 for minimax, the uniform expectation for a uniform policy (exact) and near it when sampled", async () => {
    const minimax = await ticTacToeOptimalRate(ticTacToe, await openPolicy(parsePolicySpec("optimal"), settings), createRng(1));
    expect(minimax).toMatchObject({ positions: 4520, rate: 1, exact: false, invalid: 0 });
    const exact = await ticTacToeOptimalRate(ticTacToe, uniform, createRng(1));
    expect(exact.exact).toBe(true);
    expect(exact.rate).toBeCloseTo(uniformRate, 12);
    const sampled = await ticTacToeOptimalRate(ticTacToe, await openPolicy(parsePolicySpec("random"), settings), createRng(2));
    // 4,520 Bernoulli draws: sd < 0.008, so 0.03 is beyond 3.5 sd.
    expect(Math.abs(sampled.rate - uniformRate)).toBeLessThan(0.03);
  });

  it("Kuhn exploitability: 11/24 for uniform play (exact), near 0 for the Nash agent (sampled)", async () => {
    const u = await kuhnAnalysis(kuhn, uniform, createRng(0));
    expect(u.exact).toBe(true);
    expect(u.exploitability).toBeCloseTo(11 / 24, 10);
    expect(Object.keys(u.profile)).toHaveLength(12);
    const nash = await kuhnAnalysis(kuhn, await openPolicy(parsePolicySpec("optimal"), settings), createRng(3), 400);
    expect(nash.exact).toBe(false);
    expect(nash.exploitability).toBeLessThan(0.06);
    expect(nash.profile["K:bet"]).toBe(1);
    expect(nash.profile["J:bet"]).toBe(0);
    await expect(kuhnAnalysis(ticTacToe, uniform, createRng(0))).rejects.toThrow(/needs KuhnPoker-v1-1round/);
  });
});
