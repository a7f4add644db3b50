/**
 * The tokenizer contract: text ⇄ token ids, special tokens by name, and chat rendering.
 *
 * Two implementations: `ByteTokenizer` (ids 0..255 are raw UTF-8 bytes, 256.. special tokens; for
 * models trained from scratch) and `HfTokenizer` (a checkpoint's `tokenizer.json`, e.g. Qwen3).
 *
 * Invariants every implementation owes:
 * - `decode(encode(s)) === s` for every well-formed string s (special-token markup included:
 *   the literal text `<|im_start|>` encodes to the special id and decodes back to the same text);
 * - special tokens written in the text encode to their single id (no splitting), exactly as
 *   Hugging Face does with `split_special_tokens: false`;
 * - every id in [0, vocabSize) decodes without throwing; bytes that do not form whole UTF-8
 *   characters decode to U+FFFD, and `tokenBytes` exposes the raw bytes so a streaming decoder can
 *   hold back an incomplete character instead (see `createStreamDecoder`);
 * - `eosIds` is non-empty and every member is a special token: generation stops on any of them.
 */

export type ChatRole = "system" | "user" | "assistant" | "tool";

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

export interface ChatTemplateOptions {
  /** Append the header of an assistant turn, so the model writes the reply next. Default true. */
  addGenerationPrompt?: boolean;
  /**
   * Qwen3 switch. `false` renders an empty `<think>\n\n</think>\n\n` block so the model answers
   * directly; `true` or unset leaves thinking to the model (the template's own default).
   */
  enableThinking?: boolean;
}

export interface Tokenizer {
  /** "byte" or "hf": which implementation, for messages and checkpoints. */
  readonly kind: "byte" | "hf";
  /** Ids are in [0, vocabSize); may be smaller than the model's embedding rows (padding rows). */
  readonly vocabSize: number;
  /** Ids on which generation stops (e.g. `<|im_end|>` and `<|endoftext|>`). */
  readonly eosIds: readonly number[];
  /** Id used to fill padded positions (never attended to). */
  readonly padId: number;
  encode(text: string): number[];
  /** Concatenated text of the ids; special tokens appear as their literal text unless skipped. */
  decode(ids: readonly number[], options?: { skipSpecialTokens?: boolean }): string;
  /** The raw UTF-8 bytes a single id stands for (special tokens: their literal text). */
  tokenBytes(id: number): Uint8Array;
  /** Id of a special token by its text, e.g. `"<|im_start|>"`; undefined when absent. */
  specialId(name: string): number | undefined;
  /** True for special (control) tokens. */
  isSpecial(id: number): boolean;
  /** Renders a conversation to the prompt text (feed it to `encode`). */
  applyChatTemplate(messages: readonly ChatMessage[], options?: ChatTemplateOptions): string;
}

/** Throws unless `id` is an integer in [0, vocabSize). */
export function checkTokenId(tokenizer: Pick<Tokenizer, "vocabSize" | "kind">, id: number): void {
  if (!Number.isInteger(id) || id < 0 || id >= tokenizer.vocabSize) {
    throw new Error(`token id must be an integer in [0, ${tokenizer.vocabSize}) for the ${tokenizer.kind} tokenizer; got ${id}`);
  }
}

/**
 * Incremental detokenisation for streaming output. `push(id)` returns the newly completed text:
 * bytes of a multi-byte character split across tokens are held back until the character is
 * complete, so a stream never shows a spurious U+FFFD. `flush()` returns whatever is still held
 * (as U+FFFD if it never completed). The concatenation of all outputs equals `decode(ids)` for
 * byte-level vocabularies.
 */
export interface StreamDecoder {
  push(id: number): string;
  flush(): string;
}

export function createStreamDecoder(tokenizer: Tokenizer, options: { skipSpecialTokens?: boolean } = {}): StreamDecoder {
  const utf8 = new TextDecoder("utf-8", { fatal: false });
  return {
    push(id: number): string {
      if (options.skipSpecialTokens === true && tokenizer.isSpecial(id)) return "";
      return utf8.decode(tokenizer.tokenBytes(id), { stream: true });
    },
    flush(): string {
      return utf8.decode();
    },
  };
}
