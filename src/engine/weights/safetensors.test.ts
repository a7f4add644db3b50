import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRng } from "../../core/rng.js";
import type { ModelConfig } from "../model/config.js";
import { initParams, type Params } from "./params.js";
import {
  loadSafetensors, loadSafetensorsSharded, readSafetensorsHeader, SHARD_INDEX_FILE, type TensorTarget,
  writeSafetensors, writeSafetensorsSharded,
} from "./safetensors.js";

const config: ModelConfig = {
  vocabSize: 40, hiddenSize: 16, intermediateSize: 24, numHiddenLayers: 2, numAttentionHeads: 4,
  numKeyValueHeads: 2, headDim: 4, rmsNormEps: 1e-6, ropeTheta: 10000, tieWordEmbeddings: false,
  maxPositionEmbeddings: 32,
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "spiral-safetensors-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const bytes = (x: Float32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength);

function sources(p: Params): TensorTarget[] {
  return p.layout.views.map((v) => ({ name: v.name, shape: v.shape, data: p.view(v.name) }));
}

/** A raw safetensors file from a header object and data bytes, bypassing our writer. */
async function rawFile(name: string, header: unknown, data: Uint8Array, headerText?: string): Promise<string> {
  const json = Buffer.from(headerText ?? JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  const path = join(dir, name);
  await writeFile(path, Buffer.concat([len, json, data]));
  return path;
}

function u16(...words: number[]): Uint8Array {
  return new Uint8Array(Uint16Array.from(words).buffer);
}

describe("safetensors write → read", () => {
  it("round-trips F32 bit-exactly, in the standard layout", async () => {
    const p = initParams(config, createRng(1));
    const path = join(dir, "roundtrip.safetensors");
    const written = await writeSafetensors(path, sources(p), { metadata: { note: "test" } });
    const raw = await readFile(path);
    expect(written.bytes).toBe(raw.length);
    const n = Number(raw.readBigUInt64LE(0));
    expect((8 + n) % 8).toBe(0);
    const header = JSON.parse(raw.subarray(8, 8 + n).toString());
    expect(header.__metadata__).toEqual({ format: "pt", note: "test" });
    expect(header["model.layers.1.mlp.down_proj.weight"].shape).toEqual([16, 24]);
    expect(header["model.layers.1.mlp.down_proj.weight"].dtype).toBe("F32");
    const q = initParams(config, createRng(2));
    await loadSafetensors(path, sources(q));
    expect(bytes(q.data).equals(bytes(p.data))).toBe(true);
    expect((await readSafetensorsHeader(path)).metadata.note).toBe("test");
  });

  it("writes BF16 with round-to-nearest-even and reads it back as those values", async () => {
    const data = new Float32Array([1, 1 + 2 ** -8, 1 + 3 * 2 ** -8, -0.1, 65504]);
    const path = join(dir, "bf16.safetensors");
    await writeSafetensors(path, [{ name: "w", shape: [5], data }], { dtype: "BF16" });
    const raw = await readFile(path);
    const n = Number(raw.readBigUInt64LE(0));
    const words = Array.from({ length: 5 }, (_, i) => raw.readUInt16LE(8 + n + 2 * i));
    // -0.1 = 0xbdcccccd → 0xbdcd (rounds up); 65504 = 0x477fe000 → 0x4780 (rounds up to 65536).
    expect(words).toEqual([0x3f80, 0x3f80, 0x3f82, 0xbdcd, 0x4780]);
    const out = new Float32Array(5);
    await loadSafetensors(path, [{ name: "w", shape: [5], data: out }]);
    expect(Array.from(out)).toEqual([1, 1, 1 + 2 ** -6, -0.10009765625, 65536]);
  });

  it("reads BF16 and F16 files written by someone else (known bit patterns)", async () => {
    const data = Buffer.concat([u16(0x3f80, 0xc000, 0x7f80, 0x0001), u16(0x3c00, 0x0001, 0x03ff, 0xfc00, 0x7bff, 0x8000)]);
    const path = await rawFile("mixed.safetensors", {
      a: { dtype: "BF16", shape: [2, 2], data_offsets: [0, 8] },
      b: { dtype: "F16", shape: [6], data_offsets: [8, 20] },
    }, data);
    const a = new Float32Array(4);
    const b = new Float32Array(6);
    await loadSafetensors(path, [{ name: "a", shape: [2, 2], data: a }, { name: "b", shape: [6], data: b }]);
    expect(Array.from(a)).toEqual([1, -2, Infinity, 2 ** -133]);
    expect(Array.from(b)).toEqual([1, 2 ** -24, 1023 * 2 ** -24, -Infinity, 65504, -0]);
  });

  it("converts tensors larger than the 16 MiB scratch in pieces", async () => {
    const n = 9_000_000; // 18 MB as BF16: two pieces
    const src = new Float32Array(n);
    for (let i = 0; i < n; i++) src[i] = (i % 513) - 256; // integers |x| ≤ 256 are exact in bf16
    const path = join(dir, "big.safetensors");
    await writeSafetensors(path, [{ name: "big", shape: [n], data: src }], { dtype: "BF16" });
    const dst = new Float32Array(n);
    await loadSafetensors(path, [{ name: "big", shape: [n], data: dst }]);
    expect(bytes(dst).equals(bytes(src))).toBe(true);
  });
});

describe("safetensors validation names the file and the tensor", () => {
  const w = (data: Float32Array) => [{ name: "w", shape: [2], data }];

  it("rejects a header length past the end, bad JSON and non-object headers", async () => {
    const p1 = join(dir, "short.safetensors");
    await writeFile(p1, Buffer.from([1, 2, 3]));
    await expect(loadSafetensors(p1, [])).rejects.toThrow(/short\.safetensors: 3 bytes is too short/);
    const p2 = join(dir, "len.safetensors");
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(1000n);
    await writeFile(p2, Buffer.concat([len, Buffer.from("{}")]));
    await expect(loadSafetensors(p2, [])).rejects.toThrow(/len\.safetensors: header length 1000 runs past the end of the 10-byte file/);
    const p3 = await rawFile("json.safetensors", null, new Uint8Array(0), "{\"w\": ");
    await expect(loadSafetensors(p3, [])).rejects.toThrow(/json\.safetensors: the safetensors header is not valid JSON/);
    const p4 = await rawFile("array.safetensors", [1, 2], new Uint8Array(0));
    await expect(loadSafetensors(p4, [])).rejects.toThrow(/must be a JSON object/);
  });

  it("rejects offsets that disagree with dtype × shape, overlap, leave gaps or run past the file", async () => {
    const eight = new Uint8Array(8);
    const p1 = await rawFile("size.safetensors", { w: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, eight);
    await expect(loadSafetensors(p1, w(new Float32Array(2)))).rejects.toThrow(/size\.safetensors: tensor "w": data_offsets \[0, 8\] span 8 bytes, but F32 \[3\] needs 12/);
    const p2 = await rawFile("overlap.safetensors", {
      a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
      b: { dtype: "F32", shape: [1], data_offsets: [4, 8] },
    }, eight);
    await expect(loadSafetensors(p2, [])).rejects.toThrow(/overlap\.safetensors: tensor "b" at bytes \[4, 8\) overlaps/);
    const p3 = await rawFile("gap.safetensors", { w: { dtype: "F32", shape: [1], data_offsets: [4, 8] } }, eight);
    await expect(loadSafetensors(p3, [])).rejects.toThrow(/gap\.safetensors: tensor "w" starts at byte 4, leaving a gap/);
    const p4 = await rawFile("past.safetensors", { w: { dtype: "F32", shape: [4], data_offsets: [0, 16] } }, eight);
    await expect(loadSafetensors(p4, [])).rejects.toThrow(/past\.safetensors: tensor "w" needs data bytes \[0, 16\) but the file has only 8 \(truncated file\?\)/);
    const p5 = await rawFile("neg.safetensors", { w: { dtype: "F32", shape: [2], data_offsets: [8, 0] } }, eight);
    await expect(loadSafetensors(p5, [])).rejects.toThrow(/neg\.safetensors: tensor "w": data_offsets \[8, 0\] end before they begin/);
    const p6 = await rawFile("trail.safetensors", { w: { dtype: "F32", shape: [1], data_offsets: [0, 4] } }, eight);
    await expect(loadSafetensors(p6, [])).rejects.toThrow(/trail\.safetensors: 4 bytes after the last tensor/);
  });

  it("detects a file truncated after writing", async () => {
    const p = initParams(config, createRng(3));
    const path = join(dir, "cut.safetensors");
    const { bytes: size } = await writeSafetensors(path, sources(p));
    await truncate(path, size - 100);
    await expect(loadSafetensors(path, sources(p))).rejects.toThrow(/cut\.safetensors: tensor "model\.norm\.weight" needs data bytes .* \(truncated file\?\)|cut\.safetensors: tensor "lm_head\.weight" needs data bytes .* \(truncated file\?\)/);
  });

  it("rejects unknown and unsupported dtypes", async () => {
    const p1 = await rawFile("dtype.safetensors", { w: { dtype: "F12", shape: [2], data_offsets: [0, 4] } }, new Uint8Array(4));
    await expect(loadSafetensors(p1, w(new Float32Array(2)))).rejects.toThrow(/dtype\.safetensors: tensor "w": unknown dtype "F12"/);
    const p2 = await rawFile("i64.safetensors", { w: { dtype: "I64", shape: [2], data_offsets: [0, 16] } }, new Uint8Array(16));
    await expect(loadSafetensors(p2, w(new Float32Array(2)))).rejects.toThrow(/i64\.safetensors: tensor "w" has dtype I64; only F32, BF16 and F16 can be loaded/);
  });

  it("rejects missing, extra and mis-shaped tensors against the expected layout", async () => {
    const path = await rawFile("set.safetensors", {
      w: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
      extra: { dtype: "F32", shape: [1], data_offsets: [8, 12] },
    }, new Uint8Array(12));
    const targets = [...w(new Float32Array(2)), { name: "extra", shape: [1], data: new Float32Array(1) }];
    await loadSafetensors(path, targets); // baseline: loads
    await expect(loadSafetensors(path, w(new Float32Array(2)))).rejects.toThrow(/set\.safetensors: unexpected tensor "extra" \[1\]/);
    await loadSafetensors(path, w(new Float32Array(2)), { ignore: (n) => n === "extra" });
    await expect(loadSafetensors(path, [...targets, { name: "lost", shape: [3], data: new Float32Array(3) }])).rejects.toThrow(/set\.safetensors: missing 1 tensor\(s\) the model needs: "lost"/);
    // Found from the header alone, before the data is read (so before a wrong hash could show up).
    await expect(loadSafetensors(path, [...targets, { name: "lost", shape: [3], data: new Float32Array(3) }], { sha256: "0".repeat(64) })).rejects.toThrow(/missing 1 tensor/);
    await expect(loadSafetensors(path, [{ name: "w", shape: [1, 2], data: new Float32Array(2) }, targets[1] as TensorTarget])).rejects.toThrow(/set\.safetensors: tensor "w" has shape \[2\]; the model expects \[1, 2\]/);
  });

  it("verifies a SHA-256 in the same pass and names the damaged file", async () => {
    const p = initParams(config, createRng(4));
    const path = join(dir, "sha.safetensors");
    const { sha256 } = await writeSafetensors(path, sources(p), { dtype: "BF16" });
    await loadSafetensors(path, sources(initParams(config, createRng(5))), { sha256 });
    const raw = await readFile(path);
    raw[raw.length - 3] = (raw[raw.length - 3] as number) ^ 0x01; // one flipped bit in lm_head
    await writeFile(path, raw);
    await expect(loadSafetensors(path, sources(p), { sha256 })).rejects.toThrow(/sha\.safetensors: SHA-256 is [0-9a-f]{64} but the checkpoint manifest says/);
  });
});

describe("sharded safetensors", () => {
  it("writes 3 shards plus an index above the threshold and reads them back bit-exactly", async () => {
    const p = initParams(config, createRng(6));
    const shardDir = await mkdtemp(join(dir, "sharded-"));
    // Embedding and lm_head are 40·16·4 = 2560 bytes each; each layer is ~10 KB; total ≈ 26 KB.
    const written = await writeSafetensorsSharded(shardDir, sources(p), { maxShardBytes: 10_000 });
    const files = (await readdir(shardDir)).sort();
    expect(files.filter((f) => f.endsWith(".safetensors")).length).toBeGreaterThanOrEqual(3);
    expect(files).toContain(SHARD_INDEX_FILE);
    expect(files).toContain("model-00001-of-0000" + String(files.length - 1) + ".safetensors");
    expect(written.map((w) => w.file).sort()).toEqual(files);
    const index = JSON.parse(await readFile(join(shardDir, SHARD_INDEX_FILE), "utf8"));
    expect(index.metadata.total_size).toBe(p.layout.views.reduce((a, v) => a + 4 * v.size, 0));
    expect(Object.keys(index.weight_map).length).toBe(p.layout.views.length);
    const q = initParams(config, createRng(7));
    await loadSafetensorsSharded(join(shardDir, SHARD_INDEX_FILE), sources(q));
    expect(bytes(q.data).equals(bytes(p.data))).toBe(true);
  });

  it("writes exactly three shards when asked to, and reads a hand-written 3-shard set", async () => {
    const shardDir = await mkdtemp(join(dir, "three-"));
    const t = (name: string, values: number[]) => ({ name, shape: [values.length], data: Float32Array.from(values) });
    const tensors = [t("a", [1, 2]), t("b", [3, 4]), t("c", [5, 6])];
    const written = await writeSafetensorsSharded(shardDir, tensors, { maxShardBytes: 8 });
    expect(written.map((w) => w.file)).toEqual([
      "model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors", SHARD_INDEX_FILE,
    ]);
    const out = tensors.map((x) => ({ ...x, data: new Float32Array(2) }));
    await loadSafetensorsSharded(join(shardDir, SHARD_INDEX_FILE), out);
    expect(out.map((x) => Array.from(x.data))).toEqual([[1, 2], [3, 4], [5, 6]]);
    // An index that swaps the shards of "b" and "c" is caught, naming the shard and the tensor.
    const index = JSON.parse(await readFile(join(shardDir, SHARD_INDEX_FILE), "utf8"));
    index.weight_map.b = "model-00003-of-00003.safetensors";
    index.weight_map.c = "model-00002-of-00003.safetensors";
    await writeFile(join(shardDir, SHARD_INDEX_FILE), JSON.stringify(index));
    await expect(loadSafetensorsSharded(join(shardDir, SHARD_INDEX_FILE), out)).rejects.toThrow(/model-00003-of-00003\.safetensors: tensor "c" is in this shard but model\.safetensors\.index\.json puts it in model-00002-of-00003\.safetensors/);
    // A missing tensor is named.
    delete index.weight_map.b;
    await writeFile(join(shardDir, SHARD_INDEX_FILE), JSON.stringify(index));
    await expect(loadSafetensorsSharded(join(shardDir, SHARD_INDEX_FILE), out)).rejects.toThrow(/missing 1 tensor\(s\) the model needs: "b"/);
    await writeFile(join(shardDir, SHARD_INDEX_FILE), "{\"weight_map\": {\"a\": \"../etc/passwd\"}}");
    await expect(loadSafetensorsSharded(join(shardDir, SHARD_INDEX_FILE), out)).rejects.toThrow(/weight_map\["a"\] must be a plain file name/);
  });

  it("writes a single model.safetensors below the threshold and leaves no temporary files", async () => {
    const shardDir = await mkdtemp(join(dir, "single-"));
    const written = await writeSafetensorsSharded(shardDir, [{ name: "a", shape: [1], data: new Float32Array([1]) }]);
    expect(written.map((w) => w.file)).toEqual(["model.safetensors"]);
    expect(await readdir(shardDir)).toEqual(["model.safetensors"]);
  });
});
