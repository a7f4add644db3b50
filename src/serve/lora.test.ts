import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { saveCheckpoint } from "../engine/weights/checkpoint.js";
import type { ModelConfig } from "../engine/model/config.js";
import { Generator } from "../engine/infer/generate.js";
import { type Adapter, initAdapter, LORA_TARGETS } from "../engine/model/lora.js";
import { initParams } from "../engine/weights/params.js";
import { saveAdapter } from "../engine/weights/peft.js";
import { modelPreset } from "../engine/model/presets.js";
import { ByteTokenizer } from "../engine/tokenizer/byte-tokenizer.js";
import { createRng } from "../core/rng.js";
import { serveModel, startServer } from "./server.js";
import { requireWebgpu, skipWebgpu } from "../engine/graph/test-webgpu.js";

const root = mkdtempSync(join(tmpdir(), "spiral-serve-lora-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const shape: ModelConfig = { ...modelPreset("tiny"), hiddenSize: 32, intermediateSize: 64, numHiddenLayers: 2, numAttentionHeads: 2, numKeyValueHeads: 1, headDim: 16 };

function adapter(seed: string): Adapter {
  const a = initAdapter(shape, { r: 4, alpha: 8, targets: [...LORA_TARGETS] }, createRng(seed));
  const rng = createRng(`${seed}:B`);
  for (const v of a.params.layout.views) if (v.name.endsWith("lora_B.weight")) for (let i = 0; i < v.size; i++) a.params.data[v.offset + i] = 0.5 * rng.normal();
  return a;
}

describe("spiral serve with LoRA adapters", () => {
  it("serves the base and several adapters, chosen per request by `model`, each as generate would", async () => {
    const base = join(root, "base");
    const params = initParams(shape, createRng("base"), 0.3);
    await saveCheckpoint(base, { config: shape, params });
    const adapters = { kuhn: adapter("kuhn"), ttt: adapter("ttt") };
    for (const [name, a] of Object.entries(adapters)) await saveAdapter(join(root, name), { adapter: a, baseModel: base });
    const server = await startServer({ model: base, modelName: "base", port: 0, loras: [{ name: "kuhn", dir: join(root, "kuhn") }, { name: "ttt", dir: join(root, "ttt") }] });
    try {
      const models = (await (await fetch(`${server.url}/models`)).json()) as { data: { id: string }[] };
      expect(models.data.map((m) => m.id)).toEqual(["base", "kuhn", "ttt"]);
      const ask = async (model: string) => {
        const r = await fetch(`${server.url}/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model, prompt: "Hello", max_tokens: 16, temperature: 0 }) });
        return { status: r.status, body: (await r.json()) as { choices?: { text: string }[]; error?: { message: string } } };
      };
      const answers = await Promise.all(["base", "kuhn", "ttt", "base", "kuhn"].map(ask));
      const tok = new ByteTokenizer();
      const expected = async (a: Adapter | undefined): Promise<string> => {
        const g = await Generator.create(shape, params, tok, a === undefined ? {} : { adapter: a });
        const [c] = await g.generate([{ prompt: tok.encode("Hello") }], { temperature: 0, maxNewTokens: 16, rng: createRng(0) });
        await g.release();
        return c!.text;
      };
      const want = [await expected(undefined), await expected(adapters.kuhn), await expected(adapters.ttt)];
      expect(new Set(want).size).toBe(3); // the three models answer differently
      expect(answers.map((a) => a.body.choices?.[0]?.text)).toEqual([want[0], want[1], want[2], want[0], want[1]]);
      const unknown = await ask("nope");
      expect(unknown.status).toBe(404);
      expect(unknown.body.error?.message).toMatch(/'base', 'kuhn', 'ttt'/);
    } finally {
      await server.close();
    }
  }, 60_000);
});

describe.skipIf(skipWebgpu)("spiral serve --device webgpu --precision fp16 with LoRA adapters", () => {
  it("an extra adapter (--lora NAME=DIR) and one loaded at runtime decode in fp16 on the device, as generate would: the same tokens and log-probs as an fp16 generator, not an fp32 one's", async () => {
    await requireWebgpu();
    const params = initParams(shape, createRng("base"), 0.3);
    const tok = new ByteTokenizer();
    const a = adapter("kuhn");
    const dir = join(root, "fp16-runtime");
    await saveAdapter(dir, { adapter: a, baseModel: join(root, "base") });
    const engine = { device: "webgpu", precision: "fp16" } as const;
    const server = await serveModel({ config: shape, params, tokenizer: tok, modelName: "base", loras: [{ name: "kuhn", adapter: a }] }, { port: 0, runtimeUpdates: true, ...engine });
    try {
      const post = (path: string, body: unknown) => fetch(`${server.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      expect(await (await post("/load_lora_adapter", { lora_name: "later", lora_path: dir })).text()).toMatch(/^Success/);
      type Answer = { choices?: { text: string; logprobs: { token_logprobs: number[] } }[] };
      const ask = async (model: string) => ((await (await post("/completions", { model, prompt: "Hello", max_tokens: 12, temperature: 0, logprobs: 0 })).json()) as Answer).choices?.[0];
      const expected = async (precision: "fp32" | "fp16") => {
        const g = await Generator.create(shape, params, tok, { adapter: a, device: "webgpu", precision });
        const [c] = await g.generate([{ prompt: tok.encode("Hello") }], { temperature: 0, maxNewTokens: 12, rng: createRng(0) });
        await g.release();
        return c!;
      };
      const [half, full] = [await expected("fp16"), await expected("fp32")];
      expect(half.logprobs).not.toEqual(full.logprobs); // fp16 is told apart by its log-probs
      for (const model of ["kuhn", "later"]) {
        const got = await ask(model);
        expect(got?.text).toBe(half.text);
        expect(got?.logprobs.token_logprobs).toEqual(half.logprobs);
      }
    } finally {
      await server.close();
    }
  }, 120_000);
});
