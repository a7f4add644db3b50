/**
 * Byte-level tokenizer for models trained from scratch (the `tiny` and `small` presets, V = 264).
 *
 *   ids 0..255   the raw UTF-8 bytes of the text
 *   ids 256..263 special tokens (BYTE_SPECIAL_TOKENS), written in text as their literal markup
 *
 * Any text round-trips exactly (no normalisation, no unknown token). Special markup in the input
 * text becomes the single special id, as Hugging Face tokenizers do for added special tokens.
 */
import { ChatTemplate, CHATML_TEMPLATE } from "../infer/chat-template.js";
import { checkTokenId, type ChatMessage, type ChatTemplateOptions, type Tokenizer } from "./tokenizer.js";

/** Special tokens in id order, starting at 256. `<|endoftext|>` is eos and pad. */
export const BYTE_SPECIAL_TOKENS = [
  "<|endoftext|>",
  "<|im_start|>",
  "<|im_end|>",
  "<think>",
  "</think>",
  "<|reserved_0|>",
  "<|reserved_1|>",
  "<|reserved_2|>",
] as const;

export const BYTE_VOCAB_SIZE = 256 + BYTE_SPECIAL_TOKENS.length;

const encoder = new TextEncoder();

export class ByteTokenizer implements Tokenizer {
  readonly kind = "byte" as const;
  readonly vocabSize = BYTE_VOCAB_SIZE;
  readonly padId = 256;
  /** `<|endoftext|>` ends raw text, `<|im_end|>` ends a chat turn. */
  readonly eosIds: readonly number[] = [256, 258];
  private readonly chat = new ChatTemplate(CHATML_TEMPLATE, { eosToken: "<|endoftext|>" });
  private readonly specialBytes = BYTE_SPECIAL_TOKENS.map((s) => encoder.encode(s));

  encode(text: string): number[] {
    const ids: number[] = [];
    let start = 0; // start of the pending plain-text run
    let i = text.indexOf("<");
    while (i !== -1) {
      const k = BYTE_SPECIAL_TOKENS.findIndex((s) => text.startsWith(s, i));
      if (k === -1) {
        i = text.indexOf("<", i + 1);
        continue;
      }
      for (const b of encoder.encode(text.slice(start, i))) ids.push(b);
      ids.push(256 + k);
      start = i + (BYTE_SPECIAL_TOKENS[k] as string).length;
      i = text.indexOf("<", start);
    }
    for (const b of encoder.encode(text.slice(start))) ids.push(b);
    return ids;
  }

  decode(ids: readonly number[], options: { skipSpecialTokens?: boolean } = {}): string {
    const bytes: number[] = [];
    for (const id of ids) {
      checkTokenId(this, id);
      if (id < 256) bytes.push(id);
      else if (options.skipSpecialTokens !== true) for (const b of this.specialBytes[id - 256] as Uint8Array) bytes.push(b);
    }
    return new TextDecoder("utf-8", { fatal: false }).decode(Uint8Array.from(bytes));
  }

  tokenBytes(id: number): Uint8Array {
    checkTokenId(this, id);
    return id < 256 ? Uint8Array.of(id) : (this.specialBytes[id - 256] as Uint8Array);
  }

  specialId(name: string): number | undefined {
    const k = (BYTE_SPECIAL_TOKENS as readonly string[]).indexOf(name);
    return k === -1 ? undefined : 256 + k;
  }

  isSpecial(id: number): boolean {
    return id >= 256 && id < BYTE_VOCAB_SIZE;
  }

  applyChatTemplate(messages: readonly ChatMessage[], options?: ChatTemplateOptions): string {
    return this.chat.render(messages, options);
  }
}
