import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Generator } from "../engine/infer/generate.js";
import { initParams } from "../engine/weights/params.js";
import { modelPreset } from "../engine/model/presets.js";
import { ByteTokenizer } from "../engine/tokenizer/byte-tokenizer.js";
import { referenceForward } from "../engine/model/reference.js";
import { createRng } from "../core/rng.js";
import { until } from "../core/test-waits.js";
import { serveModel, stopIndex, stopStream, type RunningServer } from "./server.js";

const config = modelPreset("tiny");
const params = initParams(config, createRng(1), 0.1);
const tokenizer = new ByteTokenizer();
let server: RunningServer;
let client: OpenAI;
let reference: Generator;

const chatIds = (content: string) => tokenizer.encode(tokenizer.applyChatTemplate([{ role: "user", content }], { addGenerationPrompt: true }));
/** Bans the special tokens (ids 256–263): a row runs to max_tokens, and every token is one byte. */
const noEos = Object.fromEntries(Array.from({ length: config.vocabSize - 256 }, (_, k) => [String(256 + k), -100]));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves once the server's scheduler runs no wave and holds no job (no polling deadline to outrun). */
async function idle(s: RunningServer): Promise<void> {
  await s.scheduler.idle();
  expect(s.scheduler.busy).toBe(false);
}

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

  it("implements logit_bias: +100 forces a token, −100 bans one", async () => {
    const forced = await client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "Hello" }], max_tokens: 8, temperature: 0, logit_bias: { "65": 100 } });
    expect(forced.choices[0]!.message.content).toBe("AAAAAAAA");
    const idsOf = async (bias: Record<string, number>) => {
      const r = await client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "Hello" }], max_tokens: 12, temperature: 0, logprobs: true, logit_bias: { ...noEos, ...bias } });
      return r.choices[0]!.logprobs!.content!.map((t) => t.bytes![0]!);
    };
    const plain = await idsOf({});
    const top = [...plain].sort((a, b) => plain.filter((x) => x === b).length - plain.filter((x) => x === a).length)[0]!; // its most repeated token
    const banned = await idsOf({ [String(top)]: -100 });
    expect(banned).toHaveLength(12);
    expect(banned).not.toContain(top);
  });

  it("applies presence and frequency penalties as OpenAI defines them (log-probs checked against a float64 forward, 1e-4)", async () => {
    const T = 0.8;
    const bias = { "32": 2, "120": -100 };
    const presence = 0.7;
    const frequency = 1.1;
    const r = await client.chat.completions.create({
      model: "tiny", messages: [{ role: "user", content: "Repeat" }], max_tokens: 24, temperature: T, seed: 3, logprobs: true, top_logprobs: 2,
      logit_bias: { ...bias, ...noEos }, presence_penalty: presence, frequency_penalty: frequency,
    });
    const content = r.choices[0]!.logprobs!.content!;
    expect(content).toHaveLength(24);
    const ids = content.map((t) => t.bytes![0]!); // one byte per token: the byte is the id
    const prompt = chatIds("Repeat");
    const logits = referenceForward(config, params, [...prompt, ...ids]);
    const V = config.vocabSize;
    const counts = new Map<number, number>();
    ids.forEach((id, j) => {
      const at = (prompt.length - 1 + j) * V;
      const z = Array.from(logits.subarray(at, at + V));
      z[32]! += 2;
      z[120]! -= 100;
      for (let t = 256; t < V; t++) z[t]! -= 100;
      for (const [t, n] of counts) z[t]! -= n * frequency + presence; // counted over the reply only
      const m = Math.max(...z.map((x) => x / T));
      const lse = m + Math.log(z.reduce((a, x) => a + Math.exp(x / T - m), 0));
      expect(Math.abs(content[j]!.logprob - (z[id]! / T - lse))).toBeLessThan(1e-4);
      // top_logprobs apply the same adjustments: the alternatives are the adjusted distribution's.
      expect(Math.abs(content[j]!.top_logprobs[0]!.logprob - (Math.max(...z) / T - lse))).toBeLessThan(1e-4);
      counts.set(id, (counts.get(id) ?? 0) + 1);
    });
    expect(ids).not.toContain(120);
  });

  it("rejects fields it does not implement with a 400 naming the field; accepts their no-op values and inert fields", async () => {
    const messages = [{ role: "user" as const, content: "x" }];
    const rejectedChat: Record<string, unknown>[] = [
      { tools: [{ type: "function", function: { name: "f", parameters: {} } }] },
      { tool_choice: "auto" },
      { response_format: { type: "json_object" } },
      { response_format: { type: "json_schema", json_schema: { name: "s", schema: {} } } },
      { functions: [{ name: "f" }] },
      { function_call: "auto" },
      { audio: { voice: "alloy", format: "wav" } },
      { modalities: ["text", "audio"] },
      { reasoning_effort: "low" },
      { verbosity: "low" },
      { web_search_options: {} },
      { top_k: 5 },
      { repetition_penalty: 1.2 },
      { toString: 1 },
    ];
    for (const extra of rejectedChat) {
      const param = Object.keys(extra)[0]!;
      await expect(client.chat.completions.create({ model: "tiny", messages, max_tokens: 2, ...extra } as OpenAI.ChatCompletionCreateParamsNonStreaming), param)
        .rejects.toMatchObject({ status: 400, param, code: ["top_k", "repetition_penalty", "toString"].includes(param) ? "unknown_parameter" : "unsupported_parameter" });
    }
    for (const extra of [{ best_of: 3 }, { suffix: "end" }, { echo: true }, { min_tokens: 4 }]) {
      const param = Object.keys(extra)[0]!;
      await expect(client.completions.create({ model: "tiny", prompt: "x", max_tokens: 2, ...extra } as OpenAI.CompletionCreateParamsNonStreaming), param).rejects.toMatchObject({ status: 400, param });
    }
    const badValues: [Record<string, unknown>, string][] = [
      [{ logit_bias: { abc: 1 } }, "logit_bias"], [{ logit_bias: { "5": 101 } }, "logit_bias"], [{ logit_bias: { "264": 1 } }, "logit_bias"], [{ logit_bias: [1] }, "logit_bias"],
      [{ presence_penalty: 2.5 }, "presence_penalty"], [{ frequency_penalty: -3 }, "frequency_penalty"],
    ];
    for (const [extra, param] of badValues) {
      await expect(client.chat.completions.create({ model: "tiny", messages, max_tokens: 2, ...extra } as OpenAI.ChatCompletionCreateParamsNonStreaming), param).rejects.toMatchObject({ status: 400, param, code: "invalid_value" });
    }
    const tooMany = Object.fromEntries(Array.from({ length: 301 }, (_, k) => [String(k), 1]));
    await expect(client.chat.completions.create({ model: "tiny", messages, max_tokens: 2, logit_bias: tooMany })).rejects.toThrow(/at most 300 tokens; got 301/);
    const fine = await client.chat.completions.create({
      model: "tiny", messages, max_tokens: 3, temperature: 0,
      response_format: { type: "text" }, tool_choice: "none", modalities: ["text"], user: "u", metadata: { k: "v" }, store: false, service_tier: "auto", parallel_tool_calls: false, reasoning_effort: null,
    });
    expect(fine.choices[0]!.message.content).toBe(await greedyAlone("x", 3));
    const fineText = await client.completions.create({ model: "tiny", prompt: "x", max_tokens: 2, echo: false, best_of: 1, suffix: null, user: "u" });
    expect(fineText.choices).toHaveLength(1);
  });

  it("top_p 0 keeps only the most likely token (the greedy reply), not the whole distribution", async () => {
    const r = await client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "Hello" }], max_tokens: 10, temperature: 1, top_p: 0, seed: 1 });
    expect(r.choices[0]!.message.content).toBe(await greedyAlone("Hello", 10));
  });

  it("gives random, unique response ids (chatcmpl-…, cmpl-…), one per response, shared by a stream's chunks", async () => {
    const ask = () => client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "id" }], max_tokens: 2, temperature: 0 });
    const ids = (await Promise.all([ask(), ask(), ask(), ask()])).map((r) => r.id);
    for (const id of ids) expect(id).toMatch(/^chatcmpl-[0-9A-Za-z]{29}$/);
    expect(new Set(ids).size).toBe(4);
    expect((await client.completions.create({ model: "tiny", prompt: "id", max_tokens: 2 })).id).toMatch(/^cmpl-[0-9A-Za-z]{29}$/);
    const chunkIds = new Set<string>();
    for await (const chunk of await client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "id" }], max_tokens: 6, stream: true })) chunkIds.add(chunk.id);
    expect(chunkIds.size).toBe(1);
    expect(ids).not.toContain([...chunkIds][0]);
  });

  it("batches requests with distinct seeds together; a seeded request gives the same tokens alone and batched", async () => {
    const seeded = (seed: number, content = "Tell me") =>
      client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content }], max_tokens: 20, temperature: 1, top_p: 0.95, seed, n: 2, logprobs: true, logit_bias: noEos });
    const tokensOf = (r: OpenAI.ChatCompletion) => r.choices.map((c) => c.logprobs!.content!.map((t) => t.bytes));
    const alone = await seeded(11);
    await idle(server);
    const before = server.scheduler.stats;
    // A long request holds the generator, so the five below queue up and meet in the next wave.
    const blocker = client.completions.create({ model: "tiny", prompt: "hold", max_tokens: 250, logit_bias: noEos });
    await until("the blocker to decode", () => server.scheduler.stats.decodeTokens > before.decodeTokens);
    // The generator stays held until all five are queued, even should the blocker end first (a
    // fast machine decodes 250 tokens before five HTTP requests are read): no wave starts while
    // `exclusive` runs, and the queued jobs start together when it ends.
    const submit = vi.spyOn(server.scheduler, "submit");
    const held = server.scheduler.exclusive(() => until("the five requests to queue", () => submit.mock.calls.length === 5));
    let mixed;
    try {
      mixed = await Promise.all([
        seeded(5, "other"), seeded(11), seeded(6),
        client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "no seed" }], max_tokens: 9, temperature: 0.5, presence_penalty: 1 }),
        client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "greedy" }], max_tokens: 30, temperature: 0, stop: ["q"] }),
      ]);
      await held;
    } finally {
      submit.mockRestore();
    }
    await blocker;
    const after = server.scheduler.stats;
    // The blocker's call, then all five, with their different seeds and settings, in one generate call.
    expect(after.calls - before.calls).toBe(2);
    expect(after.maxRows).toBeGreaterThanOrEqual(8);
    expect(tokensOf(mixed[1] as OpenAI.ChatCompletion)).toEqual(tokensOf(alone));
    expect(tokensOf(mixed[0] as OpenAI.ChatCompletion)).not.toEqual(tokensOf(alone));
    expect(tokensOf(mixed[2] as OpenAI.ChatCompletion)).not.toEqual(tokensOf(alone));
  });

  it("a client that disconnects mid-stream stops its decoding: the rows leave the batch well short of max_tokens", async () => {
    await idle(server);
    const before = server.scheduler.stats;
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { model: "tiny", messages: [{ role: "user", content: "go on" }], max_tokens: 250, temperature: 1, stream: true, logit_bias: noEos },
      { signal: controller.signal },
    );
    let chunks = 0;
    try {
      for await (const _ of stream) if (++chunks === 4) controller.abort();
    } catch {
      // An aborted stream may end or throw, depending on where the abort lands.
    }
    expect(chunks).toBe(4);
    await idle(server);
    const after = server.scheduler.stats;
    expect(after.cancelledJobs - before.cancelledJobs).toBe(1);
    // Without cancellation the row would decode 249 more tokens; it stopped within a few steps of the abort.
    expect(after.cancelledTokens - before.cancelledTokens).toBeLessThan(40);
    expect(after.decodeTokens - before.decodeTokens).toBeLessThan(40);
    await sleep(100);
    expect(server.scheduler.stats.decodeTokens).toBe(after.decodeTokens);
  });

  it("a client that abandons a non-streamed request stops its decoding too", async () => {
    await idle(server);
    const before = server.scheduler.stats;
    const controller = new AbortController();
    const pending = client.completions.create({ model: "tiny", prompt: "Once", max_tokens: 250, temperature: 1, logit_bias: noEos }, { signal: controller.signal });
    const settled = expect(pending).rejects.toThrow(/abort/i);
    // Checked at every turn of the event loop, so the abort lands within a decode step or two of the fifth token.
    await until("5 tokens decoded", () => server.scheduler.stats.decodeTokens - before.decodeTokens >= 5, { everyMs: 0 });
    controller.abort();
    await settled;
    await idle(server);
    const after = server.scheduler.stats;
    expect(after.cancelledJobs - before.cancelledJobs).toBe(1);
    expect(after.decodeTokens - before.decodeTokens).toBeGreaterThanOrEqual(5);
    expect(after.decodeTokens - before.decodeTokens).toBeLessThan(40);
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
