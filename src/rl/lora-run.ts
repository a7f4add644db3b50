/**
 * The LoRA side of a training run (`lora` in the train config, `--lora R` on the CLI): the base
 * model is loaded once and frozen; the adapter, its AdamW moments, the RAE state and the step are
 * what a checkpoint holds (a PEFT adapter directory, engine/weights/peft.ts), together with the base's path
 * and fingerprint so that a resume against other base weights is refused by name.
 *
 * The adapter's A is drawn from `createRng(seed:lora)`; everything else follows the loop's
 * determinism contract (loop.ts), so a resumed LoRA run replays the uninterrupted one bit for bit.
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { loadCheckpoint, saveCheckpoint } from "../engine/weights/checkpoint.js";
import type { ModelConfig } from "../engine/model/config.js";
import { type Adapter, initAdapter, type LoraConfig } from "../engine/model/lora.js";
import { AdamW, type AdamWOptions } from "../engine/train/optimizer.js";
import { initParams, type Params } from "../engine/weights/params.js";
import { type BaseFingerprint, baseFingerprint, checkSameBase, loadAdapter, saveAdapter } from "../engine/weights/peft.js";
import { modelPreset } from "../engine/model/presets.js";
import type { TensorSource } from "../engine/weights/safetensors.js";
import { createRng } from "../core/rng.js";
import type { TrainConfig } from "./config.js";
import { checkRaeState, type RaeState } from "./rae.js";
import { checkpointName } from "./run-dir.js";

/** The engine's LoraConfig of a run (alpha defaults to r: scale 1). */
export function loraConfigOf(lora: NonNullable<TrainConfig["lora"]>): LoraConfig {
  return { r: lora.r, alpha: lora.alpha ?? lora.r, targets: lora.targets, ...(lora.rslora ? { rslora: true } : {}) };
}

export interface LoraRun {
  readonly modelConfig: ModelConfig;
  /** The frozen base (never written). */
  readonly base: Params;
  readonly adapter: Adapter;
  readonly optimizer: AdamW;
  /** Of `model.dir`; undefined for a base initialised from a preset (rebuilt from the seed). */
  readonly fingerprint: BaseFingerprint | undefined;
  readonly rae: RaeState | undefined;
  readonly startStep: number;
}

/** What the trainer state of a LoRA checkpoint holds (as loop.ts's TrainerState). */
interface LoraTrainerState {
  readonly format: "spiral.trainer/1";
  readonly step: number;
  readonly rae: RaeState;
}

/** The base, a fresh or resumed adapter, and its optimiser. */
export async function openLoraRun(config: TrainConfig, runDir: string, resumeFrom: number | undefined, hyper: AdamWOptions): Promise<LoraRun> {
  if (config.lora === null) throw new Error("openLoraRun: the config has no lora block");
  const lora = loraConfigOf(config.lora);
  let modelConfig: ModelConfig;
  let base: Params;
  let fingerprint: BaseFingerprint | undefined;
  if (config.model.dir !== null) {
    fingerprint = await baseFingerprint(config.model.dir);
    const ck = await loadCheckpoint(config.model.dir, { optimizer: false });
    modelConfig = ck.config;
    base = ck.params;
  } else {
    if (config.model.preset === null) throw new Error("model: give a preset (e.g. tiny) or a checkpoint directory in model.dir");
    modelConfig = { ...modelPreset(config.model.preset), ...config.model.overrides } as ModelConfig;
    base = initParams(modelConfig, createRng(`${config.seed}:init`), config.model.initStd);
  }
  if (resumeFrom === undefined) {
    const adapter = initAdapter(modelConfig, lora, createRng(`${config.seed}:lora`));
    return { modelConfig, base, adapter, optimizer: new AdamW(adapter.params.data.length, hyper), fingerprint, rae: undefined, startStep: 0 };
  }
  const name = checkpointName(resumeFrom);
  const ck = await loadAdapter(join(runDir, name), modelConfig);
  if (ck.base !== undefined && fingerprint !== undefined) checkSameBase(ck.base, fingerprint);
  if (JSON.stringify(ck.adapter.config) !== JSON.stringify(lora)) {
    throw new Error(`checkpoint ${name} holds a LoRA adapter ${JSON.stringify(ck.adapter.config)}, but the run's config asks for ${JSON.stringify(lora)}`);
  }
  if (ck.optimizer === undefined) throw new Error(`checkpoint ${name} has no optimizer state; cannot resume exactly`);
  const state = ck.trainerState as Partial<LoraTrainerState> | undefined;
  if (state?.format !== "spiral.trainer/1" || state.step !== resumeFrom) throw new Error(`checkpoint ${name} has no spiral trainer state for step ${resumeFrom}`);
  return {
    modelConfig, base, adapter: ck.adapter, optimizer: AdamW.fromState(ck.optimizer.state, hyper), fingerprint, rae: checkRaeState(state.rae), startStep: resumeFrom,
  };
}

/** Where a LoRA run whose base was initialised from a preset keeps that base (next to its step-N). */
export const PRESET_BASE_DIR = "base";

/**
 * Writes step-N of a LoRA run: the PEFT adapter, its optimiser, the trainer state and the base's
 * fingerprint. A base initialised from a preset exists nowhere else, so the first checkpoint also
 * writes it once, with the run's tokenizer files (`files`), as `<run>/base/`, and every adapter
 * names that directory as its base: the checkpoint can be served and evaluated on its own.
 */
export async function saveLoraCheckpoint(
  dir: string, config: TrainConfig, run: Pick<LoraRun, "adapter" | "optimizer" | "fingerprint" | "base" | "modelConfig">, trainerState: LoraTrainerState,
  extra?: { file: string; tensors: TensorSource[] }, files: readonly { name: string; from: string }[] = [],
): Promise<void> {
  let baseModel = config.model.dir;
  if (baseModel === null) {
    baseModel = resolve(dirname(dir), PRESET_BASE_DIR);
    if (!existsSync(join(baseModel, "config.json"))) await saveCheckpoint(baseModel, { config: run.modelConfig, params: run.base, files });
  }
  await saveAdapter(dir, {
    adapter: run.adapter, baseModel, optimizer: run.optimizer, trainerState, ...(run.fingerprint === undefined ? {} : { base: run.fingerprint }), ...(extra === undefined ? {} : { extra }),
  });
}
