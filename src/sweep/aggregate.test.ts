import { describe, expect, it } from "vitest";
import { EVAL_MATCHUPS } from "../rl/loop.js";
import { aggregateMarkdown, aggregateResults, curvesCsv, DEFAULT_TARGETS, evalValues, finalMetricNames, formatValue, OOD_GAIN, OOD_MEAN_WIN, runResultOf } from "./aggregate.js";

/** An evaluation line as the trainer writes it, with only the fields the aggregate reads. */
function evalLine(step: number, tttNonLoss: number, exploitability: number) {
  const rate = (r: number) => ({ rate: r, low: r, high: r });
  return {
    kind: "eval", step,
    matchups: [{ gameId: "TicTacToe-v0", opponent: "random", rates: { games: 10, win: rate(tttNonLoss / 2), draw: rate(tttNonLoss / 2), loss: rate(1 - tttNonLoss), nonLoss: rate(tttNonLoss) }, invalid: 1, meanReturn: 0 }],
    kuhn: { exploitability },
  };
}

function stepLine(step: number, replyLength: number) {
  return { kind: "step", step, samples: 4, kept: 2, replyLength, invalidRate: 0, learner: { entropy: 1, approxKl: 0 } };
}

// Four finished seeds; final TicTacToe non-loss 0.9, 0.5, 1.0, 0.7 (hand-computed in stats.test.ts:
// mean 0.775, sd √(0.1475/3), t(0.975, 3) = 3.182446 → half width 0.352831; quartiles 0.65 / 0.8 / 0.925).
const finals = [[0.9, 0.1], [0.5, 0.2], [1.0, 0.12], [0.7, 0.15]] as const;
const results = [
  ...finals.map(([ttt, expl], seed) => runResultOf(seed, 4, true, [evalLine(0, 0.5, 0.5), stepLine(1, 3), evalLine(4, ttt, expl)])),
  // An unfinished seed: left out of every number.
  runResultOf(9, 4, false, [evalLine(0, 0.5, 0.5)]),
];
const aggregate = aggregateResults("hand", [{ cell: { name: "self", settings: { opponent: "self" } }, results }], DEFAULT_TARGETS);
const config = aggregate.configs[0];

describe("sweep aggregate against hand-computed values", () => {
  it("final metrics: mean and 95% t-interval over the finished seeds (tolerance 1e-5)", () => {
    const s = config?.final["TicTacToe-v0 vs random: non-loss"];
    expect(config?.seeds).toEqual([0, 1, 2, 3]);
    expect(config?.runs).toBe(5);
    expect(s?.values).toEqual([0.9, 0.5, 1.0, 0.7]);
    expect(s?.mean).toBeCloseTo(0.775, 12);
    expect(s?.ci95?.[0]).toBeCloseTo(0.775 - 0.352831, 5);
    expect(s?.ci95?.[1]).toBeCloseTo(0.775 + 0.352831, 5);
    // invalid = 1 of 10 games in every run: a zero-width interval.
    expect(config?.final["TicTacToe-v0 vs random: invalid"]?.ci95).toEqual([0.1, 0.1]);
    expect(config?.final["KuhnPoker-v1-1round: exploitability"]?.mean).toBeCloseTo(0.1425, 12);
  });

  it("targets: seeds meeting each, of the seeds reporting the metric", () => {
    const byLabel = Object.fromEntries((config?.targets ?? []).map((t) => [t.label, `${t.met}/${t.of}`]));
    expect(byLabel["TicTacToe non-loss vs random ≥ 90%"]).toBe("2/4");
    // ≤ 0.15 counts 0.15 itself: 0.1, 0.12, 0.15.
    expect(byLabel["Kuhn exploitability ≤ 0.15"]).toBe("3/4");
    // No run evaluated vs minimax or negotiation.
    expect(byLabel["TicTacToe non-loss vs minimax ≥ 50%"]).toBe("0/0");
  });

  it("learning curves: median and interquartile band per step (tolerance 1e-12)", () => {
    const curve = config?.curves["TicTacToe-v0 vs random: non-loss"] ?? [];
    expect(curve.map((p) => p.step)).toEqual([0, 4]);
    expect(curve[0]).toEqual({ step: 0, n: 4, median: 0.5, q1: 0.5, q3: 0.5 });
    expect(curve[1]?.median).toBeCloseTo(0.8, 12);
    expect(curve[1]?.q1).toBeCloseTo(0.65, 12);
    expect(curve[1]?.q3).toBeCloseTo(0.925, 12);
    expect(config?.curves["training: reply length"]).toEqual([{ step: 1, n: 4, median: 3, q1: 3, q3: 3 }]);
  });

  it("training curves are averaged per run over windows of ⌈steps/100⌉ steps", () => {
    const r = runResultOf(0, 250, true, [stepLine(1, 2), stepLine(2, 4), stepLine(3, 6), stepLine(4, 10), stepLine(250, 7)]);
    expect([...(r.curves["training: reply length"]?.entries() ?? [])]).toEqual([[3, 4], [6, 10], [250, 7]]);
    expect(r.curves["training: kept share"]?.get(3)).toBe(0.5);
  });

  it("paired differences from the first config: mean and t-interval over shared seeds (tolerance 1e-5)", () => {
    // The other config: 1.0, 0.6, 1.0, 0.9 on seeds 0–3 (differences 0.1, 0.1, 0, 0.2: mean 0.1,
    // sd √(0.02/3) = 0.081650, half width 3.182446 · 0.081650 / 2 = 0.129923); seed 5 has no partner.
    const other = [[1.0, 0.1], [0.6, 0.2], [1.0, 0.12], [0.9, 0.15], [0.2, 0.3]].map(([ttt, expl], i) =>
      runResultOf(i === 4 ? 5 : i, 4, true, [evalLine(4, ttt as number, expl as number)]));
    const both = aggregateResults("pair", [{ cell: { name: "self", settings: {} }, results }, { cell: { name: "random", settings: {} }, results: other }], DEFAULT_TARGETS);
    const c = both.comparisons.find((x) => x.metric === "TicTacToe-v0 vs random: non-loss");
    expect([c?.config, c?.reference, c?.seeds]).toEqual(["random", "self", [0, 1, 2, 3]]);
    expect(c?.difference.mean).toBeCloseTo(0.1, 12);
    expect(c?.difference.ci95?.[0]).toBeCloseTo(-0.029923, 5);
    expect(c?.difference.ci95?.[1]).toBeCloseTo(0.229923, 5);
    expect(aggregateMarkdown(both)).toMatch(/## Differences from self[\s\S]*\| random \| 4 \| \+10\.0 pts \[-3\.0, \+23\.0\] \|/);
  });

  it("names final metrics the way targets are checked", () => {
    const names = finalMetricNames(EVAL_MATCHUPS);
    expect(DEFAULT_TARGETS.filter((t) => !names.includes(t.metric))).toEqual([]);
    expect(Object.keys(evalValues(evalLine(1, 0.5, 0.2) as never)).filter((k) => !names.includes(k))).toEqual([]);
  });

  it("out-of-distribution games: each matchup's numbers, and their mean win rate (tolerance 1e-12)", () => {
    const rate = (r: number) => ({ rate: r, low: r, high: r });
    const matchup = (gameId: string, opponent: string, win: number) => ({ gameId, opponent, rates: { games: 10, win: rate(win), draw: rate(0), loss: rate(1 - win), nonLoss: rate(win) }, invalid: 0, meanReturn: 2 * win - 1 });
    const e = { matchups: [matchup("TicTacToe-v0", "random", 0.9), matchup("ConnectFour-v0", "random", 0.6), matchup("Nim-v0", "random", 0.3), matchup("PigDice-v1", "random", 0.45)] };
    const values = evalValues(e as never);
    expect(values["ConnectFour-v0 vs random: win"]).toBe(0.6);
    // Training games do not count: (0.6 + 0.3 + 0.45) / 3.
    expect(values[OOD_MEAN_WIN]).toBeCloseTo(0.45, 12);
    expect(evalValues(evalLine(1, 0.5, 0.2) as never)[OOD_MEAN_WIN]).toBeUndefined();
    const names = finalMetricNames([...EVAL_MATCHUPS, { gameId: "ConnectFour-v0", opponent: "random" }, { gameId: "Nim-v0", opponent: "random" }, { gameId: "PigDice-v1", opponent: "random" }]);
    expect(Object.keys(values).filter((k) => !names.includes(k))).toEqual([]);
    expect(finalMetricNames(EVAL_MATCHUPS)).not.toContain(OOD_MEAN_WIN);
    expect(formatValue(OOD_MEAN_WIN, 0.45)).toBe("45.0%");
  });

  it("out-of-distribution transfer: each run's final mean win minus its step-0 mean win (tolerance 1e-12)", () => {
    const rate = (r: number) => ({ rate: r, low: r, high: r });
    const nim = (step: number, win: number) => ({ kind: "eval", step, matchups: [{ gameId: "Nim-v0", opponent: "random", rates: { games: 10, win: rate(win), draw: rate(0), loss: rate(1 - win), nonLoss: rate(win) }, invalid: 0, meanReturn: 0 }] });
    expect(runResultOf(0, 4, true, [nim(0, 0.5), nim(4, 0.7)]).final[OOD_GAIN]).toBeCloseTo(0.2, 12);
    // Without a step-0 evaluation (a run resumed from elsewhere) there is no change to report.
    expect(runResultOf(0, 4, true, [nim(4, 0.7)]).final[OOD_GAIN]).toBeUndefined();
    expect(finalMetricNames([{ gameId: "Nim-v0", opponent: "random" }])).toContain(OOD_GAIN);
    expect(formatValue(OOD_GAIN, -0.05)).toBe("-5.0%");
  });

  it("the collapse signature: thinking length joins the training curves when chat runs report it", () => {
    const r = runResultOf(0, 2, true, [{ ...stepLine(1, 40), thinkingLength: 30 }, { ...stepLine(2, 12), thinkingLength: 2 }]);
    expect([...(r.curves["training: thinking length"]?.entries() ?? [])]).toEqual([[1, 30], [2, 2]]);
    expect(r.curves["training: entropy"]?.get(2)).toBe(1);
    expect(runResultOf(0, 1, true, [stepLine(1, 3)]).curves["training: thinking length"]).toBeUndefined();
  });

  it("renders the tables and the curves CSV", () => {
    const md = aggregateMarkdown(aggregate);
    expect(md).toMatch(/\| self \| 4\/5 \| 77\.5% \[42\.2, 112\.8\] \|/);
    expect(md).toMatch(/\| self \| 2\/4 \| – \| 3\/4 \| – \|/);
    // Kuhn 0.1, 0.2, 0.12, 0.15: squared deviations sum 0.005675, sd √(0.005675/3) = 0.043493,
    // half width 3.182446 · 0.043493 / 2 = 0.069207 → [0.073, 0.212].
    expect(md).toMatch(/\| KuhnPoker-v1-1round: exploitability \| 0\.143 \[0\.073, 0\.212\] \|/);
    const csv = curvesCsv(aggregate).split("\n");
    expect(csv[0]).toBe("config,metric,step,n,median,q1,q3");
    expect(csv).toContain("self,TicTacToe-v0 vs random: non-loss,0,4,0.5,0.5,0.5");
  });
});
