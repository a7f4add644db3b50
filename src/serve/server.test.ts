import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Generator } from "../engine/generate.js";
import { initParams } from "../engine/params.js";
import { modelPreset } from "../engine/presets.js";
import { ByteTokenizer } from "../engine/tokenizer/byte-tokenizer.js";
import { createRng } from "../games/rng.js";
import { serveModel, stopIndex, stopStream, type RunningServer } from "./server.js";

const config = modelPreset("tiny");
const params = initParams(config, createRng(1), 0.1);
const tokenizer = new ByteTokenizer();
let server: RunningServer;
let client: OpenAI;
let reference: Generator;

/** What the generator alone gives greedily for one chat prompt: the server must match it. */
async function greedyAlone(content: string, maxNewTokens: number): Promise<string> {
  const prompt = tokenizer.encode(tokenizer.applyChatTemplate([{ role: "user", content }], { addGenerationPrompt: true }));
  const [c] = await reference.generate([{ prompt }], { maxNewTokens, temperature: 0, rng: createRng(0), skipSpecialTokens: true });
  return c!.text;
}

beforeAll(async () => {
  server = await serveModel({ config, params, tokenizer, modelName: "tiny" }, { port: 0, contextLength: 300, maxBodyBytes: 4096, threads: 1 });
  client = new OpenAI({ baseURL: server.url, apiKey: "unused", maxRetries: 0 });
  reference = await Generator.create(config, params, tokenizer, { threads: 1 });
});
afterAll(async () => {
  await server?.close();
  await reference?.release();
});

describe("spiral serve with the official openai client", () => {
  it("lists the model and binds to loopback", async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(["tiny"]);
    expect((await client.models.retrieve("tiny")).id).toBe("tiny");
  });

  it("answers a chat completion exactly as the generator does alone (greedy), with usage", async () => {
    const r = await client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "Hello" }], max_tokens: 10, temperature: 0 });
    const choice = r.choices[0]!;
    expect(choice.message.content).toBe(await greedyAlone("Hello", 10));
    expect(["stop", "length"]).toContain(choice.finish_reason);
    expect(r.usage!.completion_tokens).toBeGreaterThan(0);
    expect(r.usage!.completion_tokens).toBeLessThanOrEqual(10);
    expect(r.usage!.total_tokens).toBe(r.usage!.prompt_tokens + r.usage!.completion_tokens);
    expect(r.object).toBe("chat.completion");
  });

  it("streams the same text by SSE, with a finish reason and usage", async () => {
    const stream = await client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "Hello" }], max_tokens: 10, temperature: 0, stream: true, stream_options: { include_usage: true } });
    let text = "";
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      for (const c of chunk.choices) {
        text += c.delta.content ?? "";
        finish = c.finish_reason ?? finish;
      }
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe(await greedyAlone("Hello", 10));
    expect(chunks).toBeGreaterThan(3);
    expect(["stop", "length"]).toContain(finish);
    expect(usage!.completion_tokens).toBeGreaterThan(0);
  });

  it("serves concurrent requests in shared batches, each as it would be alone", async () => {
    const prompts = ["a", "bb", "hello there", "x y z", "tic", "tac", "toe", "kuhn"];
    const before = server.scheduler.stats;
    const replies = await Promise.all(prompts.map((p) => client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: p }], max_tokens: 8, temperature: 0 })));
    for (const [i, p] of prompts.entries()) expect(replies[i]!.choices[0]!.message.content).toBe(await greedyAlone(p, 8));
    const after = server.scheduler.stats;
    expect(after.maxRows).toBeGreaterThan(1);
    expect(after.calls - before.calls).toBeLessThan(prompts.length);
  });

  it("gives n choices, and the same completions for the same seed", async () => {
    const ask = (seed: number) => client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "Hi" }], max_tokens: 12, temperature: 1, seed, n: 3 });
    const [a, b, c] = await Promise.all([ask(7), ask(7), ask(8)]);
    expect(a.choices.map((x) => x.index)).toEqual([0, 1, 2]);
    const texts = (r: typeof a) => r.choices.map((x) => x.message.content);
    expect(texts(b)).toEqual(texts(a));
    expect(texts(c)).not.toEqual(texts(a));
  });

  it("returns log-probs and top alternatives consistent with the sampled tokens", async () => {
    const r = await client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "Hey" }], max_tokens: 6, temperature: 0, logprobs: true, top_logprobs: 3 });
    const content = r.choices[0]!.logprobs!.content!;
    expect(content.length).toBeGreaterThan(0);
    // Random weights write arbitrary bytes: the tokens' bytes, joined, are the reply.
    expect(Buffer.from(content.flatMap((t) => t.bytes ?? [])).toString("utf8")).toBe(r.choices[0]!.message.content);
    for (const t of content) {
      expect(t.logprob).toBeLessThanOrEqual(0);
      expect(t.top_logprobs).toHaveLength(3);
      // Greedy: the sampled token is the most likely, and both computations agree to float32 error.
      expect(t.top_logprobs[0]!.token).toBe(t.token);
      expect(Math.abs(t.top_logprobs[0]!.logprob - t.logprob)).toBeLessThan(1e-4);
      expect(t.top_logprobs[1]!.logprob).toBeLessThanOrEqual(t.top_logprobs[0]!.logprob);
    }
  });

  it("serves /v1/completions and stops before a stop string", async () => {
    const full = await client.completions.create({ model: "tiny", prompt: "Once upon", max_tokens: 12, temperature: 0 });
    const text = full.choices[0]!.text;
    expect(text.length).toBeGreaterThan(3);
    const stop = text.slice(3, 4);
    const cut = await client.completions.create({ model: "tiny", prompt: "Once upon", max_tokens: 12, temperature: 0, stop: [stop], logprobs: 2 });
    expect(cut.choices[0]!.text).toBe(text.slice(0, text.indexOf(stop)));
    expect(cut.choices[0]!.finish_reason).toBe("stop");
    expect(cut.choices[0]!.logprobs!.top_logprobs![0]).toBeTypeOf("object");
  });

  it("answers bad requests with OpenAI-shaped errors and the right status", async () => {
    const post = (path: string, body: string) => fetch(`${server.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body });
    const badJson = await post("/chat/completions", "{not json");
    expect(badJson.status).toBe(400);
    expect(((await badJson.json()) as { error: { code: string } }).error.code).toBe("invalid_json");
    await expect(client.chat.completions.create({ model: "gpt-9", messages: [{ role: "user", content: "x" }] })).rejects.toMatchObject({ status: 404, code: "model_not_found" });
    await expect(client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "x" }], temperature: 5 })).rejects.toMatchObject({ status: 400, param: "temperature" });
    await expect(client.chat.completions.create({ model: "tiny", messages: [] })).rejects.toMatchObject({ status: 400, param: "messages" });
    await expect(client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "y".repeat(280) }], max_tokens: 50 })).rejects.toMatchObject({ status: 400, code: "context_length_exceeded" });
    // Without max_tokens the default shrinks to the context left (300 − 284 prompt tokens here).
    const fits = await client.completions.create({ model: "tiny", prompt: "w".repeat(284), temperature: 0 });
    expect(fits.usage!.completion_tokens).toBeLessThanOrEqual(16);
    const fitsChat = await client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "v".repeat(250) }], temperature: 0 });
    expect(fitsChat.usage!.prompt_tokens + fitsChat.usage!.completion_tokens).toBeLessThanOrEqual(300);
    const big = await post("/completions", JSON.stringify({ model: "tiny", prompt: "z".repeat(5000) }));
    expect(big.status).toBe(413);
    const route = await fetch(`${server.url}/embeddings`);
    expect(route.status).toBe(404);
    const method = await fetch(`${server.url}/chat/completions`);
    expect(method.status).toBe(405);
    expect(method.headers.get("allow")).toBe("POST");
    expect(((await method.json()) as { error: { type: string } }).error.type).toBe("invalid_request_error");
  });

  it("a client that disconnects mid-stream does not disturb another request", async () => {
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { model: "tiny", messages: [{ role: "user", content: "long story" }], max_tokens: 200, temperature: 1, stream: true },
      { signal: controller.signal },
    );
    const other = client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "other" }], max_tokens: 8, temperature: 0 });
    let received = 0;
    try {
      for await (const _ of stream) {
        received++;
        controller.abort();
      }
    } catch {
      // An aborted stream may end or throw, depending on where the abort lands.
    }
    expect(received).toBeGreaterThanOrEqual(1);
    expect((await other).choices[0]!.message.content).toBe(await greedyAlone("other", 8));
    const after = await client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "other" }], max_tokens: 8, temperature: 0 });
    expect(after.choices[0]!.message.content).toBe(await greedyAlone("other", 8));
  });
});

describe("stop strings", () => {
  it("finds the first stop and holds back a possible stop prefix while streaming", () => {
    expect(stopIndex("abcSTOPdef", ["STOP", "cS"])).toBe(2);
    const s = stopStream(["END"]);
    expect(s.push("hello E")).toBe("hello ");
    expect(s.push("N")).toBe("");
    expect(s.push("x")).toBe("ENx");
    expect(s.push(" then EN")).toBe(" then ");
    expect(s.push("D and more")).toBe("");
    expect(s.stopped).toBe(true);
    const t = stopStream(["END"]);
    t.push("tail E");
    expect(t.end()).toBe("E");
  });
});
