import { describe, expect, it } from "vitest";
import { randomAgent } from "../games/agents/random.js";
import { createRng } from "../core/rng.js";
import { pennies, secretSum } from "../games/test-games.js";
import { ticTacToe } from "../games/tictactoe.js";
import { collectRollout, type ActorOptions } from "./actor.js";
import type { PromptMode } from "../policy/prompt-mode.js";
import { PolicyUnavailableError, randomPolicy, type Policy, type PolicyResult, type TransportFailure } from "../policy/policy.js";
import { createRae, scoreSamples } from "./rae.js";

/** Compact-style test mode: the view as prompt, the reply constrained to the legal moves. */
const constrainedMode: PromptMode = {
  name: "compact",
  request: (_info, obs, maxNewTokens) => ({ prompt: { kind: "text", text: obs.view }, constraint: { choices: obs.legal }, maxNewTokens, legal: obs.legal }),
  extract: (reply) => ({ ok: true, action: reply }),
};
/** Chat-style test mode: free replies, action from the last \boxed{}. */
const freeMode: PromptMode = {
  name: "chat",
  request: (_info, obs, maxNewTokens) => ({ prompt: { kind: "chat", messages: [{ role: "user", content: obs.view }] }, maxNewTokens, legal: obs.legal }),
  extract: (reply) => {
    const m = /\\boxed\{(.*)\}\s*$/.exec(reply);
    return m === null ? { ok: false, reason: "no \\boxed{} answer" } : { ok: true, action: m[1] as string };
  },
};

/** Wraps a policy to record the batch size of every call. */
function counting(policy: Policy): Policy & { batches: number[] } {
  const batches: number[] = [];
  return {
    ...policy,
    batches,
    generate(requests, rng) {
      batches.push(requests.length);
      return policy.generate(requests, rng);
    },
  };
}

const base: ActorOptions = {
  games: [{ game: ticTacToe, weight: 1 }],
  policy: randomPolicy(),
  mode: constrainedMode,
  rolloutBatch: 128,
  envs: 16,
  maxNewTokens: 8,
};

describe("collectRollout", () => {
  it("self-play: exactly rolloutBatch samples, all from finished games, both seats, one policy call per round", async () => {
    const policy = counting(randomPolicy());
    const out = await collectRollout({ ...base, policy }, createRng(1));
    expect(out.batch).toHaveLength(128);
    const total = out.trajectories.reduce((s, t) => s + t.samples.length, 0);
    expect(total).toBeGreaterThanOrEqual(128);
    const keys = new Set(out.trajectories.map((t) => `${t.result.gameIndex}`));
    for (const s of out.batch) expect(keys.has(`${s.gameIndex}`)).toBe(true);
    // Distinct samples (drawn without replacement), kept in play order.
    const ids = out.batch.map((s) => `${s.gameIndex}:${s.turn}`);
    expect(new Set(ids).size).toBe(128);
    for (const t of out.trajectories) {
      expect(t.result.trainedSeats).toEqual([0, 1]);
      // Random play of TicTacToe with constrained replies never makes an invalid move.
      expect(t.result.endReason).toBe("terminal");
      expect(t.result.returns[0] + t.result.returns[1]).toBe(0);
      // One sample per move, seats alternating from seat 0 (O moves first).
      expect(t.samples.map((s) => s.seat)).toEqual(t.result.moves.map((m) => m.seat));
      expect(t.samples.map((s) => s.turn)).toEqual(t.samples.map((_, i) => i));
      for (const s of t.samples) expect(s.logprobs).toHaveLength(s.generatedIds.length);
    }
    // The first call batches every live game: 15 of the 16 slots, since before any game finishes
    // each is expected to give maxTurns = 9 samples and 15 × 9 ≥ 128. Calls = rounds.
    expect(policy.batches[0]).toBe(15);
    expect(out.policyCalls).toBe(policy.batches.length);
    expect(policy.batches.reduce((a, b) => a + b, 0)).toBe(total);
  });

  it("is deterministic for a seed, different for another", async () => {
    const a = await collectRollout(base, createRng(5));
    const b = await collectRollout(base, createRng(5));
    const c = await collectRollout(base, createRng(6));
    const strip = (r: typeof a) => JSON.stringify({ t: r.trajectories, b: r.batch });
    expect(strip(a)).toBe(strip(b));
    expect(strip(a)).not.toBe(strip(c));
  });

  it("fixed opponent: the policy's seat alternates and only its samples are kept", async () => {
    const out = await collectRollout({ ...base, opponent: randomAgent(), rolloutBatch: 64 }, createRng(2));
    expect(out.batch).toHaveLength(64);
    for (const t of out.trajectories) {
      const seat = t.result.gameIndex % 2 === 0 ? 0 : 1;
      expect(t.result.trainedSeats).toEqual([seat]);
      expect(t.result.players[seat]).toBe("random");
      expect(t.samples.every((s) => s.seat === seat)).toBe(true);
      expect(t.samples.length).toBe(t.result.moves.filter((m) => m.seat === seat).length);
    }
    expect(new Set(out.trajectories.map((t) => t.result.trainedSeats[0])).size).toBe(2);
  });

  it("per-game opponents: a game without one is self-play, the others alternate the policy's seat", async () => {
    const asked: string[] = [];
    const opponent = (gameId: string) => {
      asked.push(gameId);
      return gameId === ticTacToe.info.id ? randomAgent("fixed") : undefined;
    };
    const out = await collectRollout({ ...base, games: [{ game: ticTacToe, weight: 1 }, { game: secretSum, weight: 1 }], opponent, rolloutBatch: 96 }, createRng(4));
    const byGame = (id: string) => out.trajectories.filter((t) => t.result.gameId === id);
    expect(byGame(ticTacToe.info.id).length).toBeGreaterThan(0);
    expect(byGame(secretSum.info.id).length).toBeGreaterThan(0);
    for (const t of byGame(ticTacToe.info.id)) {
      const seat = t.result.gameIndex % 2 === 0 ? 0 : 1;
      expect(t.result.trainedSeats).toEqual([seat]);
      expect(t.result.players[1 - seat]).toBe("fixed");
      expect(t.samples.every((s) => s.seat === seat)).toBe(true);
    }
    for (const t of byGame(secretSum.info.id)) {
      expect(t.result.trainedSeats).toEqual([0, 1]);
      expect(t.result.players).toEqual(["random", "random"]);
    }
    // Asked once per game id, its answer (an agent or none) kept for the whole call.
    expect(asked.sort()).toEqual([secretSum.info.id, ticTacToe.info.id].sort());
  });

  it("an unreadable reply ends the game at once: offender −1.5, other seat +0.5", async () => {
    const out = await collectRollout({ ...base, mode: freeMode, policy: randomPolicy({ invalidRate: 1 }), rolloutBatch: 8, maxNewTokens: 64 }, createRng(3));
    expect(out.trajectories.length).toBeGreaterThanOrEqual(8);
    for (const t of out.trajectories) {
      expect(t.result.endReason).toBe("invalid");
      expect(t.result.invalidSeat).toBe(0);
      expect(t.result.returns).toEqual([-1.5, 0.5]);
      expect(t.result.moves).toHaveLength(1);
      expect(t.result.moves[0]?.invalidReason).toMatch(/boxed/);
    }
  });

  it("an illegal move (occupied cell) is judged by the game and scored the same way", async () => {
    const occupied: Policy = {
      ...randomPolicy(),
      generate: (reqs) => Promise.resolve(reqs.map(() => ({ text: "\\boxed{[4]}", promptIds: [1], generatedIds: [2], logprobs: [-1] }))),
    };
    const out = await collectRollout({ ...base, mode: freeMode, policy: occupied, rolloutBatch: 4, envs: 2 }, createRng(4));
    for (const t of out.trajectories) {
      expect(t.result.moves.map((m) => m.action)).toEqual(["[4]", "[4]"]);
      expect(t.result.endReason).toBe("invalid");
      expect(t.result.invalidSeat).toBe(1);
      expect(t.result.returns).toEqual([0.5, -1.5]);
      expect(t.result.moves[1]?.invalidReason).toMatch(/taken/);
    }
  });

  it("mixes games by weight, caps turns as draws, and handles simultaneous games", async () => {
    const out = await collectRollout(
      { ...base, games: [{ game: secretSum, weight: 3 }, { game: pennies, weight: 1 }], rolloutBatch: 2000, envs: 64 },
      createRng(9),
    );
    const share = out.trajectories.filter((t) => t.result.gameId === secretSum.info.id).length / out.trajectories.length;
    // ~300+ games: 3:1 weights → 0.75 ± 4 sd (sd ≈ 0.025).
    expect(out.trajectories.length).toBeGreaterThan(250);
    expect(Math.abs(share - 0.75)).toBeLessThan(0.1);
    const penny = out.trajectories.find((t) => t.result.gameId === pennies.info.id)!;
    // Both seats move each round: 3 rounds × 2 samples.
    expect(penny.samples).toHaveLength(6);

    const capped = await collectRollout({ ...base, turnCap: 2, rolloutBatch: 10 }, createRng(9));
    for (const t of capped.trajectories) {
      expect(t.result.endReason).toBe("turn-cap");
      expect(t.result.returns).toEqual([0, 0]);
      expect(t.samples).toHaveLength(2);
    }
  });

  it("rejects bad options with the key named", async () => {
    await expect(collectRollout({ ...base, rolloutBatch: 0 }, createRng(1))).rejects.toThrow(/rolloutBatch must be a positive integer/);
    await expect(collectRollout({ ...base, games: [{ game: ticTacToe, weight: 0 }] }, createRng(1))).rejects.toThrow(/weight/);
  });

  describe("transport failures (a remote policy's turns no server could answer)", () => {
    /** randomPolicy as a remote policy: `fail(call, i)` turns request i of call `call` into a transport failure; `lostAt` makes that call reject. */
    function remote(fail: (call: number, i: number) => boolean, lostAt = Infinity): Policy {
      const inner = randomPolicy();
      let calls = 0;
      return {
        ...inner,
        async generateSettled(requests, rng): Promise<(PolicyResult | TransportFailure)[]> {
          const call = calls++;
          if (call >= lostAt) throw new PolicyUnavailableError("no actor endpoint has answered for 1 s");
          const results = await inner.generate(requests, rng);
          return results.map((r, i) => (fail(call, i) ? { kind: "transport", error: `turn ${call}:${i} failed 3 times in transport` } : r));
        },
      };
    }

    it("ends the game void, keeps none of its samples, and plays on to a full batch; RAE skips it", async () => {
      const out = await collectRollout({ ...base, rolloutBatch: 64, policy: remote((call, i) => call === 2 && i < 3) }, createRng(5));
      const voids = out.trajectories.filter((t) => t.result.endReason === "transport");
      expect(voids).toHaveLength(3);
      for (const t of voids) {
        expect(t.samples).toEqual([]);
        expect(t.result.returns).toEqual([0, 0]);
        expect(t.result.transport).toMatch(/^turn 2:\d failed 3 times in transport$/);
        expect(t.result.moves.length).toBeGreaterThan(0); // the turns before the failure were played
      }
      expect(out.batch).toHaveLength(64);
      const voidKeys = new Set(voids.map((t) => t.result.gameIndex));
      expect(out.batch.some((s) => voidKeys.has(s.gameIndex))).toBe(false);
      // Each game once: indices distinct and consecutive, void ones included.
      expect(out.trajectories.map((t) => t.result.gameIndex).sort((a, b) => a - b)).toEqual(out.trajectories.map((_, i) => i));
      expect(out.lost).toBeUndefined();
      // RAE folds in only the games that ended: the same baselines as without the void ones.
      const scored = scoreSamples(createRae(), out.trajectories, out.batch);
      const played = scoreSamples(createRae(), out.trajectories.filter((t) => t.result.endReason !== "transport"), out.batch);
      expect(scored.state).toEqual(played.state);
      expect(scored.samples).toEqual(played.samples);
    });

    it("stops when the policy is lost: the live games end void, none starts, the rollout says why", async () => {
      const out = await collectRollout({ ...base, rolloutBatch: 64, envs: 8, policy: remote(() => false, 3) }, createRng(6));
      expect(out.lost).toBe("no actor endpoint has answered for 1 s");
      const voids = out.trajectories.filter((t) => t.result.endReason === "transport");
      expect(voids.length).toBeGreaterThan(0);
      expect(voids.length).toBeLessThanOrEqual(8);
      expect(out.batch.length).toBeLessThan(64);
      for (const s of out.batch) expect(voids.some((t) => t.result.gameIndex === s.gameIndex)).toBe(false);
    });

    it("an in-process policy's error still fails the rollout (a bug, not a transport failure)", async () => {
      const broken: Policy = { ...randomPolicy(), generate: () => Promise.reject(new Error("boom")) };
      await expect(collectRollout({ ...base, policy: broken }, createRng(1))).rejects.toThrow("boom");
    });
  });
});
