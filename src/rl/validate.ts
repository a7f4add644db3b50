/**
 * Every name a training config holds, checked before `train` creates a file, a worker thread or an
 * onnxruntime session: game ids, the opponent specs (and that each plays the games it faces), the
 * model preset, its shape overrides, the checkpoint directory and the tokenizer.
 *
 * Why up front: the same checks made later fail inside worker threads, where an exception thrown
 * while a native session is being built can abort the whole process (exit 134) instead of
 * reaching the user as a message, and a failed start used to leave a run directory behind.
 */
import { existsSync, readFileSync } from "node:fs";
import { totalmem } from "node:os";
import { join } from "node:path";
import { parameterCount, parseModelConfig, toHfConfig, type ModelConfig } from "../engine/model/config.js";
import { storedWeightDtype } from "../engine/weights/checkpoint.js";
import { type BaseDtype, baseBytes } from "../engine/weights/half.js";
import { checkModelDir } from "../engine/weights/model-dir.js";
import { checkPrecisionDevice, checkSamplerDevice } from "../engine/graph/device.js";
import { modelPreset } from "../engine/model/presets.js";
import { tokenizerDirOf } from "../engine/tokenizer/load.js";
import { getGame } from "../games/registry.js";
import type { TrainConfig } from "./config.js";
import { parsePoolSpec } from "./adapter-pool.js";
import { chooseBaseDtype } from "./lora-run.js";
import { checkOpponentSpecs } from "./opponent.js";
import { checkFinalGames } from "./final-games.js";

/** The keys of ModelConfig that `model.overrides` may set (numbers only). */
const OVERRIDABLE: readonly (keyof ModelConfig)[] = [
  "vocabSize", "hiddenSize", "intermediateSize", "numHiddenLayers", "numAttentionHeads", "numKeyValueHeads", "headDim",
  "rmsNormEps", "ropeTheta", "maxPositionEmbeddings", "bosTokenId", "eosTokenId",
];

/** The model shape a fresh run builds from `model.preset` + `model.overrides`; throws naming the bad key. */
export function presetShape(model: TrainConfig["model"]): ModelConfig {
  if (model.preset === null) throw new Error("model: give a preset (e.g. micro, tiny) or a checkpoint directory in model.dir (--model DIR)");
  let base: ModelConfig;
  try {
    base = modelPreset(model.preset);
  } catch (e) {
    throw new Error(`model.preset (--init): ${(e as Error).message}`, { cause: e });
  }
  for (const key of Object.keys(model.overrides)) {
    if (!(OVERRIDABLE as readonly string[]).includes(key)) {
      throw new Error(`model.overrides: unknown key "${key}"; expected some of: ${OVERRIDABLE.join(", ")}`);
    }
  }
  const shape = { ...base, ...model.overrides } as ModelConfig;
  // The same checks a checkpoint's config.json gets (positive sizes, even head_dim, grouped heads).
  parseModelConfig(toHfConfig(shape), `model.preset "${model.preset}" with model.overrides`);
  return shape;
}

/** The checkpoint's own config.json, parsed (the directory was checked by `checkModelDir`). */
function checkpointShape(dir: string): ModelConfig {
  const path = join(dir, "config.json");
  return parseModelConfig(JSON.parse(readFileSync(path, "utf8")) as unknown, path);
}

function checkGames(config: TrainConfig): void {
  for (const g of config.games) {
    try {
      getGame(g.id);
    } catch (e) {
      throw new Error(`games: ${(e as Error).message}`, { cause: e });
    }
  }
}

async function checkOpponent(config: TrainConfig): Promise<void> {
  if (parsePoolSpec(config.opponent) !== undefined) {
    if (config.lora === null) throw new Error(`opponent: ${config.opponent} plays past adapter snapshots and needs a LoRA run (lora.r, --lora R)`);
    if (config.actors > 1) throw new Error(`opponent: ${config.opponent} (past adapters) needs actors = 1; worker-thread actors play fixed opponents only`);
  }
  for (const { key, dir } of checkOpponentSpecs(config)) await checkModelDir(dir, key);
}

function checkTokenizer(config: TrainConfig, shape: ModelConfig | undefined): void {
  const spec = config.model.tokenizer;
  if (spec === "byte") {
    if (shape !== undefined && shape.vocabSize < 264) throw new Error(`model.tokenizer "byte" needs vocab_size ≥ 264; the model has ${shape.vocabSize}`);
    return;
  }
  if (spec === "model") {
    if (config.model.dir === null) throw new Error('model.tokenizer "model" needs model.dir (a checkpoint directory with tokenizer.json); give --model DIR');
    return; // the checkpoint directory's tokenizer was checked with the directory
  }
  const dir = tokenizerDirOf(spec);
  if (!existsSync(join(dir, "tokenizer.json"))) {
    throw new Error(`model.tokenizer: expected "byte", "qwen3", "model" or a directory with tokenizer.json; ${dir} has no tokenizer.json`);
  }
}

/**
 * Full-parameter training holds the weights, their gradients and AdamW's two moments in float32:
 * 16 bytes per parameter before activations; a LoRA run only the frozen weights (`lora` = the
 * dtype they are held in: 4 bytes, or ~2 for a 16-bit base; the adapter is small). A model that
 * cannot fit is refused up front with the numbers, instead of failing on allocation (or being
 * killed by the kernel) after minutes of loading.
 */
export function checkTrainingMemory(shape: ModelConfig, what: string, available = totalmem(), lora: BaseDtype | false = false): void {
  const params = parameterCount(shape);
  const needed = lora === false ? params * 16 : baseBytes(shape, lora);
  if (needed > available) {
    const gb = (b: number) => (b / 2 ** 30).toFixed(1);
    const held = lora === false ? "weights, gradients and two AdamW moments in float32" : `the frozen weights in ${lora}`;
    throw new Error(`${what}: ${(params / 1e6).toFixed(0)} M parameters need about ${gb(needed)} GiB to train (${held}), more than this machine's ${gb(available)} GiB`);
  }
}

/**
 * Checks every user-given name in a resolved config; throws one message naming the key and what
 * was expected. Touches no file but the ones it reads and starts nothing. A resumed run takes its
 * weights from its own checkpoint, so model.dir then matters only as the tokenizer's source.
 */
export async function checkTrainConfig(config: TrainConfig, opts: { readonly resume?: boolean } = {}): Promise<void> {
  if (config.actors === 0 && config.endpoints.length === 0) throw new Error("actors: 0 leaves no actor; give actors ≥ 1, or endpoint actors (endpoints, --actor-endpoint URL)");
  if (config.endpoints.length > 0 && config.actors > 0 && config.rolloutBatch <= config.actors) {
    throw new Error(`rolloutBatch (${config.rolloutBatch}) must exceed actors (${config.actors}) when endpoint actors play beside them: each takes at least one sample`);
  }
  if (config.maxStaleness > 0 && config.endpoints.length === 0) throw new Error("maxStaleness: asynchronous acting needs endpoint actors (endpoints, --actor-endpoint URL)");
  if (config.maxStaleness > 0 && config.opponent.startsWith("pool:")) throw new Error(`maxStaleness: asynchronous acting does not take the ${config.opponent} opponent (its snapshots follow the learner step by step); use maxStaleness 0`);
  if (config.actors > config.rolloutBatch) throw new Error(`actors (${config.actors}) must not exceed rolloutBatch (${config.rolloutBatch})`);
  // onnxruntime-node has one WebGPU device per process, and worker threads running on it at once
  // crash Dawn (docs/device.md, "One device per process").
  if (config.device === "webgpu" && config.actors > 1) {
    throw new Error(
      `actors: --device webgpu runs one actor (onnxruntime's WebGPU device is one per process and worker threads cannot share it); ` +
        `set actors to 1 (got ${config.actors}): the actor batches its games on the GPU; more actors run as processes (spiral serve --device webgpu, --actor-endpoint URL)`,
    );
  }
  checkPrecisionDevice(config.device, config.precision, "precision");
  checkSamplerDevice(config.device, config.sampler, "sampler");
  checkGames(config);
  let shape: ModelConfig | undefined;
  if (opts.resume === true && config.model.tokenizer !== "model") {
    shape = undefined;
  } else if (config.model.dir !== null) {
    await checkModelDir(config.model.dir, "model.dir (--model)", { tokenizer: config.model.tokenizer === "model" });
    shape = checkpointShape(config.model.dir);
    const lora = config.lora === null ? false : chooseBaseDtype(config.lora.baseDtype, await storedWeightDtype(config.model.dir), shape);
    checkTrainingMemory(shape, `model.dir (--model) ${config.model.dir}`, totalmem(), lora);
  } else {
    shape = presetShape(config.model);
    const lora = config.lora === null ? false : chooseBaseDtype(config.lora.baseDtype, undefined, shape);
    checkTrainingMemory(shape, `model.preset (--init) "${config.model.preset ?? ""}"`, totalmem(), lora);
  }
  checkTokenizer(config, shape);
  await checkOpponent(config);
  checkFinalGames(config);
}
