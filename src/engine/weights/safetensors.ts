/**
 * Reading and writing safetensors files, single or sharded, straight into and out of Float32Array
 * views (no whole-file buffers: a 0.6B float32 checkpoint is 2.4 GB).
 *
 * File format: [8-byte little-endian header length N][N bytes of JSON header][data].
 * The header maps each tensor name to {dtype, shape, data_offsets: [begin, end)} (offsets relative
 * to the data start) plus an optional "__metadata__" map of strings.
 *
 * Invariants checked on every read (each failure names the file and, where there is one, the
 * tensor):
 * - N fits inside the file and the header is a JSON object of well-formed entries;
 * - dtypes are known; F32, BF16 and F16 can be read (decoded to float32), others are rejected;
 * - end − begin = product(shape) × element size;
 * - the tensors tile the data region exactly, in offset order, with no gap or overlap, and the
 *   last one ends at the end of the file (so truncation and trailing junk are both errors;
 *   the Rust reference implementation enforces the same);
 * - against an expected set of tensors: none missing, none extra (unless ignored), shapes equal.
 *
 * Writes are atomic: data goes to a temporary name, is fsync'ed, then renamed over the target,
 * so a killed process never leaves a complete-looking but partial file. Each write returns the
 * file's size and SHA-256 (computed while writing); a read can verify a SHA-256 in the same pass.
 *
 * Sharded checkpoints follow transformers: `model-0000i-of-0000n.safetensors` plus
 * `model.safetensors.index.json` = {"metadata": {"total_size": bytes}, "weight_map": {name: file}}.
 */
import { createHash, type Hash } from "node:crypto";
import { open, readFile, rename, rm, type FileHandle } from "node:fs/promises";
import { endianness } from "node:os";
import { basename, dirname, join } from "node:path";
import { decodeBf16, decodeF16, encodeBf16 } from "./bf16.js";
import { encodeHalf } from "./half.js";

if (endianness() !== "LE") {
  throw new Error("spiral's safetensors reader needs a little-endian host (it decodes tensors in place)");
}

/** Dtypes we can read. */
export type ReadableDtype = "F32" | "BF16" | "F16";
/** Dtypes we write. */
export type WritableDtype = "F32" | "BF16";

/** Element sizes of every dtype the safetensors format defines (so unknown ≠ unsupported). */
const ELEMENT_BYTES: Readonly<Record<string, number>> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4, I64: 8, U64: 8, F64: 8,
};
const READABLE = new Set<string>(["F32", "BF16", "F16"]);

/** Largest header we accept (the Rust implementation's limit). */
const MAX_HEADER_BYTES = 100_000_000;
/** Scratch size for converting 16-bit tensors and for reading in bounded pieces. */
const CHUNK_BYTES = 1 << 24;

export interface TensorEntry {
  name: string;
  dtype: string;
  shape: number[];
  /** Byte offsets relative to the start of the data region. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  path: string;
  fileSize: number;
  /** 8 + N: where the data region starts. */
  dataStart: number;
  /** In offset order. */
  tensors: TensorEntry[];
  byName: Map<string, TensorEntry>;
  metadata: Record<string, string>;
}

/** A tensor to write (data is float32, converted to the file dtype while writing). */
export interface TensorSource {
  name: string;
  shape: readonly number[];
  data: Float32Array;
}

/**
 * A tensor to read: the expected shape and the destination (often a Params view), float32, or
 * 16-bit words in the format `half` names (a frozen base held in 16 bits, half.ts): read as is
 * when the file holds that format, else converted through float32 with round-to-nearest-even.
 */
export type TensorTarget =
  | { readonly name: string; readonly shape: readonly number[]; readonly data: Float32Array; readonly half?: undefined }
  | { readonly name: string; readonly shape: readonly number[]; readonly data: Uint16Array; readonly half: "BF16" | "F16" };

export interface WrittenFile {
  /** File name relative to the directory it was written in. */
  file: string;
  bytes: number;
  sha256: string;
}

function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/** Validates a parsed header and returns its entries in offset order. Exposed for tests. */
export function parseHeader(headerBytes: Buffer, path: string, dataBytes: number): Pick<SafetensorsHeader, "tensors" | "byName" | "metadata"> {
  let json: unknown;
  try {
    json = JSON.parse(headerBytes.toString("utf8"));
  } catch (e) {
    throw new Error(`${path}: the safetensors header is not valid JSON (${(e as Error).message})`, { cause: e });
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new Error(`${path}: the safetensors header must be a JSON object`);
  }
  const metadata: Record<string, string> = {};
  const tensors: TensorEntry[] = [];
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error(`${path}: __metadata__ must be an object of strings`);
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== "string") throw new Error(`${path}: __metadata__.${k} must be a string; got ${JSON.stringify(v)}`);
        metadata[k] = v;
      }
      continue;
    }
    const where = `${path}: tensor "${name}"`;
    if (value === null || typeof value !== "object") throw new Error(`${where}: expected {dtype, shape, data_offsets}; got ${JSON.stringify(value)}`);
    const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
    if (typeof dtype !== "string") throw new Error(`${where}: dtype must be a string; got ${JSON.stringify(dtype)}`);
    const size = ELEMENT_BYTES[dtype];
    if (size === undefined) throw new Error(`${where}: unknown dtype "${dtype}"; expected one of ${Object.keys(ELEMENT_BYTES).join(", ")}`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new Error(`${where}: shape must be an array of non-negative integers; got ${JSON.stringify(shape)}`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw new Error(`${where}: data_offsets must be [begin, end] with non-negative integers; got ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    if (end < begin) throw new Error(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
    const expected = numel(shape as number[]) * size;
    if (end - begin !== expected) {
      throw new Error(`${where}: data_offsets [${begin}, ${end}] span ${end - begin} bytes, but ${dtype} ${fmtShape(shape as number[])} needs ${expected}`);
    }
    tensors.push({ name, dtype, shape: shape as number[], begin, end });
  }
  tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const t of tensors) {
    if (t.begin < cursor) throw new Error(`${path}: tensor "${t.name}" at bytes [${t.begin}, ${t.end}) overlaps the tensor before it (which ends at ${cursor})`);
    if (t.begin > cursor) throw new Error(`${path}: tensor "${t.name}" starts at byte ${t.begin}, leaving a gap after byte ${cursor} (tensors must tile the data region)`);
    if (t.end > dataBytes) {
      throw new Error(`${path}: tensor "${t.name}" needs data bytes [${t.begin}, ${t.end}) but the file has only ${dataBytes} (truncated file?)`);
    }
    cursor = t.end;
  }
  if (cursor !== dataBytes) throw new Error(`${path}: ${dataBytes - cursor} bytes after the last tensor (the file is longer than its header says)`);
  return { tensors, byName: new Map(tensors.map((t) => [t.name, t])), metadata };
}

/** Node's Hash.update rejects inputs of 2 GiB and more: feed it in 1 GiB pieces. */
function hashUpdate(hash: Hash, bytes: Uint8Array): void {
  for (let i = 0; i < bytes.length; i += 1 << 30) hash.update(bytes.subarray(i, Math.min(bytes.length, i + (1 << 30))));
}

async function readExactly(fh: FileHandle, buf: Uint8Array, position: number, path: string): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await fh.read(buf, done, Math.min(buf.length - done, 1 << 30), position + done);
    if (bytesRead === 0) throw new Error(`${path}: unexpected end of file at byte ${position + done} (truncated file?)`);
    done += bytesRead;
  }
}

async function readHeaderFrom(fh: FileHandle, path: string): Promise<SafetensorsHeader> {
  const fileSize = (await fh.stat()).size;
  if (fileSize < 8) throw new Error(`${path}: ${fileSize} bytes is too short for a safetensors file (8-byte header length first)`);
  const lenBuf = Buffer.alloc(8);
  await readExactly(fh, lenBuf, 0, path);
  const n = lenBuf.readBigUInt64LE(0);
  if (n > BigInt(fileSize - 8)) throw new Error(`${path}: header length ${n} runs past the end of the ${fileSize}-byte file (not a safetensors file, or truncated)`);
  if (n > BigInt(MAX_HEADER_BYTES)) throw new Error(`${path}: header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const headerBytes = Buffer.alloc(Number(n));
  await readExactly(fh, headerBytes, 8, path);
  const dataStart = 8 + Number(n);
  return { path, fileSize, dataStart, ...parseHeader(headerBytes, path, fileSize - dataStart) };
}

/** Reads and validates a file's header only. */
export async function readSafetensorsHeader(path: string): Promise<SafetensorsHeader> {
  const fh = await open(path, "r");
  try {
    return await readHeaderFrom(fh, path);
  } finally {
    await fh.close();
  }
}

/**
 * Reads one tensor's bytes into dst, converting to float32. 16-bit tensors go through scratch in
 * bounded pieces and are hashed here; an F32 tensor is read straight into dst's memory (no
 * intermediate copy) and its bytes are returned unhashed, so the caller can hash them while the
 * next read is in flight.
 */
async function readTensor(fh: FileHandle, header: SafetensorsHeader, t: TensorEntry, target: TensorTarget | undefined, hash: Hash | undefined, scratch: () => Buffer): Promise<Uint8Array | undefined> {
  const start = header.dataStart + t.begin;
  const total = t.end - t.begin;
  if (target !== undefined && readsDirectly(t, target)) {
    const dst = target.data;
    const bytes = Buffer.from(dst.buffer, dst.byteOffset, total);
    await readExactly(fh, bytes, start, header.path);
    return bytes;
  }
  const buf = scratch();
  for (let done = 0; done < total; done += buf.length) {
    const piece = buf.subarray(0, Math.min(buf.length, total - done));
    await readExactly(fh, piece, start + done, header.path);
    hash?.update(piece);
    if (target === undefined) continue;
    const size = t.dtype === "F32" ? 4 : 2;
    const first = done / size;
    let floats: Float32Array;
    if (t.dtype === "F32") {
      floats = new Float32Array(piece.buffer, piece.byteOffset, piece.length / 4);
    } else {
      const words = new Uint16Array(piece.buffer, piece.byteOffset, piece.length / 2);
      floats = target.half === undefined ? target.data.subarray(first, first + words.length) : new Float32Array(words.length);
      if (t.dtype === "BF16") decodeBf16(words, floats);
      else decodeF16(words, floats);
    }
    if (target.half !== undefined) encodeHalf(target.half === "BF16" ? "bf16" : "fp16", floats, target.data.subarray(first, first + floats.length));
    else if (t.dtype === "F32") target.data.set(floats, first);
  }
  return undefined;
}

/** Whether a tensor's bytes are already the target's (read straight into its memory). */
function readsDirectly(t: TensorEntry, target: TensorTarget): boolean {
  return target.half === undefined ? t.dtype === "F32" : t.dtype === target.half;
}

export interface ReadOptions {
  /** Names present in the file that are skipped instead of being an error (e.g. a tied lm_head). */
  ignore?: (name: string) => boolean;
  /** When given, the file's SHA-256 (hex) must match; it is computed in the same pass as the read. */
  sha256?: string;
  /** Every target must be in this file: checked from the header, before any data is read. */
  requireAll?: boolean;
}

/**
 * Reads every tensor of one file into its target. Every tensor in the file must have a target
 * (or be ignored) with the same shape; targets absent from this file are returned as `missing`
 * (a sharded read spreads targets over several files, so the caller decides).
 */
export async function readSafetensorsInto(path: string, targets: ReadonlyMap<string, TensorTarget>, opts: ReadOptions = {}): Promise<{ read: string[]; missing: string[]; header: SafetensorsHeader }> {
  const fh = await open(path, "r");
  try {
    const header = await readHeaderFrom(fh, path);
    const plan: { entry: TensorEntry; target: TensorTarget | undefined }[] = [];
    for (const entry of header.tensors) {
      const target = targets.get(entry.name);
      if (target === undefined) {
        if (opts.ignore?.(entry.name)) {
          plan.push({ entry, target: undefined });
          continue;
        }
        throw new Error(`${path}: unexpected tensor "${entry.name}" ${fmtShape(entry.shape)}: the model has no parameter of that name (does config.json match these weights?)`);
      }
      if (!READABLE.has(entry.dtype)) throw new Error(`${path}: tensor "${entry.name}" has dtype ${entry.dtype}; only F32, BF16 and F16 can be loaded`);
      if (entry.shape.length !== target.shape.length || entry.shape.some((d, i) => d !== target.shape[i])) {
        throw new Error(`${path}: tensor "${entry.name}" has shape ${fmtShape(entry.shape)}; the model expects ${fmtShape(target.shape)}`);
      }
      if (target.data.length !== numel(target.shape)) {
        throw new Error(`tensor "${entry.name}": destination holds ${target.data.length} floats for shape ${fmtShape(target.shape)}`);
      }
      plan.push({ entry, target });
    }
    const inFile = new Set(header.tensors.map((t) => t.name));
    const missing = [...targets.keys()].filter((n) => !inFile.has(n));
    if (opts.requireAll && missing.length > 0) throw missingError(path, missing);
    const hash = opts.sha256 !== undefined ? createHash("sha256") : undefined;
    if (hash !== undefined) {
      const head = Buffer.alloc(header.dataStart);
      await readExactly(fh, head, 0, path);
      hash.update(head);
    }
    let scratchBuf: Buffer | undefined;
    const scratch = () => (scratchBuf ??= Buffer.from(new ArrayBuffer(CHUNK_BYTES)));
    // Hashing must follow file order; F32 bytes are hashed while the next read is in flight
    // (SHA-256 runs at ~0.5 GB/s here, about as fast as reading the file).
    let unhashed: Uint8Array | undefined;
    for (const { entry, target } of plan) {
      if (target === undefined && hash === undefined) continue;
      const direct = target !== undefined && readsDirectly(entry, target);
      if (!direct && hash !== undefined && unhashed !== undefined) {
        hashUpdate(hash, unhashed);
        unhashed = undefined;
      }
      const reading = readTensor(fh, header, entry, target, hash, scratch);
      if (hash !== undefined && unhashed !== undefined) hashUpdate(hash, unhashed);
      unhashed = await reading;
    }
    if (hash !== undefined) {
      if (unhashed !== undefined) hashUpdate(hash, unhashed);
      const got = hash.digest("hex");
      if (got !== opts.sha256) throw new Error(`${path}: SHA-256 is ${got} but the checkpoint manifest says ${opts.sha256} (the file is damaged or was changed)`);
    }
    return { read: plan.filter((p) => p.target !== undefined).map((p) => p.entry.name), missing, header };
  } finally {
    await fh.close();
  }
}

function missingError(where: string, missing: string[]): Error {
  const shown = missing.slice(0, 5).map((n) => `"${n}"`).join(", ");
  return new Error(`${where}: missing ${missing.length} tensor(s) the model needs: ${shown}${missing.length > 5 ? ", …" : ""}`);
}

/** Reads one file that must hold every target. */
export async function loadSafetensors(path: string, targets: readonly TensorTarget[], opts: ReadOptions = {}): Promise<void> {
  await readSafetensorsInto(path, new Map(targets.map((t) => [t.name, t])), { ...opts, requireAll: true });
}

export interface ShardIndex {
  totalSize: number | undefined;
  /** tensor name → shard file name (relative to the index's directory). */
  weightMap: Map<string, string>;
}

/** Reads and validates model.safetensors.index.json. */
export function parseShardIndex(json: unknown, path: string): ShardIndex {
  if (json === null || typeof json !== "object") throw new Error(`${path}: expected a JSON object with "weight_map"`);
  const { weight_map: wm, metadata } = json as Record<string, unknown>;
  if (wm === null || typeof wm !== "object" || Array.isArray(wm)) throw new Error(`${path}: "weight_map" must be an object of tensor name → shard file`);
  const weightMap = new Map<string, string>();
  for (const [name, file] of Object.entries(wm as Record<string, unknown>)) {
    if (typeof file !== "string" || file.includes("/") || file.includes("\\") || file === "" || file.startsWith(".")) {
      throw new Error(`${path}: weight_map["${name}"] must be a plain file name in the same directory; got ${JSON.stringify(file)}`);
    }
    weightMap.set(name, file);
  }
  const total = (metadata as Record<string, unknown> | undefined)?.total_size;
  return { totalSize: typeof total === "number" ? total : undefined, weightMap };
}

/**
 * Reads a sharded checkpoint through its index. Every tensor must live in the shard the index
 * names; every target must be found; `sha256` maps shard file names to expected digests.
 */
export async function loadSafetensorsSharded(indexPath: string, targets: readonly TensorTarget[], opts: { ignore?: (name: string) => boolean; sha256?: ReadonlyMap<string, string> } = {}): Promise<void> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(indexPath, "utf8"));
  } catch (e) {
    throw new Error(`${indexPath}: cannot read the shard index (${(e as Error).message})`, { cause: e });
  }
  const index = parseShardIndex(json, indexPath);
  const dir = dirname(indexPath);
  const byFile = new Map<string, Map<string, TensorTarget>>();
  for (const file of new Set(index.weightMap.values())) byFile.set(file, new Map());
  const missingFromIndex: string[] = [];
  for (const t of targets) {
    const file = index.weightMap.get(t.name);
    if (file === undefined) missingFromIndex.push(t.name);
    else byFile.get(file)?.set(t.name, t);
  }
  if (missingFromIndex.length > 0) throw missingError(indexPath, missingFromIndex);
  const known = new Set(targets.map((t) => t.name));
  for (const [name] of index.weightMap) {
    if (!known.has(name) && !opts.ignore?.(name)) throw new Error(`${indexPath}: unexpected tensor "${name}": the model has no parameter of that name (does config.json match these weights?)`);
  }
  for (const [file, fileTargets] of byFile) {
    const path = join(dir, file);
    // Header first (cheap): every tensor in a shard must be the one the index sends there.
    const header = await readSafetensorsHeader(path);
    for (const entry of header.tensors) {
      const listedIn = index.weightMap.get(entry.name);
      if (listedIn !== file) {
        const says = listedIn === undefined ? "does not list it" : `puts it in ${listedIn}`;
        throw new Error(`${path}: tensor "${entry.name}" is in this shard but ${basename(indexPath)} ${says}`);
      }
    }
    const readOpts: ReadOptions = { requireAll: true };
    if (opts.ignore !== undefined) readOpts.ignore = opts.ignore;
    const sha = opts.sha256?.get(file);
    if (sha !== undefined) readOpts.sha256 = sha;
    await readSafetensorsInto(path, fileTargets, readOpts);
  }
}

let tempCounter = 0;

/** A sibling temporary name for atomic writes. */
export function tempPathFor(path: string): string {
  tempCounter += 1;
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${tempCounter}`);
}

/** fsync a directory so a rename inside it survives a crash (best effort where unsupported). */
export async function syncDirectory(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, "r");
    await fh.sync();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "EISDIR" && code !== "EPERM" && code !== "EINVAL") throw e;
  } finally {
    await fh?.close();
  }
}

async function writeAll(fh: FileHandle, buf: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, Math.min(buf.length - done, 1 << 30), position + done);
    done += bytesWritten;
  }
}

export interface WriteOptions {
  dtype?: WritableDtype;
  /** String metadata; "format": "pt" is added (transformers refuses files without it). */
  metadata?: Record<string, string>;
}

/** Header bytes (length prefix + JSON padded with spaces to a multiple of 8) and data size. */
function buildHeader(tensors: readonly TensorSource[], dtype: WritableDtype, metadata: Record<string, string>): { head: Buffer; dataBytes: number } {
  const elem = ELEMENT_BYTES[dtype] as number;
  const header: Record<string, unknown> = { __metadata__: { format: "pt", ...metadata } };
  let offset = 0;
  const seen = new Set<string>();
  for (const t of tensors) {
    if (seen.has(t.name)) throw new Error(`writeSafetensors: tensor "${t.name}" appears twice`);
    seen.add(t.name);
    if (t.data.length !== numel(t.shape)) {
      throw new Error(`writeSafetensors: tensor "${t.name}" has ${t.data.length} values but shape ${fmtShape(t.shape)} needs ${numel(t.shape)}`);
    }
    const bytes = t.data.length * elem;
    header[t.name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const jsonBytes = Buffer.from(json, "utf8");
  const head = Buffer.alloc(8 + jsonBytes.length);
  head.writeBigUInt64LE(BigInt(jsonBytes.length), 0);
  jsonBytes.copy(head, 8);
  return { head, dataBytes: offset };
}

/** Writes tensors to path atomically, in the given order; returns the file's size and SHA-256. */
export async function writeSafetensors(path: string, tensors: readonly TensorSource[], opts: WriteOptions = {}): Promise<WrittenFile> {
  const dtype = opts.dtype ?? "F32";
  if (dtype !== "F32" && dtype !== "BF16") throw new Error(`writeSafetensors: dtype must be F32 or BF16; got ${String(dtype)}`);
  const { head, dataBytes } = buildHeader(tensors, dtype, opts.metadata ?? {});
  const tmp = tempPathFor(path);
  const hash = createHash("sha256");
  const fh = await open(tmp, "w");
  try {
    await writeAll(fh, head, 0);
    hash.update(head);
    let position = head.length;
    const scratch = dtype === "BF16" ? new Uint16Array(CHUNK_BYTES / 2) : undefined;
    for (const t of tensors) {
      if (scratch === undefined) {
        const bytes = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
        await writeAll(fh, bytes, position);
        hashUpdate(hash, bytes);
        position += bytes.length;
        continue;
      }
      for (let i = 0; i < t.data.length; i += scratch.length) {
        const src = t.data.subarray(i, Math.min(t.data.length, i + scratch.length));
        const words = scratch.subarray(0, src.length);
        encodeBf16(src, words);
        const bytes = Buffer.from(words.buffer, words.byteOffset, words.byteLength);
        await writeAll(fh, bytes, position);
        hash.update(bytes);
        position += bytes.length;
      }
    }
    await fh.sync();
    await fh.close();
    await rename(tmp, path);
    await syncDirectory(dirname(path));
    return { file: basename(path), bytes: head.length + dataBytes, sha256: hash.digest("hex") };
  } catch (e) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw e;
  }
}

export const SHARD_INDEX_FILE = "model.safetensors.index.json";
export const SINGLE_FILE = "model.safetensors";

/** Shard file name as transformers writes it: model-00002-of-00003.safetensors. */
export function shardFileName(i: number, n: number): string {
  const pad = (k: number) => String(k).padStart(5, "0");
  return `model-${pad(i)}-of-${pad(n)}.safetensors`;
}

/**
 * Writes tensors into dir as model.safetensors, or, when their data exceeds maxShardBytes
 * (default 5 GB, transformers' default), as consecutive shards plus model.safetensors.index.json.
 * A tensor larger than maxShardBytes gets a shard of its own. Returns every file written.
 */
export async function writeSafetensorsSharded(dir: string, tensors: readonly TensorSource[], opts: WriteOptions & { maxShardBytes?: number } = {}): Promise<WrittenFile[]> {
  const dtype = opts.dtype ?? "F32";
  const elem = ELEMENT_BYTES[dtype] as number;
  const maxShard = opts.maxShardBytes ?? 5_000_000_000;
  const sizes = tensors.map((t) => t.data.length * elem);
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total <= maxShard) return [await writeSafetensors(join(dir, SINGLE_FILE), tensors, opts)];
  const shards: TensorSource[][] = [];
  let current: TensorSource[] = [];
  let currentBytes = 0;
  tensors.forEach((t, i) => {
    const size = sizes[i] as number;
    if (current.length > 0 && currentBytes + size > maxShard) {
      shards.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(t);
    currentBytes += size;
  });
  if (current.length > 0) shards.push(current);
  const written: WrittenFile[] = [];
  const weightMap: Record<string, string> = {};
  for (const [i, shard] of shards.entries()) {
    const file = shardFileName(i + 1, shards.length);
    written.push(await writeSafetensors(join(dir, file), shard, opts));
    for (const t of shard) weightMap[t.name] = file;
  }
  const indexText = `${JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2)}\n`;
  written.push(await writeTextAtomic(join(dir, SHARD_INDEX_FILE), indexText));
  return written;
}

/** Writes a small text (or byte) file atomically (temp name, fsync, rename); returns its size and SHA-256. */
export async function writeTextAtomic(path: string, text: string | Uint8Array): Promise<WrittenFile> {
  const bytes = typeof text === "string" ? Buffer.from(text, "utf8") : Buffer.from(text.buffer, text.byteOffset, text.byteLength);
  const tmp = tempPathFor(path);
  const fh = await open(tmp, "w");
  try {
    await writeAll(fh, bytes, 0);
    await fh.sync();
    await fh.close();
    await rename(tmp, path);
    await syncDirectory(dirname(path));
  } catch (e) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw e;
  }
  return { file: basename(path), bytes: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") };
}
