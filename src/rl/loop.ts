/**
 * The actor–learner loop: one module that wires the pieces of one policy step together (docs/training.md).
 *
 * Set-up (run-setup.ts): the run's state (model, optimiser, RAE, step: fresh, from a checkpoint, or
 * resumed) and the sessions acting on it; the actor's options come from the config through
 * actor-options.ts, as the worker actors' do.
 *
 * Per policy step t = 1..steps:
 *   1. collect   actor plays games with π_{t−1} until `rolloutBatch` samples (actor.ts); with
 *                `actors` = K > 1, K worker threads each collect their share (actor-pool.ts); with
 *                endpoint actors, the servers collect their share beside the K in-process actors
 *                (or all of it: actors 0), see `collectWithEndpoints`
 *   2. score     RAE folds every finished game into b[game][seat], advantages, A = 0 dropped (rae.ts)
 *   3. learn     PPO/Dr.GRPO, 2 epochs, micro-batches, grad clip, AdamW (learner.ts); with K > 1
 *                worker actors (idle now) the micro-batches run on them, same bits (`learnerWorkers`)
 *   4. sync      weights are shared in place with the in-thread generator (one Params buffer);
 *                worker actors copy them from a shared mirror before their next collect; version = t;
 *                endpoint actors (config `endpoints`) get version t written to disk and reloaded
 *                (endpoint-run.ts), and with `maxStaleness` K > 0 play up to K steps ahead
 *   5. log       one metrics line; a few transcripts
 *   6. evaluate  every k steps (and at step 0 and the last step): fixed opponents, Kuhn exploitability;
 *                at step 0 and the last step also the out-of-distribution games (final-games.ts)
 *   7. save      every n steps (and the last): weights + optimiser + {step, RAE} in step-t/
 *
 * Stopping: when `options.signal` is aborted (Ctrl-C), the step under way finishes (its metrics,
 * evaluation and a checkpoint are written) and `train` returns with `interrupted`; resuming from
 * that checkpoint replays the rest as the uninterrupted run would have. heartbeat.json tells the
 * dashboard whether the trainer lives (heartbeat.ts).
 *
 * Determinism and exact resume: every random draw of step t comes from `createRng(seed:step:t)`
 * (evaluation from `seed:eval:t`), so a run restarted from the checkpoint of step S, with the
 * weights, optimiser moments and RAE baselines of S, replays steps S+1.. exactly as the
 * uninterrupted run did. No RNG stream has to be carried across steps.
 */
import { join } from "node:path";
import { saveCheckpoint } from "../engine/weights/checkpoint.js";
import type { Params } from "../engine/weights/params.js";
import { makeReferenceAgent } from "../games/agent-registry.js";
import type { Seat } from "../games/game.js";
import { getGame } from "../games/registry.js";
import { createRng, type Rng } from "../core/rng.js";
import { addOutcome, NO_OUTCOMES, type Outcomes } from "../eval/stats.js";
import { type ActorOptions, collectRollout } from "./actor.js";
import { mergeRollouts } from "./actor-pool.js";
import { actorOptions } from "./actor-options.js";
import { type EndpointActors, type EndpointStepMetrics, openEndpointActors } from "./endpoint-run.js";
import { learningRateAt, type TrainConfig } from "./config.js";
import { evaluate, type EvalReport, type Matchup } from "./eval.js";
import { finalMatchups, playsFinalGames } from "./final-games.js";
import { learnStep, type LearnerStats, type LearnerWorkers } from "./learner.js";
import { saveLoraCheckpoint } from "./lora-run.js";
import { POOL_FILE } from "./adapter-pool.js";
import { scoreSamples, type RaeState } from "./rae.js";
import { pickRecordedGames, writeGameRecords } from "./game-records.js";
import { startHeartbeat, type HeartbeatWriter } from "./heartbeat.js";
import { openRun, openSessions, type RunPlace, type RunSessions, type RunState, type TrainerState } from "./run-setup.js";
import { appendMetrics, checkpointName, createRunDir, writeTranscript } from "./run-dir.js";
import { checkpointFiles } from "./run-tokenizer.js";
import { meanThinkingTokens } from "./thinking.js";
import type { Rollout } from "./types.js";

export type { TrainerState } from "./run-setup.js";

export interface StepMetrics {
  readonly kind: "step";
  readonly step: number;
  /** Samples in the learner batch before / after zero-advantage filtering. */
  readonly samples: number;
  readonly kept: number;
  readonly games: number;
  /** Per game id: outcomes per seat over this step's finished games (training returns' signs). */
  readonly outcomes: Record<string, [Outcomes, Outcomes]>;
  /** Share of finished games that ended by an invalid move (void games, lost to transport failures, left out). */
  readonly invalidRate: number;
  /** Mean generated tokens per sample in the batch. */
  readonly replyLength: number;
  /** Chat mode: mean tokens of reasoning before the answer per sample (thinking.ts). */
  readonly thinkingLength?: number;
  readonly baselines: Record<string, readonly [number, number]>;
  readonly learner: LearnerStats;
  /** The learning rate of this step's updates (`optim.lrSchedule`). */
  readonly lr: number;
  readonly actSeconds: number;
  readonly learnSeconds: number;
  readonly samplesPerSecond: number;
  readonly generatedTokensPerSecond: number;
  /** Endpoint actors only: staleness, idle times, transport failures, sync cost (endpoint-run.ts). */
  readonly endpoints?: EndpointStepMetrics;
}

export interface EvalMetrics extends EvalReport {
  readonly kind: "eval";
  readonly step: number;
}

export interface TrainHooks {
  onStep?(metrics: StepMetrics): void;
  /** Every step's games and the samples the learner trains on (tests, tools). */
  onRollout?(step: number, rollout: Rollout): void;
  onEval?(metrics: EvalMetrics): void;
  log?(message: string): void;
}

export interface TrainOptions extends RunPlace {
  readonly hooks?: TrainHooks;
  /** Aborted: finish the current step, save a checkpoint of it, and return (see the file comment). */
  readonly signal?: AbortSignal;
}

export interface TrainSummary {
  readonly runDir: string;
  /** The last step done: `config.steps`, or where an interrupted run stopped. */
  readonly steps: number;
  /** Stopped early by `options.signal`; a checkpoint of `steps` is saved when `steps` > 0. */
  readonly interrupted: boolean;
  readonly lastEval?: EvalMetrics;
  readonly seconds: number;
  /** The final weights (for tests comparing runs); in a LoRA run the frozen base. */
  readonly params: Params;
  /** A LoRA run's final adapter tensors. */
  readonly adapter?: Params;
}

/** Evaluation pairings (docs/training.md, "Evaluation"), for the games the registry has. */
export const EVAL_MATCHUPS: readonly { readonly gameId: string; readonly opponent: string }[] = [
  { gameId: "TicTacToe-v0", opponent: "random" },
  { gameId: "TicTacToe-v0", opponent: "minimax" },
  { gameId: "KuhnPoker-v1-1round", opponent: "random" },
  { gameId: "SimpleNegotiation-v1", opponent: "random" },
  { gameId: "SimpleNegotiation-v1", opponent: "heuristic" },
];

function evalMatchups(games: number, log: (m: string) => void): Matchup[] {
  const out: Matchup[] = [];
  for (const m of EVAL_MATCHUPS) {
    try {
      out.push({ game: getGame(m.gameId), opponent: makeReferenceAgent(m.opponent, m.gameId), games });
    } catch (e) {
      log(`evaluation: skipping ${m.gameId} vs ${m.opponent}: ${(e as Error).message}`);
    }
  }
  return out;
}

function stepMetrics(step: number, rollout: Rollout, kept: number, rae: RaeState, learner: LearnerStats, lr: number, actSeconds: number, thinkingLength?: number): StepMetrics {
  const outcomes: Record<string, [Outcomes, Outcomes]> = {};
  let invalid = 0;
  let played = 0;
  for (const { result } of rollout.trajectories) {
    // A void game (endpoint actors: a transport failure) is neither won, drawn nor lost; endpoints.transportGames counts it.
    if (result.endReason === "transport") continue;
    played++;
    const o = (outcomes[result.gameId] ??= [NO_OUTCOMES, NO_OUTCOMES]);
    for (const seat of result.trainedSeats) o[seat as Seat] = addOutcome(o[seat as Seat], result.returns[seat as Seat]);
    if (result.endReason === "invalid") invalid++;
  }
  const batchTokens = rollout.batch.reduce((n, s) => n + s.generatedIds.length, 0);
  return {
    kind: "step",
    step,
    samples: rollout.batch.length,
    kept,
    games: rollout.trajectories.length,
    outcomes,
    invalidRate: played === 0 ? 0 : invalid / played,
    replyLength: rollout.batch.length === 0 ? 0 : batchTokens / rollout.batch.length,
    ...(thinkingLength === undefined ? {} : { thinkingLength }),
    baselines: { ...rae.baselines },
    learner,
    lr,
    actSeconds,
    learnSeconds: learner.seconds,
    samplesPerSecond: rollout.batch.length / (actSeconds + learner.seconds),
    generatedTokensPerSecond: rollout.generatedTokens / actSeconds,
  };
}

/** Runs (or resumes) a training run; see the file comment. */
export async function train(config: TrainConfig, options: TrainOptions): Promise<TrainSummary> {
  const run: { heartbeat?: HeartbeatWriter } = {};
  try {
    const summary = await runTraining(config, options, run);
    run.heartbeat?.end(summary.interrupted ? "interrupted" : "finished");
    return summary;
  } catch (e) {
    run.heartbeat?.end("failed");
    throw e;
  }
}

async function runTraining(config: TrainConfig, options: TrainOptions, run: { heartbeat?: HeartbeatWriter }): Promise<TrainSummary> {
  const started = performance.now();
  const hooks = options.hooks ?? {};
  const log = hooks.log ?? (() => {});
  const { runDir } = options;
  // Set-up (run-setup.ts): model, optimiser, RAE and step, then the sessions that act on them.
  const state = await openRun(config, options, log);
  const savedFiles = checkpointFiles(config);
  const sessions = await openSessions(config, state, options, log);
  const { params, optimizer, lora } = state;
  const actor = actorOptions(config, { policy: sessions.policy, mode: sessions.mode, ...(sessions.opponent === undefined ? {} : { opponent: sessions.opponent }) });
  const runEval = evaluator(config, sessions, runDir, hooks, log);
  // Endpoint actors (endpoint-run.ts): every server contacted before the run directory exists.
  const endpoints =
    config.endpoints.length === 0
      ? undefined
      : await openEndpointActors(config, { runDir, modelConfig: state.modelConfig, params, ...(lora === undefined ? {} : { lora }), tokenizer: state.tokenizer, log }).catch(async (e: unknown) => {
          await sessions.close();
          throw e;
        });
  const ahead: Ahead = new Map();
  let rae = state.rae;
  let lastEval: EvalMetrics | undefined;
  let done = state.startStep;
  const stopRequested = () => options.signal?.aborted === true;

  try {
    // Written only now that everything has opened: a start that fails leaves no run behind.
    if (options.resume !== true) await createRunDir(runDir, config);
    const heartbeat = startHeartbeat(runDir, { step: state.startStep, totalSteps: config.steps });
    run.heartbeat = heartbeat;
    await endpoints?.publish(state.startStep);
    if (state.startStep === 0 && config.eval.every > 0) lastEval = await runEval(0);
    const entropyCoefByGame = Object.fromEntries(config.games.flatMap((g) => (g.entropyCoef === undefined ? [] : [[g.id, g.entropyCoef]])));
    for (let step = state.startStep + 1; step <= config.steps && !stopRequested(); step++) {
      const rng = createRng(`${config.seed}:step:${step}`);
      // 1. collect (the policy of step − 1 plays)
      let rollout: Rollout;
      let actSeconds: number;
      let remote: Awaited<ReturnType<typeof collectWithEndpoints>> | undefined;
      if (endpoints === undefined) {
        rollout = await collect(sessions, actor, lora?.adapter.params ?? params, config.rolloutBatch, step, rng);
        actSeconds = rollout.seconds;
      } else {
        remote = await collectWithEndpoints(endpoints, actor, sessions, ahead, { step, config, trained: lora?.adapter.params ?? params, rng, log });
        ({ rollout, actSeconds } = remote);
      }
      hooks.onRollout?.(step, rollout);
      // 2. score
      const scored = scoreSamples(rae, rollout.trajectories, rollout.batch);
      rae = scored.state;
      // 3. learn
      const lr = learningRateAt(config.optim, step, config.steps);
      const learner = await learnStep(
        {
          runner: sessions.runner, params: lora?.adapter.params ?? params, optimizer,
          ...(sessions.device === undefined ? {} : { device: sessions.device }),
          ...(sessions.lossScale === undefined ? {} : { lossScale: sessions.lossScale }),
          // Idle worker actors run the micro-batches (not with endpoints: those may collect ahead meanwhile).
          ...(endpoints === undefined && config.learnerWorkers ? learnerWorkers(sessions, lora?.adapter.params ?? params) : {}),
        },
        scored.samples,
        {
          loss: config.optim.loss, ppoEpochs: config.optim.ppoEpochs, clip: config.optim.clip, normalizer: config.maxNewTokens,
          microBatch: config.optim.microBatch, minibatches: config.optim.minibatches, gradClip: config.optim.gradClip,
          temperature: config.temperature, lr, entropyCoef: config.optim.entropyCoef, entropyCoefByGame,
          // Asynchronous acting: the ratio against the policy that produced each sample.
          ...(endpoints !== undefined && endpoints.maxStaleness > 0 ? { behaviourLogprobs: true } : {}),
        },
        rng.split(),
      );
      // 4. sync: the generator shares the weights in place; samples from now on carry this version
      sessions.setVersion(step);
      // On a GPU the host copies are refreshed only for what reads them (device-training.ts).
      if (sessions.device !== undefined && (sessions.pastAdapters !== undefined || endpoints !== undefined)) await sessions.device.toHost();
      if (lora !== undefined) sessions.pastAdapters?.push(lora.adapter.params.data);
      let endpointStep: EndpointStepMetrics | undefined;
      if (endpoints !== undefined && remote !== undefined) {
        await endpoints.publish(step);
        endpointStep = endpoints.endStep(remote.learnerIdle, remote.usable);
      }
      // 5. log
      const thinking = sessions.mode.name === "chat" ? meanThinkingTokens(rollout.batch, (text) => state.tokenizer.encode(text)) : undefined;
      const metrics: StepMetrics = { ...stepMetrics(step, rollout, scored.samples.length, rae, learner, lr, actSeconds, thinking), ...(endpointStep === undefined ? {} : { endpoints: endpointStep }) };
      appendMetrics(runDir, metrics);
      heartbeat.beat(step);
      hooks.onStep?.(metrics);
      if (config.transcripts > 0) await recordGames(config, runDir, step, rollout);
      // 6. evaluate
      const last = step === config.steps;
      if (config.eval.every > 0 && (step % config.eval.every === 0 || last)) lastEval = await runEval(step);
      done = step;
      // 7. save
      if (step % config.checkpointEvery === 0 || last || stopRequested()) {
        await sessions.device?.toHost();
        await save(config, state, sessions, { runDir, step, rae, savedFiles });
        log(`checkpoint: ${checkpointName(step)}`);
      }
    }
  } finally {
    await endpoints?.close();
    await Promise.allSettled([...ahead.values()].map((a) => a.rollout));
    await sessions.close();
  }
  return {
    runDir,
    steps: done,
    interrupted: done < config.steps,
    ...(lastEval === undefined ? {} : { lastEval }),
    seconds: (performance.now() - started) / 1000,
    params,
    ...(lora === undefined ? {} : { adapter: lora.adapter.params }),
  };
}

/**
 * Step 1: the rollout of `step`, by the in-thread actor or by the worker actors over a fresh copy of
 * the trained weights (`trained`: the model's, or in a LoRA run only the adapter's).
 */
function collect(sessions: RunSessions, actor: ActorOptions, trained: Params, rolloutBatch: number, step: number, rng: Rng): Promise<Rollout> {
  sessions.pastAdapters?.select(step);
  const { pool } = sessions;
  if (pool === undefined) return collectRollout({ ...actor, rolloutBatch }, rng.split());
  new Float32Array(pool.weights).set(trained.data);
  return pool.actors.collect(Array.from({ length: pool.actors.size }, () => rng.split().state()), rolloutBatch, step - 1);
}

/**
 * Step 3 on the worker actors (CPU, actors > 1): each call first writes the trained weights into
 * the shared mirror the workers read, as a collect does.
 */
function learnerWorkers(sessions: RunSessions, trained: Params): { workers?: LearnerWorkers } {
  const { pool } = sessions;
  if (pool === undefined || sessions.device !== undefined) return {};
  return {
    workers: {
      lossAndGrads: (jobs) => {
        new Float32Array(pool.weights).set(trained.data);
        return pool.actors.lossAndGrads(jobs);
      },
    },
  };
}

/** Endpoint actors' rollouts under way, by step, with the share of the step's samples each was asked for. */
type Ahead = Map<number, { readonly share: number; readonly rollout: Promise<Rollout> }>;

/**
 * Step 1 with endpoint actors: the step's samples split by weight between the servers (their
 * live weights summed) and the K in-process actors (weight 1 each); all to the servers when K = 0,
 * all in-process while no server is live. The servers' share of `step` is collected after starting
 * their shares of the next `maxStaleness` steps (each on its own stream: the first split of its
 * step's rng when they act alone, as the in-thread actor would, else `seed:endpoints:s`); the
 * in-process share as `collect` does, with the same policy version as always (step − 1). Then only
 * the samples the learner may use (endpoint-run.ts). When the servers are lost (no server live for
 * `endpointGiveUp`) the in-process actors play on alone, and a run without any stops with an error.
 */
async function collectWithEndpoints(
  endpoints: EndpointActors,
  actor: ActorOptions,
  sessions: RunSessions,
  ahead: Ahead,
  at: { readonly step: number; readonly config: TrainConfig; readonly trained: Params; readonly rng: Rng; readonly log: (m: string) => void },
) {
  const { step, config, rng } = at;
  const k = config.actors;
  endpoints.beginStep();
  sessions.pastAdapters?.select(step);
  const remoteActor: ActorOptions = { ...actor, policy: endpoints.policy, ...(k === 0 ? {} : { actorId: k }) };
  const stream = (s: number): Rng => (k === 0 ? createRng(`${config.seed}:step:${s}`).split() : createRng(`${config.seed}:endpoints:${s}`));
  for (let s = step; s <= Math.min(config.steps, step + endpoints.maxStaleness); s++) {
    if (ahead.has(s)) continue;
    const share = endpoints.share(config.rolloutBatch, k);
    if (share === 0) continue;
    const rollout = collectRollout({ ...remoteActor, rolloutBatch: share }, stream(s));
    rollout.catch(() => {}); // awaited when its step comes; a run that stops first drops it
    ahead.set(s, { share, rollout });
  }
  const started = performance.now();
  const remote = ahead.get(step);
  ahead.delete(step);
  let local: Promise<Rollout> | undefined;
  if (k === 0) rng.split(); // the in-thread actor's split: the learner's stream stays the same
  else local = collect(sessions, actor, at.trained, config.rolloutBatch - (remote?.share ?? 0), step, rng);
  const [localPart, remotePart] = await Promise.all([local, remote?.rollout]);
  const learnerIdle = (performance.now() - started) / 1000;
  if (remotePart?.lost !== undefined) {
    if (k === 0) throw new Error(`no actor is left: ${remotePart.lost}; the run has no in-process actors (actors 0). The last checkpoint is kept: resume with --resume once a server is back, or give --actors K`);
    at.log(`actors: the endpoint actors are lost (${remotePart.lost}); the in-process actors play on`);
  }
  const parts = [localPart, remotePart].filter((p): p is Rollout => p !== undefined);
  const collected = parts.length === 1 ? (parts[0] as Rollout) : mergeRollouts(parts, learnerIdle);
  const usable = endpoints.usable(collected, step - 1);
  return { rollout: usable.rollout, usable, learnerIdle, actSeconds: endpoints.maxStaleness === 0 ? (parts.length === 1 ? collected.seconds : learnerIdle) : learnerIdle };
}

/** Step 5's transcripts: a few of the step's games as text and as game records. */
async function recordGames(config: TrainConfig, runDir: string, step: number, rollout: Rollout): Promise<void> {
  const recorded = pickRecordedGames(rollout.trajectories, config.transcripts, config.games.map((g) => g.id), step);
  await writeTranscript(runDir, step, recorded);
  await writeGameRecords(runDir, step, recorded);
}

/** Step 6: evaluation of the policy of `step` (its draws from `seed:eval:step`), written as a metrics line. */
function evaluator(config: TrainConfig, sessions: RunSessions, runDir: string, hooks: TrainHooks, log: (m: string) => void): (step: number) => Promise<EvalMetrics> {
  const matchups = config.eval.every > 0 ? evalMatchups(config.eval.games, log) : [];
  const ood = config.eval.every > 0 ? finalMatchups(config) : [];
  const kuhn = config.eval.every > 0 && config.eval.kuhn ? getGame("KuhnPoker-v1-1round") : undefined;
  return async (step) => {
    const report = await evaluate(
      {
        policy: sessions.evalPolicy, mode: sessions.mode, maxNewTokens: config.maxNewTokens, envs: config.envs,
        matchups: playsFinalGames(step, config.steps) ? [...matchups, ...ood] : matchups, ...(kuhn === undefined ? {} : { kuhn }),
      },
      createRng(`${config.seed}:eval:${step}`),
    );
    const metrics: EvalMetrics = { kind: "eval", step, ...report };
    appendMetrics(runDir, metrics);
    hooks.onEval?.(metrics);
    return metrics;
  };
}

/** Step 7: weights, optimiser and trainer state in step-N/ (a LoRA run: its adapter, and pool:K's snapshots). */
async function save(
  config: TrainConfig,
  state: RunState,
  sessions: RunSessions,
  at: { readonly runDir: string; readonly step: number; readonly rae: RaeState; readonly savedFiles: readonly { name: string; from: string }[] },
): Promise<void> {
  const trainerState: TrainerState = { format: "spiral.trainer/1", step: at.step, rae: at.rae, ...(sessions.lossScale === undefined ? {} : { lossScale: sessions.lossScale.state() }) };
  const dir = join(at.runDir, checkpointName(at.step));
  const files = [...at.savedFiles];
  if (state.lora !== undefined) {
    const extra = sessions.pastAdapters === undefined ? undefined : { file: POOL_FILE, tensors: sessions.pastAdapters.tensors() };
    await saveLoraCheckpoint(dir, config, { ...state.lora, optimizer: state.optimizer }, trainerState, extra, files);
  } else {
    await saveCheckpoint(dir, { config: state.modelConfig, params: state.params, optimizer: state.optimizer, trainerState, files });
  }
}
