import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { aggregateResults, DEFAULT_TARGETS, OOD_GAIN, OOD_MEAN_WIN, runResultOf } from "./aggregate.js";
import { intervalSvg, metricSlug, niceTicks, renderSweepReport, sweepFigures, writeSweepFigures } from "./report.js";

const root = mkdtempSync(join(tmpdir(), "spiral-sweep-report-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const rate = (r: number) => ({ rate: r, low: r, high: r });
const matchup = (gameId: string, opponent: string, x: number) => ({ gameId, opponent, rates: { games: 10, win: rate(x), draw: rate(0), loss: rate(1 - x), nonLoss: rate(x) }, invalid: 0, meanReturn: 0 });
const evalLine = (step: number, ttt: number, nim: number) => ({ kind: "eval", step, matchups: [matchup("TicTacToe-v0", "random", ttt), matchup("Nim-v0", "random", nim)] });
const stepLine = (step: number, entropy: number) => ({ kind: "step", step, samples: 4, kept: 4, replyLength: 2, invalidRate: 0, learner: { entropy, approxKl: 0 } });
const run = (seed: number, ttt: number, nim: number) => runResultOf(seed, 2, true, [evalLine(0, 0.5, 0.5), stepLine(1, 1), stepLine(2, 0.5), evalLine(2, ttt, nim)]);

// TicTacToe finals 0.9, 0.5, 1.0, 0.7 for "self": mean 0.775, 95% interval ± 0.352831 (aggregate.test.ts).
const aggregate = aggregateResults("demo", [
  { cell: { name: "self", settings: {} }, results: [run(0, 0.9, 0.2), run(1, 0.5, 0.4), run(2, 1.0, 0.3), run(3, 0.7, 0.5)] },
  { cell: { name: "random", settings: {} }, results: [run(0, 0.6, 0.1), run(1, 0.6, 0.1)] },
], DEFAULT_TARGETS);

describe("sweep figures for a write-up", () => {
  it("names files after their metric", () => {
    expect(metricSlug("TicTacToe-v0 vs minimax: non-loss")).toBe("tictactoe-v0-vs-minimax-non-loss");
    expect(metricSlug("training: approx KL")).toBe("training-approx-kl");
  });

  it("writes curves of the headline and training metrics, the final intervals and the unseen games", async () => {
    const files = sweepFigures(aggregate).map((f) => f.file);
    expect(files).toEqual([
      "curve-tictactoe-v0-vs-random-non-loss.svg",
      "curve-training-approx-kl.svg", "curve-training-entropy.svg", "curve-training-invalid-rate.svg", "curve-training-kept-share.svg", "curve-training-reply-length.svg",
      "final-headline.svg", "final-ood.svg",
    ]);
    const written = await writeSweepFigures(aggregate, join(root, "figures"));
    expect(readdirSync(join(root, "figures")).sort()).toEqual([...files].sort());
    const svg = readFileSync(written[0] as string, "utf8");
    // Standalone: the SVG namespace (so a browser or markdown viewer renders the file), a legend.
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(svg).toMatch(/>self<\/text>[\s\S]*>random<\/text>/);
    expect(svg.match(/<polygon /g)?.length).toBe(2);
    const ood = readFileSync(join(root, "figures", "final-ood.svg"), "utf8");
    expect(ood).toMatch(/Nim-v0 vs random: win/);
    expect(ood).toContain(OOD_MEAN_WIN);
    expect(ood).toContain(OOD_GAIN);
  });

  it("puts each config's mean and 95% interval on a shared axis (tolerance 0.1 px)", () => {
    const svg = intervalSvg("t", ["TicTacToe-v0 vs random: non-loss"], aggregate.configs);
    // Axis 0 … 1.128 (the interval's top), from x = 230 to 530 − 16 = 514.
    const hi = 0.775 + 0.352831;
    const sx = (x: number) => 230 + (x / hi) * 284;
    const circle = /<circle cx="([\d.]+)"[^>]*fill="#1f77b4"><title>self: 77\.5% \[42\.2%, 112\.8%\] \(4 seeds\)<\/title>/.exec(svg);
    expect(Number(circle?.[1])).toBeCloseTo(sx(0.775), 1);
    const whisker = /<line x1="([\d.]+)" y1="[\d.]+" x2="([\d.]+)" y2="[\d.]+" stroke="#1f77b4"/.exec(svg);
    expect(Number(whisker?.[1])).toBeCloseTo(sx(0.775 - 0.352831), 1);
    expect(Number(whisker?.[2])).toBeCloseTo(sx(hi), 1);
    // Two equal seeds: a zero-width interval, drawn as a dot on a point-long whisker.
    expect(svg).toMatch(/<title>random: 60\.0% \[60\.0%, 60\.0%\] \(2 seeds\)<\/title>/);
  });

  it("labels axes at round values inside the data range (1, 2 or 5 × 10^k steps)", () => {
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(-0.02, 1.05)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(-0.02, 1.05, 2)).toEqual([0, 0.5, 1]);
    expect(niceTicks(0, 600, 6)).toEqual([0, 100, 200, 300, 400, 500, 600]);
    expect(niceTicks(0.07, 0.96, 4)).toEqual([0.2, 0.4, 0.6, 0.8]);
    expect(niceTicks(0.088, 0.128, 4)).toEqual([0.09, 0.1, 0.11, 0.12]);
    expect(niceTicks(3, 3)).toEqual([3]);
  });

  it("the HTML report carries the interval figures inline", () => {
    const html = renderSweepReport(aggregate, "now");
    expect(html).toMatch(/<h2>Final metrics<\/h2><figure><svg viewBox/);
    expect(html).not.toMatch(/xmlns=/);
  });
});
