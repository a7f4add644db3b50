import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadCheckpoint, saveCheckpoint } from "../engine/weights/checkpoint.js";
import type { ModelConfig } from "../engine/model/config.js";
import { ggufTensorValues, qwen3GgufTensorName, readGguf } from "../engine/weights/gguf.js";
import { initAdapter, LORA_TARGETS, mergeAdapter } from "../engine/model/lora.js";
import { initParams } from "../engine/weights/params.js";
import { loadAdapter, saveAdapter } from "../engine/weights/peft.js";
import { modelPreset } from "../engine/model/presets.js";
import { createRng } from "../core/rng.js";
import { formatPolicySpec, parsePolicySpec } from "../policy/policy-spec.js";
import { parseBenchMathOptions } from "./bench-math.js";
import { evalCommand, type EvalResult, parseEvalOptions } from "./eval.js";
import { exportCommand } from "./export.js";
import { generateCommand } from "./generate.js";
import { scriptedIo } from "./io.js";
import { mergeCommand } from "./merge.js";

const root = mkdtempSync(join(tmpdir(), "spiral-merge-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const shape: ModelConfig = { ...modelPreset("tiny"), hiddenSize: 32, intermediateSize: 64, numHiddenLayers: 2, numAttentionHeads: 2, numKeyValueHeads: 1, headDim: 16 };
const base = join(root, "base");
const adapterDir = join(root, "adapter");

async function run(cmd: ReturnType<typeof generateCommand>, args: string[], io: ReturnType<typeof scriptedIo>): Promise<string> {
  await cmd.parseAsync(args, { from: "user" });
  return io.stdout();
}

describe("spiral merge and --adapter", () => {
  it("merge writes a full checkpoint in the base's dtype that generates what base + adapter generates", async () => {
    await saveCheckpoint(base, { config: shape, params: initParams(shape, createRng("b"), 0.3), dtype: "BF16" });
    const adapter = initAdapter(shape, { r: 4, alpha: 8, targets: [...LORA_TARGETS] }, createRng("a"));
    const rng = createRng("B");
    for (const v of adapter.params.layout.views) if (v.name.endsWith("lora_B.weight")) for (let i = 0; i < v.size; i++) adapter.params.data[v.offset + i] = 0.3 * rng.normal();
    await saveAdapter(adapterDir, { adapter, baseModel: base });
    const out = join(root, "merged");
    const mio = scriptedIo([]);
    await mergeCommand(mio).parseAsync(["--model", base, "--adapter", adapterDir, "--out", out], { from: "user" });
    expect(JSON.parse(readFileSync(join(out, "config.json"), "utf8")).torch_dtype).toBe("bfloat16");
    expect((await loadCheckpoint(out)).config).toEqual(shape);
    const args = ["--prompt", "Hello there", "--temperature", "0", "--max-new", "24", "--json"];
    const gio = scriptedIo([]);
    const merged = JSON.parse(await run(generateCommand(gio), ["--model", out, ...args], gio)) as { tokens: number[] };
    const aio = scriptedIo([]);
    const adapted = JSON.parse(await run(generateCommand(aio), ["--model", base, "--adapter", adapterDir, ...args], aio)) as { tokens: number[] };
    const pio = scriptedIo([]);
    const plain = JSON.parse(await run(generateCommand(pio), ["--model", base, ...args], pio)) as { tokens: number[] };
    // Merged BF16 weights round W + s·B·A, so compare a prefix greedy decoding agrees on.
    expect(adapted.tokens.slice(0, 4)).toEqual(merged.tokens.slice(0, 4));
    expect(adapted.tokens).not.toEqual(plain.tokens);
  }, 60_000);

  it("merge refuses an --out folder that holds files (the base, the adapter, an earlier merge), leaving it as it was", async () => {
    for (const out of [base, adapterDir]) {
      const before = readdirSync(out).map((f) => [f, readFileSync(join(out, f)).length]);
      await expect(mergeCommand(scriptedIo([])).parseAsync(["--model", base, "--adapter", adapterDir, "--out", out], { from: "user" })).rejects.toThrow(
        new RegExp(`^--out ${out}: the folder holds files \\(.+\\) that the merged checkpoint would replace; give a new or empty folder$`),
      );
      expect(readdirSync(out).map((f) => [f, readFileSync(join(out, f)).length])).toEqual(before);
    }
  });

  it("export --gguf --adapter writes the merged weights (f32: exactly W + s·B·A)", async () => {
    const gguf = join(root, "adapted.gguf");
    await exportCommand(scriptedIo([])).parseAsync(["--gguf", gguf, "--model", base, "--adapter", adapterDir, "--dtype", "f32"], { from: "user" });
    const { config, params } = await loadCheckpoint(base, { optimizer: false });
    const merged = mergeAdapter(config, params, (await loadAdapter(adapterDir, config, { optimizer: false })).adapter);
    const { file, bytes } = await readGguf(gguf);
    for (const name of ["model.layers.0.self_attn.q_proj.weight", "model.layers.1.mlp.down_proj.weight"]) {
      const info = file.tensors.find((t) => t.name === qwen3GgufTensorName(name));
      const view = merged.layout.views.find((v) => v.name === name);
      if (info === undefined || view === undefined) throw new Error(`missing ${name}`);
      const written = ggufTensorValues(bytes, info);
      expect(Array.from(written)).toEqual(Array.from(merged.data.subarray(view.offset, view.offset + view.size)));
      const baseView = params.layout.views.find((v) => v.name === name);
      expect(Array.from(written)).not.toEqual(Array.from(params.data.subarray(baseView?.offset ?? 0, (baseView?.offset ?? 0) + (baseView?.size ?? 0))));
    }
  }, 60_000);

  it("policy specs name BASE+ADAPTER, or an adapter whose base is a local directory", () => {
    const spec = parsePolicySpec(`${base}+${adapterDir}`);
    expect(spec).toEqual({ kind: "checkpoint", dir: base, adapter: adapterDir });
    expect(formatPolicySpec(spec)).toBe(`${base}+${adapterDir}`);
    expect(parsePolicySpec(adapterDir)).toEqual({ kind: "checkpoint", dir: base, adapter: adapterDir });
    expect(() => parsePolicySpec(`${base}+${root}`)).toThrow(/ADAPTER a LoRA adapter directory/);
  });

  it("eval --adapter DIR plays the checkpoint of --a with the adapter, as --a BASE+DIR does", async () => {
    const play = async (args: string[]) => {
      const io = scriptedIo([]);
      await evalCommand(io).parseAsync(["--game", "TicTacToe-v0", "--b", "random", "--games", "4", "--temperature", "0", "--max-new", "8", "--json", ...args], { from: "user" });
      return JSON.parse(io.stdout()) as Extract<EvalResult, { kind: "match" }>;
    };
    const flag = await play(["--a", base, "--adapter", adapterDir]);
    const spec = await play(["--a", `${base}+${adapterDir}`]);
    expect(flag.report.a).toBe(`${base}+${adapterDir}`);
    expect(flag.report.outcomes).toEqual(spec.report.outcomes);
  }, 60_000);

  it("--adapter is refused where it names nothing to apply to", () => {
    const raw = { game: "TicTacToe-v0", games: "1", temperature: "0", seed: "0", maxNew: "8", concurrency: "1", timeout: "1", retries: "0" };
    expect(() => parseEvalOptions({ ...raw, tournament: [base, "random"], adapter: adapterDir })).toThrow(/--adapter applies to the checkpoint given by --a/);
    expect(() => parseEvalOptions({ ...raw, a: "openai:http://x#m", b: "random", adapter: adapterDir })).toThrow(/is an endpoint/);
    expect(() => parseEvalOptions({ ...raw, a: `${base}+${adapterDir}`, b: "random", adapter: adapterDir })).toThrow(/already names an adapter/);
    expect(parseEvalOptions({ ...raw, a: base, b: "random", adapter: adapterDir }).a).toBe(`${base}+${adapterDir}`);
    const math = { model: base, adapter: adapterDir, data: ["x.jsonl"], samples: "1", maxNew: "8", temperature: "0", topP: "1", seed: "0", concurrency: "1", timeout: "1", retries: "0", grader: "strict" };
    expect(parseBenchMathOptions(math).model).toBe(`${base}+${adapterDir}`);
  });
});
