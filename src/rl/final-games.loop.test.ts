/**
 * `eval.finalGames` in real training runs of a tiny model: the unseen games are played at the
 * first and last evaluation only, and turning them on changes no other number of the run.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseTrainConfig } from "./config.js";
import type { EvalMetrics } from "./loop.js";
import { train } from "./loop.js";
import { readMetrics } from "./run-dir.js";
import { withoutTimings as strip, TINY_TEST_MODEL } from "./test-metrics.js";

const root = mkdtempSync(join(tmpdir(), "spiral-final-games-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const base = {
  steps: 3,
  games: [{ id: "TicTacToe-v0" }, { id: "KuhnPoker-v1-1round" }],
  rolloutBatch: 8,
  envs: 4,
  maxNewTokens: 8,
  model: TINY_TEST_MODEL,
  optim: { lr: 1e-2, microBatch: 8 },
  checkpointEvery: 3,
  transcripts: 0,
  threads: 1,
};


describe("out-of-distribution games in a training run", () => {
  it("are played at steps 0 and last only, after the regular matchups, leaving every other number unchanged", async () => {
    const off = await train(parseTrainConfig({ ...base, eval: { every: 1, games: 4 } }), { runDir: join(root, "off") });
    const on = await train(parseTrainConfig({ ...base, eval: { every: 1, games: 4, finalGames: ["Nim-v0", "SimpleTak-v0"] } }), { runDir: join(root, "on") });
    const a = await readMetrics(join(root, "off"));
    const b = await readMetrics(join(root, "on"));
    expect(a.length).toBe(b.length);
    for (const [i, line] of b.entries()) {
      const plain = a[i] as Record<string, unknown>;
      if (line.kind !== "eval") {
        expect(strip(line)).toEqual(strip(plain));
        continue;
      }
      const e = line as unknown as EvalMetrics;
      const extra = e.matchups.slice((plain as unknown as EvalMetrics).matchups.length).map((m) => `${m.gameId} vs ${m.opponent}`);
      expect(extra).toEqual(e.step === 0 || e.step === 3 ? ["Nim-v0 vs random", "SimpleTak-v0 vs random"] : []);
      // The regular matchups and the Kuhn exploitability, exactly as without the unseen games.
      expect(strip({ ...e, matchups: e.matchups.slice(0, e.matchups.length - extra.length) })).toEqual(strip(plain));
      for (const m of e.matchups.slice(e.matchups.length - extra.length)) expect(m.rates.games).toBe(4);
    }
    expect(Buffer.from(on.params.data.buffer).equals(Buffer.from(off.params.data.buffer))).toBe(true);
  }, 120_000);
});
