import { describe, expect, it } from "vitest";
import type { EvalMetrics, StepMetrics } from "../rl/loop.js";
import { scriptedIo } from "./io.js";
import {
  createTrainProgress, defaultLogEvery, EtaEstimator, evalFields, evalHeadline, fitFields, joinFields, wrapFields, formatDuration, formatNumber, formatPercent, liveFields, progressLine, stepFields,
} from "./train-progress.js";

function stepMetrics(step: number): StepMetrics {
  return {
    kind: "step", step, samples: 128, kept: 120, games: 40, outcomes: {}, invalidRate: 0.03125, replyLength: 4.25, baselines: {},
    learner: { loss: -0.012345, approxKl: 0.000123456 } as StepMetrics["learner"],
    lr: 1e-4, actSeconds: 0.5, learnSeconds: 0.2, samplesPerSecond: 182.6, generatedTokensPerSecond: 1000,
  };
}

function evalMetrics(step: number, seconds = 12): EvalMetrics {
  const rates = (rate: number) => ({ win: { rate }, nonLoss: { rate } });
  return {
    kind: "eval", step, seconds,
    matchups: [
      { gameId: "TicTacToe-v0", opponent: "random", rates: rates(0.74) },
      { gameId: "TicTacToe-v0", opponent: "minimax", rates: rates(0.13) },
      { gameId: "KuhnPoker-v1-1round", opponent: "random", rates: rates(0.73) },
      { gameId: "SimpleNegotiation-v1", opponent: "random", rates: rates(0.27) },
    ],
    kuhn: { exploitability: 0.369 },
  } as unknown as EvalMetrics;
}

describe("formats", () => {
  it("durations, numbers and percentages", () => {
    expect([formatDuration(4.24), formatDuration(45.4), formatDuration(185), formatDuration(7440)]).toEqual(["4.2s", "45s", "3m05s", "2h04m"]);
    expect([formatNumber(-0.012345), formatNumber(1.5), formatNumber(0.000123456), formatNumber(0), formatNumber(12345.6)]).toEqual(["-0.0123", "1.50", "1.23e-4", "0", "12346"]);
    expect([formatPercent(0.03125, 1), formatPercent(0.74), formatPercent(undefined)]).toEqual(["3.1%", "74%", "–"]);
  });
});

describe("the evaluation headline", () => {
  it("reports negotiation vs the heuristic as non-loss (wins against it are rare), vs random as wins", () => {
    const e = {
      kind: "eval", step: 0, seconds: 1,
      matchups: [
        { gameId: "SimpleNegotiation-v1", opponent: "random", rates: { win: { rate: 0.27 }, nonLoss: { rate: 0.5 } } },
        { gameId: "SimpleNegotiation-v1", opponent: "heuristic", rates: { win: { rate: 0 }, nonLoss: { rate: 0.82 } } },
      ],
    } as unknown as EvalMetrics;
    expect(evalHeadline(e)).toMatchObject({ "Neg/random": "27%", "Neg/heuristic": "82%" });
  });
});

describe("the progress line", () => {
  const fields = stepFields(stepMetrics(120), 1000, 632, liveFields(evalMetrics(100)));

  it("fits 80 columns by dropping the least important fields, keeping the step, ETA, loss and invalid rate", () => {
    const wide = joinFields(fitFields(fields, 200));
    expect(wide).toBe("step 120/1000 · ETA 10m32s · loss -0.0123 · invalid 3.1% · TTT 74%/13% · Kuhn ε 0.369 · Neg 27% · kl 1.23e-4 · len 4.3 · 183 samples/s");
    for (const width of [79, 60, 40, 30]) {
      const line = progressLine(fields, 120, 1000, width);
      expect(line.length).toBeLessThanOrEqual(width);
      expect(line).toMatch(/^step 120\/1000/);
    }
    // 80 columns: the bar (12% done) takes what the evaluation numbers leave
    expect(progressLine(fields, 120, 1000, 79)).toBe("step 120/1000 [██░░░░░░░░░░░░░░░░░░] · ETA 10m32s · loss -0.0123 · invalid 3.1%");
    expect(progressLine(fields, 120, 1000, 200)).toMatch(/^step 120\/1000 \[█{5}░{35}\] · ETA 10m32s · .* · 183 samples\/s$/);
    // 45 columns: no room for a bar; the step, ETA and loss stay.
    expect(progressLine(fields, 120, 1000, 45)).toBe("step 120/1000 · ETA 10m32s · loss -0.0123");
    // Narrower than the step counter itself: cut, never wrapped.
    expect(progressLine(fields, 120, 1000, 8)).toBe("step 120");
  });

  it("wraps an evaluation between its fields on a terminal", () => {
    const text = wrapFields(evalFields(evalMetrics(100, 3.21)), 79);
    expect(text).toBe("eval @100 (3.2s): TTT/random 74% · TTT/minimax 13% · Kuhn/random 73%\n  Kuhn ε 0.369 · Neg/random 27% · Neg/heuristic –");
    expect(Math.max(...text.split("\n").map((l) => l.length))).toBeLessThanOrEqual(79);
  });

  it("shows no ETA before it was measured, nor at the last step", () => {
    expect(joinFields(stepFields(stepMetrics(2), 1000, undefined, []))).not.toContain("ETA");
    expect(joinFields(stepFields(stepMetrics(1000), 1000, 0, []))).not.toContain("ETA");
  });
});

describe("EtaEstimator", () => {
  it("waits for measured steps, skips the warm-up step and evaluation time, and adds the evaluations ahead", () => {
    const eta = new EtaEstimator(100, 0, 10);
    eta.evalDone(30, 30); // step-0 evaluation: not a step time
    eta.stepDone(1, 50); // warm-up step: only sets the mark
    expect(eta.eta()).toBeUndefined();
    eta.stepDone(2, 52);
    eta.stepDone(3, 54);
    expect(eta.eta()).toBeUndefined();
    eta.stepDone(4, 56);
    // 2 s per step × 96 steps + 10 evaluations ahead (10, 20, …, 100) × 30 s
    expect(eta.eta()).toBeCloseTo(96 * 2 + 10 * 30, 9);
    eta.stepDone(10, 58 + 5 * 2); // steps 5–10 at 2 s (reported once here: a 12 s gap over 6 steps is not modelled; the mean rises)
    eta.evalDone(6, 74); // a 6 s evaluation after step 10
    eta.stepDone(11, 76);
    const perStep = (2 + 2 + 2 + 12 + 2) / 5;
    expect(eta.eta()).toBeCloseTo(perStep * 89 + 9 * 6, 9);
  });

  it("averages over a moving window", () => {
    const eta = new EtaEstimator(1000, 0, 0, 3, 4);
    let t = 0;
    eta.stepDone(1, t);
    for (let s = 2; s <= 10; s++) eta.stepDone(s, (t += 5));
    for (let s = 11; s <= 14; s++) eta.stepDone(s, (t += 1)); // the last 4 steps took 1 s each
    expect(eta.eta()).toBeCloseTo(986, 9);
  });
});

describe("plain log lines", () => {
  it("the default preset's 1000 steps print tens of lines: every 50th step, the first, and every evaluation", () => {
    expect([defaultLogEvery(1000), defaultLogEvery(400), defaultLogEvery(60), defaultLogEvery(10), defaultLogEvery(1)]).toEqual([50, 20, 5, 1, 1]);
    const io = scriptedIo([]);
    const progress = createTrainProgress({ io, total: 1000, startStep: 0, evalEvery: 100, logEvery: defaultLogEvery(1000), now: () => 0 });
    progress.hooks.onEval(evalMetrics(0));
    for (let s = 1; s <= 1000; s++) {
      progress.hooks.onStep(stepMetrics(s));
      if (s % 100 === 0) progress.hooks.onEval(evalMetrics(s));
    }
    progress.stop();
    const lines = io.stderr().trimEnd().split("\n");
    expect(lines.filter((l) => l.startsWith("step ")).map((l) => Number(/^step (\d+)/.exec(l)?.[1]))).toEqual([1, ...Array.from({ length: 20 }, (_, i) => 50 * (i + 1))]);
    expect(lines.filter((l) => l.startsWith("eval @"))).toHaveLength(11);
    expect(lines).toHaveLength(32);
    expect(lines[0]).toBe("eval @0 (12s): TTT/random 74% · TTT/minimax 13% · Kuhn/random 73% · Kuhn ε 0.369 · Neg/random 27% · Neg/heuristic –");
    expect(progress.evals.map((e) => e.step)).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]);
  });

  it("a resumed run logs its first step", () => {
    const io = scriptedIo([]);
    const progress = createTrainProgress({ io, total: 1000, startStep: 300, evalEvery: 100, logEvery: 50 });
    progress.hooks.onStep(stepMetrics(301));
    progress.hooks.onStep(stepMetrics(302));
    expect(io.stderr()).toMatch(/^step 301\/1000 · loss/);
    expect(io.stderr()).not.toContain("step 302");
  });
});
