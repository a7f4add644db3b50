import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { saveCheckpoint } from "../engine/weights/checkpoint.js";
import { initParams } from "../engine/weights/params.js";
import { modelPreset } from "../engine/model/presets.js";
import { createRng } from "../core/rng.js";
import { initAdapter, LORA_TARGETS } from "../engine/model/lora.js";
import { saveAdapter } from "../engine/weights/peft.js";
import type { RunningServer } from "../serve/server.js";
import { evalCommand, type EvalResult } from "./eval.js";
import { scriptedIo } from "./io.js";
import { parseServeOptions, runServe } from "./serve.js";

describe("spiral serve + spiral eval over HTTP", () => {
  let server: RunningServer;
  const io = scriptedIo([]);
  beforeAll(async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "spiral-serve-")), "tiny");
    const config = modelPreset("tiny");
    await saveCheckpoint(dir, { config, params: initParams(config, createRng(2), 0.1) });
    server = await runServe(parseServeOptions({ model: dir, port: "0", host: "127.0.0.1", maxBatch: "16", seed: "0", threads: "1", quiet: true }, io), io);
  });
  afterAll(async () => {
    await server?.close();
  });

  it("announces the loopback URL and the model id from the directory name", () => {
    expect(io.stdout()).toMatch(/^serving tiny at http:\/\/127\.0\.0\.1:\d+\/v1/);
  });

  it("eval plays an openai: policy against a reference agent through a real HTTP round trip", async () => {
    const out = scriptedIo([]);
    await evalCommand(out).parseAsync(["--game", "TicTacToe-v0", "--a", `openai:${server.url}#tiny`, "--b", "random", "--games", "4", "--max-new", "12", "--json"], { from: "user" });
    const r = JSON.parse(out.stdout()) as Extract<EvalResult, { kind: "match" }>;
    expect(r.report.transportFailures).toBe(0);
    expect(r.report.a).toBe(`openai:${server.url}#tiny`);
    // A random tiny model writes no boxed move: every game is lost by an invalid move at A's first decision.
    expect(r.report.sides[0].decisions).toBe(4);
    expect(r.report.sides[0].invalid).toBe(4);
    expect(r.report.outcomes.losses).toBe(4);
    // Token counts come back from the server's usage.
    expect(r.report.sides[0].tokenReplies).toBe(4);
    expect(r.report.sides[0].replyTokens).toBeGreaterThan(0);
    expect(r.report.sides[0].replyTokens).toBeLessThanOrEqual(4 * 12);
    expect(server.scheduler.stats.jobs).toBeGreaterThanOrEqual(4);
  });

  it("rejects bad options with what was expected", () => {
    const base = { model: "x", port: "8000", host: "127.0.0.1", maxBatch: "64", seed: "0" };
    expect(() => parseServeOptions({ ...base, port: "70000" }, io)).toThrow(/--port expects an integer in \[0, 65535\]/);
    expect(() => parseServeOptions({ ...base, maxBatch: "0" }, io)).toThrow(/--max-batch expects an integer ≥ 1/);
    expect(() => parseServeOptions({ ...base, sampler: "gpu" }, io)).toThrow('--sampler expects one of device, host; got "gpu"');
    expect(() => parseServeOptions({ ...base, sampler: "device" }, io)).toThrow(/^--sampler device draws on the GPU \(--device webgpu\)/);
    expect(parseServeOptions({ ...base, device: "webgpu", sampler: "host" }, io).sampler).toBe("host");
  });
});

describe("spiral serve --adapter and --lora", () => {
  it("serves the adapters it is given: --adapter under its directory name, --lora under NAME, each answering as its adapter", async () => {
    const root = mkdtempSync(join(tmpdir(), "spiral-serve-cli-lora-"));
    const base = join(root, "base");
    const config = modelPreset("tiny");
    const params = initParams(config, createRng("base"), 0.3);
    await saveCheckpoint(base, { config, params });
    const adapter = initAdapter(config, { r: 4, alpha: 8, targets: [...LORA_TARGETS] }, createRng("a"));
    const rng = createRng("a:B");
    for (const v of adapter.params.layout.views) if (v.name.endsWith("lora_B.weight")) for (let i = 0; i < v.size; i++) adapter.params.data[v.offset + i] = 0.5 * rng.normal();
    await saveAdapter(join(root, "kuhn"), { adapter, baseModel: base });
    const io = scriptedIo([]);
    const raw = { model: base, port: "0", host: "127.0.0.1", maxBatch: "4", seed: "0", threads: "1", quiet: true };
    const ask = async (url: string, model: string): Promise<string | undefined> => {
      const r = await fetch(`${url}/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model, prompt: "Hello", max_tokens: 12, temperature: 0 }) });
      return ((await r.json()) as { choices?: { text: string }[] }).choices?.[0]?.text;
    };
    const servers: RunningServer[] = [];
    try {
      const plain = await runServe(parseServeOptions({ ...raw, lora: [`ttt=${join(root, "kuhn")}`] }, io), io);
      servers.push(plain);
      const models = (await (await fetch(`${plain.url}/models`)).json()) as { data: { id: string }[] };
      expect(models.data.map((m) => m.id)).toEqual(["base", "ttt"]);
      const withAdapter = await runServe(parseServeOptions({ ...raw, adapter: join(root, "kuhn") }, io), io);
      servers.push(withAdapter);
      expect(withAdapter.modelName).toBe("kuhn");
      const [fromBase, fromLora, fromAdapter] = await Promise.all([ask(plain.url, "base"), ask(plain.url, "ttt"), ask(withAdapter.url, "kuhn")]);
      expect(fromLora).toBe(fromAdapter);
      expect(fromLora).not.toBe(fromBase); // the adapter changes the greedy answer
      await expect(runServe(parseServeOptions({ ...raw, lora: [`x=${join(root, "nope")}`] }, io), io)).rejects.toThrow(/nope/);
    } finally {
      for (const s of servers) await s.close();
    }
  });
});
