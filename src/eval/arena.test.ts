import { afterEach, describe, expect, it } from "vitest";
import type { Agent } from "../games/agent.js";
import { getGame } from "../games/registry.js";
import { createRng } from "../core/rng.js";
import { randomPolicy, type Policy } from "../policy/policy.js";
import { chatMode, compactMode } from "../policy/prompt-mode.js";
import { totalGames } from "./stats.js";
import { meanReply, runArena, type ArenaGame } from "./arena.js";
import { openaiPolicy } from "../policy/openai-policy.js";
import { closeFakeEndpoints, fakeEndpoint, okReply } from "../policy/test-endpoint.js";
import { openPolicy, parsePolicySpec, type AgentPlayer, type PolicyPlayer } from "../policy/policy-spec.js";

afterEach(closeFakeEndpoints);

const settings = { temperature: 0.6, maxNewTokens: 64 };

async function reference(name: string): Promise<AgentPlayer> {
  return (await openPolicy(parsePolicySpec(name), settings)) as AgentPlayer;
}

function policyPlayer(policy: Policy, mode = compactMode): PolicyPlayer {
  return { kind: "policy", name: policy.name, policy, mode, maxNewTokens: 64, batched: true, exact: true, close: () => Promise.resolve() };
}

describe("runArena", () => {
  it("alternates seats, never lets minimax lose, and replays the same games from the same seed", async () => {
    const game = getGame("TicTacToe-v0");
    const play = async (seed: number) => {
      const transcript: ArenaGame[] = [];
      const report = await runArena({ game, a: await reference("optimal"), b: await reference("random"), games: 40, concurrency: 7, onGame: (g) => transcript.push(g) }, createRng(seed));
      return { report, transcript };
    };
    const { report, transcript } = await play(3);
    expect(report.outcomes.losses).toBe(0);
    expect(report.outcomes.wins).toBeGreaterThan(25);
    expect(totalGames(report.bySeat[0])).toBe(20);
    expect(totalGames(report.bySeat[1])).toBe(20);
    expect(transcript).toHaveLength(40);
    for (const g of transcript) expect(g.players[g.aSeat]).toBe("optimal");
    expect(report.sides[0].invalid + report.sides[1].invalid).toBe(0);
    expect(report.rates.win.low).toBeGreaterThan(0.5);
    const again = await play(3);
    expect(again.transcript).toEqual(transcript);
  });

  it("batches a model's decisions across live games into one generate call", async () => {
    const inner = randomPolicy();
    const batches: number[] = [];
    const counting: Policy = { ...inner, name: "counting", generate: (requests, rng) => (batches.push(requests.length), inner.generate(requests, rng)) };
    const report = await runArena(
      { game: getGame("TicTacToe-v0"), a: policyPlayer(counting), b: await reference("random"), games: 32, concurrency: 32 },
      createRng(1),
    );
    const decisions = report.sides[0].decisions;
    expect(batches.reduce((a, b) => a + b, 0)).toBe(decisions);
    expect(Math.max(...batches)).toBeGreaterThanOrEqual(16);
    expect(batches.length).toBeLessThan(decisions / 8);
    // Compact mode with constrained decoding: every reply legal, token counts known.
    expect(report.sides[0].invalid).toBe(0);
    expect(meanReply(report.sides[0]).tokens).toBeCloseTo(3, 5); // "[c]" is three byte tokens
    expect(meanReply(report.sides[1]).tokens).toBeNull();
  });

  it("scores unreadable replies as invalid moves that lose, and counts them per side", async () => {
    const transcript: ArenaGame[] = [];
    const report = await runArena(
      { game: getGame("TicTacToe-v0"), a: policyPlayer(randomPolicy({ invalidRate: 0.3 }), chatMode()), b: await reference("random"), games: 60, concurrency: 16, onGame: (g) => transcript.push(g) },
      createRng(2),
    );
    const invalid = transcript.filter((g) => g.endReason === "invalid");
    expect(invalid.length).toBe(report.sides[0].invalid);
    expect(invalid.length).toBeGreaterThan(5);
    for (const g of invalid) {
      expect(g.invalidSeat).toBe(g.aSeat);
      expect(g.returns[g.aSeat]).toBe(-1);
      expect(g.returns[1 - g.aSeat]).toBe(1);
      expect(g.moves.at(-1)?.invalidReason).toBeTruthy();
    }
    expect(report.outcomes.losses).toBeGreaterThanOrEqual(invalid.length);
    expect(meanReply(report.sides[0]).chars).toBeGreaterThan(10);
  });

  it("counts transport failures separately, never as losses", async () => {
    let calls = 0;
    const flaky: Agent = {
      name: "flaky",
      act(observation, rng) {
        calls++;
        if (calls % 5 === 0) return Promise.reject(new Error("connection reset"));
        return Promise.resolve({ action: rng.choice(observation.legal) });
      },
    };
    const b: AgentPlayer = { kind: "agent", name: "flaky", agentFor: () => flaky, close: () => Promise.resolve() };
    const transcript: ArenaGame[] = [];
    const report = await runArena({ game: getGame("Nim-v0"), a: await reference("optimal"), b, games: 30, concurrency: 4, onGame: (g) => transcript.push(g) }, createRng(5));
    const failed = transcript.filter((g) => g.endReason === "transport");
    expect(failed.length).toBeGreaterThan(0);
    expect(report.transportFailures).toBe(failed.length);
    expect(totalGames(report.outcomes)).toBe(30 - failed.length);
    expect(failed[0]?.transport).toBe("connection reset");
    expect(report.sides[1].transportFailures).toBe(failed.length);
    // Piles 3, 4, 5 have nim-sum 2: the perfect player moving first wins every finished game.
    expect(report.bySeat[0].losses + report.bySeat[0].draws).toBe(0);
    expect(report.bySeat[0].wins).toBeGreaterThan(5);
  });

  it("rejects bad settings with what was expected", async () => {
    const a = await reference("random");
    await expect(runArena({ game: getGame("TicTacToe-v0"), a, b: a, games: 0, concurrency: 1 }, createRng(0))).rejects.toThrow(/games must be a positive integer; got 0/);
  });
});

describe("runArena with an endpoint", () => {
  it("in the arena, requests that fail in transport void their games instead of losing them", async () => {
    const url = await fakeEndpoint((body, n, _req, res) => {
      if (n % 3 === 0) {
        res.writeHead(500);
        res.end("boom");
        return;
      }
      // A correct player: the first legal move listed in the prompt, boxed.
      const prompt = JSON.stringify(body.messages);
      const move = /Available moves?: \[?(\d)/.exec(prompt)?.[1] ?? /\[(\d)\]/.exec(prompt)?.[1] ?? "0";
      okReply(res, `\\boxed{${move}}`);
    });
    const policy = openaiPolicy({ baseUrl: url, model: "m", temperature: 0, retries: 0 });
    const a: PolicyPlayer = { kind: "policy", name: "endpoint", policy, mode: chatMode(), maxNewTokens: 8, batched: false, exact: false, close: () => Promise.resolve() };
    const report = await runArena({ game: getGame("Nim-v0"), a, b: await openPolicy(parsePolicySpec("random"), { temperature: 1, maxNewTokens: 8 }), games: 12, concurrency: 4 }, createRng(1));
    expect(report.transportFailures).toBeGreaterThan(0);
    expect(report.outcomes.wins + report.outcomes.draws + report.outcomes.losses + report.transportFailures).toBe(12);
    expect(report.sides[0].transportFailures).toBe(report.transportFailures);
  });

});
