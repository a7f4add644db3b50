import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseTrainConfig, type TrainConfig } from "./config.js";
import { train } from "./loop.js";
import { latestCheckpoint, METRICS_FILE, readMetrics } from "./run-dir.js";
import { withoutTimings as strip, TINY_TEST_MODEL } from "./test-metrics.js";

const root = mkdtempSync(join(tmpdir(), "spiral-loop-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/**
 * A run small enough for a unit test: a 1-layer byte-level model, 3 steps of 8 samples, with a
 * decaying learning rate and a per-game entropy bonus so that resume and determinism cover them.
 */
const config: TrainConfig = parseTrainConfig({
  steps: 3,
  games: [{ id: "TicTacToe-v0" }, { id: "KuhnPoker-v1-1round", entropyCoef: 0.1 }],
  rolloutBatch: 8,
  envs: 4,
  maxNewTokens: 8,
  model: TINY_TEST_MODEL,
  optim: { lr: 1e-2, microBatch: 8, lrSchedule: "cosine", lrDecayStart: 0.3 },
  eval: { every: 2, games: 4, kuhn: true },
  checkpointEvery: 1,
  transcripts: 1,
  threads: 1,
});


describe("train loop", () => {
  let reference: { params: Float32Array; metrics: unknown };

  it("runs end to end: step and eval lines, checkpoints, and the same run twice is bit-identical", async () => {
    const a = await train(config, { runDir: join(root, "a") });
    const b = await train(config, { runDir: join(root, "b") });
    const ma = await readMetrics(join(root, "a"));
    expect(ma.map((r) => `${r.kind}${r.step}`)).toEqual(["eval0", "step1", "step2", "eval2", "step3", "eval3"]);
    const eval3 = ma[5] as unknown as { matchups: { gameId: string; opponent: string }[]; kuhn: { exploitability: number } };
    expect(eval3.matchups.map((m) => `${m.gameId}/${m.opponent}`)).toContain("TicTacToe-v0/minimax");
    expect(eval3.kuhn.exploitability).toBeGreaterThanOrEqual(0);
    expect(await latestCheckpoint(join(root, "a"))).toBe(3);
    // lr per step: held at 1e-2 for step 1, decaying, 0 at the last step (cos π = −1 exactly)
    const lrs = ma.filter((r) => r.kind === "step").map((r) => (r as unknown as { lr: number }).lr);
    expect([lrs[0], lrs[2]]).toEqual([1e-2, 0]);
    expect(lrs[1]).toBeGreaterThan(0);
    expect(lrs[1]).toBeLessThan(1e-2);
    expect(Buffer.from(a.params.data.buffer).equals(Buffer.from(b.params.data.buffer))).toBe(true);
    expect(strip(await readMetrics(join(root, "b")))).toEqual(strip(ma));
    reference = { params: a.params.data, metrics: strip(ma) };
  }, 120_000);

  it("resumes a killed run to the same final weights, without losing or duplicating metrics", async () => {
    const dir = join(root, "killed");
    // "Kill" the run inside step 3, after its metrics line was written and before its checkpoint.
    await expect(
      train(config, {
        runDir: dir,
        hooks: {
          onStep: (m) => {
            if (m.step === 3) throw new Error("killed");
          },
        },
      }),
    ).rejects.toThrow("killed");
    appendFileSync(join(dir, METRICS_FILE), '{"kind":"step","st'); // and a torn line on top
    expect(await latestCheckpoint(dir)).toBe(2);
    const resumed = await train(config, { runDir: dir, resume: true });
    expect(Buffer.from(resumed.params.data.buffer).equals(Buffer.from(reference.params.buffer))).toBe(true);
    expect(strip(await readMetrics(dir))).toEqual(reference.metrics);
  }, 120_000);

  it("K = 2 worker-thread actors train, the same seed and K give the same run, and learning on the workers gives the same bits as in the learner's thread", async () => {
    // Micro-batches of 3 rows: the workers run 3 of them per update (learnerWorkers, on by default).
    const k2 = { ...config, actors: 2, steps: 2, optim: { ...config.optim, microBatch: 3 }, eval: { ...config.eval, every: 0 } };
    const a = await train(k2, { runDir: join(root, "k2a") });
    const b = await train(k2, { runDir: join(root, "k2b") });
    const inThread = await train({ ...k2, learnerWorkers: false }, { runDir: join(root, "k2c") });
    expect(Buffer.from(a.params.data.buffer).equals(Buffer.from(b.params.data.buffer))).toBe(true);
    expect(Buffer.from(inThread.params.data.buffer).equals(Buffer.from(a.params.data.buffer))).toBe(true);
    expect(strip(await readMetrics(join(root, "k2c")))).toEqual(strip(await readMetrics(join(root, "k2a"))));
    const steps = (await readMetrics(join(root, "k2a"))) as unknown as { samples: number; learner: { updates: number }; outcomes: object }[];
    expect(steps.map((s) => s.samples)).toEqual([8, 8]);
    expect(steps.every((s) => s.learner.updates === 2)).toBe(true);
    expect(strip(await readMetrics(join(root, "k2b")))).toEqual(strip(steps));
  }, 120_000);

  it("the default preset's model on 2 learner threads: the same seed gives the same weights, the same as on 1 thread", async () => {
    const micro = { ...config, steps: 2, rolloutBatch: 16, envs: 8, model: { ...config.model, preset: "micro", overrides: {} }, optim: { ...config.optim, microBatch: 16 }, eval: { ...config.eval, every: 0 } };
    const a = await train({ ...micro, threads: 2 }, { runDir: join(root, "t2a") });
    const b = await train({ ...micro, threads: 2 }, { runDir: join(root, "t2b") });
    const one = await train({ ...micro, threads: 1 }, { runDir: join(root, "t1") });
    expect(Buffer.from(a.params.data.buffer).equals(Buffer.from(b.params.data.buffer))).toBe(true);
    expect(Buffer.from(a.params.data.buffer).equals(Buffer.from(one.params.data.buffer))).toBe(true);
    expect(strip(await readMetrics(join(root, "t2b")))).toEqual(strip(await readMetrics(join(root, "t2a"))));
  }, 120_000);

  it("trains against a fixed reference opponent, and --no-rae keeps the baselines at 0", async () => {
    const fixed = { ...config, steps: 1, opponent: "random", rae: { enabled: false, alpha: 0.95 }, eval: { ...config.eval, every: 0 } };
    await train(fixed, { runDir: join(root, "fixed") });
    const [step] = (await readMetrics(join(root, "fixed"))) as unknown as { games: number; outcomes: Record<string, { wins: number; draws: number; losses: number }[]>; baselines: Record<string, number[]> }[];
    // Only the trained seat of each game is counted (self-play would count every game twice).
    const counted = Object.values(step!.outcomes).flat().reduce((n, o) => n + o.wins + o.draws + o.losses, 0);
    expect(counted).toBe(step!.games);
    for (const b of Object.values(step!.baselines)) expect(b).toEqual([0, 0]);
    const transcript = readFileSync(join(root, "fixed", "transcripts", "step-000001.txt"), "utf8");
    expect(transcript).toMatch(/random \(P[01]\)/);
  }, 60_000);

  it("trains against a frozen checkpoint opponent, and names the key of a bad opponent", async () => {
    const frozen = join(root, "a", "step-3");
    const vsCheckpoint = { ...config, steps: 1, opponent: frozen, eval: { ...config.eval, every: 0 } };
    const before = readFileSync(join(frozen, "model.safetensors"));
    await train(vsCheckpoint, { runDir: join(root, "vs-checkpoint") });
    const [step] = (await readMetrics(join(root, "vs-checkpoint"))) as unknown as { games: number; samples: number; outcomes: Record<string, { wins: number; draws: number; losses: number }[]> }[];
    expect(step!.samples).toBe(8);
    const counted = Object.values(step!.outcomes).flat().reduce((n, o) => n + o.wins + o.draws + o.losses, 0);
    expect(counted).toBe(step!.games);
    const transcript = readFileSync(join(root, "vs-checkpoint", "transcripts", "step-000001.txt"), "utf8");
    expect(transcript).toContain(`${frozen} (P`);
    // The frozen opponent is read, never written.
    expect(readFileSync(join(frozen, "model.safetensors")).equals(before)).toBe(true);
    await expect(train({ ...vsCheckpoint, opponent: "nobody" }, { runDir: join(root, "bad-opponent") })).rejects.toThrow(/^opponent: Unknown policy "nobody"/);
  }, 60_000);

  it("refuses to start over an existing run", async () => {
    await expect(train(config, { runDir: join(root, "a") })).rejects.toThrow(/already holds a run/);
  });
});
