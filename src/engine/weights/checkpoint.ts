/**
 * Checkpoint directories in the Hugging Face layout, plus our own state beside it.
 *
 *   config.json                      HF Qwen3 config (toHfConfig)
 *   model.safetensors                weights, F32 or BF16, HF names; or, above the shard size,
 *   model-0000i-of-0000n.safetensors + model.safetensors.index.json
 *   optimizer.safetensors            (optional) AdamW moments, always F32: "exp_avg.<name>",
 *                                    "exp_avg_sq.<name>"; __metadata__ holds step and hyper-params
 *   trainer_state.json               (optional) the caller's run state (any JSON), e.g. RL step,
 *                                    baselines, RNG states
 *   spiral-manifest.json             every other file's size and SHA-256, written last
 *
 * Invariants:
 * - a tied model writes no lm_head.weight (as transformers does); reading a tied checkpoint that
 *   has one ignores it;
 * - save is atomic at the directory level: everything is written and fsync'ed in a hidden sibling
 *   directory, which is then renamed into place, so a kill -9 never leaves a directory that looks
 *   complete but is not (at worst the target is missing and a hidden `.NAME.partial-*` remains);
 * - an existing target is replaced only if it is a checkpoint (has config.json or the manifest) or
 *   empty: saving over an unrelated directory is an error;
 * - load checks sizes against the manifest always and SHA-256 unless `verify: false`; a directory
 *   without a manifest (a Hugging Face download, or a checkpoint whose manifest was lost) is
 *   checked structurally: the safetensors reader checks each header, the offsets, sizes and
 *   dtypes, and every tensor's name and shape against config.json, and the loaded weights must be
 *   finite. That is all structure can tell: flipped bytes inside a tensor, or a changed value in
 *   config.json that no shape depends on (rope_theta, rms_norm_eps), load without a manifest as if
 *   nothing happened, so such a load reports `verification: "structure"` and the commands say
 *   "unverified (no manifest)".
 */
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { parseModelConfig, toHfConfig, type ModelConfig } from "../model/config.js";
import type { AdamW, AdamWHyper, AdamWState } from "../train/optimizer.js";
import { type BaseDtype, emptyBase, isProjectionWeight } from "./half.js";
import { paramLayout, Params, type ParamLayout } from "./params.js";
import {
  loadSafetensors, loadSafetensorsSharded, parseShardIndex, readSafetensorsHeader, SHARD_INDEX_FILE, SINGLE_FILE, syncDirectory,
  type TensorSource, type TensorTarget, type WritableDtype, type WrittenFile, writeSafetensors, writeSafetensorsSharded, writeTextAtomic,
} from "./safetensors.js";

export const CONFIG_FILE = "config.json";
export const OPTIMIZER_FILE = "optimizer.safetensors";
export const TRAINER_STATE_FILE = "trainer_state.json";
export const MANIFEST_FILE = "spiral-manifest.json";

export interface SaveCheckpointInput {
  config: ModelConfig;
  /**
   * Files copied into the checkpoint as they are (e.g. the tokenizer's tokenizer.json and
   * tokenizer_config.json, so the checkpoint can be served on its own); listed in the manifest.
   */
  files?: readonly { readonly name: string; readonly from: string }[];
  params: Params;
  /** Weight dtype on disk (default F32, bit-exact). Optimiser moments are always F32. */
  dtype?: WritableDtype;
  optimizer?: AdamW;
  /** Any JSON-serialisable run state, written to trainer_state.json. */
  trainerState?: unknown;
  /** Shard above this many bytes of weights (default 5 GB, as transformers). */
  maxShardBytes?: number;
  /**
   * Awaited at each stage boundary. Tests use it to freeze a save at a chosen point (a promise
   * that never settles is what a kill -9 looks like from the file system).
   */
  onStage?: (stage: SaveStage) => Promise<void> | void;
}

/** The points between the steps of a save, in order. */
export type SaveStage =
  | "partial-created" | "config-written" | "weights-written" | "optimizer-written" | "files-copied" | "trainer-state-written"
  | "manifest-written" | "old-moved-aside" | "swapped";

export interface LoadedOptimizer {
  state: AdamWState;
  hyper: AdamWHyper;
}

/**
 * How much of a loaded checkpoint was checked: "sha256", every file against the manifest;
 * "sizes", the manifest's sizes only (`verify: false`); "structure", no manifest (see above).
 */
export type CheckpointVerification = "sha256" | "sizes" | "structure";

export interface LoadedCheckpoint {
  config: ModelConfig;
  params: Params;
  optimizer?: LoadedOptimizer;
  trainerState?: unknown;
  verification: CheckpointVerification;
}

export interface LoadCheckpointOptions {
  /** Check SHA-256 against the manifest (default true; sizes are always checked). */
  verify?: boolean;
  /** Also load optimizer.safetensors when present (default true; never with a 16-bit `base`). */
  optimizer?: boolean;
  /**
   * Hold the weights as a frozen base in this dtype (default fp32): bf16/fp16 keep the projection
   * matrices in 16 bits (half.ts), read straight from the file when it holds that format.
   */
  base?: BaseDtype;
}

interface Manifest {
  format: "spiral-checkpoint";
  version: 1;
  files: Record<string, { bytes: number; sha256: string }>;
}

function targetsFor(params: Params, prefix = "", data: Float32Array = params.data): TensorSource[] {
  return params.layout.views.map((v) => ({ name: prefix + v.name, shape: v.shape, data: data.subarray(v.offset, v.offset + v.size) }));
}

/** Read targets of every weight: float32 views, and a 16-bit base's words (half.ts) in their own format. */
function weightTargets(params: Params): TensorTarget[] {
  const half = params.half;
  if (half === undefined) return targetsFor(params);
  const format = half.dtype === "bf16" ? "BF16" : "F16";
  return [...targetsFor(params), ...half.layout.views.map((v) => ({ name: v.name, shape: v.shape, data: half.view(v.name), half: format }) as const)];
}

function expectedCheckpoint(dir: string, why: string): Error {
  return new Error(`Expected a checkpoint directory with ${CONFIG_FILE} and ${SINGLE_FILE} (or ${SHARD_INDEX_FILE}); got ${dir} (${why})`);
}

/** Whether `path` exists (other errors than ENOENT are thrown). */
export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw e;
  }
}

let saveCounter = 0;

/** Writes a checkpoint to dir atomically (see the invariants above); returns the manifest entries. */
export async function saveCheckpoint(dir: string, input: SaveCheckpointInput): Promise<WrittenFile[]> {
  const { config, params } = input;
  const dtype = input.dtype ?? "F32";
  const layout = paramLayout(config);
  if (layout.totalSize !== params.layout.totalSize || layout.views.length !== params.layout.views.length) {
    throw new Error(`saveCheckpoint: the parameters do not match the config (${params.layout.views.length} tensors / ${params.layout.totalSize} floats vs ${layout.views.length} / ${layout.totalSize})`);
  }
  return saveDirectoryAtomically(dir, {
    accepts: (entries) => entries.includes(CONFIG_FILE) || entries.includes(MANIFEST_FILE),
    refusal: (target) => `Refusing to save a checkpoint over ${target}: it exists and is not a checkpoint (no ${CONFIG_FILE}); choose an empty or new directory`,
    ...(input.onStage === undefined ? {} : { onStage: input.onStage }),
    write: async (partial, stage) => {
      const written: WrittenFile[] = [];
      const torchDtype = dtype === "BF16" ? "bfloat16" : "float32";
      written.push(await writeTextAtomic(join(partial, CONFIG_FILE), `${JSON.stringify(toHfConfig(config, torchDtype), null, 2)}\n`));
      await stage("config-written");
      const shardOpts: { dtype: WritableDtype; maxShardBytes?: number } = { dtype };
      if (input.maxShardBytes !== undefined) shardOpts.maxShardBytes = input.maxShardBytes;
      written.push(...(await writeSafetensorsSharded(partial, targetsFor(params), shardOpts)));
      await stage("weights-written");
      if (input.optimizer !== undefined) {
        const { step, m, v } = input.optimizer.state();
        if (m.length !== params.data.length) throw new Error(`saveCheckpoint: optimizer has ${m.length} moments for ${params.data.length} parameters`);
        const tensors = [...targetsFor(params, "exp_avg.", m), ...targetsFor(params, "exp_avg_sq.", v)];
        const metadata = { step: String(step), hyper: JSON.stringify(input.optimizer.hyper) };
        written.push(await writeSafetensors(join(partial, OPTIMIZER_FILE), tensors, { dtype: "F32", metadata }));
        await stage("optimizer-written");
      }
      if (input.files !== undefined && input.files.length > 0) {
        for (const f of input.files) written.push(await writeTextAtomic(join(partial, f.name), await readFile(f.from)));
        await stage("files-copied");
      }
      if (input.trainerState !== undefined) {
        written.push(await writeTextAtomic(join(partial, TRAINER_STATE_FILE), `${JSON.stringify(input.trainerState, null, 2)}\n`));
        await stage("trainer-state-written");
      }
      return written;
    },
  });
}

/**
 * Writes a directory as every checkpoint (and adapter) is written: into a hidden sibling
 * `.NAME.partial-TAG`, files and then the manifest of their sizes and SHA-256, synced; then the
 * old directory (if any) is renamed aside, the new one renamed into place and the old one
 * removed. A kill at any point leaves the old directory or the new one whole (partial and old
 * leftovers are swept by the trainer's next start); an error puts the old one back. `accepts`
 * says whether an existing non-empty directory may be replaced.
 */
export async function saveDirectoryAtomically(
  dir: string,
  opts: {
    readonly accepts: (entries: readonly string[]) => boolean;
    readonly refusal: (target: string) => string;
    readonly write: (partial: string, stage: (s: SaveStage) => Promise<void>) => Promise<WrittenFile[]>;
    readonly onStage?: (stage: SaveStage) => void | Promise<void>;
  },
): Promise<WrittenFile[]> {
  const target = resolve(dir);
  const parent = dirname(target);
  await mkdir(parent, { recursive: true });
  if (await exists(target)) {
    const entries = await readdir(target);
    if (entries.length > 0 && !opts.accepts(entries)) throw new Error(opts.refusal(target));
  }
  saveCounter += 1;
  // In a container a restarted trainer often gets the same pid, so the clock joins the tag; a
  // directory that still has this name can only be left by a dead process.
  const tag = `${process.pid}-${saveCounter}-${Date.now().toString(36)}`;
  const partial = join(parent, `.${basename(target)}.partial-${tag}`);
  const stage = async (s: SaveStage) => {
    await opts.onStage?.(s);
  };
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial);
  let movedAside: string | undefined;
  try {
    await stage("partial-created");
    const written = await opts.write(partial, stage);
    const manifest: Manifest = { format: "spiral-checkpoint", version: 1, files: {} };
    for (const w of written) manifest.files[w.file] = { bytes: w.bytes, sha256: w.sha256 };
    await writeTextAtomic(join(partial, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    await syncDirectory(partial);
    await stage("manifest-written");
    if (await exists(target)) {
      const old = join(parent, `.${basename(target)}.old-${tag}`);
      await rename(target, old);
      movedAside = old;
      await stage("old-moved-aside");
      await rename(partial, target);
      await stage("swapped");
      await rm(old, { recursive: true, force: true });
    } else {
      await rename(partial, target);
    }
    await syncDirectory(parent);
    return written;
  } catch (e) {
    // An error (unlike a kill) leaves things as they were: the old directory back in place.
    if (movedAside !== undefined && !(await exists(target))) await rename(movedAside, target);
    await rm(partial, { recursive: true, force: true });
    throw e;
  }
}

/** Reads a small JSON file, checking its SHA-256 when the manifest gives one. */
async function readJson(path: string, what: string, sha256?: string): Promise<unknown> {
  const raw = await readFile(path);
  if (sha256 !== undefined) {
    const got = createHash("sha256").update(raw).digest("hex");
    if (got !== sha256) throw new Error(`${path}: SHA-256 is ${got} but ${MANIFEST_FILE} says ${sha256} (the file is damaged or was changed)`);
  }
  const text = raw.toString("utf8");
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: ${what} is not valid JSON (${(e as Error).message})`, { cause: e });
  }
}

async function readManifest(dir: string): Promise<Manifest | undefined> {
  const path = join(dir, MANIFEST_FILE);
  if (!(await exists(path))) return undefined;
  const m = (await readJson(path, "the checkpoint manifest")) as Partial<Manifest> | null;
  if (m === null || typeof m !== "object" || m.format !== "spiral-checkpoint" || typeof m.files !== "object" || m.files === null) {
    throw new Error(`${path}: not a spiral checkpoint manifest (expected {"format": "spiral-checkpoint", "files": {...}})`);
  }
  return m as Manifest;
}

/** Size check for every manifest entry: catches truncated and missing files without reading them. */
async function checkSizes(dir: string, manifest: Manifest): Promise<void> {
  for (const [file, { bytes }] of Object.entries(manifest.files)) {
    const path = join(dir, file);
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch {
      throw new Error(`${path}: listed in ${MANIFEST_FILE} but missing (the checkpoint is incomplete)`);
    }
    if (size !== bytes) throw new Error(`${path}: ${size} bytes but ${MANIFEST_FILE} says ${bytes} (the checkpoint is damaged or truncated)`);
  }
}

function shaMap(manifest: Manifest | undefined, verify: boolean): Map<string, string> {
  const out = new Map<string, string>();
  if (manifest === undefined || !verify) return out;
  for (const [file, { sha256 }] of Object.entries(manifest.files)) out.set(file, sha256);
  return out;
}

/** Tensors that may appear in a checkpoint without being parameters of this model. */
function ignorableFor(config: ModelConfig): (name: string) => boolean {
  return (name) => (config.tieWordEmbeddings && name === "lm_head.weight") || name.endsWith("rotary_emb.inv_freq");
}

/** Loads weights from dir (single file or sharded) into an existing Params with the right layout. */
export async function loadWeightsInto(dir: string, config: ModelConfig, params: Params, opts: { sha256?: ReadonlyMap<string, string> } = {}): Promise<void> {
  const ignore = ignorableFor(config);
  const sha = opts.sha256 ?? new Map<string, string>();
  if (await exists(join(dir, SHARD_INDEX_FILE))) {
    await loadSafetensorsSharded(join(dir, SHARD_INDEX_FILE), weightTargets(params), { ignore, sha256: sha });
    return;
  }
  const single = join(dir, SINGLE_FILE);
  const readOpts: { ignore: (name: string) => boolean; sha256?: string } = { ignore };
  const expected = sha.get(SINGLE_FILE);
  if (expected !== undefined) readOpts.sha256 = expected;
  await loadSafetensors(single, weightTargets(params), readOpts);
}

async function loadOptimizer(dir: string, layout: ParamLayout, sha: string | undefined): Promise<LoadedOptimizer> {
  const path = join(dir, OPTIMIZER_FILE);
  const m = new Float32Array(layout.totalSize);
  const v = new Float32Array(layout.totalSize);
  const shell = new Params(layout, m);
  const targets = [...targetsFor(shell, "exp_avg.", m), ...targetsFor(shell, "exp_avg_sq.", v)];
  await loadSafetensors(path, targets, sha !== undefined ? { sha256: sha } : {});
  const { metadata } = await readSafetensorsHeader(path);
  const step = Number(metadata.step);
  if (!Number.isInteger(step) || step < 0) throw new Error(`${path}: __metadata__.step must be a non-negative integer; got ${JSON.stringify(metadata.step)}`);
  let hyper: AdamWHyper;
  try {
    hyper = JSON.parse(metadata.hyper ?? "") as AdamWHyper;
  } catch (e) {
    throw new Error(`${path}: __metadata__.hyper must be JSON AdamW hyper-parameters; got ${JSON.stringify(metadata.hyper)}`, { cause: e });
  }
  return { state: { step, m, v }, hyper };
}

/** Names the hidden leftovers of a save killed between its two renames, if there are any. */
export async function interruptedSaveHint(dir: string): Promise<string> {
  const target = resolve(dir);
  let siblings: string[];
  try {
    siblings = await readdir(dirname(target));
  } catch {
    return "";
  }
  const prefix = `.${basename(target)}.`;
  const old = siblings.filter((f) => f.startsWith(`${prefix}old-`));
  if (old.length === 0) return "";
  return `; a save was interrupted while replacing it: the previous checkpoint is in ${join(dirname(target), old[0] as string)} (rename it back)`;
}

/**
 * Without a manifest, the one check of tensor contents that costs a single pass: every weight is
 * finite (a flipped exponent bit often makes an Inf or NaN; trained weights never hold one).
 */
function checkFinite(dir: string, params: Params): void {
  const half = params.half;
  if (half !== undefined) {
    // All exponent bits set: an Inf or NaN in either 16-bit format.
    const exp = half.dtype === "bf16" ? 0x7f80 : 0x7c00;
    for (const v of half.layout.views) {
      const words = half.view(v.name);
      const i = words.findIndex((w) => (w & exp) === exp);
      if (i >= 0) throw new Error(`${dir}: tensor "${v.name}" holds an Inf or NaN at element ${i}: the weights are damaged (no ${MANIFEST_FILE} to check them against)`);
    }
  }
  for (const v of params.layout.views) {
    const data = params.data.subarray(v.offset, v.offset + v.size);
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i] as number)) {
        throw new Error(`${dir}: tensor "${v.name}" holds ${String(data[i])} at element ${i}: the weights are damaged (no ${MANIFEST_FILE} to check them against)`);
      }
    }
  }
}

/**
 * The dtype the checkpoint's projection weights are stored in (what a 16-bit base keeps as is):
 * read from the safetensors headers; "mixed" when they differ.
 */
export async function storedWeightDtype(dir: string): Promise<"F32" | "BF16" | "F16" | "mixed"> {
  const files = (await exists(join(dir, SHARD_INDEX_FILE)))
    ? [...new Set(parseShardIndex(await readJson(join(dir, SHARD_INDEX_FILE), SHARD_INDEX_FILE), join(dir, SHARD_INDEX_FILE)).weightMap.values())]
    : [SINGLE_FILE];
  const seen = new Set<string>();
  for (const f of files) for (const t of (await readSafetensorsHeader(join(dir, f))).tensors) if (isProjectionWeight(t.name)) seen.add(t.dtype);
  const [only] = seen;
  return seen.size === 1 && (only === "F32" || only === "BF16" || only === "F16") ? only : "mixed";
}

/** Reads a checkpoint directory (ours, or a Hugging Face Qwen3 download with safetensors weights). */
export async function loadCheckpoint(dir: string, opts: LoadCheckpointOptions = {}): Promise<LoadedCheckpoint> {
  const verify = opts.verify ?? true;
  let info;
  try {
    info = await stat(dir);
  } catch {
    throw expectedCheckpoint(dir, `it does not exist${await interruptedSaveHint(dir)}`);
  }
  if (!info.isDirectory()) throw expectedCheckpoint(dir, "it is a file, not a directory");
  const configPath = join(dir, CONFIG_FILE);
  if (!(await exists(configPath))) throw expectedCheckpoint(dir, `it has no ${CONFIG_FILE}`);
  if (!(await exists(join(dir, SINGLE_FILE))) && !(await exists(join(dir, SHARD_INDEX_FILE)))) {
    const hint = (await exists(join(dir, "pytorch_model.bin"))) ? "; it has pytorch_model.bin, which this engine cannot read: convert it to safetensors" : "";
    throw expectedCheckpoint(dir, `it has ${CONFIG_FILE} but no weights${hint}`);
  }
  const manifest = await readManifest(dir);
  if (manifest !== undefined) await checkSizes(dir, manifest);
  const sha = shaMap(manifest, verify);
  const config = parseModelConfig(await readJson(configPath, CONFIG_FILE, sha.get(CONFIG_FILE)), configPath);
  const params = emptyBase(config, opts.base ?? "fp32");
  await loadWeightsInto(dir, config, params, { sha256: sha });
  const verification: CheckpointVerification = manifest === undefined ? "structure" : verify ? "sha256" : "sizes";
  if (verification === "structure") checkFinite(dir, params);
  const result: LoadedCheckpoint = { config, params, verification };
  if ((opts.optimizer ?? true) && params.half === undefined && (await exists(join(dir, OPTIMIZER_FILE)))) {
    result.optimizer = await loadOptimizer(dir, params.layout, sha.get(OPTIMIZER_FILE));
  }
  const statePath = join(dir, TRAINER_STATE_FILE);
  if (await exists(statePath)) result.trainerState = await readJson(statePath, TRAINER_STATE_FILE, sha.get(TRAINER_STATE_FILE));
  await checkOtherFiles(dir, sha);
  return result;
}

/** The manifest's files the loader does not read itself (tokenizer files): SHA-256 checked here. */
async function checkOtherFiles(dir: string, sha: ReadonlyMap<string, string>): Promise<void> {
  const read = new Set<string>([CONFIG_FILE, OPTIMIZER_FILE, TRAINER_STATE_FILE, SHARD_INDEX_FILE]);
  for (const [file, expected] of sha) {
    if (read.has(file) || file.endsWith(".safetensors")) continue;
    const path = join(dir, file);
    const got = createHash("sha256").update(await readFile(path)).digest("hex");
    if (got !== expected) throw new Error(`${path}: SHA-256 is ${got} but ${MANIFEST_FILE} says ${expected} (the file is damaged or was changed)`);
  }
}
