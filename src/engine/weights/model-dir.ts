/**
 * A model directory as the inference commands take it (`spiral generate|serve|eval --model DIR`,
 * a training opponent, `--model` of `spiral train`): a checkpoint in the Hugging Face layout —
 * config.json, model.safetensors (or shards) and the tokenizer files — written by spiral or by
 * another tool.
 *
 * `checkModelDir` says what is wrong with a path before anything is loaded: it does not exist, it
 * is a file, it is a training run directory (and then which checkpoint in it to give), it has no
 * config.json, no weights, or no tokenizer. `openModelDir` loads one (weights verified, see
 * engine/weights/checkpoint.ts) with its tokenizer.
 *
 * Tokenizer, in order: the directory's tokenizer.json; else, for a checkpoint inside a training
 * run (runs/<name>/step-N), the tokenizer that run trained with (runs/<name>/config.json's
 * model.tokenizer: checkpoints written before spiral copied tokenizer files into them have none);
 * else the byte-level tokenizer when config.json's vocab_size is 264.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { CONFIG_FILE, interruptedSaveHint, loadCheckpoint, MANIFEST_FILE, type CheckpointVerification } from "./checkpoint.js";
import { parseModelConfig, type ModelConfig } from "../model/config.js";
import type { Params } from "./params.js";
import { SHARD_INDEX_FILE, SINGLE_FILE } from "./safetensors.js";
import { BYTE_VOCAB_SIZE, ByteTokenizer } from "../tokenizer/byte-tokenizer.js";
import { loadTokenizer, tokenizerDirOf } from "../tokenizer/load.js";
import type { Tokenizer } from "../tokenizer/tokenizer.js";

/** What a checkpoint's training run says about it: runs/<name>/step-N → runs/<name>/config.json. */
export interface RunSettings {
  readonly promptMode?: "compact" | "chat";
  /** The run's model.tokenizer: "byte", "qwen3", "model" or a directory. */
  readonly tokenizer?: string;
  /** The run's model.dir (where a "model" tokenizer comes from). */
  readonly modelDir?: string;
}

function readJsonObject(path: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(readFileSync(path, "utf8")) as unknown;
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A training run's config.json (as opposed to a model's): a `model` group, no vocab_size. */
function isRunConfig(json: Record<string, unknown> | undefined): boolean {
  return json !== undefined && json.vocab_size === undefined && typeof json.model === "object" && json.model !== null;
}

/** The prompt mode and tokenizer of the run a checkpoint sits in, when it sits in one. */
export function runSettingsOf(dir: string): RunSettings {
  const run = readJsonObject(join(dirname(dir), CONFIG_FILE));
  if (run === undefined || !isRunConfig(run)) return {};
  const model = run.model as { tokenizer?: unknown; dir?: unknown };
  const mode = run.promptMode === "compact" || run.promptMode === "chat" ? run.promptMode : undefined;
  return {
    ...(mode === undefined ? {} : { promptMode: mode }),
    ...(typeof model.tokenizer === "string" ? { tokenizer: model.tokenizer } : {}),
    ...(typeof model.dir === "string" ? { modelDir: model.dir } : {}),
  };
}

/** The checkpoint directories (step-N with config.json) of a run directory, by step ascending. */
export function runCheckpoints(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .flatMap((n) => {
      const m = /^step-(\d+)$/.exec(n);
      return m !== null && existsSync(join(dir, n, CONFIG_FILE)) ? [{ n, step: Number(m[1]) }] : [];
    })
    .sort((a, b) => a.step - b.step)
    .map((c) => join(dir, c.n));
}

/** The directory holding the tokenizer a checkpoint should use, or undefined when it is byte-level or has none. */
export function tokenizerSource(dir: string): string | undefined {
  if (existsSync(join(dir, "tokenizer.json"))) return dir;
  const run = runSettingsOf(dir);
  if (run.tokenizer === undefined || run.tokenizer === "byte") return undefined;
  if (run.tokenizer === "model") return run.modelDir !== undefined && existsSync(join(run.modelDir, "tokenizer.json")) ? run.modelDir : undefined;
  const source = tokenizerDirOf(run.tokenizer);
  return existsSync(join(source, "tokenizer.json")) ? source : undefined;
}

/** A checkpoint a resume moved out of the way (runs/<name>/set-aside/resume-K/step-N), if any. */
function setAsideHint(path: string): string {
  const root = join(dirname(path), "set-aside");
  let folders: string[];
  try {
    folders = readdirSync(root);
  } catch {
    return "";
  }
  const found = folders.map((f) => join(root, f, basename(path))).filter((p) => existsSync(p));
  return found.length === 0 ? "" : `; a resume set it aside: ${found.join(", ")}`;
}

export interface CheckModelDirOptions {
  /** Also require a tokenizer (default true; a training start from a checkpoint may name another). */
  readonly tokenizer?: boolean;
}

/**
 * Throws a one-line message saying what is wrong with `path` as a model directory, naming the
 * option (`what`) it was given to; returns when it looks like a loadable checkpoint. Reads
 * config.json but no weights.
 */
export async function checkModelDir(path: string, what = "--model", opts: CheckModelDirOptions = {}): Promise<void> {
  const fail = (why: string): never => {
    throw new Error(`${what} ${path}: ${why}`);
  };
  let info;
  try {
    info = statSync(path);
  } catch {
    return fail(`no such directory${await interruptedSaveHint(path)}${setAsideHint(path)}`);
  }
  const expected = "a checkpoint directory (config.json, model.safetensors and the tokenizer files)";
  if (!info.isDirectory()) return fail(`is a file; expected ${expected}`);
  const config = readJsonObject(join(path, CONFIG_FILE));
  const checkpoints = runCheckpoints(path);
  if (isRunConfig(config) || (config === undefined && checkpoints.length > 0)) {
    const latest = checkpoints.at(-1);
    return fail(latest === undefined
      ? "is a training run directory with no checkpoint yet; give a checkpoint directory"
      : `is a training run directory, not a checkpoint; its latest checkpoint is ${latest} (give that, or another step-N in it)`);
  }
  const hasWeights = existsSync(join(path, SINGLE_FILE)) || existsSync(join(path, SHARD_INDEX_FILE));
  if (!existsSync(join(path, CONFIG_FILE))) {
    return fail(hasWeights ? `has weights but no config.json (the model's shape); copy the config.json of the model they belong to` : `has no config.json; expected ${expected}`);
  }
  if (config === undefined) return fail("config.json is not a JSON object");
  let shape: ModelConfig;
  try {
    shape = parseModelConfig(config, join(path, CONFIG_FILE));
  } catch (e) {
    return fail((e as Error).message);
  }
  if (!hasWeights) {
    const hint = existsSync(join(path, "pytorch_model.bin")) ? " (it has pytorch_model.bin, which this engine cannot read: convert it to safetensors)" : "";
    return fail(`has config.json but no weights: no ${SINGLE_FILE} or ${SHARD_INDEX_FILE}${hint}`);
  }
  if ((opts.tokenizer ?? true) && shape.vocabSize !== BYTE_VOCAB_SIZE && tokenizerSource(path) === undefined) {
    fail(`has no tokenizer: no tokenizer.json, and its vocab_size ${shape.vocabSize} is not the byte-level ${BYTE_VOCAB_SIZE}; copy tokenizer.json and tokenizer_config.json of the model it was trained from into it`);
  }
}

/** The tokenizer of a checked model directory (see the file comment for the order). */
export function modelDirTokenizer(dir: string): Tokenizer {
  const source = tokenizerSource(dir);
  if (source !== undefined) return loadTokenizer(source);
  const config = readJsonObject(join(dir, CONFIG_FILE));
  if (config?.vocab_size === BYTE_VOCAB_SIZE) return new ByteTokenizer();
  return loadTokenizer(dir); // throws what it expected
}

export interface OpenedModelDir {
  readonly config: ModelConfig;
  readonly params: Params;
  readonly tokenizer: Tokenizer;
  readonly verification: CheckpointVerification;
}

/**
 * Checks, then loads a model directory for inference (no optimiser state). A checkpoint without
 * spiral-manifest.json is checked structurally only: `log` hears "unverified (no manifest)" once.
 */
export async function openModelDir(path: string, opts: { readonly what?: string; readonly log?: (line: string) => void } = {}): Promise<OpenedModelDir> {
  await checkModelDir(path, opts.what ?? "--model");
  const tokenizer = modelDirTokenizer(path);
  const { config, params, verification } = await loadCheckpoint(path, { optimizer: false });
  if (verification === "structure") opts.log?.(unverifiedNote(path));
  if (tokenizer.vocabSize > config.vocabSize) {
    throw new Error(`${opts.what ?? "--model"} ${path}: its tokenizer has ${tokenizer.vocabSize} tokens but the model only ${config.vocabSize} rows (vocab_size): the tokenizer files belong to another model`);
  }
  return { config, params, tokenizer, verification };
}

/** What is said, once, about a checkpoint without a manifest. */
export function unverifiedNote(dir: string): string {
  return `${dir}: unverified (no manifest): without ${MANIFEST_FILE} only its structure was checked (safetensors header, offsets, sizes, dtypes, shapes against config.json, finite weights), not its bytes`;
}
