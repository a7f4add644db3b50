import { mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRng } from "../../core/rng.js";
import { f32ToBf16Bits, bf16BitsToF32 } from "./bf16.js";
import { loadCheckpoint, MANIFEST_FILE, saveCheckpoint, type SaveStage } from "./checkpoint.js";
import type { ModelConfig } from "../model/config.js";
import { AdamW } from "../train/optimizer.js";
import { initParams } from "./params.js";
import { readSafetensorsHeader, writeSafetensors } from "./safetensors.js";

const config: ModelConfig = {
  vocabSize: 50, hiddenSize: 16, intermediateSize: 24, numHiddenLayers: 2, numAttentionHeads: 4,
  numKeyValueHeads: 2, headDim: 4, rmsNormEps: 1e-6, ropeTheta: 10000, tieWordEmbeddings: true,
  maxPositionEmbeddings: 32, bosTokenId: 1, eosTokenId: [2, 3],
};

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "spiral-ckpt-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const bytes = (x: Float32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength);

describe("saveCheckpoint / loadCheckpoint", () => {
  it("round-trips config and F32 weights bit-exactly in the HF layout (tied: no lm_head)", async () => {
    const params = initParams(config, createRng(1));
    const dir = join(root, "f32");
    const written = await saveCheckpoint(dir, { config, params });
    expect((await readdir(dir)).sort()).toEqual(["config.json", "model.safetensors", MANIFEST_FILE].sort());
    expect(written.map((w) => w.file)).toEqual(["config.json", "model.safetensors"]);
    const hf = JSON.parse(await readFile(join(dir, "config.json"), "utf8"));
    expect(hf).toMatchObject({ architectures: ["Qwen3ForCausalLM"], model_type: "qwen3", torch_dtype: "float32", tie_word_embeddings: true, eos_token_id: [2, 3] });
    const header = await readSafetensorsHeader(join(dir, "model.safetensors"));
    expect(header.byName.has("lm_head.weight")).toBe(false);
    expect(header.byName.get("model.embed_tokens.weight")?.shape).toEqual([50, 16]);
    const loaded = await loadCheckpoint(dir);
    expect(loaded.config).toEqual(config);
    expect(bytes(loaded.params.data).equals(bytes(params.data))).toBe(true);
    expect(loaded.optimizer).toBeUndefined();
    expect(loaded.trainerState).toBeUndefined();
  });

  it("writes BF16 (torch_dtype bfloat16) and loads the rounded values", async () => {
    const params = initParams(config, createRng(2));
    const dir = join(root, "bf16");
    await saveCheckpoint(dir, { config, params, dtype: "BF16" });
    expect(JSON.parse(await readFile(join(dir, "config.json"), "utf8")).torch_dtype).toBe("bfloat16");
    const loaded = await loadCheckpoint(dir);
    const w = params.view("model.layers.1.mlp.up_proj.weight");
    const got = loaded.params.view("model.layers.1.mlp.up_proj.weight");
    for (let i = 0; i < w.length; i += 37) expect(got[i]).toBe(bf16BitsToF32(f32ToBf16Bits(w[i] as number)));
  });

  it("round-trips optimiser and trainer state so training continues bit for bit", async () => {
    const rng = createRng(3);
    const params = initParams(config, rng);
    const n = params.data.length;
    const grads = Array.from({ length: 4 }, () => Float32Array.from({ length: n }, () => rng.normal() * 0.1));
    // Gradients are zero in the alignment padding, as the graph engine produces them.
    const padMask = new Uint8Array(n);
    for (const v of params.layout.views) padMask.fill(1, v.offset, v.offset + v.size);
    for (const g of grads) for (let i = 0; i < n; i++) if (padMask[i] === 0) g[i] = 0;
    const opts = { lr: 1e-2, weightDecay: 0.1 };
    const opt = new AdamW(n, opts);
    opt.step(params.data, grads[0] as Float32Array);
    opt.step(params.data, grads[1] as Float32Array);
    const dir = join(root, "resume");
    const trainerState = { step: 2, baselines: { "TicTacToe-v0": [0.1, -0.2] }, rng: [1, 2, 3, 4] };
    await saveCheckpoint(dir, { config, params, optimizer: opt, trainerState });
    const loaded = await loadCheckpoint(dir);
    expect(loaded.trainerState).toEqual(trainerState);
    expect(loaded.optimizer?.state.step).toBe(2);
    expect(loaded.optimizer?.hyper).toEqual(opt.hyper);
    const resumed = AdamW.fromState(loaded.optimizer?.state as never, loaded.optimizer?.hyper as never);
    for (const g of grads.slice(2)) {
      opt.step(params.data, g);
      resumed.step(loaded.params.data, g);
    }
    expect(bytes(loaded.params.data).equals(bytes(params.data))).toBe(true);
  });

  it("reads sharded weights and HF downloads without a manifest, ignoring a tied lm_head", async () => {
    const params = initParams(config, createRng(4));
    const dir = join(root, "sharded");
    await saveCheckpoint(dir, { config, params, maxShardBytes: 8000 });
    const files = await readdir(dir);
    expect(files).toContain("model.safetensors.index.json");
    expect(files.filter((f) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(f)).length).toBeGreaterThanOrEqual(3);
    expect(bytes((await loadCheckpoint(dir)).params.data).equals(bytes(params.data))).toBe(true);

    const hfDir = join(root, "hf-download");
    await mkdir(hfDir);
    await writeFile(join(hfDir, "config.json"), await readFile(join(dir, "config.json")));
    const tensors = params.layout.views.map((v) => ({ name: v.name, shape: v.shape, data: params.view(v.name) }));
    tensors.push({ name: "lm_head.weight", shape: [50, 16], data: params.view("model.embed_tokens.weight") });
    await writeSafetensors(join(hfDir, "model.safetensors"), tensors, { dtype: "BF16" });
    const loaded = await loadCheckpoint(hfDir);
    expect(loaded.params.view("model.norm.weight")[0]).toBe(1);
  });

  it("explains what a checkpoint directory needs", async () => {
    await expect(loadCheckpoint(join(root, "nope"))).rejects.toThrow(/Expected a checkpoint directory with config\.json and model\.safetensors \(or model\.safetensors\.index\.json\); got .*nope \(it does not exist\)/);
    const empty = join(root, "empty");
    await mkdir(empty);
    await expect(loadCheckpoint(empty)).rejects.toThrow(/Expected a checkpoint directory .* \(it has no config\.json\)/);
    await writeFile(join(empty, "config.json"), "{}");
    await writeFile(join(empty, "pytorch_model.bin"), "");
    await expect(loadCheckpoint(empty)).rejects.toThrow(/it has config\.json but no weights; it has pytorch_model\.bin/);
    await writeFile(join(empty, "model.safetensors"), "");
    await expect(loadCheckpoint(empty)).rejects.toThrow(/empty\/config\.json: .*vocab_size/);
  });

  it("names the tensors when config.json and the weights disagree", async () => {
    const params = initParams(config, createRng(10));
    const dir = join(root, "mismatch");
    await saveCheckpoint(dir, { config, params });
    await rm(join(dir, MANIFEST_FILE)); // as a hand-edited HF directory (the manifest would flag the edit first)
    const cfg = JSON.parse(await readFile(join(dir, "config.json"), "utf8"));
    const edit = async (change: Record<string, unknown>) =>
      writeFile(join(dir, "config.json"), JSON.stringify({ ...cfg, ...change }));
    await edit({ num_hidden_layers: 3 });
    await expect(loadCheckpoint(dir)).rejects.toThrow(/model\.safetensors: missing 11 tensor\(s\) the model needs: "model\.layers\.2\.input_layernorm\.weight"/);
    await edit({ num_hidden_layers: 1 });
    await expect(loadCheckpoint(dir)).rejects.toThrow(/unexpected tensor "model\.layers\.1\.[a-z_.]+" .*does config\.json match these weights\?/);
    await edit({ tie_word_embeddings: false });
    await expect(loadCheckpoint(dir)).rejects.toThrow(/missing 1 tensor\(s\) the model needs: "lm_head\.weight"/);
    await edit({ intermediate_size: 32 });
    await expect(loadCheckpoint(dir)).rejects.toThrow(/tensor "model\.layers\.0\.mlp\.gate_proj\.weight" has shape \[24, 16\]; the model expects \[32, 16\]/);
  });

  it("detects damaged and truncated checkpoints, naming the file", async () => {
    const params = initParams(config, createRng(5));
    const dir = join(root, "damaged");
    await saveCheckpoint(dir, { config, params });
    const weights = join(dir, "model.safetensors");
    const raw = await readFile(weights);
    raw[raw.length - 10] = (raw[raw.length - 10] as number) ^ 0x40;
    await writeFile(weights, raw);
    await expect(loadCheckpoint(dir)).rejects.toThrow(/model\.safetensors: SHA-256 is [0-9a-f]{64} but the checkpoint manifest says/);
    await loadCheckpoint(dir, { verify: false }); // opting out of the hash still loads
    await truncate(weights, raw.length - 4);
    await expect(loadCheckpoint(dir)).rejects.toThrow(/model\.safetensors: \d+ bytes but spiral-manifest\.json says \d+ \(the checkpoint is damaged or truncated\)/);
    const cfg = JSON.parse(await readFile(join(dir, "config.json"), "utf8"));
    await saveCheckpoint(dir, { config, params }); // overwriting repairs it
    await loadCheckpoint(dir);
    await writeFile(join(dir, "config.json"), `${JSON.stringify({ ...cfg, rope_theta: 1 }, null, 2)}\n`);
    await expect(loadCheckpoint(dir)).rejects.toThrow(/config\.json: (SHA-256 is|\d+ bytes but)/);
  });

  it("replaces an existing checkpoint atomically and never an unrelated directory", async () => {
    const a = initParams(config, createRng(6));
    const b = initParams(config, createRng(7));
    const dir = join(root, "replace");
    await saveCheckpoint(dir, { config, params: a });
    await saveCheckpoint(dir, { config, params: b });
    expect(bytes((await loadCheckpoint(dir)).params.data).equals(bytes(b.data))).toBe(true);
    // A save that fails part-way (optimizer of the wrong size, after the weights are written)
    // leaves the old checkpoint intact and no hidden partial directory behind.
    await expect(saveCheckpoint(dir, { config, params: a, optimizer: new AdamW(3, { lr: 1 }) })).rejects.toThrow(/optimizer has 3 moments/);
    expect(bytes((await loadCheckpoint(dir)).params.data).equals(bytes(b.data))).toBe(true);
    expect((await readdir(root)).filter((f) => f.startsWith("."))).toEqual([]);
    const unrelated = join(root, "my-notes");
    await mkdir(unrelated);
    await writeFile(join(unrelated, "todo.txt"), "keep me");
    await expect(saveCheckpoint(unrelated, { config, params: a })).rejects.toThrow(/Refusing to save a checkpoint over .*my-notes: it exists and is not a checkpoint/);
    expect(await readFile(join(unrelated, "todo.txt"), "utf8")).toBe("keep me");
  });

  it("a save stopped dead at any stage (as by kill -9) never leaves a target that loads wrongly", async () => {
    const v1 = initParams(config, createRng(8));
    const v2 = initParams(config, createRng(9));
    const opt = new AdamW(v2.data.length, { lr: 1 });
    const stages: SaveStage[] = [
      "partial-created", "config-written", "weights-written", "optimizer-written", "trainer-state-written",
      "manifest-written", "old-moved-aside", "swapped",
    ];
    const seen: string[] = [];
    for (const stopAt of stages) {
      const dir = join(root, `frozen-${stopAt}`);
      await saveCheckpoint(dir, { config, params: v1 });
      // Start a second save and freeze it for ever at stopAt: no cleanup code will run.
      await new Promise<void>((reached) => {
        saveCheckpoint(dir, {
          config, params: v2, optimizer: opt, trainerState: { step: 2 },
          onStage: (s) => (s === stopAt ? (reached(), new Promise<void>(() => undefined)) : undefined),
        }).then(() => reached(), () => reached()); // a save that never reaches stopAt must not hang the test
      });
      let outcome: string;
      try {
        const { params } = await loadCheckpoint(dir);
        outcome = bytes(params.data).equals(bytes(v1.data)) ? "v1" : bytes(params.data).equals(bytes(v2.data)) ? "v2" : "mixed";
      } catch (e) {
        const msg = (e as Error).message;
        outcome = /it does not exist; a save was interrupted .* the previous checkpoint is in .*\.old-/.test(msg) ? "absent" : `error: ${msg}`;
      }
      seen.push(`${stopAt}:${outcome}`);
      // A later save succeeds whatever the frozen one left behind.
      await saveCheckpoint(dir, { config, params: v1 });
      expect(bytes((await loadCheckpoint(dir)).params.data).equals(bytes(v1.data))).toBe(true);
    }
    expect(seen).toEqual([
      "partial-created:v1", "config-written:v1", "weights-written:v1", "optimizer-written:v1", "trainer-state-written:v1",
      "manifest-written:v1", "old-moved-aside:absent", "swapped:v2",
    ]);
  });

  it("without a manifest: checks structure, says so, and catches what structure can (offsets, shapes vs config.json, non-finite values)", async () => {
    const params = initParams(config, createRng(7));
    const fresh = async (name: string): Promise<string> => {
      const dir = join(root, name);
      await saveCheckpoint(dir, { config, params });
      await rm(join(dir, MANIFEST_FILE)); // as written by another tool, or with its manifest lost
      return dir;
    };
    // Intact: loads, reported as checked by structure only.
    const intact = await loadCheckpoint(await fresh("nm-intact"));
    expect(intact.verification).toBe("structure");
    expect(bytes(intact.params.data).equals(bytes(params.data))).toBe(true);
    expect((await loadCheckpoint(join(root, "f32"))).verification).toBe("sha256");
    expect((await loadCheckpoint(join(root, "f32"), { verify: false })).verification).toBe("sizes");
    // Truncated weights: the header's offsets run past the end.
    const cut = await fresh("nm-truncated");
    const size = (await readFile(join(cut, "model.safetensors"))).length;
    await truncate(join(cut, "model.safetensors"), size - 4);
    await expect(loadCheckpoint(cut)).rejects.toThrow(/model\.safetensors: tensor ".*" needs data bytes .* but the file has only \d+ \(truncated file\?\)/);
    // config.json edited to another shape: the tensors do not match it.
    const edited = await fresh("nm-config");
    const hf = JSON.parse(await readFile(join(edited, "config.json"), "utf8")) as Record<string, unknown>;
    await writeFile(join(edited, "config.json"), JSON.stringify({ ...hf, intermediate_size: 32 }));
    await expect(loadCheckpoint(edited)).rejects.toThrow(/tensor "model\.layers\.0\.mlp\.\w+_proj\.weight" has shape \[\d+, \d+\]; the model expects/);
    // A flipped exponent bit that makes a non-finite weight.
    const flipped = await fresh("nm-nan");
    const file = await readFile(join(flipped, "model.safetensors"));
    const headerLength = Number(file.readBigUInt64LE(0));
    file.writeUInt32LE(0x7fc00000, 8 + headerLength + 4 * 5); // element 5 of the first tensor → NaN
    await writeFile(join(flipped, "model.safetensors"), file);
    await expect(loadCheckpoint(flipped)).rejects.toThrow(/tensor ".*" holds NaN at element 5: the weights are damaged \(no spiral-manifest\.json to check them against\)/);
    // What structure cannot see (documented): a finite flipped value, or a changed rope_theta.
    const quiet = await fresh("nm-undetectable");
    const q = await readFile(join(quiet, "model.safetensors"));
    q.writeFloatLE(0.5, 8 + Number(q.readBigUInt64LE(0)));
    await writeFile(join(quiet, "model.safetensors"), q);
    await writeFile(join(quiet, "config.json"), JSON.stringify({ ...hf, rope_theta: 500000 }));
    const loaded = await loadCheckpoint(quiet);
    expect(loaded.verification).toBe("structure");
    expect(loaded.config.ropeTheta).toBe(500000);
    // With its manifest, both edits are caught.
    const guarded = join(root, "with-manifest");
    await saveCheckpoint(guarded, { config, params });
    await writeFile(join(guarded, "config.json"), JSON.stringify({ ...hf, rope_theta: 500000 }));
    await expect(loadCheckpoint(guarded)).rejects.toThrow(/config\.json: (SHA-256 is|\d+ bytes but)/);
  });

  it("copies extra files (the tokenizer) into the checkpoint, listed and checked by the manifest", async () => {
    const params = initParams(config, createRng(8));
    const source = join(root, "tok-source");
    await mkdir(source, { recursive: true });
    await writeFile(join(source, "tokenizer.json"), '{"model": {}}');
    const dir = join(root, "with-files");
    const written = await saveCheckpoint(dir, { config, params, files: [{ name: "tokenizer.json", from: join(source, "tokenizer.json") }] });
    expect(written.map((w) => w.file)).toContain("tokenizer.json");
    expect(await readFile(join(dir, "tokenizer.json"), "utf8")).toBe('{"model": {}}');
    expect((await loadCheckpoint(dir)).verification).toBe("sha256");
    await writeFile(join(dir, "tokenizer.json"), '{"model": []}'); // same size, other bytes
    await expect(loadCheckpoint(dir)).rejects.toThrow(/tokenizer\.json: SHA-256 is [0-9a-f]{64} but spiral-manifest\.json says/);
  });
});
