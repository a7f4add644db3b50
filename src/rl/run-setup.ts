/**
 * Opening a training run, the set-up of `train` (loop.ts), in two parts:
 *
 * - `openRun`: checks, then the state the steps continue from (model, optimiser, RAE baselines,
 *   step), from one of four places: the run's own checkpoint (resume, resume.ts), a LoRA run's
 *   adapter checkpoint over its frozen base (lora-run.ts), a given checkpoint directory
 *   (`model.dir`), or a fresh model of a preset shape drawn from `seed:init`.
 * - `openSessions`: what acts on that state: the in-thread generator and loss runner over the same
 *   weights, the policies, the opponent (fixed, or past adapters for pool:K) and the worker actors.
 *
 * Every name is checked, and a fresh run's directory found free, before any file, thread or session
 * is created, so a failed start leaves nothing behind; sessions opened before a failure are closed.
 */
import { availableParallelism } from "node:os";
import { join } from "node:path";
import type { ModelConfig } from "../engine/model/config.js";
import { Generator } from "../engine/infer/generate.js";
import { LossRunner } from "../engine/train/loss-runner.js";
import { AdamW } from "../engine/train/optimizer.js";
import { DeviceTraining } from "../engine/train/device-training.js";
import { loadCheckpoint } from "../engine/weights/checkpoint.js";
import { unverifiedNote } from "../engine/weights/model-dir.js";
import { initParams, type Params } from "../engine/weights/params.js";
import type { Tokenizer } from "../engine/tokenizer/tokenizer.js";
import type { Agent } from "../games/agent.js";
import { createRng } from "../core/rng.js";
import type { PromptMode } from "../policy/prompt-mode.js";
import { type ActorPool, createActorPool } from "./actor-pool.js";
import { type AdapterPool, loadPoolSnapshots, openAdapterPool, parsePoolSpec } from "./adapter-pool.js";
import type { TrainConfig } from "./config.js";
import { type LoraRun, openLoraRun } from "./lora-run.js";
import { modelPolicy } from "../policy/model-policy.js";
import { openOpponent } from "./opponent.js";
import type { Policy } from "../policy/policy.js";
import { promptMode } from "../policy/prompt-mode.js";
import { checkRaeState, createRae, type RaeState } from "./rae.js";
import { openResumePoint, resumeStep } from "./resume.js";
import { assertNewRunDir, checkpointName, setAsideAfter, sweepInterruptedSaves } from "./run-dir.js";
import { tokenizerFor } from "./run-tokenizer.js";
import { checkTrainConfig, presetShape } from "./validate.js";
import { checkDevice, checkPrecision } from "../engine/graph/device.js";
import { halfWeightNames } from "../engine/model/precision.js";
import { DynamicLossScale, type LossScaleState } from "../engine/train/loss-scale.js";

/** What a checkpoint's trainer_state.json holds. */
export interface TrainerState {
  readonly format: "spiral.trainer/1";
  readonly step: number;
  readonly rae: RaeState;
  /** precision fp16: the dynamic loss scale's state, so a resumed run continues its scaling. */
  readonly lossScale?: LossScaleState;
}

/** Where a run lives and whether it continues. */
export interface RunPlace {
  /** The run directory (runs/<name>). */
  readonly runDir: string;
  /** Continue the run in `runDir` from its latest checkpoint. */
  readonly resume?: boolean;
  /** With `resume`: the checkpoint to continue from ("step-N"), instead of the latest. */
  readonly resumeFrom?: string;
  /** Replaces the config's prompt mode (experiments with other renderings; in-thread actors only). */
  readonly promptMode?: PromptMode;
}

/** The state the steps of a run continue from. */
export interface RunState {
  readonly modelConfig: ModelConfig;
  /** Every weight; in a LoRA run the frozen base. */
  readonly params: Params;
  readonly optimizer: AdamW;
  readonly rae: RaeState;
  /** The last step done: 0 for a fresh run. */
  readonly startStep: number;
  /** A LoRA run's base, adapter and optimiser (`optimizer` is its optimiser). */
  readonly lora: LoraRun | undefined;
  /** The checkpoint resumed from; undefined for a fresh run or a resume before any checkpoint. */
  readonly resumedFrom: number | undefined;
  /** precision fp16: the loss scale saved with the checkpoint resumed from (undefined: start afresh). */
  readonly lossScale?: unknown;
  readonly tokenizer: Tokenizer;
}

/** ORT threads per session for a `threads` setting: 0 means the core count, at most 4. */
export function trainerThreads(threads: number): number {
  return threads > 0 ? threads : Math.max(1, Math.min(availableParallelism(), 4));
}

/** Checks the config and the run directory, then loads or builds the run's state; see the file comment. */
export async function openRun(config: TrainConfig, place: RunPlace, log: (message: string) => void): Promise<RunState> {
  const { runDir } = place;
  const resume = place.resume === true;
  await checkTrainConfig(config, { resume });
  if (!resume) await assertNewRunDir(runDir);
  if (place.promptMode !== undefined && config.actors > 1) throw new Error("a custom promptMode needs actors = 1 (worker actors build theirs from the config)");
  if (!resume && place.resumeFrom !== undefined) throw new Error("resumeFrom needs resume (--resume-from needs --resume DIR)");
  for (const line of await sweepInterruptedSaves(runDir)) log(`start: ${line}`);

  const hyper = { lr: config.optim.lr, beta1: config.optim.beta1, beta2: config.optim.beta2, eps: config.optim.eps, weightDecay: config.optim.weightDecay };
  const fresh = { rae: createRae({ alpha: config.rae.alpha, enabled: config.rae.enabled }), startStep: 0, lora: undefined, resumedFrom: undefined };
  let state: Omit<RunState, "tokenizer">;
  if (config.lora !== null) {
    // LoRA: frozen base, the adapter and its optimiser are what train and get saved.
    const resumedFrom = resume ? await resumeStep(runDir, place.resumeFrom) : undefined;
    const lora = await openLoraRun(config, runDir, resumedFrom, hyper);
    if (lora.baseDtype !== "fp32") log(`lora: the frozen base is held in ${lora.baseDtype} (projections widened per Gemm; docs/lora.md)`);
    state = { modelConfig: lora.modelConfig, params: lora.base, optimizer: lora.optimizer, rae: lora.rae ?? fresh.rae, startStep: lora.startStep, lora, resumedFrom };
  } else {
    // A resumed run continues from a checkpoint that loaded whole; only then are the lines and
    // checkpoints of later steps set aside (never deleted).
    const resumed = resume ? await openResumePoint(runDir, place.resumeFrom, log) : undefined;
    if (resumed !== undefined) {
      const ck = resumed.checkpoint;
      const rae = checkRaeState(resumed.trainerState.rae);
      const lossScale = resumed.trainerState.lossScale === undefined ? {} : { lossScale: resumed.trainerState.lossScale };
      state = { modelConfig: ck.config, params: ck.params, optimizer: AdamW.fromState(ck.optimizer.state, hyper), rae, startStep: resumed.step, lora: undefined, resumedFrom: resumed.step, ...lossScale };
    } else if (config.model.dir !== null) {
      const ck = await loadCheckpoint(config.model.dir, { optimizer: false });
      if (ck.verification === "structure") log(`model: ${unverifiedNote(config.model.dir)}`);
      state = { ...fresh, modelConfig: ck.config, params: ck.params, optimizer: new AdamW(ck.params.data.length, hyper) };
    } else {
      const modelConfig = presetShape(config.model);
      const params = initParams(modelConfig, createRng(`${config.seed}:init`), config.model.initStd);
      state = { ...fresh, modelConfig, params, optimizer: new AdamW(params.data.length, hyper) };
    }
  }

  if (resume) {
    const from = state.resumedFrom;
    const aside = await setAsideAfter(runDir, from ?? -1);
    const moved = aside.dir === undefined ? "" : `; set aside in ${aside.dir}: ${[aside.linesSetAside > 0 ? `metrics.jsonl (${aside.linesSetAside} later lines)` : "", ...aside.checkpoints].filter((x) => x !== "").join(", ")}`;
    log(from === undefined ? `resume: no checkpoint yet in ${runDir}; starting from step 0${moved}` : `resume: from ${checkpointName(from)} (${aside.kept} metrics lines kept)${moved}`);
  }

  const tokenizer = tokenizerFor(config);
  if (tokenizer.vocabSize > state.modelConfig.vocabSize) {
    throw new Error(`model.tokenizer: the ${tokenizer.kind} tokenizer has ${tokenizer.vocabSize} tokens but the model's vocabulary (vocab_size) has ${state.modelConfig.vocabSize}`);
  }
  return { ...state, tokenizer };
}

/** What acts on a run's state; `close` releases all of it. */
export interface RunSessions {
  readonly generator: Generator;
  readonly runner: LossRunner;
  /** The policy the actor samples from (`temperature`) and the one evaluation plays (`eval.temperature`). */
  readonly policy: Policy;
  readonly evalPolicy: Policy;
  readonly mode: PromptMode;
  /** The training opponent per game id (undefined there: self-play in that game); undefined for self-play. */
  readonly opponent: ((gameId: string) => Agent | undefined) | undefined;
  /** pool:K: the past adapters the opponent plays (adapter-pool.ts). */
  readonly pastAdapters: AdapterPool | undefined;
  /** Worker-thread actors (actors > 1) and the shared buffer they read the weights from. */
  readonly pool: { readonly actors: ActorPool; readonly weights: SharedArrayBuffer } | undefined;
  /**
   * --device webgpu: the trained weights and the optimiser's moments in device memory, read there by
   * the generator and the learner; `toHost()` before anything reads the host copies.
   */
  readonly device: DeviceTraining | undefined;
  /** precision fp16: the learner's dynamic loss scale (engine/train/loss-scale.ts). */
  readonly lossScale: DynamicLossScale | undefined;
  /** The policy version its samples are tagged with: the last step learnt. */
  setVersion(step: number): void;
  close(): Promise<void>;
}

/** Opens the sessions of a run over its state; see the file comment. */
export async function openSessions(config: TrainConfig, run: RunState, place: RunPlace, log: (message: string) => void): Promise<RunSessions> {
  const { modelConfig, params, lora, tokenizer } = run;
  const threads = trainerThreads(config.threads);
  // A missing GPU adapter is reported here, naming what to install, before any worker starts.
  await checkDevice(config.device);
  await checkPrecision(config.device, config.precision);
  // A bad opponent spec fails here, before any worker or session starts.
  const poolK = parsePoolSpec(config.opponent);
  if (poolK !== undefined && lora === undefined) throw new Error(`opponent: ${config.opponent} plays past adapter snapshots and needs a LoRA run (lora.r, --lora R)`);
  // Closed in reverse order of opening if a later one fails.
  const opened: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const close of opened.reverse()) await close();
  };
  try {
    const fixed = poolK === undefined ? await openOpponent(config, threads, (line) => log(`opponent: ${line}`)) : undefined;
    if (fixed !== undefined) opened.push(() => fixed.close());
    // Worker-thread actors read the learner's weights through one shared buffer (see actor-pool.ts);
    // in a LoRA run only the adapter's (each worker opens the frozen base itself, lora-run.ts).
    let pool: RunSessions["pool"];
    if (config.actors > 1) {
      const weights = new SharedArrayBuffer((lora?.adapter.params ?? params).data.byteLength);
      const actorThreads = Math.max(1, Math.floor(threads / config.actors));
      const actors = await createActorPool(Array.from({ length: config.actors }, (_, actorId) => ({ actorId, config, modelConfig, weights, threads: actorThreads })));
      opened.push(() => actors.close());
      pool = { actors, weights };
    }
    const adapter = lora === undefined ? {} : { adapter: lora.adapter };
    const precision = config.precision === undefined ? {} : { precision: config.precision };
    const generator = await Generator.create(modelConfig, params, tokenizer, { threads, device: config.device, ...adapter, ...precision, ...(config.sampler === undefined ? {} : { sampler: config.sampler }) });
    opened.push(() => generator.release());
    // The learner's gradients are the same bits at any thread count (the embedding gradient's
    // scatter is ordered; docs/training.md, "Learner threads"), so it gets every thread.
    const runner = new LossRunner(modelConfig, params, { threads, device: config.device, ...adapter, ...precision });
    opened.push(() => runner.release());
    // On a GPU the weights, gradients and moments stay there between steps (device-training.ts).
    const device =
      config.device === "cpu"
        ? undefined
        : await DeviceTraining.create({
            trained: lora?.adapter.params ?? params, optimizer: run.optimizer, device: config.device, ...(lora === undefined ? {} : { frozen: params }),
            ...(config.precision === "fp16" ? { halfWeights: halfWeightNames(modelConfig) } : {}),
          });
    if (device !== undefined) {
      opened.push(() => device.release());
      generator.useDeviceWeights(() => device.weights());
      runner.useDeviceWeights(() => device.weights());
    }
    let version = run.startStep;
    const common = { generator, runner, tokenizer, topP: config.topP, version: () => version, microBatch: config.optim.microBatch };
    const mode = place.promptMode ?? promptMode(config.promptMode);
    // pool:K: past adapters as the opponent, restored from the checkpoint on resume.
    const pastAdapters =
      poolK === undefined || lora === undefined
        ? undefined
        : await openAdapterPool({
            k: poolK, seed: config.seed, modelConfig, base: params, adapter: lora.adapter, tokenizer, mode, temperature: config.temperature, topP: config.topP,
            maxNewTokens: config.maxNewTokens, threads, device: config.device, ...precision,
            ...(run.resumedFrom === undefined ? {} : { snapshots: await loadPoolSnapshots(join(place.runDir, checkpointName(run.resumedFrom)), lora.adapter.params.data.length) }),
          });
    return {
      generator,
      runner,
      policy: modelPolicy({ ...common, name: "policy", temperature: config.temperature }),
      evalPolicy: modelPolicy({ ...common, name: "policy", temperature: config.eval.temperature }),
      mode,
      opponent: pastAdapters?.agentFor ?? fixed?.agentFor,
      pastAdapters,
      pool,
      device,
      lossScale: config.precision === "fp16" && device !== undefined ? (run.lossScale === undefined ? new DynamicLossScale() : DynamicLossScale.resume(run.lossScale, "trainer_state.json lossScale")) : undefined,
      setVersion: (step) => {
        version = step;
      },
      // The order the loop has always released them in: actors and opponents first, then the sessions.
      close: async () => {
        await pool?.actors.close();
        await fixed?.close();
        await pastAdapters?.close();
        await generator.release();
        await runner.release();
        await device?.release();
      },
    };
  } catch (e) {
    await closeAll();
    throw e;
  }
}
