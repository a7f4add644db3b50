/**
 * `spiral merge --model BASE --adapter DIR --out DIR`: folds a LoRA adapter into its base and
 * writes a full Hugging Face checkpoint (W ← W + s·B·A on every adapted projection), in the base's
 * dtype (BF16 stays BF16; an F16 base is written as F32, which the engine does not narrow to F16).
 * The base's tokenizer files are copied beside it, so the result loads like the base.
 */
import { readdirSync } from "node:fs";
import { copyFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { Command } from "commander";
import { loadCheckpoint, saveCheckpoint } from "../engine/weights/checkpoint.js";
import { checkModelDir } from "../engine/weights/model-dir.js";
import { mergeAdapter } from "../engine/model/lora.js";
import { loadAdapter, storedDtype } from "../engine/weights/peft.js";
import { type CliIo, processIo } from "./io.js";

/** Files of a model directory that describe the tokenizer and generation, not the weights. */
const SIDE_FILES = /^(tokenizer.*|vocab\.json|merges\.txt|special_tokens_map\.json|added_tokens\.json|generation_config\.json|chat_template\.(jinja|json))$/;

export interface MergeOptions {
  model: string;
  adapter: string;
  out: string;
}

/** The merged checkpoint replaces its directory whole: a folder that holds anything is refused. */
function checkMergeOut(out: string): void {
  let entries: string[];
  try {
    entries = readdirSync(out);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    if ((e as NodeJS.ErrnoException).code === "ENOTDIR") throw new Error(`--out ${out}: is a file; expected a new folder for the merged checkpoint`, { cause: e });
    throw e;
  }
  if (entries.length > 0) {
    throw new Error(`--out ${out}: the folder holds files (${entries.slice(0, 3).join(", ")}${entries.length > 3 ? ", …" : ""}) that the merged checkpoint would replace; give a new or empty folder`);
  }
}

export async function runMerge(options: MergeOptions, io: CliIo): Promise<void> {
  checkMergeOut(options.out);
  await checkModelDir(options.model, "--model", { tokenizer: false });
  const { config, params } = await loadCheckpoint(options.model, { optimizer: false });
  const { adapter } = await loadAdapter(options.adapter, config, { optimizer: false });
  const dtype = (await storedDtype(options.model)) === "BF16" ? "BF16" : "F32";
  await saveCheckpoint(options.out, { config, params: mergeAdapter(config, params, adapter), dtype });
  const copied: string[] = [];
  for (const f of await readdir(options.model)) {
    if (!SIDE_FILES.test(f)) continue;
    await copyFile(join(options.model, f), join(options.out, f));
    copied.push(f);
  }
  const { r, alpha, targets } = adapter.config;
  io.err(`merged a rank-${r} adapter (alpha ${alpha}, ${targets.join(" ")}) into ${options.model} → ${options.out} (${dtype}${copied.length > 0 ? `, with ${copied.join(", ")}` : ""})\n`);
}

export function mergeCommand(io: CliIo = processIo()): Command {
  return new Command("merge")
    .description("fold a LoRA adapter into its base model and write a full checkpoint")
    .requiredOption("--model <dir>", "the base checkpoint directory (HF layout)")
    .requiredOption("--adapter <dir>", "a PEFT LoRA adapter directory (adapter_config.json + adapter_model.safetensors)")
    .requiredOption("--out <dir>", "where to write the merged checkpoint")
    .action(async (o: MergeOptions) => {
      await runMerge(o, io);
    });
}
