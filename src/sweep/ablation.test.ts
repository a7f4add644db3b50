/**
 * The committed ablation grids (sweeps/ablation-*.yaml, docs/ablations.md): each plans into the
 * runs the write-up describes, and a miniature of the opponents ablation runs end to end with
 * real training runs of a tiny model — per-game opponents, the out-of-distribution games at the
 * first and last evaluation, the aggregate and the figures `spiral report --figures` writes.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { scriptedIo } from "../cli/io.js";
import { runReport } from "../cli/report.js";
import { runSweepCommand } from "../cli/sweep.js";
import { EVALUATION_GAME_IDS } from "../rl/final-games.js";
import { OOD_GAIN, OOD_MEAN_WIN, type SweepAggregate } from "./aggregate.js";
import { gridFromFlags, planSweep, readGridFile } from "./grid.js";

const root = mkdtempSync(join(tmpdir(), "spiral-ablation-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const plan = (name: string) => planSweep(gridFromFlags(readGridFile(join("sweeps", `${name}.yaml`)), {}), name);

describe("the committed ablation grids", () => {
  it("opponents: self-play first, then random and each game's strongest player, ≥ 5 seeds, the unseen games at the end", () => {
    const p = plan("ablation-opponents");
    expect(p.cells.map((c) => c.name)).toEqual(["self-play", "vs-random", "vs-strong"]);
    expect(p.seeds.length).toBeGreaterThanOrEqual(5);
    const [self, random, strong] = p.cells.map((c) => c.runs[0]?.config);
    expect([self?.opponent, self?.opponentByGame]).toEqual(["self", undefined]);
    expect(random?.opponent).toBe("random");
    expect(strong?.opponentByGame).toEqual({ "TicTacToe-v0": "minimax", "KuhnPoker-v1-1round": "nash", "SimpleNegotiation-v1": "heuristic" });
    for (const cell of p.cells) {
      for (const run of cell.runs) {
        expect(run.config.eval.finalGames).toEqual([...EVALUATION_GAME_IDS]);
        // The default preset but the length: the same games, weights, model and optimiser.
        expect(run.config.games.map((g) => [g.id, g.weight])).toEqual([["TicTacToe-v0", 4], ["KuhnPoker-v1-1round", 2], ["SimpleNegotiation-v1", 1]]);
        expect([run.config.steps, run.config.model.preset, run.config.optim.lr]).toEqual([600, "micro", 1e-4]);
      }
    }
  });

  it("RAE: on (the baseline) and off, ≥ 5 seeds", () => {
    const p = plan("ablation-rae");
    expect(p.cells.map((c) => [c.name, c.runs[0]?.config.rae.enabled])).toEqual([["rae=on", true], ["rae=off", false]]);
    expect(p.seeds.length).toBeGreaterThanOrEqual(5);
  });

  it("games: the mix first, then each game alone with its bonus from the mix, ≥ 5 seeds", () => {
    const p = plan("ablation-games");
    expect(p.cells.map((c) => [c.name, c.runs[0]?.config.games.map((g) => `${g.id}/${g.entropyCoef ?? 0}`).join(" ")])).toEqual([
      ["mix", "TicTacToe-v0/0 KuhnPoker-v1-1round/0.3 SimpleNegotiation-v1/0.3"],
      ["tictactoe-only", "TicTacToe-v0/0"],
      ["kuhn-only", "KuhnPoker-v1-1round/0.3"],
      ["negotiation-only", "SimpleNegotiation-v1/0.3"],
    ]);
    expect(p.seeds.length).toBeGreaterThanOrEqual(5);
  });
});

describe("a miniature opponents ablation, end to end", () => {
  it("trains against per-game opponents, measures the unseen games at steps 0 and last, aggregates and draws them", async () => {
    const grid = join(root, "mini.yaml");
    writeFileSync(grid, [
      "name: mini",
      "seeds: 2",
      "base:",
      "  steps: 2",
      "  rolloutBatch: 6",
      "  envs: 4",
      "  actors: 1",
      "  maxNewTokens: 8",
      "  threads: 1",
      "  checkpointEvery: 2",
      "  transcripts: 3",
      "  model: { preset: tiny, overrides: { hiddenSize: 32, intermediateSize: 64, numHiddenLayers: 1, numAttentionHeads: 2, numKeyValueHeads: 1, headDim: 16 } }",
      "  eval: { every: 1, games: 2, kuhn: true, finalGames: [Nim-v0, ConnectFour-v0] }",
      "configs:",
      "  - name: self-play",
      "  - name: vs-strong",
      "    opponentByGame: { TicTacToe-v0: minimax, KuhnPoker-v1-1round: nash, SimpleNegotiation-v1: heuristic }",
    ].join("\n"));
    await runSweepCommand(grid, { out: root }, scriptedIo([]));

    // The fixed-opponent runs played each game against its own opponent, the policy in one seat.
    const transcripts = join(root, "mini", "vs-strong", "seed-0", "transcripts");
    const games = readdirSync(transcripts).filter((f) => f.endsWith(".jsonl")).flatMap((f) =>
      readFileSync(join(transcripts, f), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { gameId: string; players: string[]; trainedSeats: number[] }));
    const expected: Record<string, string> = { "TicTacToe-v0": "minimax", "KuhnPoker-v1-1round": "nash", "SimpleNegotiation-v1": "heuristic" };
    expect(games.length).toBeGreaterThan(0);
    for (const g of games) {
      expect(g.trainedSeats.length).toBe(1);
      expect(g.players[1 - (g.trainedSeats[0] as number)]).toBe(expected[g.gameId]);
    }

    // The unseen games are evaluated at step 0 and the last step only; the training games every step.
    const a = JSON.parse(readFileSync(join(root, "mini", "aggregate.json"), "utf8")) as SweepAggregate;
    for (const c of a.configs) {
      expect(c.seeds).toEqual([0, 1]);
      expect(c.curves["Nim-v0 vs random: win"]?.map((p) => [p.step, p.n])).toEqual([[0, 2], [2, 2]]);
      expect(c.curves["TicTacToe-v0 vs random: non-loss"]?.map((p) => p.step)).toEqual([0, 1, 2]);
      const nim = c.final["Nim-v0 vs random: win"]?.values ?? [];
      const c4 = c.final["ConnectFour-v0 vs random: win"]?.values ?? [];
      expect(nim.length).toBe(2);
      expect(c.final[OOD_MEAN_WIN]?.values).toEqual(nim.map((x, i) => (x + (c4[i] as number)) / 2));
      expect(c.final[OOD_GAIN]?.values.length).toBe(2);
    }
    expect(a.comparisons.some((x) => x.config === "vs-strong" && x.metric === OOD_MEAN_WIN)).toBe(true);
    expect(readFileSync(join(root, "mini", "aggregate.md"), "utf8")).toContain(OOD_MEAN_WIN);

    // spiral report --figures: the SVG files a write-up embeds.
    const figures = join(root, "figures");
    await runReport([join(root, "mini")], join(root, "mini.html"), scriptedIo([]), figures);
    for (const f of ["final-headline.svg", "final-ood.svg", "curve-training-entropy.svg", "curve-tictactoe-v0-vs-minimax-non-loss.svg"]) expect(existsSync(join(figures, f))).toBe(true);
    expect(readFileSync(join(figures, "final-ood.svg"), "utf8")).toMatch(/ConnectFour-v0 vs random: win[\s\S]*Nim-v0 vs random: win/);
  }, 240_000);
});
