import { describe, expect, it } from "vitest";
import type { Seat } from "../games/game.js";
import { baseline, checkRaeState, createRae, raeUpdate, scoreSamples } from "./rae.js";
import type { GameResult, Sample, Trajectory } from "./types.js";

function result(gameId: string, gameIndex: number, returns: [number, number], trainedSeats: Seat[] = [0, 1]): GameResult {
  return {
    gameId, seed: gameIndex, actorId: 0, gameIndex, returns, endReason: "terminal", invalidSeat: null,
    moves: [], trainedSeats, players: ["policy", "policy"],
  };
}

function sample(gameId: string, gameIndex: number, seat: Seat): Sample {
  return {
    gameId, seat, actorId: 0, gameIndex, turn: 0, promptIds: [1], generatedIds: [2], logprobs: [-0.5],
    policyVersion: 0, text: "[0]",
  };
}

// Values computed by hand with α = 0.95; floating-point tolerance 1e-12.
const TOL = 12;

describe("RAE", () => {
  it("uses the pre-update baseline and follows b ← αb + (1−α)R, per seat", () => {
    const seq: [number, number][] = [[1, -1], [1, -1], [-1, 1], [-1.5, 0.5]];
    const expected = [
      { a: [1, -1], b: [0.05, -0.05] },
      { a: [0.95, -0.95], b: [0.0975, -0.0975] },
      { a: [-1.0975, 1.0975], b: [0.042625, -0.042625] },
      { a: [-1.542625, 0.542625], b: [-0.03450625, -0.01549375] },
    ];
    let s = createRae();
    seq.forEach((r, i) => {
      const u = raeUpdate(s, result("TicTacToe-v0", i, r));
      s = u.state;
      const e = expected[i]!;
      expect(u.advantages[0]).toBeCloseTo(e.a[0]!, TOL);
      expect(u.advantages[1]).toBeCloseTo(e.a[1]!, TOL);
      expect(baseline(s, "TicTacToe-v0", 0)).toBeCloseTo(e.b[0]!, TOL);
      expect(baseline(s, "TicTacToe-v0", 1)).toBeCloseTo(e.b[1]!, TOL);
    });
    expect(s.counts["TicTacToe-v0"]).toEqual([4, 4]);
  });

  it("keys baselines by game: another game's outcomes do not move this one", () => {
    let s = createRae();
    s = raeUpdate(s, result("TicTacToe-v0", 0, [1, -1])).state;
    const u = raeUpdate(s, result("KuhnPoker-v1", 1, [1, -1]));
    expect(u.advantages).toEqual([1, -1]);
    expect(baseline(u.state, "KuhnPoker-v1", 0)).toBeCloseTo(0.05, TOL);
    expect(baseline(u.state, "TicTacToe-v0", 0)).toBeCloseTo(0.05, TOL);
  });

  it("moves only the trained seat's baseline against a fixed opponent", () => {
    const u = raeUpdate(createRae(), result("TicTacToe-v0", 0, [-1, 1], [1]));
    expect(u.advantages).toEqual([0, 1]);
    expect(baseline(u.state, "TicTacToe-v0", 0)).toBe(0);
    expect(baseline(u.state, "TicTacToe-v0", 1)).toBeCloseTo(0.05, TOL);
    expect(u.state.counts["TicTacToe-v0"]).toEqual([0, 1]);
  });

  it("--no-rae keeps the baseline at 0, so A = R", () => {
    let s = createRae({ enabled: false });
    for (const r of [[1, -1], [1, -1], [-1.5, 0.5]] as [number, number][]) {
      const u = raeUpdate(s, result("TicTacToe-v0", 0, r));
      expect(u.advantages).toEqual(r);
      s = u.state;
    }
    expect(baseline(s, "TicTacToe-v0", 0)).toBe(0);
  });

  it("scores samples by game and seat and drops zero-advantage samples", () => {
    // Game 0: seat 0 wins (b → [0.05, −0.05]). Game 1 is a draw: A = 0 − b = [−0.05, +0.05], kept
    // with RAE; without RAE the draw's A = 0 and its three samples are dropped.
    const trajectories: Trajectory[] = [
      { result: result("TicTacToe-v0", 0, [1, -1]), samples: [] },
      { result: result("TicTacToe-v0", 1, [0, 0]), samples: [] },
    ];
    const batch = [sample("TicTacToe-v0", 0, 0), sample("TicTacToe-v0", 0, 1), sample("TicTacToe-v0", 1, 0),
      sample("TicTacToe-v0", 1, 1), sample("TicTacToe-v0", 1, 1)];
    const scored = scoreSamples(createRae(), trajectories, batch);
    expect(scored.samples.map((x) => [x.gameIndex, x.seat])).toEqual([[0, 0], [0, 1], [1, 0], [1, 1], [1, 1]]);
    const want = [1, -1, -0.05, 0.05, 0.05];
    scored.samples.forEach((x, i) => expect(x.advantage).toBeCloseTo(want[i]!, TOL));
    expect(scored.dropped).toBe(0);

    const noRae = scoreSamples(createRae({ enabled: false }), trajectories, batch);
    expect(noRae.samples.map((x) => x.advantage)).toEqual([1, -1]);
    expect(noRae.dropped).toBe(3);
  });

  it("drops a first draw (A = 0 − 0) and refuses samples without a finished game", () => {
    const t: Trajectory[] = [{ result: result("KuhnPoker-v1", 0, [0, 0]), samples: [] }];
    expect(scoreSamples(createRae(), t, [sample("KuhnPoker-v1", 0, 0)]).samples).toHaveLength(0);
    expect(() => scoreSamples(createRae(), t, [sample("KuhnPoker-v1", 7, 0)])).toThrow(/no finished game/);
  });

  it("state survives JSON and is validated on load", () => {
    const s = raeUpdate(createRae(), result("TicTacToe-v0", 0, [1, -1])).state;
    expect(checkRaeState(JSON.parse(JSON.stringify(s)))).toEqual(s);
    expect(() => checkRaeState({ alpha: 0.95, enabled: true, baselines: { x: [1] }, counts: {} })).toThrow(/two finite numbers/);
    expect(() => createRae({ alpha: 1 })).toThrow(/\[0, 1\)/);
  });
});
