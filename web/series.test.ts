import { describe, expect, it } from "vitest";
import { evalLine, stepLine } from "../src/dashboard/test-runs.js";
import { fmtDuration, fmtInterval, fmtNumber, fmtPercent } from "./format.js";
import { filterGames, outcomeOf } from "./games-view.js";
import type { GameEntry } from "./api.js";
import { chartCsv, chartSpecs, ema, rateKinds, runColour, xMapper, type MetricsLine } from "./series.js";

const lines = (n: number): MetricsLine[] => Array.from({ length: n }, (_, i) => i + 1).flatMap((s) => [stepLine(s), ...(s % 2 === 0 ? [evalLine(s)] : [])]) as MetricsLine[];

describe("chart specs", () => {
  it("has one card per (matchup, rate) with its interval, and the training scalars, in section order", () => {
    const specs = chartSpecs([{ name: "a", lines: lines(4) }]);
    expect(specs.map((s) => s.id)).toEqual([
      "eval-TicTacToe-v0 vs random-win", "eval-TicTacToe-v0 vs random-draw", "eval-TicTacToe-v0 vs random-loss", "eval-TicTacToe-v0 vs random-nonLoss", "kuhn",
      "loss", "kl", "entropy", "clip", "grad-norm", "invalid-rate", "reply-length", "samples-per-second", "tokens-per-second", "baseline-TicTacToe-v0",
    ]);
    const win = specs[0];
    const [curve] = win?.curves(lines(4)) ?? [];
    expect(curve?.steps).toEqual([2, 4]);
    expect(curve?.ys[0]).toBeCloseTo(0.4, 12);
    expect(curve?.low?.[0]).toBeCloseTo(0.3, 12);
    expect(curve?.high?.[0]).toBeCloseTo(0.5, 12);
    expect(specs.find((s) => s.id === "invalid-rate")?.unit).toBe("fraction");
    // Non-loss is shown where a draw is the headline (TicTacToe, negotiation), not for Kuhn (no draws).
    expect([rateKinds("TicTacToe-v0"), rateKinds("SimpleNegotiation-v1"), rateKinds("KuhnPoker-v1-1round")].map((k) => k.includes("nonLoss"))).toEqual([true, true, false]);
    expect(specs.find((s) => s.id === "baseline-TicTacToe-v0")?.curves(lines(2)).map((c) => [c.label, c.dash])).toEqual([["seat 0", 0], ["seat 1", 1]]);
  });

  it("maps steps to training time (act + learn + eval seconds) and to samples", () => {
    const ls = lines(4);
    const time = xMapper(ls, "time");
    // Each step: act 2 s + learn 1 s; evals after steps 2 and 4 take 3 s each.
    expect([1, 2, 3, 4].map(time)).toEqual([3, 9, 12, 18]);
    expect([1, 2, 3, 4].map(xMapper(ls, "samples"))).toEqual([128, 256, 384, 512]);
    expect(xMapper(ls, "samples")(99)).toBeNull();
  });

  it("smooths with a debiased EMA: constants stay constant and the first point is kept", () => {
    expect(ema([5, 5, 5], 0.9)).toEqual([5, 5, 5].map((v) => expect.closeTo(v, 12)));
    const s = ema([0, 10], 0.5);
    expect(s[0]).toBeCloseTo(0, 12);
    expect(s[1]).toBeCloseTo(((0.5 * 0 + 0.5 * 0) * 0.5 + 0.5 * 10) / (1 - 0.25), 12);
    expect(ema([1, 2, 3], 0)).toEqual([1, 2, 3]);
  });

  it("writes a chart's data as CSV with its intervals", () => {
    const spec = chartSpecs([{ name: "a", lines: lines(2) }])[0];
    if (spec === undefined) throw new Error("no spec");
    expect(chartCsv(spec, [{ name: "a,b", lines: lines(2) }], "time")).toBe('run,curve,step,training time,value,low,high\n"a,b",win rate,2,9,0.4,0.30000000000000004,0.5\n');
  });

  it("keeps a colour per run index", () => {
    expect(runColour(0)).toBe("#1f77b4");
    expect(runColour(1)).not.toBe(runColour(0));
    expect(runColour(20)).toBe(runColour(0));
  });
});

describe("formats", () => {
  it("shows fractions as percentages and other numbers to three significant digits", () => {
    expect(fmtPercent(0.125)).toBe("12.5%");
    expect(fmtPercent(undefined)).toBe("–");
    expect(fmtNumber(0.0123456)).toBe("0.0123");
    expect(fmtNumber(12345.6)).toBe("12,346");
    expect(fmtNumber(0)).toBe("0");
    expect(fmtInterval(0.45, 0.352, 0.551)).toBe("45.0% [35.2, 55.1]");
    expect([42, 320, 3 * 3600 + 7 * 60, 2 * 86400 + 4 * 3600].map(fmtDuration)).toEqual(["42s", "5m 20s", "3h 07m", "2d 04h"]);
  });
});

describe("game filters", () => {
  const entry = (over: Partial<GameEntry>): GameEntry => ({
    path: "t.jsonl", index: 0, gameId: "TicTacToe-v0", step: 1, seed: 0, players: ["a", "b"], policySeats: [0, 1], returns: [1, -1], endReason: "terminal", invalidSeat: null, moves: 5, ...over,
  });
  const games = [entry({}), entry({ index: 1, gameId: "KuhnPoker-v1", step: 5, returns: [-1, 1], policySeats: [1] }),
    entry({ index: 2, step: 9, returns: [0, 0] }), entry({ index: 3, step: 9, endReason: "invalid", invalidSeat: 1, policySeats: [0] })];
  it("filters by game, the policy's seat, outcome and step range", () => {
    const ids = (f: Partial<Parameters<typeof filterGames>[1]>): number[] => filterGames(games, { game: "", seat: "", outcome: "", minStep: null, maxStep: null, ...f }).map((g) => g.index);
    expect(ids({})).toEqual([0, 1, 2, 3]);
    expect(ids({ game: "KuhnPoker-v1" })).toEqual([1]);
    expect(ids({ seat: "1" })).toEqual([0, 1, 2]);
    expect(ids({ outcome: "invalid" })).toEqual([3]);
    expect(ids({ outcome: "draw" })).toEqual([2]);
    expect(ids({ minStep: 5, maxStep: 8 })).toEqual([1]);
    expect(games.map(outcomeOf)).toEqual(["p0", "p1", "draw", "invalid"]);
  });
});

describe("offer search", () => {
  it("matches the query's words in order at word starts, numbers whole", async () => {
    const { searchPattern } = await import("./play-view.js");
    const offers = ["[Offer: 1 Wood -> 10 Gold]", "[Offer: 10 Wood -> 10 Gold]", "[Offer: 10 Gold -> 1 Wood]", "[Accept]"];
    const find = (q: string): string[] => offers.filter((o) => searchPattern(q).test(o));
    expect(find("10 wood -> 10 gold")).toEqual(["[Offer: 10 Wood -> 10 Gold]"]);
    expect(find("wo")).toEqual(offers.slice(0, 3));
    expect(find("acc")).toEqual(["[Accept]"]);
    expect(find("")).toEqual(offers);
    expect(find("gold -> 1")).toEqual(["[Offer: 10 Gold -> 1 Wood]"]);
  });
});
