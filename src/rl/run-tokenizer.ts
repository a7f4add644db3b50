/**
 * A run's tokenizer: which one `model.tokenizer` names, and the files every checkpoint of the run
 * carries so it can be sampled from and served on its own. Its own module because both the
 * learner (loop.ts, run-setup.ts) and the worker actors (actor-worker.ts) build it.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { tokenizerSource } from "../engine/weights/model-dir.js";
import { ByteTokenizer } from "../engine/tokenizer/byte-tokenizer.js";
import { loadTokenizer, TOKENIZER_FILES, tokenizerDirOf } from "../engine/tokenizer/load.js";
import type { Tokenizer } from "../engine/tokenizer/tokenizer.js";
import type { TrainConfig } from "./config.js";

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
 * The tokenizer files every checkpoint carries (a byte-level model needs none: its config.json's
 * vocab_size says it).
 */
export function checkpointFiles(config: TrainConfig): { name: string; from: string }[] {
  const dir = tokenizerSourceDir(config);
  if (dir === undefined) return [];
  return TOKENIZER_FILES.filter((name) => existsSync(join(dir, name))).map((name) => ({ name, from: join(dir, name) }));
}
