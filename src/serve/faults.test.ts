/**
 * Fault suite for `spiral serve`: clients that go away under load. A disconnect must not take the
 * server down, must not disturb the requests that stay, and must not leave decode work running
 * for the rows nobody will read.
 */
import { connect } from "node:net";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initParams } from "../engine/weights/params.js";
import { modelPreset } from "../engine/model/presets.js";
import { ByteTokenizer } from "../engine/tokenizer/byte-tokenizer.js";
import { createRng } from "../core/rng.js";
import { until } from "../core/test-waits.js";
import { serveModel, type RunningServer } from "./server.js";

const config = modelPreset("tiny");
const params = initParams(config, createRng(1), 0.1);
const tokenizer = new ByteTokenizer();
/** Bans the special tokens: every row runs to max_tokens unless its client leaves. */
const bytesOnly = Object.fromEntries(Array.from({ length: config.vocabSize - 256 }, (_, k) => [String(256 + k), -100]));
const MAX_TOKENS = 120;
let server: RunningServer;
let client: OpenAI;

/** Resolves once the scheduler runs no wave and holds no job (no polling deadline to outrun). */
async function idle(): Promise<void> {
  await server.scheduler.idle();
  expect(server.scheduler.busy).toBe(false);
}

beforeAll(async () => {
  server = await serveModel({ config, params, tokenizer, modelName: "tiny" }, { port: 0, contextLength: 400, threads: 1 });
  client = new OpenAI({ baseURL: server.url, apiKey: "unused", maxRetries: 0 });
});
afterAll(async () => {
  await server?.close();
});

/** One streamed, seeded request; `abortAfter` chunks (if given) the client disconnects. */
async function stream(i: number, abortAfter?: number): Promise<{ text: string; finish: string | null; chunks: number }> {
  const controller = new AbortController();
  const s = await client.chat.completions.create(
    { model: "tiny", messages: [{ role: "user", content: `stream ${i}` }], max_tokens: MAX_TOKENS, temperature: 1, seed: 100 + i, stream: true, logit_bias: bytesOnly },
    { signal: controller.signal },
  );
  let text = "";
  let finish: string | null = null;
  let chunks = 0;
  try {
    for await (const chunk of s) {
      chunks++;
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunks === abortAfter) controller.abort();
    }
  } catch (e) {
    if (abortAfter === undefined) throw e;
  }
  return { text, finish, chunks };
}

describe("spiral serve under disconnects", () => {
  it("16 concurrent streams, half aborted: the server stays up, the rest complete exactly, the aborted rows' decoding stops", async () => {
    const before = server.scheduler.stats;
    const results = await Promise.all(Array.from({ length: 16 }, (_, i) => stream(i, i % 2 === 0 ? 3 : undefined)));
    await idle();
    const after = server.scheduler.stats;
    const kept = results.filter((_, i) => i % 2 === 1);
    for (const r of kept) expect(r.finish).toBe("length");
    for (const r of results.filter((_, i) => i % 2 === 0)) expect(r.chunks).toBe(3);
    expect(after.cancelledJobs - before.cancelledJobs).toBe(8);
    // The decode work done: 119 steps for each kept row (its first token comes from the prefill),
    // and for each aborted row only what it had done when the server saw the disconnect.
    const cancelled = after.cancelledTokens - before.cancelledTokens;
    const decoded = after.decodeTokens - before.decodeTokens;
    expect(cancelled).toBeLessThan(8 * 30); // had they run on: 8 × 120
    expect(decoded).toBeGreaterThanOrEqual(8 * (MAX_TOKENS - 1));
    expect(decoded).toBeLessThanOrEqual(8 * (MAX_TOKENS - 1) + cancelled);
    // The server is up, and each kept stream said what the same seeded request says alone.
    expect(await (await fetch(`${server.url.replace(/\/v1$/, "")}/health`)).json()).toEqual({ status: "ok" });
    for (const [k, i] of [1, 7, 15].entries()) expect((await stream(i)).text, `stream ${i}`).toBe(kept[[0, 3, 7][k] as number]!.text);
  });

  it("a client that leaves while still sending its body is forgotten: waves stop waiting for it", async () => {
    const { port } = server;
    const socket = connect(port, "127.0.0.1");
    await new Promise<void>((r) => socket.once("connect", () => r()));
    socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"model":"tiny",`);
    await until("the server to announce the request", () => server.scheduler.announced > 0);
    expect(server.scheduler.announced).toBe(1);
    socket.destroy();
    await until("the server to forget the request", () => server.scheduler.announced === 0);
    const r = await client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "still here" }], max_tokens: 4 });
    expect(r.choices).toHaveLength(1);
  });
});
