/**
 * LoRA adapter directories in PEFT's format (what `PeftModel.from_pretrained`, vLLM `--enable-lora`
 * and SGLang load), plus our training state beside it:
 *
 *   adapter_config.json          PEFT LoraConfig: peft_type LORA, task_type CAUSAL_LM, r, lora_alpha,
 *                                target_modules, base_model_name_or_path, use_rslora, bias "none"
 *   adapter_model.safetensors    base_model.model.<module>.lora_A.weight [r, in],
 *                                base_model.model.<module>.lora_B.weight [out, r]
 *   optimizer.safetensors        (training checkpoints) AdamW moments in the adapter's layout
 *   trainer_state.json           (training checkpoints) the caller's run state
 *   spiral-base.json             (training checkpoints) the base: path and fingerprint
 *   spiral-manifest.json         size + SHA-256 of every other file, written last
 *
 * Saves are atomic like checkpoint.ts's: a hidden sibling directory is filled, fsync'ed and renamed
 * into place (an existing adapter directory is moved aside first). Loading accepts adapters written
 * by other tools: tensor names with PEFT's adapter-name infix (`lora_A.default.weight`), F32, BF16 or
 * F16 data, and target_modules given as a list, a single name or "all-linear".
 */
import { createHash } from "node:crypto";
import { open, readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { exists, saveDirectoryAtomically } from "./checkpoint.js";
import type { ModelConfig } from "../model/config.js";
import { type Adapter, checkLoraConfig, LORA_TARGETS, type LoraConfig, type LoraTarget, loraLayout } from "../model/lora.js";
import type { AdamW, AdamWHyper, AdamWState } from "../train/optimizer.js";
import { Params } from "./params.js";
import { readSafetensorsHeader, readSafetensorsInto, SHARD_INDEX_FILE, SINGLE_FILE, type TensorSource, type TensorTarget, type WrittenFile, writeSafetensors, writeTextAtomic } from "./safetensors.js";

export const ADAPTER_CONFIG_FILE = "adapter_config.json";
export const ADAPTER_WEIGHTS_FILE = "adapter_model.safetensors";
export const ADAPTER_OPTIMIZER_FILE = "optimizer.safetensors";
export const ADAPTER_TRAINER_STATE_FILE = "trainer_state.json";
export const ADAPTER_BASE_FILE = "spiral-base.json";
const MANIFEST_FILE = "spiral-manifest.json";

/** PEFT's prefix in front of the HF module path of a causal LM. */
export const PEFT_PREFIX = "base_model.model.";

/** Which base an adapter was trained on: where it was, and what its weight files looked like. */
export interface BaseFingerprint {
  /** The base directory as given when training started. */
  readonly path: string;
  /** Total bytes of its safetensors weight files. */
  readonly bytes: number;
  /** SHA-256 over the headers (length prefix + JSON) of its weight files, in file order. */
  readonly headerSha256: string;
}

export interface SaveAdapterInput {
  readonly adapter: Adapter;
  /** adapter_config.json's base_model_name_or_path. */
  readonly baseModel: string;
  readonly optimizer?: AdamW;
  readonly trainerState?: unknown;
  readonly base?: BaseFingerprint;
  /** One more safetensors file of the caller's (e.g. a run's opponent pool), written and listed like the rest. */
  readonly extra?: { readonly file: string; readonly tensors: readonly TensorSource[] };
}

export interface LoadedAdapter {
  readonly adapter: Adapter;
  readonly baseModel: string | undefined;
  readonly optimizer?: { state: AdamWState; hyper: AdamWHyper };
  readonly trainerState?: unknown;
  readonly base?: BaseFingerprint;
}

/** adapter_config.json as PEFT writes it (the fields a loader reads; the rest at PEFT's defaults). */
export function peftConfigJson(lora: LoraConfig, baseModel: string): Record<string, unknown> {
  return {
    peft_type: "LORA",
    task_type: "CAUSAL_LM",
    r: lora.r,
    lora_alpha: lora.alpha,
    lora_dropout: 0,
    target_modules: LORA_TARGETS.filter((t) => lora.targets.includes(t)),
    base_model_name_or_path: baseModel,
    use_rslora: lora.rslora === true,
    bias: "none",
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    modules_to_save: null,
    layers_to_transform: null,
    layers_pattern: null,
    rank_pattern: {},
    alpha_pattern: {},
    use_dora: false,
    revision: null,
  };
}

const peftConfigSchema = z.object({
  peft_type: z.literal("LORA"),
  task_type: z.string().nullish(),
  r: z.number().int().min(1),
  lora_alpha: z.number().positive(),
  target_modules: z.union([z.array(z.string()), z.string()]),
  base_model_name_or_path: z.string().nullish(),
  use_rslora: z.boolean().optional(),
  bias: z.literal("none").optional(),
  use_dora: z.literal(false).nullish(),
  fan_in_fan_out: z.literal(false).nullish(),
  modules_to_save: z.union([z.null(), z.array(z.string()).max(0)]).optional(),
  layers_to_transform: z.null().optional(),
  rank_pattern: z.record(z.string(), z.unknown()).refine((o) => Object.keys(o).length === 0, "per-module ranks are not supported").optional(),
  alpha_pattern: z.record(z.string(), z.unknown()).refine((o) => Object.keys(o).length === 0, "per-module alphas are not supported").optional(),
});

/** Our LoraConfig from a parsed adapter_config.json; throws naming the key that is not usable. */
export function parsePeftConfig(json: unknown, where: string): { lora: LoraConfig; baseModel: string | undefined } {
  const parsed = peftConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${where}: ${issue?.path.join(".") || "(root)"}: ${issue?.message ?? "invalid"} (expected a PEFT LoRA config for a causal LM)`);
  }
  const c = parsed.data;
  let targets: LoraTarget[];
  const tm = c.target_modules;
  if (tm === "all-linear") targets = [...LORA_TARGETS];
  else {
    const list = typeof tm === "string" ? [tm] : tm;
    const unknown = list.filter((t) => !(LORA_TARGETS as readonly string[]).includes(t));
    if (unknown.length > 0) throw new Error(`${where}: target_modules: ${unknown.map((u) => `"${u}"`).join(", ")} not supported; expected some of ${LORA_TARGETS.join(", ")} (or "all-linear")`);
    targets = list as LoraTarget[];
  }
  const lora: LoraConfig = { r: c.r, alpha: c.lora_alpha, targets, ...(c.use_rslora === true ? { rslora: true } : {}) };
  checkLoraConfig(lora);
  return { lora, baseModel: c.base_model_name_or_path ?? undefined };
}

/** A tensor name in a PEFT file → our layout name (prefix removed, adapter-name infix dropped). */
export function fromPeftName(name: string): string {
  const bare = name.startsWith(PEFT_PREFIX) ? name.slice(PEFT_PREFIX.length) : name;
  return bare.replace(/\.(lora_[AB])\.[^.]+\.weight$/, ".$1.weight");
}

function targetsFor(params: Params, prefix: string, data: Float32Array = params.data): TensorSource[] {
  return params.layout.views.map((v) => ({ name: prefix + v.name, shape: v.shape, data: data.subarray(v.offset, v.offset + v.size) }));
}

/** Writes an adapter directory atomically, as a checkpoint is written; returns the manifest entries. */
export async function saveAdapter(dir: string, input: SaveAdapterInput): Promise<WrittenFile[]> {
  const { adapter } = input;
  return saveDirectoryAtomically(dir, {
    accepts: (entries) => entries.includes(ADAPTER_CONFIG_FILE),
    refusal: (target) => `Refusing to save an adapter over ${target}: it exists and is not an adapter directory (no ${ADAPTER_CONFIG_FILE})`,
    write: async (partial) => {
      const written: WrittenFile[] = [];
      written.push(await writeTextAtomic(join(partial, ADAPTER_CONFIG_FILE), `${JSON.stringify(peftConfigJson(adapter.config, input.baseModel), null, 2)}\n`));
      // PEFT's save_pretrained writes the same {"format": "pt"} metadata.
      written.push(await writeSafetensors(join(partial, ADAPTER_WEIGHTS_FILE), targetsFor(adapter.params, PEFT_PREFIX), { dtype: "F32", metadata: { format: "pt" } }));
      if (input.optimizer !== undefined) {
        const { step, m, v } = input.optimizer.state();
        if (m.length !== adapter.params.data.length) throw new Error(`saveAdapter: optimizer has ${m.length} moments for ${adapter.params.data.length} adapter parameters`);
        const tensors = [...targetsFor(adapter.params, "exp_avg.", m), ...targetsFor(adapter.params, "exp_avg_sq.", v)];
        written.push(await writeSafetensors(join(partial, ADAPTER_OPTIMIZER_FILE), tensors, { dtype: "F32", metadata: { step: String(step), hyper: JSON.stringify(input.optimizer.hyper) } }));
      }
      if (input.trainerState !== undefined) written.push(await writeTextAtomic(join(partial, ADAPTER_TRAINER_STATE_FILE), `${JSON.stringify(input.trainerState, null, 2)}\n`));
      if (input.extra !== undefined) written.push(await writeSafetensors(join(partial, input.extra.file), input.extra.tensors, { dtype: "F32" }));
      if (input.base !== undefined) written.push(await writeTextAtomic(join(partial, ADAPTER_BASE_FILE), `${JSON.stringify(input.base, null, 2)}\n`));
      return written;
    },
  });
}

/** SHA-256 of a file, checked against the manifest's when there is one. */
async function checkedFile(dir: string, file: string, manifest: Record<string, { bytes: number; sha256: string }> | undefined): Promise<Buffer> {
  const raw = await readFile(join(dir, file));
  const want = manifest?.[file];
  if (want !== undefined) {
    const got = createHash("sha256").update(raw).digest("hex");
    if (raw.length !== want.bytes || got !== want.sha256) throw new Error(`${join(dir, file)}: does not match ${MANIFEST_FILE} (the adapter is damaged or was changed)`);
  }
  return raw;
}

function parseJson(raw: Buffer, path: string): unknown {
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`, { cause: e });
  }
}

/**
 * Reads an adapter directory for a base of shape `model`: PEFT's two files, and our training state
 * when present. Every tensor the config implies must be in the file, and nothing else.
 */
export async function loadAdapter(dir: string, model: ModelConfig, opts: { optimizer?: boolean } = {}): Promise<LoadedAdapter> {
  const configPath = join(dir, ADAPTER_CONFIG_FILE);
  if (!(await exists(configPath))) throw new Error(`Expected a LoRA adapter directory with ${ADAPTER_CONFIG_FILE} and ${ADAPTER_WEIGHTS_FILE}; got ${dir} (no ${ADAPTER_CONFIG_FILE})`);
  const manifestPath = join(dir, MANIFEST_FILE);
  const manifest = (await exists(manifestPath))
    ? (parseJson(await readFile(manifestPath), manifestPath) as { files?: Record<string, { bytes: number; sha256: string }> }).files
    : undefined;
  const { lora, baseModel } = parsePeftConfig(parseJson(await checkedFile(dir, ADAPTER_CONFIG_FILE, manifest), configPath), configPath);
  const params = new Params(loraLayout(model, lora));
  const weightsPath = join(dir, ADAPTER_WEIGHTS_FILE);
  if (!(await exists(weightsPath))) throw new Error(`${dir}: has ${ADAPTER_CONFIG_FILE} but no ${ADAPTER_WEIGHTS_FILE}`);
  const header = await readSafetensorsHeader(weightsPath);
  const targets = new Map<string, TensorTarget>();
  for (const entry of header.tensors) {
    const name = fromPeftName(entry.name);
    const v = params.layout.byName.get(name);
    if (v === undefined) throw new Error(`${weightsPath}: tensor "${entry.name}" is not part of a rank-${lora.r} adapter on ${lora.targets.join(", ")} of this ${model.numHiddenLayers}-layer model`);
    targets.set(entry.name, { name: entry.name, shape: v.shape, data: params.data.subarray(v.offset, v.offset + v.size) });
  }
  const sha = manifest?.[ADAPTER_WEIGHTS_FILE]?.sha256;
  await readSafetensorsInto(weightsPath, targets, { requireAll: true, ...(sha !== undefined ? { sha256: sha } : {}) });
  if (targets.size !== params.layout.views.length) {
    const have = new Set([...targets.keys()].map(fromPeftName));
    const missing = params.layout.views.filter((v) => !have.has(v.name)).map((v) => PEFT_PREFIX + v.name);
    throw new Error(`${weightsPath}: missing ${missing.length} adapter tensor(s), e.g. "${missing[0]}"`);
  }
  let result: LoadedAdapter = { adapter: { config: lora, params }, baseModel };
  const optPath = join(dir, ADAPTER_OPTIMIZER_FILE);
  if ((opts.optimizer ?? true) && (await exists(optPath))) {
    const m = new Float32Array(params.data.length);
    const v = new Float32Array(params.data.length);
    const tensors = [...targetsFor(params, "exp_avg.", m), ...targetsFor(params, "exp_avg_sq.", v)];
    const optSha = manifest?.[ADAPTER_OPTIMIZER_FILE]?.sha256;
    await readSafetensorsInto(optPath, new Map(tensors.map((t) => [t.name, t])), { requireAll: true, ...(optSha !== undefined ? { sha256: optSha } : {}) });
    const { metadata } = await readSafetensorsHeader(optPath);
    const step = Number(metadata.step);
    if (!Number.isInteger(step) || step < 0) throw new Error(`${optPath}: __metadata__.step must be a non-negative integer; got ${JSON.stringify(metadata.step)}`);
    result = { ...result, optimizer: { state: { step, m, v }, hyper: JSON.parse(metadata.hyper ?? "{}") as AdamWHyper } };
  }
  if (await exists(join(dir, ADAPTER_TRAINER_STATE_FILE))) {
    result = { ...result, trainerState: parseJson(await checkedFile(dir, ADAPTER_TRAINER_STATE_FILE, manifest), join(dir, ADAPTER_TRAINER_STATE_FILE)) };
  }
  if (await exists(join(dir, ADAPTER_BASE_FILE))) {
    result = { ...result, base: parseJson(await checkedFile(dir, ADAPTER_BASE_FILE, manifest), join(dir, ADAPTER_BASE_FILE)) as BaseFingerprint };
  }
  return result;
}

/** Whether a directory is an adapter (has adapter_config.json) rather than a full checkpoint. */
export async function isAdapterDir(dir: string): Promise<boolean> {
  return exists(join(dir, ADAPTER_CONFIG_FILE));
}

/** The weight files of a checkpoint directory, in order (single file, or the shards of its index). */
export async function weightFiles(dir: string): Promise<string[]> {
  if (await exists(join(dir, SINGLE_FILE))) return [SINGLE_FILE];
  const indexPath = join(dir, SHARD_INDEX_FILE);
  if (!(await exists(indexPath))) throw new Error(`${dir}: no ${SINGLE_FILE} or ${SHARD_INDEX_FILE} (is it a model checkpoint?)`);
  const index = parseJson(await readFile(indexPath), indexPath) as { weight_map?: Record<string, string> };
  return [...new Set(Object.values(index.weight_map ?? {}))].sort();
}

/** Size and header hash of a base checkpoint's weight files: cheap to compute, and changes with any re-save. */
export async function baseFingerprint(dir: string): Promise<BaseFingerprint> {
  const hash = createHash("sha256");
  let bytes = 0;
  for (const file of await weightFiles(dir)) {
    const path = join(dir, file);
    const fh = await open(path, "r");
    try {
      const size = (await fh.stat()).size;
      const len = Buffer.alloc(8);
      await fh.read(len, 0, 8, 0);
      const n = Number(len.readBigUInt64LE(0));
      if (!(n > 0 && 8 + n <= size)) throw new Error(`${path}: not a safetensors file (header length ${n})`);
      const head = Buffer.alloc(n);
      await fh.read(head, 0, n, 8);
      hash.update(len).update(head);
      bytes += size;
    } finally {
      await fh.close();
    }
  }
  return { path: dir, bytes, headerSha256: hash.digest("hex") };
}

/** Throws, naming both, unless `actual` is the base the adapter was trained on. */
export function checkSameBase(trained: BaseFingerprint, actual: BaseFingerprint): void {
  if (trained.bytes !== actual.bytes || trained.headerSha256 !== actual.headerSha256) {
    throw new Error(`This LoRA checkpoint was trained on the base ${trained.path} (${trained.bytes} bytes of weights, header sha256 ${trained.headerSha256.slice(0, 12)}…), but the base given is ${actual.path} (${actual.bytes} bytes, header sha256 ${actual.headerSha256.slice(0, 12)}…): resume with --model ${trained.path}`);
  }
}

/** The dtype a checkpoint's weights are stored in (that of its first tensor): F32, BF16 or F16. */
export async function storedDtype(dir: string): Promise<string> {
  const [first] = await weightFiles(dir);
  const header = await readSafetensorsHeader(join(dir, first as string));
  return header.tensors[0]?.dtype ?? "F32";
}
