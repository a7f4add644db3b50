/**
 * GGUF (version 3), the single-file model format of llama.cpp and Ollama: a writer, a header
 * reader, and the Qwen3 mapping from our checkpoint to what llama.cpp's `qwen3` loader expects.
 *
 * File layout (all integers little-endian):
 *   "GGUF" magic, u32 version 3, u64 tensor count, u64 key/value count
 *   key/values: string key, u32 value type, value      (string = u64 byte length + UTF-8 bytes;
 *                                                        array = u32 element type, u64 count, items)
 *   tensor infos: string name, u32 n_dims, u64 ne[n_dims], u32 ggml type, u64 offset
 *   zero padding to `general.alignment` (32), then the tensor data, each tensor at its offset
 *   (relative to the data section's start, a multiple of the alignment).
 *
 * Shapes are ggml's `ne`: fastest-varying dimension first, so a PyTorch Linear weight [out, in]
 * is ne = [in, out] with the very same bytes (row-major [out, in] = ne[0] contiguous).
 *
 * Tensor types written: F32, F16, BF16 and Q8_0 (blocks of 32 values: an f16 scale d = max|x|/127
 * and 32 int8 q = round(x/d), so x ≈ d·q). 1-D tensors (norm gains) always stay F32, and a matrix
 * whose rows are not a multiple of 32 falls back from Q8_0 to F16, as llama.cpp's converter does.
 */
import { open, readFile, rename, rm } from "node:fs/promises";
import { bf16BitsToF32, f16BitsToF32, f32ToBf16Bits, f32ToF16Bits } from "./bf16.js";

export { f32ToF16Bits };
import type { ModelConfig } from "../model/config.js";
import type { Params } from "./params.js";
import { byteLevelDecoderTable } from "../tokenizer/hf-tokenizer.js";

export const GGUF_MAGIC = "GGUF";
export const GGUF_VERSION = 3;
export const GGUF_ALIGNMENT = 32;

/** ggml tensor type ids (ggml.h). */
export const GgmlType = { F32: 0, F16: 1, Q8_0: 8, BF16: 30 } as const;
export type GgmlTypeName = keyof typeof GgmlType;

/** llama.cpp's `general.file_type` (the type most tensors have). */
const FILE_TYPE: Record<GgmlTypeName, number> = { F32: 0, F16: 1, Q8_0: 7, BF16: 32 };

const QK8_0 = 32;

/** GGUF metadata value type ids. */
const ValueType = { u8: 0, i8: 1, u16: 2, i16: 3, u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9, u64: 10, i64: 11, f64: 12 } as const;
type ScalarTypeName = Exclude<keyof typeof ValueType, "array">;

export type GgufScalar =
  | { readonly type: "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "f32" | "f64"; readonly value: number }
  | { readonly type: "u64" | "i64"; readonly value: bigint }
  | { readonly type: "bool"; readonly value: boolean }
  | { readonly type: "string"; readonly value: string };
export type GgufValue = GgufScalar | { readonly type: "array"; readonly itemType: ScalarTypeName; readonly value: readonly (number | bigint | boolean | string)[] };

export interface GgufTensor {
  readonly name: string;
  /** ggml ne: fastest-varying dimension first. */
  readonly ne: readonly number[];
  readonly type: GgmlTypeName;
  /** Source values (converted to `type` on write), row-major with ne[0] contiguous. */
  readonly data: Float32Array;
}

// ---------------------------------------------------------------------------------------------
// Encoding

const utf8 = new TextEncoder();

/** Appends little-endian fields to a growing list of buffers (header only: tensor data is streamed). */
class HeaderWriter {
  private readonly chunks: Buffer[] = [];
  length = 0;

  push(b: Buffer): void {
    this.chunks.push(b);
    this.length += b.length;
  }
  u32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.push(b);
  }
  u64(v: number | bigint): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.push(b);
  }
  string(s: string): void {
    const bytes = Buffer.from(utf8.encode(s));
    this.u64(bytes.length);
    this.push(bytes);
  }
  scalar(type: ScalarTypeName, v: number | bigint | boolean | string): void {
    const b = Buffer.alloc(8);
    switch (type) {
      case "u8": b.writeUInt8(v as number); return this.push(b.subarray(0, 1));
      case "i8": b.writeInt8(v as number); return this.push(b.subarray(0, 1));
      case "u16": b.writeUInt16LE(v as number); return this.push(b.subarray(0, 2));
      case "i16": b.writeInt16LE(v as number); return this.push(b.subarray(0, 2));
      case "u32": b.writeUInt32LE(v as number); return this.push(b.subarray(0, 4));
      case "i32": b.writeInt32LE(v as number); return this.push(b.subarray(0, 4));
      case "f32": b.writeFloatLE(v as number); return this.push(b.subarray(0, 4));
      case "bool": b.writeUInt8(v === true ? 1 : 0); return this.push(b.subarray(0, 1));
      case "u64": b.writeBigUInt64LE(v as bigint); return this.push(b);
      case "i64": b.writeBigInt64LE(v as bigint); return this.push(b);
      case "f64": b.writeDoubleLE(v as number); return this.push(b);
      case "string": return this.string(v as string);
    }
  }
  value(v: GgufValue): void {
    this.u32(ValueType[v.type]);
    if (v.type === "array") {
      this.u32(ValueType[v.itemType]);
      this.u64(v.value.length);
      for (const item of v.value) this.scalar(v.itemType, item);
    } else {
      this.scalar(v.type, v.value);
    }
  }
  pad(to: number): void {
    const n = (to - (this.length % to)) % to;
    if (n > 0) this.push(Buffer.alloc(n));
  }
  bytes(): Buffer {
    return Buffer.concat(this.chunks, this.length);
  }
}

/** C's roundf: halves away from zero. */
function roundAway(v: number): number {
  return v < 0 ? -Math.round(-v) : Math.round(v);
}

/** Bytes a tensor of `count` values takes in `type`. */
export function tensorBytes(type: GgmlTypeName, count: number): number {
  switch (type) {
    case "F32": return count * 4;
    case "F16":
    case "BF16": return count * 2;
    case "Q8_0": return (count / QK8_0) * (2 + QK8_0);
  }
}

/** Encodes values as `type` (Q8_0 needs a multiple of 32 values, blocks along ne[0]). */
export function encodeTensor(type: GgmlTypeName, src: Float32Array): Buffer {
  const out = Buffer.alloc(tensorBytes(type, src.length));
  switch (type) {
    case "F32":
      Buffer.from(src.buffer, src.byteOffset, src.byteLength).copy(out);
      break;
    case "F16":
      for (let i = 0; i < src.length; i++) out.writeUInt16LE(f32ToF16Bits(src[i] as number), i * 2);
      break;
    case "BF16":
      for (let i = 0; i < src.length; i++) out.writeUInt16LE(f32ToBf16Bits(src[i] as number), i * 2);
      break;
    case "Q8_0": {
      if (src.length % QK8_0 !== 0) throw new Error(`Q8_0 needs a multiple of ${QK8_0} values; got ${src.length}`);
      for (let blk = 0, o = 0; blk < src.length; blk += QK8_0, o += 2 + QK8_0) {
        let amax = 0;
        for (let j = 0; j < QK8_0; j++) amax = Math.max(amax, Math.abs(src[blk + j] as number));
        const d = Math.fround(amax / 127);
        const id = d !== 0 ? Math.fround(1 / d) : 0;
        out.writeUInt16LE(f32ToF16Bits(d), o);
        for (let j = 0; j < QK8_0; j++) out.writeInt8(roundAway(Math.fround((src[blk + j] as number) * id)), o + 2 + j);
      }
      break;
    }
  }
  return out;
}

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/**
 * Writes a GGUF file (to a temporary name, then renamed: a crash never leaves a half file under
 * `path`). Tensors are converted and written one at a time, so memory stays at one tensor's bytes.
 */
export async function writeGguf(path: string, metadata: ReadonlyMap<string, GgufValue>, tensors: readonly GgufTensor[]): Promise<{ bytes: number }> {
  const h = new HeaderWriter();
  h.push(Buffer.from(GGUF_MAGIC, "latin1"));
  h.u32(GGUF_VERSION);
  h.u64(tensors.length);
  const kv = new Map(metadata);
  kv.set("general.alignment", { type: "u32", value: GGUF_ALIGNMENT });
  h.u64(kv.size);
  for (const [key, value] of kv) {
    h.string(key);
    h.value(value);
  }
  let offset = 0;
  const offsets: number[] = [];
  for (const t of tensors) {
    const count = t.ne.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new Error(`tensor ${t.name}: shape [${t.ne.join(", ")}] needs ${count} values; got ${t.data.length}`);
    if (t.type === "Q8_0" && (t.ne[0] as number) % QK8_0 !== 0) throw new Error(`tensor ${t.name}: Q8_0 needs rows (ne[0]) of a multiple of ${QK8_0}; got ${t.ne[0]}`);
    h.string(t.name);
    h.u32(t.ne.length);
    for (const n of t.ne) h.u64(n);
    h.u32(GgmlType[t.type]);
    h.u64(offset);
    offsets.push(offset);
    offset = alignUp(offset + tensorBytes(t.type, count), GGUF_ALIGNMENT);
  }
  h.pad(GGUF_ALIGNMENT);
  const header = h.bytes();
  const tmp = `${path}.tmp-${process.pid}`;
  const file = await open(tmp, "w");
  try {
    await file.write(header, 0, header.length, 0);
    for (const [i, t] of tensors.entries()) {
      const data = encodeTensor(t.type, t.data);
      await file.write(data, 0, data.length, header.length + (offsets[i] as number));
    }
    const end = header.length + offset;
    await file.truncate(end); // the last tensor's alignment padding
    await file.sync();
    await file.close();
    await rename(tmp, path);
    return { bytes: end };
  } catch (error) {
    await file.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// Reading (the header, and tensor values back as f32: for checks and tests)

export interface GgufTensorInfo {
  readonly name: string;
  readonly ne: readonly number[];
  readonly type: GgmlTypeName;
  /** Absolute byte offset in the file. */
  readonly fileOffset: number;
}

export interface GgufFile {
  readonly version: number;
  readonly metadata: ReadonlyMap<string, GgufValue>;
  readonly tensors: readonly GgufTensorInfo[];
  readonly dataOffset: number;
}

const typeById = new Map<number, GgmlTypeName>(Object.entries(GgmlType).map(([k, v]) => [v, k as GgmlTypeName]));
const valueTypeById = new Map<number, keyof typeof ValueType>(Object.entries(ValueType).map(([k, v]) => [v, k as keyof typeof ValueType]));

/** Parses a GGUF header (metadata and tensor infos) from the file's bytes. */
export function parseGguf(buf: Buffer, source = "GGUF file"): GgufFile {
  let p = 0;
  const need = (n: number) => {
    if (p + n > buf.length) throw new Error(`${source}: truncated at byte ${p} (needed ${n} more of ${buf.length})`);
  };
  const u32 = () => (need(4), (p += 4), buf.readUInt32LE(p - 4));
  const u64 = () => {
    need(8);
    const v = buf.readBigUInt64LE(p);
    p += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`${source}: u64 ${v} at byte ${p - 8} is too large`);
    return Number(v);
  };
  const string = () => {
    const n = u64();
    need(n);
    p += n;
    return buf.toString("utf8", p - n, p);
  };
  const scalar = (t: ScalarTypeName): number | bigint | boolean | string => {
    const size = { u8: 1, i8: 1, bool: 1, u16: 2, i16: 2, u32: 4, i32: 4, f32: 4, u64: 8, i64: 8, f64: 8, string: 0 }[t];
    if (t === "string") return string();
    need(size);
    p += size;
    const at = p - size;
    switch (t) {
      case "u8": return buf.readUInt8(at);
      case "i8": return buf.readInt8(at);
      case "bool": return buf.readUInt8(at) !== 0;
      case "u16": return buf.readUInt16LE(at);
      case "i16": return buf.readInt16LE(at);
      case "u32": return buf.readUInt32LE(at);
      case "i32": return buf.readInt32LE(at);
      case "f32": return buf.readFloatLE(at);
      case "u64": return buf.readBigUInt64LE(at);
      case "i64": return buf.readBigInt64LE(at);
      case "f64": return buf.readDoubleLE(at);
    }
  };
  const valueType = (id: number) => {
    const t = valueTypeById.get(id);
    if (t === undefined) throw new Error(`${source}: unknown metadata value type ${id} at byte ${p - 4}`);
    return t;
  };
  need(4);
  const magic = buf.toString("latin1", 0, 4);
  if (magic !== GGUF_MAGIC) throw new Error(`${source}: expected the GGUF magic "GGUF"; got ${JSON.stringify(magic)}`);
  p = 4;
  const version = u32();
  if (version !== GGUF_VERSION) throw new Error(`${source}: expected GGUF version ${GGUF_VERSION}; got ${version}`);
  const nTensors = u64();
  const nKv = u64();
  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < nKv; i++) {
    const key = string();
    const t = valueType(u32());
    if (t === "array") {
      const itemType = valueType(u32());
      if (itemType === "array") throw new Error(`${source}: nested arrays (key ${key}) are not supported`);
      const n = u64();
      const items: (number | bigint | boolean | string)[] = [];
      for (let j = 0; j < n; j++) items.push(scalar(itemType));
      metadata.set(key, { type: "array", itemType, value: items });
    } else {
      metadata.set(key, { type: t, value: scalar(t) } as GgufScalar);
    }
  }
  const infos: { name: string; ne: number[]; type: GgmlTypeName; offset: number }[] = [];
  for (let i = 0; i < nTensors; i++) {
    const name = string();
    const nDims = u32();
    const ne = Array.from({ length: nDims }, () => u64());
    const typeId = u32();
    const type = typeById.get(typeId);
    if (type === undefined) throw new Error(`${source}: tensor ${name} has ggml type ${typeId}, which this reader does not decode`);
    infos.push({ name, ne, type, offset: u64() });
  }
  const align = metadata.get("general.alignment");
  const alignment = align?.type === "u32" ? align.value : GGUF_ALIGNMENT;
  const dataOffset = alignUp(p, alignment);
  const tensors = infos.map((t) => ({ name: t.name, ne: t.ne, type: t.type, fileOffset: dataOffset + t.offset }));
  return { version, metadata, tensors, dataOffset };
}

/** Reads a whole GGUF file and parses its header. */
export async function readGguf(path: string): Promise<{ file: GgufFile; bytes: Buffer }> {
  const bytes = await readFile(path);
  return { file: parseGguf(bytes, path), bytes };
}

/** A tensor's values decoded to f32 (Q8_0 dequantised as d·q). */
export function ggufTensorValues(bytes: Buffer, t: GgufTensorInfo): Float32Array {
  const n = t.ne.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  const at = t.fileOffset;
  switch (t.type) {
    case "F32":
      for (let i = 0; i < n; i++) out[i] = bytes.readFloatLE(at + 4 * i);
      break;
    case "F16":
      for (let i = 0; i < n; i++) out[i] = f16BitsToF32(bytes.readUInt16LE(at + 2 * i));
      break;
    case "BF16":
      for (let i = 0; i < n; i++) out[i] = bf16BitsToF32(bytes.readUInt16LE(at + 2 * i));
      break;
    case "Q8_0":
      for (let blk = 0; blk < n / QK8_0; blk++) {
        const o = at + blk * (2 + QK8_0);
        const d = f16BitsToF32(bytes.readUInt16LE(o));
        for (let j = 0; j < QK8_0; j++) out[blk * QK8_0 + j] = d * bytes.readInt8(o + 2 + j);
      }
      break;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Qwen3 → llama.cpp

/** llama.cpp's tokenizer token types (llama_token_type). */
export const TokenType = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

/** A byte-level BPE vocabulary as llama.cpp's "gpt2" tokenizer reads it. */
export interface GgufVocab {
  /** One entry per embedding row, id order; byte-level (GPT-2 byte→unicode) text. */
  readonly tokens: readonly string[];
  readonly types: readonly number[];
  /** "left right" pairs, highest priority first. */
  readonly merges: readonly string[];
  readonly eosId: number;
  readonly padId: number;
  readonly bosId?: number;
  readonly chatTemplate?: string;
}

/** Our HF tensor name → llama.cpp's (gguf-py's MODEL_TENSOR names for the qwen3 architecture). */
export function qwen3GgufTensorName(hfName: string): string {
  const fixed: Record<string, string> = { "model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight", "lm_head.weight": "output.weight" };
  const hit = fixed[hfName];
  if (hit !== undefined) return hit;
  const m = /^model\.layers\.(\d+)\.(.+)\.weight$/.exec(hfName);
  const perLayer: Record<string, string> = {
    input_layernorm: "attn_norm",
    "self_attn.q_proj": "attn_q",
    "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output",
    "self_attn.q_norm": "attn_q_norm",
    "self_attn.k_norm": "attn_k_norm",
    post_attention_layernorm: "ffn_norm",
    "mlp.gate_proj": "ffn_gate",
    "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
  };
  const suffix = m === null ? undefined : perLayer[m[2] as string];
  if (m === null || suffix === undefined) throw new Error(`no llama.cpp qwen3 tensor for ${hfName}`);
  return `blk.${m[1]}.${suffix}.weight`;
}

export type ExportDtype = "f32" | "f16" | "bf16" | "q8_0";
const DTYPE_TYPE: Record<ExportDtype, GgmlTypeName> = { f32: "F32", f16: "F16", bf16: "BF16", q8_0: "Q8_0" };

export interface Qwen3GgufInput {
  readonly config: ModelConfig;
  readonly params: Params;
  readonly vocab: GgufVocab;
  readonly dtype: ExportDtype;
  /** general.name. */
  readonly name: string;
}

/** The metadata and tensors of a Qwen3 GGUF; `fallbacks` names matrices kept F16 under q8_0. */
export function qwen3Gguf(input: Qwen3GgufInput): { metadata: Map<string, GgufValue>; tensors: GgufTensor[]; fallbacks: string[] } {
  const { config: c, params, vocab, dtype } = input;
  if (vocab.tokens.length !== c.vocabSize || vocab.types.length !== c.vocabSize) {
    throw new Error(`the vocabulary has ${vocab.tokens.length} tokens; the model has ${c.vocabSize} embedding rows (llama.cpp needs one token per row)`);
  }
  const u32 = (value: number): GgufValue => ({ type: "u32", value });
  const f32v = (value: number): GgufValue => ({ type: "f32", value });
  const str = (value: string): GgufValue => ({ type: "string", value });
  const arch = "qwen3";
  const meta = new Map<string, GgufValue>([
    ["general.architecture", str(arch)],
    ["general.type", str("model")],
    ["general.name", str(input.name)],
    ["general.file_type", u32(FILE_TYPE[DTYPE_TYPE[dtype]])],
    ["general.quantization_version", u32(2)],
    [`${arch}.context_length`, u32(c.maxPositionEmbeddings)],
    [`${arch}.embedding_length`, u32(c.hiddenSize)],
    [`${arch}.block_count`, u32(c.numHiddenLayers)],
    [`${arch}.feed_forward_length`, u32(c.intermediateSize)],
    [`${arch}.attention.head_count`, u32(c.numAttentionHeads)],
    [`${arch}.attention.head_count_kv`, u32(c.numKeyValueHeads)],
    [`${arch}.attention.key_length`, u32(c.headDim)],
    [`${arch}.attention.value_length`, u32(c.headDim)],
    [`${arch}.rope.freq_base`, f32v(c.ropeTheta)],
    [`${arch}.attention.layer_norm_rms_epsilon`, f32v(c.rmsNormEps)],
    ["tokenizer.ggml.model", str("gpt2")],
    ["tokenizer.ggml.pre", str("qwen2")],
    ["tokenizer.ggml.tokens", { type: "array", itemType: "string", value: vocab.tokens }],
    ["tokenizer.ggml.token_type", { type: "array", itemType: "i32", value: vocab.types }],
    ["tokenizer.ggml.merges", { type: "array", itemType: "string", value: vocab.merges }],
    ["tokenizer.ggml.eos_token_id", u32(vocab.eosId)],
    ["tokenizer.ggml.padding_token_id", u32(vocab.padId)],
    ["tokenizer.ggml.add_bos_token", { type: "bool", value: false }],
  ]);
  if (vocab.bosId !== undefined) meta.set("tokenizer.ggml.bos_token_id", u32(vocab.bosId));
  if (vocab.chatTemplate !== undefined) meta.set("tokenizer.chat_template", str(vocab.chatTemplate));

  const fallbacks: string[] = [];
  const tensors = params.layout.views.map((v): GgufTensor => {
    const ne = [...v.shape].reverse();
    let type: GgmlTypeName = ne.length === 1 ? "F32" : DTYPE_TYPE[dtype];
    if (type === "Q8_0" && (ne[0] as number) % QK8_0 !== 0) {
      type = "F16";
      fallbacks.push(v.name);
    }
    return { name: qwen3GgufTensorName(v.name), ne, type, data: params.data.subarray(v.offset, v.offset + v.size) };
  });
  return { metadata: meta, tensors, fallbacks };
}

/** GPT-2's byte → printable-unicode character (the text byte-level BPE vocabularies store). */
function byteToUnicode(): string[] {
  const out: string[] = new Array<string>(256);
  for (const [cp, b] of byteLevelDecoderTable()) out[b] = String.fromCodePoint(cp);
  return out;
}

/**
 * The vocabulary of a tokenizer.json (byte-level BPE, e.g. Qwen3's), padded to the model's
 * embedding rows with unused "[PAD<id>]" tokens as llama.cpp's converter does. Added tokens marked
 * special are CONTROL, the others (e.g. Qwen3's <think>) USER_DEFINED.
 */
export function vocabFromTokenizerJson(
  tokenizerJson: Record<string, unknown>,
  tokenizerConfig: Record<string, unknown>,
  rows: number,
  opts: { chatTemplate?: string; bosId?: number } = {},
): GgufVocab {
  const model = tokenizerJson.model as { type?: unknown; vocab?: unknown; merges?: unknown } | undefined;
  const decoder = tokenizerJson.decoder as { type?: unknown } | null | undefined;
  if (model?.type !== "BPE" || typeof model.vocab !== "object" || model.vocab === null || !Array.isArray(model.merges) || decoder?.type !== "ByteLevel") {
    throw new Error("GGUF export needs a byte-level BPE tokenizer.json (model.type \"BPE\" with vocab and merges, decoder \"ByteLevel\", as Qwen3's)");
  }
  const tokens = new Array<string | undefined>(rows).fill(undefined);
  const types = new Array<number>(rows).fill(TokenType.NORMAL);
  const place = (id: number, text: string, type: number) => {
    if (!Number.isInteger(id) || id < 0 || id >= rows) throw new Error(`tokenizer has token id ${id} (${JSON.stringify(text)}); the model has only ${rows} embedding rows`);
    tokens[id] = text;
    types[id] = type;
  };
  for (const [text, id] of Object.entries(model.vocab as Record<string, number>)) place(id, text, TokenType.NORMAL);
  const byContent = new Map<string, number>();
  for (const t of (tokenizerJson.added_tokens ?? []) as { id: number; content: string; special?: boolean }[]) {
    place(t.id, t.content, t.special === true ? TokenType.CONTROL : TokenType.USER_DEFINED);
    byContent.set(t.content, t.id);
  }
  for (let id = 0; id < rows; id++) {
    if (tokens[id] === undefined) place(id, `[PAD${id}]`, TokenType.UNUSED);
  }
  const merges = (model.merges as unknown[]).map((m) => (Array.isArray(m) ? m.join(" ") : String(m)));
  const named = (key: string): number | undefined => {
    const v = tokenizerConfig[key];
    const text = typeof v === "string" ? v : typeof (v as { content?: unknown } | null)?.content === "string" ? (v as { content: string }).content : undefined;
    return text === undefined ? undefined : byContent.get(text);
  };
  const eosId = named("eos_token") ?? byContent.get("<|endoftext|>");
  if (eosId === undefined) throw new Error("tokenizer has no eos token: expected eos_token in tokenizer_config.json or <|endoftext|>");
  const template = opts.chatTemplate ?? (typeof tokenizerConfig.chat_template === "string" ? tokenizerConfig.chat_template : undefined);
  const bosId = named("bos_token") ?? opts.bosId;
  return {
    tokens: tokens as string[],
    types,
    merges,
    eosId,
    padId: named("pad_token") ?? eosId,
    ...(bosId !== undefined && { bosId }),
    ...(template !== undefined && { chatTemplate: template }),
  };
}

/**
 * Our byte-level tokenizer as a byte-level BPE vocabulary with no merges: ids 0..255 are the 256
 * byte symbols (so llama.cpp encodes any text to exactly our byte ids), 256.. the special tokens.
 */
export function byteLevelVocab(specialTokens: readonly string[], chatTemplate: string): GgufVocab {
  const bytes = byteToUnicode();
  return {
    tokens: [...bytes, ...specialTokens],
    types: [...bytes.map(() => TokenType.NORMAL), ...specialTokens.map(() => TokenType.CONTROL)],
    merges: [],
    eosId: 256 + specialTokens.indexOf("<|endoftext|>"),
    padId: 256 + specialTokens.indexOf("<|endoftext|>"),
    chatTemplate,
  };
}
