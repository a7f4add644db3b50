/**
 * A checkpoint's Hugging Face tokenizer (`tokenizer.json` + `tokenizer_config.json`), run by
 * @huggingface/tokenizers, with the chat template rendered by @huggingface/jinja.
 *
 * Exactness notes:
 * - added tokens (`<|im_start|>`, `<think>`, ...) in the text encode to their single id, whether
 *   flagged special or not (split_special_tokens false, as in transformers);
 * - the NFC normaliser of Qwen-style tokenizers means `decode(encode(s)) === s.normalize("NFC")`;
 * - for byte-level BPE (GPT-2/Qwen family) `tokenBytes` inverts the byte→unicode table, so
 *   streaming decode is exact; other decoders fall back to decoding the id alone.
 */
import { Tokenizer as HfCore } from "@huggingface/tokenizers";
import { ChatTemplate, CHATML_TEMPLATE } from "../infer/chat-template.js";
import { checkTokenId, type ChatMessage, type ChatTemplateOptions, type Tokenizer } from "./tokenizer.js";

interface AddedTokenJson {
  id: number;
  content: string;
  special?: boolean;
}

export interface HfTokenizerOptions {
  /** Overrides the chat template of tokenizer_config.json (e.g. from chat_template.jinja). */
  chatTemplate?: string;
  /** Extra eos ids (e.g. generation_config.json's eos_token_id). */
  extraEosIds?: readonly number[];
}

/** GPT-2's reversible byte → printable-unicode table, inverted: code point → byte. */
export function byteLevelDecoderTable(): Map<number, number> {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  const table = new Map<number, number>();
  bs.forEach((b, i) => table.set(cs[i] as number, b));
  return table;
}

function tokenName(config: Record<string, unknown>, key: string): string | undefined {
  const v = config[key];
  if (typeof v === "string") return v;
  if (v !== null && typeof v === "object" && typeof (v as { content?: unknown }).content === "string") {
    return (v as { content: string }).content;
  }
  return undefined;
}

function templateSource(config: Record<string, unknown>): string | undefined {
  const t = config.chat_template;
  if (typeof t === "string") return t;
  if (Array.isArray(t)) {
    const named = t.find((x: { name?: string }) => x.name === "default") as { template?: string } | undefined;
    if (typeof named?.template === "string") return named.template;
  }
  return undefined;
}

const encoder = new TextEncoder();

export class HfTokenizer implements Tokenizer {
  readonly kind = "hf" as const;
  readonly vocabSize: number;
  readonly eosIds: readonly number[];
  readonly padId: number;
  private readonly core: HfCore;
  private readonly added = new Map<string, number>();
  private readonly specialIds = new Set<number>();
  private readonly addedContent = new Map<number, string>();
  private readonly byteLevel: Map<number, number> | undefined;
  private readonly bytesCache = new Map<number, Uint8Array>();
  private readonly chat: ChatTemplate;

  constructor(tokenizerJson: Record<string, unknown>, tokenizerConfig: Record<string, unknown>, options: HfTokenizerOptions = {}) {
    const model = tokenizerJson.model as { vocab?: Record<string, number> } | undefined;
    if (model?.vocab === undefined || typeof model.vocab !== "object") {
      throw new Error("tokenizer.json must have model.vocab (a BPE/WordPiece vocabulary)");
    }
    this.core = new HfCore(tokenizerJson, tokenizerConfig);
    let maxId = -1;
    for (const id of Object.values(model.vocab)) maxId = Math.max(maxId, id);
    for (const t of (tokenizerJson.added_tokens ?? []) as AddedTokenJson[]) {
      this.added.set(t.content, t.id);
      this.addedContent.set(t.id, t.content);
      if (t.special === true) this.specialIds.add(t.id);
      maxId = Math.max(maxId, t.id);
    }
    this.vocabSize = maxId + 1;
    const decoder = tokenizerJson.decoder as { type?: string } | null | undefined;
    this.byteLevel = decoder?.type === "ByteLevel" ? byteLevelDecoderTable() : undefined;

    const eos = new Set<number>();
    const eosName = tokenName(tokenizerConfig, "eos_token");
    if (eosName !== undefined && this.added.has(eosName)) eos.add(this.added.get(eosName) as number);
    // Chat turns end with <|im_end|> even for base checkpoints whose eos is <|endoftext|>.
    for (const name of ["<|im_end|>", "<|endoftext|>"]) if (this.added.has(name)) eos.add(this.added.get(name) as number);
    for (const id of options.extraEosIds ?? []) eos.add(id);
    if (eos.size === 0) throw new Error("tokenizer has no eos token: expected eos_token in tokenizer_config.json or <|endoftext|>");
    this.eosIds = [...eos];
    const padName = tokenName(tokenizerConfig, "pad_token");
    this.padId = (padName !== undefined ? this.added.get(padName) : undefined) ?? (this.eosIds[0] as number);

    const source = options.chatTemplate ?? templateSource(tokenizerConfig) ?? CHATML_TEMPLATE;
    const bos = tokenName(tokenizerConfig, "bos_token");
    this.chat = new ChatTemplate(source, { ...(bos !== undefined && { bosToken: bos }), ...(eosName !== undefined && { eosToken: eosName }) });
  }

  encode(text: string): number[] {
    return this.core.encode(text, { add_special_tokens: false }).ids;
  }

  decode(ids: readonly number[], options: { skipSpecialTokens?: boolean } = {}): string {
    for (const id of ids) checkTokenId(this, id);
    if (ids.length === 0) return "";
    return this.core.decode(ids as number[], { skip_special_tokens: options.skipSpecialTokens === true, clean_up_tokenization_spaces: false });
  }

  tokenBytes(id: number): Uint8Array {
    const hit = this.bytesCache.get(id);
    if (hit !== undefined) return hit;
    checkTokenId(this, id);
    let bytes: Uint8Array;
    const content = this.addedContent.get(id);
    if (content !== undefined) bytes = encoder.encode(content);
    else if (this.byteLevel !== undefined) {
      const piece = this.core.id_to_token(id) ?? "";
      const out: number[] = [];
      for (const ch of piece) {
        const b = this.byteLevel.get(ch.codePointAt(0) as number);
        if (b === undefined) throw new Error(`token ${id} (${JSON.stringify(piece)}) is not byte-level encoded`);
        out.push(b);
      }
      bytes = Uint8Array.from(out);
    } else bytes = encoder.encode(this.core.decode([id], { skip_special_tokens: false }));
    this.bytesCache.set(id, bytes);
    return bytes;
  }

  specialId(name: string): number | undefined {
    return this.added.get(name);
  }

  isSpecial(id: number): boolean {
    return this.specialIds.has(id);
  }

  applyChatTemplate(messages: readonly ChatMessage[], options?: ChatTemplateOptions): string {
    return this.chat.render(messages, options);
  }
}
