import { describe, expect, it } from "vitest";
import { randomAgent } from "../games/agents/random.js";
import { ticTacToeMinimaxAgent } from "../games/agents/tictactoe-minimax.js";
import { kuhnNashProfile } from "../games/kuhn-exact.js";
import { kuhnPoker } from "../games/kuhn-poker.js";
import { createRng } from "../core/rng.js";
import { ticTacToe } from "../games/tictactoe.js";
import type { PromptMode } from "../policy/prompt-mode.js";
import { evaluate, findInfoSetObservations, kuhnProfileOf, playMatchup } from "./eval.js";
import { randomPolicy, type Policy } from "../policy/policy.js";
import { compactMode } from "../policy/prompt-mode.js";

const kuhn1 = kuhnPoker({ rounds: 1 });

describe("evaluation", () => {
  it("random vs random TicTacToe over both seats: non-loss ≈ 0.56, seats split evenly", async () => {
    const r = await playMatchup({ policy: randomPolicy(), mode: compactMode, maxNewTokens: 8, envs: 64 }, { game: ticTacToe, opponent: randomAgent(), games: 600 }, createRng(1));
    expect(r.rates.games).toBe(600);
    const seat0 = r.bySeat[0].wins + r.bySeat[0].draws + r.bySeat[0].losses;
    expect(seat0).toBe(300);
    // Exact for uniform play: first mover wins 0.585, second 0.288, draws 0.127 →
    // non-loss over both seats (0.585 + 0.288)/2 + 0.127 ≈ 0.564; 4 sd at n = 600 ≈ 0.08.
    expect(Math.abs(r.rates.nonLoss.rate - 0.564)).toBeLessThan(0.08);
    expect(r.rates.nonLoss.low).toBeLessThan(r.rates.nonLoss.rate);
    expect(r.invalid).toBe(0);
  });

  it("an invalid reply loses the evaluation game (−1/+1), counted as invalid", async () => {
    const freeMode: PromptMode = {
      name: "chat",
      request: (_info, obs, maxNewTokens) => ({ prompt: { kind: "text", text: obs.view }, maxNewTokens, legal: obs.legal }),
      extract: () => ({ ok: false, reason: "no \\boxed{} answer" }),
    };
    const r = await playMatchup({ policy: randomPolicy(), mode: freeMode, maxNewTokens: 64, envs: 4 }, { game: ticTacToe, opponent: randomAgent(), games: 6 }, createRng(5));
    expect(r.outcomes).toEqual({ wins: 0, draws: 0, losses: 6 });
    expect(r.invalid).toBe(6);
    expect(r.meanReturn).toBe(-1);
  });

  it("random never beats the perfect TicTacToe player", async () => {
    const r = await playMatchup({ policy: randomPolicy(), mode: compactMode, maxNewTokens: 8, envs: 32 }, { game: ticTacToe, opponent: ticTacToeMinimaxAgent(), games: 40 }, createRng(2));
    expect(r.outcomes.wins).toBe(0);
    expect(r.outcomes.losses).toBeGreaterThan(20);
  });

  it("finds the 12 Kuhn information sets; the uniform policy's exploitability is 11/24", async () => {
    expect(findInfoSetObservations(kuhn1, 12).size).toBe(12);
    const report = await evaluate({ policy: randomPolicy(), mode: compactMode, maxNewTokens: 8, envs: 8, matchups: [], kuhn: kuhn1 }, createRng(3));
    expect(report.kuhn?.exploitability).toBeCloseTo(11 / 24, 12);
  });

  it("reads the policy's probabilities at the right information sets (a Nash policy scores 0)", async () => {
    const nash = kuhnNashProfile(0.2);
    // The prompt carries the information-set key, so a scripted policy can answer from a table.
    const keyMode: PromptMode = {
      name: "test",
      request: (_info, obs, maxNewTokens) => ({ prompt: { kind: "text", text: String((obs.infoState as { infoSet: string }).infoSet) }, maxNewTokens, legal: obs.legal }),
      extract: (reply) => ({ ok: true, action: reply }),
    };
    const scripted: Policy = {
      ...randomPolicy(),
      choiceProbabilities(request, choices) {
        const key = request.prompt.kind === "text" ? request.prompt.text : "";
        const p = nash[key] as number;
        return Promise.resolve(choices.map((c) => (/bet|call/.test(c) ? p : 1 - p)));
      },
    };
    const profile = await kuhnProfileOf(scripted, keyMode, kuhn1, 8);
    expect(profile).toEqual(nash);
    const report = await evaluate({ policy: scripted, mode: keyMode, maxNewTokens: 8, envs: 8, matchups: [], kuhn: kuhn1 }, createRng(3));
    expect(report.kuhn?.exploitability).toBeCloseTo(0, 12);
  });
});
