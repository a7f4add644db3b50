/**
 * Training with endpoint actors (docs/scale-out.md) against two real `spiral serve` processes on
 * loopback: every sample's token ids, versions and returns; a server killed mid-step (nothing lost,
 * nothing counted twice: the run equals the undisturbed one); asynchronous acting within its
 * staleness bound; endpoints beside an in-process actor; every server killed mid-step (beside an
 * in-process actor the run goes on, alone it stops with a clear error); `spiral train` killed with
 * SIGKILL and resumed; and the endpoint sampler against the in-process one (a statistical match:
 * see the last test for why not an equality).
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Generator } from "../engine/infer/generate.js";
import { ByteTokenizer } from "../engine/tokenizer/byte-tokenizer.js";
import { saveCheckpoint } from "../engine/weights/checkpoint.js";
import { initParams } from "../engine/weights/params.js";
import { judgeReply, scoreInvalid } from "../games/match.js";
import { getGame } from "../games/registry.js";
import { createRng } from "../core/rng.js";
import { freezeAfterStderr, killOnNextCompletion } from "../core/test-waits.js";
import { startServeProcess, type ServeProcess } from "../serve/process.js";
import { resolveRun } from "../cli/train.js";
import { parseTrainConfig, type TrainConfig } from "./config.js";
import { EndpointPool } from "./endpoints.js";
import { train, type StepMetrics } from "./loop.js";
import { modelPolicy } from "../policy/model-policy.js";
import { compactMode } from "../policy/prompt-mode.js";
import type { Rollout } from "./types.js";
import { readMetrics } from "./run-dir.js";
import { withoutTimings, TINY_TEST_MODEL } from "./test-metrics.js";
import { presetShape } from "./validate.js";

const root = mkdtempSync(join(tmpdir(), "spiral-endpoint-train-"));
const servers: ServeProcess[] = [];
const base = {
  steps: 3,
  games: [{ id: "TicTacToe-v0" }, { id: "KuhnPoker-v1-1round" }],
  rolloutBatch: 12,
  envs: 6,
  maxNewTokens: 8,
  model: TINY_TEST_MODEL,
  optim: { lr: 1e-2, microBatch: 12 },
  eval: { every: 0 },
  checkpointEvery: 1,
  transcripts: 0,
  threads: 1,
};
const shape = presetShape(parseTrainConfig(base).model);
const serverDir = join(root, "served");

async function startServer(port = 0): Promise<ServeProcess> {
  return startServeProcess(["--model", serverDir, "--port", String(port), "--runtime-updates", "--quiet", "--threads", "1"]);
}

beforeAll(async () => {
  // Any weights of the run's shape: the trainer publishes its own before the first game.
  await saveCheckpoint(serverDir, { config: shape, params: initParams(shape, createRng("other"), 0.02) });
  servers.push(...(await Promise.all([startServer(), startServer()])));
}, 120_000);
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop("SIGKILL")));
  rmSync(root, { recursive: true, force: true });
});

function endpointConfig(extra: Record<string, unknown> = {}): TrainConfig {
  return parseTrainConfig({ ...base, endpoints: servers.map((s) => ({ url: s.url, concurrency: 4 })), ...extra });
}

interface Recorded {
  readonly rollouts: Map<number, Rollout>;
  readonly steps: StepMetrics[];
}

async function run(config: TrainConfig, name: string, onStep?: (m: StepMetrics) => void, logs: string[] = []) {
  const rec: Recorded = { rollouts: new Map(), steps: [] };
  const summary = await train(config, {
    runDir: join(root, name),
    hooks: {
      log: (line) => logs.push(line),
      onRollout: (step, r) => rec.rollouts.set(step, r),
      onStep: (m) => {
        rec.steps.push(m);
        onStep?.(m);
      },
    },
  });
  return { summary, ...rec };
}

/** Replays a game from its seed and recorded moves: the returns it must have ended with. */
function replayReturns(result: Rollout["trajectories"][number]["result"]): readonly [number, number] {
  const game = getGame(result.gameId);
  let state = game.init(result.seed);
  for (const m of result.moves) {
    if (m.invalidReason !== undefined) return scoreInvalid([m.seat], "training") as [number, number];
    const v = judgeReply(game, state, m.seat, m.action);
    if (!v.valid) throw new Error(`move ${m.action} was recorded as valid`);
    state = game.apply(state, m.seat, v.action);
  }
  return game.isTerminal(state) ? (game.returns(state) as [number, number]) : [0, 0];
}

const tok = new ByteTokenizer();

/** Starts a new server in place of each one that is dead: later tests need two live servers whatever happened before. */
async function replaceDeadServers(): Promise<void> {
  for (const [i, s] of servers.entries()) if (s.child.exitCode !== null || s.child.signalCode !== null) servers[i] = await startServer();
}

/** Endpoint metrics that are wall-clock measurements. */
const ENDPOINT_TIMINGS = new Set(["learnerIdleSeconds", "actorIdleSeconds", "utilisation", "syncSeconds"]);

describe("training with endpoint actors", () => {
  let undisturbed: Awaited<ReturnType<typeof run>>;

  it("trains against two servers: every sample's token ids, version and returns check out", async () => {
    undisturbed = await run(endpointConfig(), "two");
    expect(undisturbed.steps.map((m) => m.step)).toEqual([1, 2, 3]);
    for (const [step, rollout] of undisturbed.rollouts) {
      expect(rollout.batch).toHaveLength(12);
      for (const s of rollout.batch) {
        expect(s.policyVersion).toBe(step - 1); // synchronous: the weights of the step before
        expect(s.untrainable).toBeUndefined();
        expect(tok.decode(s.generatedIds, { skipSpecialTokens: true })).toBe(s.text);
        expect(s.logprobs).toHaveLength(s.generatedIds.length);
        expect(s.allowedIds?.every((a, j) => a !== null && a.includes(s.generatedIds[j] as number))).toBe(true);
      }
      for (const t of rollout.trajectories) expect(t.result.returns).toEqual(replayReturns(t.result));
    }
    for (const m of undisturbed.steps) {
      const e = m.endpoints!;
      expect(e.staleness).toEqual({ mean: 0, max: 0 });
      expect([e.droppedStale, e.droppedUntrainable, e.transportFailures]).toEqual([0, 0, 0]);
      expect(e.utilisation).toHaveLength(2);
      expect(e.syncBytes).toBe(initParams(shape, createRng(0), 0).data.byteLength);
      // The servers sampled with exactly the learner's weights of that step: its recomputed
      // log-probs equal theirs up to float rounding (measured here: ~1e-6).
      expect(m.learner.samplerLogprobGap).toBeLessThan(1e-4);
    }
  }, 240_000);

  it("loses and doubles nothing when a server is killed mid-step: the run equals the undisturbed one", async () => {
    // Server 0 is killed from inside step 2's first completion request to it, while that step's games are being played.
    const victim = servers[0]!;
    const killer = killOnNextCompletion(() => [victim]);
    try {
      const disturbed = await run(endpointConfig(), "killed", (m) => {
        if (m.step === 1) killer.arm(); // step 2's games start right after this line
      });
      expect(killer.killed()).toBe(true);
      const failures = disturbed.steps.reduce((n, m) => n + (m.endpoints?.transportFailures ?? 0), 0);
      expect(failures).toBeGreaterThanOrEqual(1);
      expect(disturbed.steps[1]?.endpoints?.transportFailures).toBeGreaterThanOrEqual(1);
      expect(disturbed.steps.at(-1)?.endpoints?.liveEndpoints).toBe(1);
      // Same seed, same requests, same weights on every server: the same samples and the same final
      // weights, bit for bit, whichever server answered and however often a turn was retried.
      for (const [step, r] of disturbed.rollouts) {
        const u = undisturbed.rollouts.get(step)!;
        expect(r.batch.map((s) => [s.actorId, s.gameIndex, s.seat, s.turn, s.generatedIds, s.policyVersion])).toEqual(
          u.batch.map((s) => [s.actorId, s.gameIndex, s.seat, s.turn, s.generatedIds, s.policyVersion]),
        );
        expect(r.trajectories.map((t) => t.result)).toEqual(u.trajectories.map((t) => t.result));
      }
      expect(Buffer.from(disturbed.summary.params.data.buffer).equals(Buffer.from(undisturbed.summary.params.data.buffer))).toBe(true);
    } finally {
      killer.restore();
      await replaceDeadServers();
    }
  }, 240_000);

  it("resumes a run killed after step 3's metrics line to the undisturbed run's final weights (servers re-synced to step 2)", async () => {
    const dir = join(root, "resumed");
    await expect(
      train(endpointConfig(), {
        runDir: dir,
        hooks: {
          onStep: (m) => {
            if (m.step === 3) throw new Error("killed");
          },
        },
      }),
    ).rejects.toThrow("killed");
    const resumed = await train(endpointConfig(), { runDir: dir, resume: true });
    expect(Buffer.from(resumed.params.data.buffer).equals(Buffer.from(undisturbed.summary.params.data.buffer))).toBe(true);
  }, 240_000);

  it("acts asynchronously with maxStaleness 1: samples at most one version behind, PPO against the sampler's log-probs", async () => {
    const asyncRun = await run(endpointConfig({ maxStaleness: 1, steps: 4 }), "async");
    expect(asyncRun.steps.map((m) => m.step)).toEqual([1, 2, 3, 4]);
    let stale = 0;
    for (const [step, r] of asyncRun.rollouts) {
      for (const s of r.batch) {
        expect(step - 1 - s.policyVersion).toBeGreaterThanOrEqual(0);
        expect(step - 1 - s.policyVersion).toBeLessThanOrEqual(1);
        if (s.policyVersion < step - 1) stale++;
      }
    }
    expect(stale).toBeGreaterThan(0); // steps 2.. were played (partly) while the learner trained
    for (const m of asyncRun.steps) expect(m.endpoints!.staleness.max).toBeLessThanOrEqual(1);
  }, 240_000);

  it("plays beside an in-process actor: the step's samples split by weight, every sample with the version that produced it", async () => {
    // Two servers of weight 1 beside one in-process actor (weight 1): 12 × 2/3 = 8 samples from the servers, 4 in-process.
    const beside = await run(endpointConfig({ actors: 1, steps: 2 }), "beside");
    expect(beside.steps.map((m) => m.step)).toEqual([1, 2]);
    for (const [step, r] of beside.rollouts) {
      expect(r.batch).toHaveLength(12);
      const byActor = (id: number) => r.batch.filter((s) => s.actorId === id);
      expect([byActor(0).length, byActor(1).length]).toEqual([4, 8]);
      for (const s of r.batch) {
        expect(s.policyVersion).toBe(step - 1);
        expect(s.untrainable).toBeUndefined();
        expect(tok.decode(s.generatedIds, { skipSpecialTokens: true })).toBe(s.text);
      }
      // Both actors' games, each once: RAE joins every sample to its game by (actor, game).
      const games = r.trajectories.map((t) => `${t.result.actorId}:${t.result.gameIndex}`);
      expect(new Set(games).size).toBe(games.length);
      expect(new Set(r.trajectories.map((t) => t.result.actorId))).toEqual(new Set([0, 1]));
      for (const t of r.trajectories) expect(t.result.returns).toEqual(replayReturns(t.result));
    }
    for (const m of beside.steps) expect(m.endpoints).toMatchObject({ endpointSamples: 8, transportGames: 0, staleness: { mean: 0, max: 0 } });
  }, 240_000);

  it("plays beside two worker-thread actors, asynchronously: in-process samples on-policy, the servers' within maxStaleness", async () => {
    // W = 2, K = 2: the servers 12 × 2/4 = 6 samples, the two worker actors 3 each.
    const r = await run(endpointConfig({ actors: 2, steps: 3, maxStaleness: 1 }), "beside-async");
    expect(r.steps.map((m) => m.step)).toEqual([1, 2, 3]);
    for (const [step, rollout] of r.rollouts) {
      expect([0, 1, 2].map((id) => rollout.batch.filter((s) => s.actorId === id).length)).toEqual([3, 3, 6]);
      for (const s of rollout.batch) {
        // In-process actors play only while the learner waits; the servers also while it trains.
        const staleness = step - 1 - s.policyVersion;
        expect(staleness >= 0 && staleness <= (s.actorId < 2 ? 0 : 1)).toBe(true);
      }
    }
  }, 240_000);

  it("goes on with the in-process actor when every server is killed mid-step: void games counted apart, none trained on, none twice", async () => {
    const logs: string[] = [];
    const config = endpointConfig({ actors: 1, steps: 4, endpointGiveUp: 1 });
    // Both servers die inside step 2's first completion request: its turns find no server.
    const killer = killOnNextCompletion(() => servers);
    try {
      const r = await run(config, "all-killed", (m) => {
        if (m.step === 1) killer.arm();
      }, logs);
      expect(killer.killed()).toBe(true);
      expect(r.steps[1]?.endpoints?.transportGames).toBeGreaterThanOrEqual(1);
      expect(r.steps.map((m) => m.step)).toEqual([1, 2, 3, 4]);
      const transportGames = r.steps.reduce((n, m) => n + (m.endpoints?.transportGames ?? 0), 0);
      expect(transportGames).toBeGreaterThanOrEqual(1);
      expect(logs.some((l) => /the endpoint actors are lost \(.*ECONNREFUSED.*\); the in-process actors play on/.test(l))).toBe(true);
      for (const [step, rollout] of r.rollouts) {
        const voids = rollout.trajectories.filter((t) => t.result.endReason === "transport");
        const metrics = r.steps[step - 1]!;
        expect(metrics.endpoints?.transportGames).toBe(voids.length);
        // Void games: no samples, no outcome (games counts them, outcomes and the invalid rate do not).
        for (const t of voids) expect(rollout.batch.some((s) => s.actorId === t.result.actorId && s.gameIndex === t.result.gameIndex)).toBe(false);
        const decided = Object.values(metrics.outcomes).reduce((n, [a, b]) => n + a.wins + a.draws + a.losses + b.wins + b.draws + b.losses, 0);
        const trainedSeats = rollout.trajectories.filter((t) => t.result.endReason !== "transport").reduce((n, t) => n + t.result.trainedSeats.length, 0);
        expect(decided).toBe(trainedSeats);
        expect(metrics.games).toBe(rollout.trajectories.length);
        const games = rollout.trajectories.map((t) => `${t.result.actorId}:${t.result.gameIndex}`);
        expect(new Set(games).size).toBe(games.length);
        if (step >= 3) {
          // No server live: the in-process actor plays the whole step.
          expect(rollout.batch).toHaveLength(12);
          expect(rollout.batch.every((s) => s.actorId === 0 && s.policyVersion === step - 1)).toBe(true);
          expect(metrics.endpoints).toMatchObject({ endpointSamples: 0, liveEndpoints: 0 });
        }
      }
    } finally {
      killer.restore();
      await replaceDeadServers();
    }
  }, 240_000);

  it("stops with a clear error when every server is killed and no in-process actor is left", async () => {
    const dir = join(root, "none-left");
    const config = endpointConfig({ steps: 4, endpointGiveUp: 1 });
    expect(config.actors).toBe(0);
    // Both servers die inside step 2's first completion request.
    const killer = killOnNextCompletion(() => servers);
    try {
      await expect(
        train(config, {
          runDir: dir,
          hooks: { onStep: (m) => void (m.step === 1 && killer.arm()) },
        }),
      ).rejects.toThrow(/^no actor is left: no actor endpoint has answered for 1 s: http:\/\/127\.0\.0\.1:\d+\/v1 \(.+\), http:.*; the run has no in-process actors \(actors 0\)/);
      expect(killer.killed()).toBe(true);
      // The steps before the kill are kept, with their checkpoints: the run can be resumed.
      const done = (await readMetrics(dir)).filter((m) => m.kind === "step").map((m) => m.step);
      expect(done).toEqual([1]);
      expect(existsSync(join(dir, "step-1", "model.safetensors"))).toBe(true);
    } finally {
      killer.restore();
      await replaceDeadServers();
    }
  }, 240_000);

  it("resumes `spiral train` killed with SIGKILL after a checkpoint: synchronous, it ends as the uninterrupted run, metrics and weights", async () => {
    const file = join(root, "kill9.json");
    writeFileSync(file, JSON.stringify({ ...base, steps: 4, endpoints: servers.map((s) => ({ url: s.url, concurrency: 4 })), maxStaleness: 0 }));
    const dir = join(root, "kill9");
    // `spiral train` from the sources as its own process, killed with SIGKILL once step 3's line is out (step-2 and maybe step-3 saved).
    // The child stops dead right after writing that line, so the kill lands there and not in step 4,
    // however long this process takes to read the line.
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e",
        `${freezeAfterStderr(/^step 3\/4/m)}\nimport { main } from "./src/cli/main.js"; await main(["node", "spiral", "train", "--config", ${JSON.stringify(file)}, "--out", ${JSON.stringify(root)}, "--name", "kill9", "--no-progress", "--log-every", "1"]);`],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      if (/^step 3\/4/m.test(stderr) && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    });
    const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.on("close", (_code, sig) => resolve(sig)));
    expect(signal).toBe("SIGKILL");
    expect(existsSync(join(dir, "step-2", "model.safetensors"))).toBe(true);
    expect(existsSync(join(dir, "step-4"))).toBe(false);

    const resumed = await resolveRun({ resume: dir });
    expect(resumed.config.actors).toBe(0);
    await train(resumed.config, { runDir: dir, resume: true });
    const { config } = await resolveRun({ config: file, out: root, name: "kill9-straight" });
    await train(config, { runDir: join(root, "kill9-straight") });
    // Timings (and the servers' busy and idle times) differ between runs; every other number is the same.
    const strip = (v: unknown) => withoutTimings(JSON.parse(JSON.stringify(v, (k, x: unknown) => (ENDPOINT_TIMINGS.has(k) ? undefined : x))));
    expect(strip(await readMetrics(dir))).toEqual(strip(await readMetrics(join(root, "kill9-straight"))));
    expect(readFileSync(join(dir, "step-4", "model.safetensors")).equals(readFileSync(join(root, "kill9-straight", "step-4", "model.safetensors")))).toBe(true);
  }, 300_000);

  it("samples what the in-process policy samples: both match the exact choice probabilities (χ² goodness of fit)", async () => {
    // Why a statistical match and not equality: the in-process actor draws each row's randomness
    // from split streams of one rng, while an OpenAI request can only carry an integer seed; equal
    // draws would need the default run's streams changed. Both samplers are checked against the
    // exact probability of each legal move (the learner's log-prob graph, choiceProbabilities).
    const params = initParams(shape, createRng("peaky"), 0.3);
    const dir = join(root, "peaky");
    await saveCheckpoint(dir, { config: shape, params });
    const g = await Generator.create(shape, params, tok, { threads: 1 });
    const { LossRunner } = await import("../engine/train/loss-runner.js");
    const runner = new LossRunner(shape, params, { threads: 1 });
    const local = modelPolicy({ name: "p", generator: g, runner, tokenizer: tok, temperature: 1, version: () => 0 });
    const pool = new EndpointPool({ endpoints: servers.map((s) => ({ url: s.url, weight: 1, concurrency: 8 })), tokenizer: tok, temperature: 1, topP: 1 });
    await pool.open();
    try {
      await pool.publish({ kind: "full", version: 0, path: dir });
      const game = getGame("TicTacToe-v0");
      const state = game.init(3);
      const obs = game.observe(state, 0);
      const request = compactMode.request(game.info, obs, 8);
      const choices = [...obs.legal];
      const exact = await local.choiceProbabilities(request, choices);
      const N = 600;
      const count = (texts: readonly string[]) => choices.map((c) => texts.filter((t) => t === c).length);
      const fromLocal = count((await local.generate(Array.from({ length: N }, () => request), createRng("local"))).map((r) => r.text));
      const fromPool = count((await pool.generate(Array.from({ length: N }, () => request), createRng("pool"))).map((r) => r.text));
      // χ² over moves with expected count ≥ 5 (the rest pooled); critical value at p = 0.001.
      const chi2 = (observed: number[]) => {
        let stat = 0;
        let restO = 0;
        let restE = 0;
        let cells = 0;
        observed.forEach((o, i) => {
          const e = N * (exact[i] as number);
          if (e >= 5) {
            stat += (o - e) ** 2 / e;
            cells++;
          } else {
            restO += o;
            restE += e;
          }
        });
        if (restE > 0) {
          stat += (restO - restE) ** 2 / Math.max(restE, 1e-9);
          cells++;
        }
        return { stat, df: cells - 1 };
      };
      // χ²(df) at 0.999: a false alarm once in a thousand runs per sampler.
      const critical001 = (df: number) => [10.83, 13.82, 16.27, 18.47, 20.52, 22.46, 24.32, 26.12, 27.88, 29.59][df - 1] as number;
      expect(Math.max(...exact)).toBeGreaterThan(2 / choices.length); // a peaked distribution, not uniform
      for (const observed of [fromLocal, fromPool]) {
        const { stat, df } = chi2(observed);
        expect(stat).toBeLessThan(critical001(df));
      }
    } finally {
      await pool.close();
      await g.release();
      await runner.release();
    }
  }, 240_000);
});
