import { describe, expect, it, vi } from "vitest";
import type { Agent } from "./agent.js";
import type { AnyGame, Observation } from "./game.js";
import { judgeReply, playMatch, replayActions, retryNotice, scoreInvalid } from "./match.js";
import type { MatchRecord } from "./match.js";
import { pennies, secretSum } from "./test-games.js";

const uniform: Agent = {
  name: "uniform",
  act: async (obs, rng) => ({ action: rng.choice(obs.legal) }),
};

/** Replies with `junk` for its first `bad` replies of the game, then uniformly. */
function flaky(bad: number, junk = "I pass"): Agent {
  let count = 0;
  return {
    name: `flaky-${bad}`,
    act: async (obs, rng) => (count++ < bad ? { action: junk, raw: `thinking… ${junk}` } : { action: rng.choice(obs.legal) }),
  };
}

function logText(obs: Observation): string {
  return obs.log.map((m) => m.text).join("\n");
}

describe("scoreInvalid", () => {
  it("gives the offender the penalty and the other seat the bonus, per scoring", () => {
    expect(scoreInvalid([0], "training")).toEqual([-1.5, 0.5]);
    expect(scoreInvalid([1], "training")).toEqual([0.5, -1.5]);
    expect(scoreInvalid([1], "evaluation")).toEqual([1, -1]);
    expect(scoreInvalid([0, 1], "evaluation")).toEqual([-1, -1]);
    expect(() => scoreInvalid([], "training")).toThrow(/at least one/);
  });
});

describe("judgeReply", () => {
  it("accepts a legal reply with its canonical text and explains an illegal one", () => {
    const state = secretSum.init(1);
    expect(judgeReply(secretSum, state, 0, "I play [ 2 ] now")).toEqual({ valid: true, action: 2, canonical: "[2]" });
    const illegal = judgeReply(secretSum, state, 0, "[7]");
    expect(illegal).toMatchObject({ valid: false, canonical: "[7]" });
    expect(illegal.valid ? "" : illegal.reason).toContain("legal moves: [0], [1], [2], [3]");
    expect(judgeReply(secretSum, state, 1, "[1]")).toMatchObject({ valid: false }); // not seat 1's turn
    expect(judgeReply(secretSum, state, 0, "nothing")).toEqual({ valid: false, canonical: null, reason: "no move of the form [n] found" });
  });

  it("says how many retries are left", () => {
    expect(retryNotice("bad", 2).text).toBe("Invalid move: bad. Please try again (2 more invalid replies allowed).");
    expect(retryNotice("bad", Infinity).text).toBe("Invalid move: bad. Please try again.");
  });
});

describe("playMatch", () => {
  it("plays a sequential game to the end and records every step", async () => {
    const record = await playMatch({ game: secretSum, agents: [uniform, uniform], seed: 7 });
    expect(record.endReason).toBe("terminal");
    expect(record.steps.map((s) => s.seat)).toEqual([0, 1, 0, 1]);
    expect(record.steps.map((s) => s.turn)).toEqual([0, 1, 2, 3]);
    expect(record.steps.every((s) => s.valid && s.attempt === 0)).toBe(true);
    expect(record.steps.slice(0, 3).every((s) => !s.done && s.returns[0] === 0)).toBe(true);
    expect(record.steps[3]?.done).toBe(true);
    expect(record.steps[3]?.returns).toEqual(record.returns);
    expect(record.returns[0] + record.returns[1]).toBe(0);
    expect(record.moves).toBe(4);
    expect(record.agents).toEqual(["uniform", "uniform"]);
    expect(record.finalObservations[0].log.at(-1)?.text).toMatch(/^Totals/);
  });

  it("ends the game at the first invalid reply by default, scored per scoring", async () => {
    const training = await playMatch({ game: secretSum, agents: [uniform, flaky(1)], seed: 3, scoring: "training" });
    expect(training.endReason).toBe("invalid");
    expect(training.offenders).toEqual([1]);
    expect(training.returns).toEqual([0.5, -1.5]);
    expect(training.steps).toHaveLength(2);
    expect(training.steps[1]).toMatchObject({ seat: 1, valid: false, reply: "I pass", raw: "thinking… I pass", action: null, done: true });
    expect(training.invalid).toEqual([0, 1]);
    expect(training.retries).toEqual([0, 0]);
    const evaluation = await playMatch({ game: secretSum, agents: [flaky(1), uniform], seed: 3 });
    expect(evaluation.returns).toEqual([-1, 1]);
  });

  it("lets a seat retry within its allowance, telling it why", async () => {
    const record = await playMatch({ game: secretSum, agents: [flaky(2, "[9]"), uniform], seed: 5, errorAllowance: 2 });
    expect(record.endReason).toBe("terminal");
    expect(record.steps.map((s) => [s.seat, s.attempt, s.valid])).toEqual([
      [0, 0, false],
      [0, 1, false],
      [0, 2, true],
      [1, 0, true],
      [0, 0, true],
      [1, 0, true],
    ]);
    expect(record.invalid).toEqual([2, 0]);
    expect(record.retries).toEqual([2, 0]);
    const retryLog = record.steps[2]?.observation.log ?? [];
    expect(retryLog.slice(-2).map((m) => m.kind)).toEqual(["notice", "notice"]);
    expect(retryLog.at(-1)?.text).toContain("[9] is not a legal move now");
    expect(retryLog.at(-1)?.text).toContain("0 more invalid replies allowed");
    // The allowance is per decision: the next decision starts with no notices.
    expect(record.steps[4]?.observation.log.some((m) => m.text.startsWith("Invalid move"))).toBe(false);
  });

  it("ends the game when the allowance runs out", async () => {
    const record = await playMatch({ game: secretSum, agents: [uniform, flaky(99)], seed: 5, errorAllowance: [0, 1], scoring: "training" });
    expect(record.endReason).toBe("invalid");
    expect(record.invalid).toEqual([0, 2]);
    expect(record.retries).toEqual([0, 1]);
    expect(record.returns).toEqual([0.5, -1.5]);
    expect(record.errorAllowance).toEqual([0, 1]);
  });

  it("records an agent that throws as a transport failure, not a loss", async () => {
    const broken: Agent = { name: "broken", act: async () => Promise.reject(new Error("connection reset")) };
    const record = await playMatch({ game: secretSum, agents: [uniform, broken], seed: 1 });
    expect(record.endReason).toBe("transport");
    expect(record.returns).toEqual([0, 0]);
    expect(record.transport).toEqual({ seat: 1, kind: "error", message: "broken failed: connection reset" });
    expect(record.steps.at(-1)).toMatchObject({ seat: 1, reply: null, valid: false });
    expect(record.invalid).toEqual([0, 0]);
  });

  it("times out a slow agent", async () => {
    // On a clock moved by hand: the match must be over 1000 ms in, long before the agent's reply at
    // 2000 ms, however slowly this process runs.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      const slow: Agent = { name: "slow", act: () => new Promise((resolve) => setTimeout(() => resolve({ action: "[1]" }), 2000)) };
      let record: MatchRecord | undefined;
      const match = playMatch({ game: secretSum, agents: [slow, uniform], seed: 1, actTimeoutMs: 30 }).then((r) => (record = r));
      await vi.advanceTimersByTimeAsync(1000);
      expect(record).toBeDefined();
      expect(record?.transport).toMatchObject({ seat: 0, kind: "timeout" });
      expect(record?.endReason).toBe("transport");
      await vi.runAllTimersAsync();
      await match;
    } finally {
      vi.useRealTimers();
    }
  });

  it("rejects a malformed reply object as a transport failure", async () => {
    const wrong = { name: "wrong", act: async () => ({ text: "[1]" }) } as unknown as Agent;
    const record = await playMatch({ game: secretSum, agents: [wrong, uniform], seed: 1 });
    expect(record.transport?.message).toMatch(/expected \{ action: string \}/);
  });

  it("asks both seats of a simultaneous round in parallel and applies them in seat order", async () => {
    // Each agent waits until both have been asked: a sequential runner would deadlock here.
    let asked = 0;
    let release: () => void = () => {};
    const bothAsked = new Promise<void>((resolve) => (release = resolve));
    const waiting = (name: string, coin: string): Agent => ({
      name,
      act: async () => {
        if (++asked === 2) release();
        await bothAsked;
        return { action: `[${coin}]` };
      },
    });
    const record = await playMatch({ game: pennies, agents: [waiting("a", "heads"), waiting("b", "heads")], seed: 2, actTimeoutMs: 1000 });
    expect(record.endReason).toBe("terminal");
    expect(record.steps.map((s) => s.seat)).toEqual([0, 1, 0, 1, 0, 1]);
    expect(record.steps.map((s) => s.turn)).toEqual([0, 0, 2, 2, 4, 4]);
    expect(record.returns).toEqual([1, -1]); // every round matched
  });

  it("penalises both seats when both reply invalidly in one simultaneous round", async () => {
    const record = await playMatch({ game: pennies, agents: [flaky(1), flaky(1)], seed: 2, scoring: "training" });
    expect(record.endReason).toBe("invalid");
    expect(record.offenders).toEqual([0, 1]);
    expect(record.returns).toEqual([-1.5, -1.5]);
  });

  it("ends a game that overruns its turn cap as a draw", async () => {
    const capped: AnyGame = { ...secretSum, info: { ...secretSum.info, maxTurns: 3 } };
    const record = await playMatch({ game: capped, agents: [uniform, uniform], seed: 4 });
    expect(record.endReason).toBe("turn-cap");
    expect(record.returns).toEqual([0, 0]);
    expect(record.moves).toBe(3);
  });

  it("gives the same record for the same seed", async () => {
    const a = await playMatch({ game: pennies, agents: [uniform, uniform], seed: 11 });
    const b = await playMatch({ game: pennies, agents: [uniform, uniform], seed: 11 });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    const seeds = await Promise.all([12, 13, 14, 15].map((seed) => playMatch({ game: secretSum, agents: [uniform, uniform], seed })));
    expect(new Set(seeds.map((r) => JSON.stringify(r.steps.map((s) => s.reply)))).size).toBeGreaterThan(1);
  });

  it("rejects bad options with a clear message", async () => {
    await expect(playMatch({ game: secretSum, agents: [uniform, uniform], seed: 1.5 })).rejects.toThrow(/integer seed/);
    await expect(playMatch({ game: secretSum, agents: [uniform, uniform], seed: 1, errorAllowance: -1 })).rejects.toThrow(/errorAllowance/);
    await expect(playMatch({ game: secretSum, agents: [uniform, uniform], seed: 1, actTimeoutMs: 0 })).rejects.toThrow(/actTimeoutMs/);
  });
});

describe("replayActions", () => {
  async function expectReplayMatches(game: AnyGame, record: MatchRecord): Promise<void> {
    const replies = record.steps.map((s) => s.reply ?? "");
    const replay = await replayActions(game, record.seed, replies, { errorAllowance: [record.errorAllowance[0] ?? Infinity, record.errorAllowance[1] ?? Infinity], scoring: record.scoring });
    expect(replay.steps.map((s) => s.observation)).toEqual(record.steps.map((s) => s.observation));
    expect(replay.steps.map((s) => [s.action, s.valid, s.done, s.returns])).toEqual(record.steps.map((s) => [s.action, s.valid, s.done, s.returns]));
    expect(replay.endReason).toBe(record.endReason);
    expect(replay.returns).toEqual(record.returns);
    expect(replay.used).toBe(replies.length);
  }

  it("reproduces the observations of recorded random games", async () => {
    for (let seed = 0; seed < 30; seed++) {
      await expectReplayMatches(secretSum, await playMatch({ game: secretSum, agents: [uniform, uniform], seed }));
      await expectReplayMatches(pennies, await playMatch({ game: pennies, agents: [uniform, uniform], seed }));
    }
  });

  it("reproduces retries and invalid endings", async () => {
    await expectReplayMatches(secretSum, await playMatch({ game: secretSum, agents: [flaky(2, "[5]"), uniform], seed: 8, errorAllowance: 3, scoring: "training" }));
    await expectReplayMatches(pennies, await playMatch({ game: pennies, agents: [uniform, flaky(3)], seed: 8, errorAllowance: [0, 2], scoring: "training" }));
  });

  it("returns every state and stops early on an invalid move or when replies run out", async () => {
    const full = await replayActions(secretSum, 9, ["[1]", "[2]", "[3]", "[0]", "[1]"]);
    expect(full.states).toHaveLength(5);
    expect(full.endReason).toBe("terminal");
    expect(full.used).toBe(4);
    const cut = await replayActions(secretSum, 9, ["[1]", "oops", "[3]"], { scoring: "training" });
    expect(cut.endReason).toBe("invalid");
    expect(cut.returns).toEqual([0.5, -1.5]);
    expect(cut.steps.at(-1)?.reason).toBe("no move of the form [n] found");
    const short = await replayActions(secretSum, 9, ["[1]"]);
    expect(short.endReason).toBe("incomplete");
    expect(logText(short.steps[0]?.observation as Observation)).toContain("Secret Sum");
  });
});
