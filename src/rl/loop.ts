/**
 * The actor–learner loop: one module that wires the pieces of one policy step together (docs/training.md).
 *
 * Per policy step t = 1..steps:
 *   1. collect   actor plays games with π_{t−1} until `rolloutBatch` samples (actor.ts); with
 *                `actors` = K > 1, K worker threads each collect their share (actor-pool.ts)
 *   2. score     RAE folds every finished game into b[game][seat], advantages, A = 0 dropped (rae.ts)
 *   3. learn     PPO/Dr.GRPO, 2 epochs, micro-batches, grad clip, AdamW (learner.ts)
 *   4. sync      weights are shared in place with the in-thread generator (one Params buffer);
 *                worker actors copy them from a shared mirror before their next collect; version = t
 *   5. log       one metrics line; a few transcripts
 *   6. evaluate  every k steps (and at step 0 and the last step): fixed opponents, Kuhn exploitability
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
import { availableParallelism } from "node:os";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { loadCheckpoint, saveCheckpoint } from "../engine/weights/checkpoint.js";
import { tokenizerSource, unverifiedNote } from "../engine/weights/model-dir.js";
import type { ModelConfig } from "../engine/model/config.js";
import { Generator } from "../engine/infer/generate.js";
import { LossRunner } from "../engine/train/loss-runner.js";
import { AdamW } from "../engine/train/optimizer.js";
import { initParams, type Params } from "../engine/weights/params.js";
import { ByteTokenizer } from "../engine/tokenizer/byte-tokenizer.js";
import { loadTokenizer, TOKENIZER_FILES, tokenizerDirOf } from "../engine/tokenizer/load.js";
import type { Tokenizer } from "../engine/tokenizer/tokenizer.js";
import { makeReferenceAgent } from "../games/agent-registry.js";
import type { Seat } from "../games/game.js";
import { getGame } from "../games/registry.js";
import { createRng } from "../games/rng.js";
import { collectRollout, type PromptMode } from "./actor.js";
import { createActorPool } from "./actor-pool.js";
import { learningRateAt, type TrainConfig } from "./config.js";
import { evaluate, type EvalReport, type Matchup } from "./eval.js";
import { learnStep, type LearnerStats } from "./learner.js";
import { type LoraRun, openLoraRun, saveLoraCheckpoint } from "./lora-run.js";
import { loadPoolSnapshots, openAdapterPool, parsePoolSpec, POOL_FILE } from "./adapter-pool.js";
import { modelPolicy } from "./model-policy.js";
import { openOpponent } from "./opponent.js";
import type { Policy } from "./policy.js";
import { promptMode } from "./prompt-mode.js";
import { checkRaeState, createRae, scoreSamples, type RaeState } from "./rae.js";
import { pickRecordedGames, writeGameRecords } from "./game-records.js";
import { startHeartbeat, type HeartbeatWriter } from "./heartbeat.js";
import { openResumePoint, resumeStep } from "./resume.js";
import { appendMetrics, assertNewRunDir, checkpointName, createRunDir, setAsideAfter, sweepInterruptedSaves, writeTranscript } from "./run-dir.js";
import { checkTrainConfig, presetShape } from "./validate.js";
import { addOutcome, NO_OUTCOMES, type Outcomes } from "./stats.js";
import type { Rollout } from "./types.js";
import { checkDevice } from "../engine/graph/device.js";

/** What a checkpoint's trainer_state.json holds. */
export interface TrainerState {
  readonly format: "spiral.trainer/1";
  readonly step: number;
  readonly rae: RaeState;
}

export interface StepMetrics {
  readonly kind: "step";
  readonly step: number;
  /** Samples in the learner batch before / after zero-advantage filtering. */
  readonly samples: number;
  readonly kept: number;
  readonly games: number;
  /** Per game id: outcomes per seat over this step's finished games (training returns' signs). */
  readonly outcomes: Record<string, [Outcomes, Outcomes]>;
  /** Share of finished games that ended by an invalid move. */
  readonly invalidRate: number;
  /** Mean generated tokens per sample in the batch. */
  readonly replyLength: number;
  readonly baselines: Record<string, readonly [number, number]>;
  readonly learner: LearnerStats;
  /** The learning rate of this step's updates (`optim.lrSchedule`). */
  readonly lr: number;
  readonly actSeconds: number;
  readonly learnSeconds: number;
  readonly samplesPerSecond: number;
  readonly generatedTokensPerSecond: number;
}

export interface EvalMetrics extends EvalReport {
  readonly kind: "eval";
  readonly step: number;
}

export interface TrainHooks {
  onStep?(metrics: StepMetrics): void;
  onEval?(metrics: EvalMetrics): void;
  log?(message: string): void;
}

export interface TrainOptions {
  /** The run directory (runs/<name>). */
  readonly runDir: string;
  /** Continue the run in `runDir` from its latest checkpoint. */
  readonly resume?: boolean;
  /** With `resume`: the checkpoint to continue from ("step-N"), instead of the latest. */
  readonly resumeFrom?: string;
  readonly hooks?: TrainHooks;
  /** Replaces the config's prompt mode (experiments with other renderings; in-thread actors only). */
  readonly promptMode?: PromptMode;
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

/** The directory the run's tokenizer comes from; undefined for the byte-level tokenizer. */
function tokenizerSourceDir(config: TrainConfig): string | undefined {
  const spec = config.model.tokenizer;
  if (spec === "byte") return undefined;
  if (spec === "model") {
    if (config.model.dir === null) throw new Error('model.tokenizer "model" needs model.dir (a checkpoint directory with tokenizer.json)');
    // Its own files, else (a checkpoint of an older run, which carried none) its run's tokenizer;
    // a byte-level checkpoint has neither and is recognised by its vocab_size.
    return tokenizerSource(config.model.dir) ?? config.model.dir;
  }
  return tokenizerDirOf(spec);
}

export function tokenizerFor(config: TrainConfig): Tokenizer {
  const dir = tokenizerSourceDir(config);
  return dir === undefined ? new ByteTokenizer() : loadTokenizer(dir);
}

/**
 * The tokenizer files every checkpoint carries, so it can be sampled from and served on its own
 * (a byte-level model needs none: its config.json's vocab_size says it).
 */
function checkpointFiles(config: TrainConfig): { name: string; from: string }[] {
  const dir = tokenizerSourceDir(config);
  if (dir === undefined) return [];
  return TOKENIZER_FILES.filter((name) => existsSync(join(dir, name))).map((name) => ({ name, from: join(dir, name) }));
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

function stepMetrics(step: number, rollout: Rollout, kept: number, rae: RaeState, learner: LearnerStats, lr: number, actSeconds: number): StepMetrics {
  const outcomes: Record<string, [Outcomes, Outcomes]> = {};
  let invalid = 0;
  for (const { result } of rollout.trajectories) {
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
    invalidRate: rollout.trajectories.length === 0 ? 0 : invalid / rollout.trajectories.length,
    replyLength: rollout.batch.length === 0 ? 0 : batchTokens / rollout.batch.length,
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
  // Every name is checked, and a fresh run's directory found free, before any file, thread or
  // session is created: a failed start leaves nothing behind.
  await checkTrainConfig(config, { resume: options.resume === true });
  if (options.resume !== true) await assertNewRunDir(runDir);
  if (options.promptMode !== undefined && config.actors > 1) throw new Error("a custom promptMode needs actors = 1 (worker actors build theirs from the config)");
  if (options.resume !== true && options.resumeFrom !== undefined) throw new Error("resumeFrom needs resume (--resume-from needs --resume DIR)");
  for (const line of await sweepInterruptedSaves(runDir)) log(`start: ${line}`);

  // Model, optimiser and trainer state: from the run's checkpoint, a given checkpoint, or a preset.
  let modelConfig: ModelConfig;
  let params: Params;
  let optimizer: AdamW;
  let rae = createRae({ alpha: config.rae.alpha, enabled: config.rae.enabled });
  let startStep = 0;
  const hyper = { lr: config.optim.lr, beta1: config.optim.beta1, beta2: config.optim.beta2, eps: config.optim.eps, weightDecay: config.optim.weightDecay };
  // A resumed run continues from a checkpoint that loaded whole (resume.ts; a LoRA run's adapter
  // checkpoint through lora-run.ts); only then are the lines and checkpoints of later steps set
  // aside (never deleted).
  const resumed = options.resume === true && config.lora === null ? await openResumePoint(runDir, options.resumeFrom, log) : undefined;
  // LoRA (lora-run.ts): frozen base, the adapter and its optimiser are what train and get saved.
  let lora: LoraRun | undefined;
  let loraFrom: number | undefined;
  if (config.lora !== null) {
    if (config.actors > 1) throw new Error("lora: worker-thread actors (actors > 1) do not take adapters yet; use actors = 1");
    loraFrom = options.resume === true ? await resumeStep(runDir, options.resumeFrom) : undefined;
    lora = await openLoraRun(config, runDir, loraFrom, hyper);
    ({ modelConfig, base: params, optimizer, startStep } = lora);
    if (lora.rae !== undefined) rae = lora.rae;
  } else if (resumed !== undefined) {
    const ck = resumed.checkpoint;
    modelConfig = ck.config;
    params = ck.params;
    optimizer = AdamW.fromState(ck.optimizer.state, hyper);
    rae = checkRaeState(resumed.trainerState.rae);
    startStep = resumed.step;
  } else if (config.model.dir !== null) {
    const ck = await loadCheckpoint(config.model.dir, { optimizer: false });
    if (ck.verification === "structure") log(`model: ${unverifiedNote(config.model.dir)}`);
    modelConfig = ck.config;
    params = ck.params;
    optimizer = new AdamW(params.data.length, hyper);
  } else {
    modelConfig = presetShape(config.model);
    params = initParams(modelConfig, createRng(`${config.seed}:init`), config.model.initStd);
    optimizer = new AdamW(params.data.length, hyper);
  }

  const resumeFrom = resumed?.step ?? loraFrom;
  if (options.resume === true) {
    const aside = await setAsideAfter(runDir, resumeFrom ?? -1);
    const moved = aside.dir === undefined ? "" : `; set aside in ${aside.dir}: ${[aside.linesSetAside > 0 ? `metrics.jsonl (${aside.linesSetAside} later lines)` : "", ...aside.checkpoints].filter((x) => x !== "").join(", ")}`;
    log(resumeFrom === undefined ? `resume: no checkpoint yet in ${runDir}; starting from step 0${moved}` : `resume: from ${checkpointName(resumeFrom)} (${aside.kept} metrics lines kept)${moved}`);
  }

  const tokenizer = tokenizerFor(config);
  if (tokenizer.vocabSize > modelConfig.vocabSize) {
    throw new Error(`model.tokenizer: the ${tokenizer.kind} tokenizer has ${tokenizer.vocabSize} tokens but the model's vocabulary (vocab_size) has ${modelConfig.vocabSize}`);
  }
  const savedFiles = checkpointFiles(config);
  const threads = config.threads > 0 ? config.threads : Math.max(1, Math.min(availableParallelism(), 4));
  // A missing GPU adapter is reported here, naming what to install, before any worker starts.
  await checkDevice(config.device);
  // A bad opponent spec fails here, before any worker or session starts.
  const poolK = parsePoolSpec(config.opponent);
  if (poolK !== undefined && lora === undefined) throw new Error(`opponent: ${config.opponent} plays past adapter snapshots and needs a LoRA run (lora.r, --lora R)`);
  const fixed = poolK === undefined ? await openOpponent(config, threads, (line) => log(`opponent: ${line}`)) : undefined;
  let opponent = fixed?.agentFor;
  // Worker-thread actors read the learner's weights through one shared buffer (see actor-pool.ts).
  const shared = config.actors > 1 ? new SharedArrayBuffer(params.data.byteLength) : undefined;
  const pool =
    config.actors > 1
      ? await createActorPool(
          Array.from({ length: config.actors }, (_, actorId) => ({
            actorId, config, modelConfig, weights: shared as SharedArrayBuffer, threads: Math.max(1, Math.floor(threads / config.actors)),
          })),
        ).catch(async (e: unknown) => {
          await fixed?.close();
          throw e;
        })
      : undefined;
  const adapter = lora === undefined ? {} : { adapter: lora.adapter };
  const generator = await Generator.create(modelConfig, params, tokenizer, { threads, device: config.device, ...adapter }).catch(async (e: unknown) => {
    await pool?.close();
    await fixed?.close();
    throw e;
  });
  // Gradients summed by several ORT threads differ from run to run in the last bits (see config).
  const runner = new LossRunner(modelConfig, params, { threads: config.deterministic ? 1 : threads, device: config.device, ...adapter });
  let version = startStep;
  const common = { generator, runner, tokenizer, topP: config.topP, version: () => version, microBatch: config.optim.microBatch };
  const policy: Policy = modelPolicy({ ...common, name: "policy", temperature: config.temperature });
  const evalPolicy: Policy = modelPolicy({ ...common, name: "policy", temperature: config.eval.temperature });
  const mode = options.promptMode ?? promptMode(config.promptMode);
  // pool:K (adapter-pool.ts): past adapters as the opponent, restored from the checkpoint on resume.
  const pastAdapters =
    poolK === undefined || lora === undefined
      ? undefined
      : await openAdapterPool({
          k: poolK, seed: config.seed, modelConfig, base: params, adapter: lora.adapter, tokenizer, mode, temperature: config.temperature, topP: config.topP,
          maxNewTokens: config.maxNewTokens, threads, device: config.device,
          ...(resumeFrom === undefined ? {} : { snapshots: await loadPoolSnapshots(join(runDir, checkpointName(resumeFrom)), lora.adapter.params.data.length) }),
        });
  if (pastAdapters !== undefined) opponent = pastAdapters.agentFor;
  const games = config.games.map((g) => ({ game: getGame(g.id), weight: g.weight }));
  const matchups = config.eval.every > 0 ? evalMatchups(config.eval.games, log) : [];
  const kuhn = config.eval.every > 0 && config.eval.kuhn ? getGame("KuhnPoker-v1-1round") : undefined;

  let lastEval: EvalMetrics | undefined;
  let done = startStep;
  const stopRequested = () => options.signal?.aborted === true;
  const runEval = async (step: number): Promise<void> => {
    const report = await evaluate(
      { policy: evalPolicy, mode, maxNewTokens: config.maxNewTokens, envs: config.envs, matchups, ...(kuhn === undefined ? {} : { kuhn }) },
      createRng(`${config.seed}:eval:${step}`),
    );
    lastEval = { kind: "eval", step, ...report };
    appendMetrics(runDir, lastEval);
    hooks.onEval?.(lastEval);
  };

  try {
    // Written only now that everything has opened: a start that fails leaves no run behind.
    if (options.resume !== true) await createRunDir(runDir, config);
    const heartbeat = startHeartbeat(runDir, { step: startStep, totalSteps: config.steps });
    run.heartbeat = heartbeat;
    if (startStep === 0 && config.eval.every > 0) await runEval(0);
    const entropyCoefByGame = Object.fromEntries(config.games.flatMap((g) => (g.entropyCoef === undefined ? [] : [[g.id, g.entropyCoef]])));
    for (let step = startStep + 1; step <= config.steps && !stopRequested(); step++) {
      const rng = createRng(`${config.seed}:step:${step}`);
      pastAdapters?.select(step);
      const rollout =
        pool === undefined
          ? await collectRollout(
              {
                games, policy, mode, rolloutBatch: config.rolloutBatch, envs: config.envs, maxNewTokens: config.maxNewTokens,
                ...(opponent === undefined ? {} : { opponent }), ...(config.turnCap === null ? {} : { turnCap: config.turnCap }),
              },
              rng.split(),
            )
          : await (() => {
              new Float32Array(shared as SharedArrayBuffer).set(params.data);
              return pool.collect(Array.from({ length: pool.size }, () => rng.split().state()), config.rolloutBatch, version);
            })();
      const scored = scoreSamples(rae, rollout.trajectories, rollout.batch);
      rae = scored.state;
      const lr = learningRateAt(config.optim, step, config.steps);
      const learner = await learnStep(
        { runner, params: lora?.adapter.params ?? params, optimizer },
        scored.samples,
        {
          loss: config.optim.loss, ppoEpochs: config.optim.ppoEpochs, clip: config.optim.clip, normalizer: config.maxNewTokens,
          microBatch: config.optim.microBatch, minibatches: config.optim.minibatches, gradClip: config.optim.gradClip,
          temperature: config.temperature, lr, entropyCoef: config.optim.entropyCoef, entropyCoefByGame,
        },
        rng.split(),
      );
      version = step;
      if (lora !== undefined) pastAdapters?.push(lora.adapter.params.data);
      const metrics = stepMetrics(step, rollout, scored.samples.length, rae, learner, lr, rollout.seconds);
      appendMetrics(runDir, metrics);
      heartbeat.beat(step);
      hooks.onStep?.(metrics);
      if (config.transcripts > 0) {
        const recorded = pickRecordedGames(rollout.trajectories, config.transcripts, config.games.map((g) => g.id), step);
        await writeTranscript(runDir, step, recorded);
        await writeGameRecords(runDir, step, recorded);
      }
      const last = step === config.steps;
      if (config.eval.every > 0 && (step % config.eval.every === 0 || last)) await runEval(step);
      done = step;
      if (step % config.checkpointEvery === 0 || last || stopRequested()) {
        const trainerState: TrainerState = { format: "spiral.trainer/1", step, rae };
        const extra = pastAdapters === undefined ? undefined : { file: POOL_FILE, tensors: pastAdapters.tensors() };
        if (lora !== undefined) await saveLoraCheckpoint(join(runDir, checkpointName(step)), config, { ...lora, optimizer }, trainerState, extra, savedFiles);
        else await saveCheckpoint(join(runDir, checkpointName(step)), { config: modelConfig, params, optimizer, trainerState, files: savedFiles });
        log(`checkpoint: ${checkpointName(step)}`);
      }
    }
  } finally {
    await pool?.close();
    await fixed?.close();
    await pastAdapters?.close();
    await generator.release();
    await runner.release();
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
