/**
 * The conventions training actors rely on (docs/scale-out.md): token ids in and out of
 * /v1/completions with per-token log-probs, choice-constrained replies, runtime LoRA loading and
 * unloading, a full-weights reload from disk, and the weight version reported with each reply.
 */
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
import { startServer } from "./server.js";

const root = mkdtempSync(join(tmpdir(), "spiral-serve-updates-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const shape: ModelConfig = { ...modelPreset("tiny"), hiddenSize: 32, intermediateSize: 64, numHiddenLayers: 2, numAttentionHeads: 2, numKeyValueHeads: 1, headDim: 16 };
const tok = new ByteTokenizer();

function adapter(seed: string): Adapter {
  const a = initAdapter(shape, { r: 4, alpha: 8, targets: [...LORA_TARGETS] }, createRng(seed));
  const rng = createRng(`${seed}:B`);
  for (const v of a.params.layout.views) if (v.name.endsWith("lora_B.weight")) for (let i = 0; i < v.size; i++) a.params.data[v.offset + i] = 0.5 * rng.normal();
  return a;
}

async function post(url: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> | undefined; text: string; version: string | null }> {
  const r = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const text = await r.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: r.status, json, text, version: r.headers.get("x-weight-version") };
}

interface Choice {
  text: string;
  finish_reason: string;
  logprobs: { tokens: string[]; token_logprobs: number[] };
}

const idsOf = (c: Choice): number[] =>
  c.logprobs.tokens.map((t) => {
    const m = /^token_id:(\d+)$/.exec(t);
    if (m === null) throw new Error(`not a token id: ${t}`);
    return Number(m[1]);
  });

describe("spiral serve: actor conventions", () => {
  it("takes token ids, returns the sampled ids (end token included) with their log-probs, and constrains to choices", async () => {
    const base = join(root, "m1");
    const params = initParams(shape, createRng("m1"), 0.3);
    await saveCheckpoint(base, { config: shape, params });
    const server = await startServer({ model: base, modelName: "m", port: 0 });
    try {
      const prompt = tok.encode("Board: x.o");
      const body = { model: "m", prompt, max_tokens: 24, temperature: 1, seed: 7, logprobs: 0, return_tokens_as_token_ids: true };
      const r = await post(`${server.url}/completions`, body);
      expect(r.status).toBe(200);
      const c = (r.json?.choices as Choice[])[0] as Choice;
      const ids = idsOf(c);
      // The same request to the engine directly: the same draws, ids and log-probs (1e-4: batched vs solo rounding).
      const g = await Generator.create(shape, params, tok);
      const [want] = await g.generate([{ prompt, rng: createRng(7).split(), sampling: { temperature: 1 } }], { maxNewTokens: 24, temperature: 1, rng: createRng(0), skipSpecialTokens: true });
      expect(ids).toEqual(want!.tokens);
      c.logprobs.token_logprobs.forEach((lp, j) => expect(Math.abs(lp - (want!.logprobs[j] as number))).toBeLessThan(1e-4));
      expect(tok.decode(ids, { skipSpecialTokens: true })).toBe(c.text);
      expect((r.json?.metadata as { weight_version: string }).weight_version).toBe("0");
      expect(r.version).toBe("0");

      // Constrained: every reply is one of the choices; with an end token the ids spell choice + eos.
      const choices = ["a1", "b2", "c3"];
      for (let seed = 0; seed < 6; seed++) {
        const cr = await post(`${server.url}/completions`, { ...body, seed, structured_outputs: { choice: choices } });
        const cc = (cr.json?.choices as Choice[])[0] as Choice;
        expect(choices).toContain(cc.text);
        expect(tok.decode(idsOf(cc), { skipSpecialTokens: true })).toBe(cc.text);
        const [w] = await g.generate([{ prompt, rng: createRng(seed).split(), sampling: { temperature: 1 }, constraint: { choices } }], { maxNewTokens: 24, temperature: 1, rng: createRng(0), skipSpecialTokens: true });
        expect(idsOf(cc)).toEqual(w!.tokens);
        cc.logprobs.token_logprobs.forEach((lp, j) => expect(Math.abs(lp - (w!.logprobs[j] as number))).toBeLessThan(1e-4));
      }
      await g.release();
      const legacy = await post(`${server.url}/completions`, { ...body, guided_choice: choices });
      expect(choices).toContain(((legacy.json?.choices as Choice[])[0] as Choice).text);
      const json = await post(`${server.url}/completions`, { ...body, structured_outputs: { json: {} } });
      expect(json.status).toBe(400);
      expect((json.json?.error as { param: string }).param).toBe("structured_outputs.json");

      // Weight updates are off unless asked for.
      const off = await post(`${server.url.replace(/\/v1$/, "")}/update_weights_from_disk`, { model_path: base });
      expect(off.status).toBe(403);
      expect(off.text).toMatch(/--runtime-updates/);
    } finally {
      await server.close();
    }
  }, 60_000);

  it("loads, replaces and unloads LoRA adapters at run time and reloads the base from disk, each reply naming its weight version", async () => {
    const base = join(root, "m2");
    const params = initParams(shape, createRng("m2"), 0.3);
    await saveCheckpoint(base, { config: shape, params });
    const other = initParams(shape, createRng("m2-other"), 0.3);
    await saveCheckpoint(join(root, "m2-next"), { config: shape, params: other });
    for (const name of ["a", "b"]) await saveAdapter(join(root, `ad-${name}`), { adapter: adapter(name), baseModel: base });
    const server = await startServer({ model: base, modelName: "m", port: 0, runtimeUpdates: true, weightVersion: "3" });
    const root_ = server.url.replace(/\/v1$/, "");
    const prompt = tok.encode("Hello");
    const ask = async (model: string) => {
      const r = await post(`${server.url}/completions`, { model, prompt, max_tokens: 12, temperature: 0, logprobs: 0, return_tokens_as_token_ids: true });
      return { status: r.status, ids: r.status === 200 ? idsOf((r.json?.choices as Choice[])[0] as Choice) : [], version: (r.json?.metadata as { weight_version?: string } | undefined)?.weight_version };
    };
    const expected = async (p: typeof params, a: Adapter | undefined): Promise<number[]> => {
      const g = await Generator.create(shape, p, tok, a === undefined ? {} : { adapter: a });
      const [c] = await g.generate([{ prompt }], { temperature: 0, maxNewTokens: 12, rng: createRng(0) });
      await g.release();
      return c!.tokens;
    };
    try {
      expect(await ask("m")).toEqual({ status: 200, ids: await expected(params, undefined), version: "3" });
      const load = await post(`${server.url}/load_lora_adapter`, { lora_name: "pol-v1", lora_path: join(root, "ad-a"), weight_version: "1" });
      expect(load.status).toBe(200);
      expect(load.text).toMatch(/added successfully/);
      const models = (await (await fetch(`${server.url}/models`)).json()) as { data: { id: string }[] };
      expect(models.data.map((m) => m.id)).toEqual(["m", "pol-v1"]);
      const withA = await ask("pol-v1");
      expect(withA).toEqual({ status: 200, ids: await expected(params, adapter("a")), version: "1" });
      expect(withA.ids).not.toEqual((await ask("m")).ids);
      // Loading a name twice is refused unless in place; in place, replies then come from the new adapter.
      expect((await post(`${server.url}/load_lora_adapter`, { lora_name: "pol-v1", lora_path: join(root, "ad-b") })).status).toBe(400);
      expect((await post(`${server.url}/load_lora_adapter`, { lora_name: "pol-v1", lora_path: join(root, "ad-b"), load_inplace: true, weight_version: "2" })).status).toBe(200);
      expect(await ask("pol-v1")).toEqual({ status: 200, ids: await expected(params, adapter("b")), version: "2" });
      expect((await post(`${server.url}/load_lora_adapter`, { lora_name: "x", lora_path: join(root, "nope") })).status).toBe(404);
      expect((await post(`${server.url}/load_lora_adapter`, { lora_name: "x", lora_path: base, bogus: 1 })).status).toBe(400);
      // Unload: the id is gone (404 from then on), and unloading again is 404.
      const unload = await post(`${server.url}/unload_lora_adapter`, { lora_name: "pol-v1" });
      expect(unload.status).toBe(200);
      expect((await ask("pol-v1")).status).toBe(404);
      expect((await post(`${server.url}/unload_lora_adapter`, { lora_name: "pol-v1" })).status).toBe(404);

      // Full weights from disk, with requests in flight: each reply comes wholly from one version.
      const inflight = Promise.all(Array.from({ length: 4 }, () => ask("m")));
      const update = await post(`${root_}/update_weights_from_disk`, { model_path: join(root, "m2-next"), weight_version: "4" });
      expect(update.status).toBe(200);
      expect(update.json?.success).toBe(true);
      const before = await expected(params, undefined);
      const after = await expected(other, undefined);
      expect(after).not.toEqual(before);
      for (const r of await inflight) {
        expect(["3", "4"]).toContain(r.version);
        expect(r.ids).toEqual(r.version === "3" ? before : after);
      }
      expect(await ask("m")).toEqual({ status: 200, ids: after, version: "4" });
      expect(((await (await fetch(`${root_}/get_weight_version`)).json()) as { weight_version: string }).weight_version).toBe("4");
      // A checkpoint of another shape is refused and the served weights stay.
      const small = { ...shape, numHiddenLayers: 1 };
      await saveCheckpoint(join(root, "m2-small"), { config: small, params: initParams(small, createRng("s"), 0.3) });
      const bad = await post(`${root_}/update_weights_from_disk`, { model_path: join(root, "m2-small") });
      expect(bad.status).toBe(400);
      expect(bad.text).toMatch(/config\.json differs/);
      expect(await ask("m")).toEqual({ status: 200, ids: after, version: "4" });
    } finally {
      await server.close();
    }
  }, 90_000);
});
