/**
 * `spiral serve` under load: requests/s, generated tokens/s and p50/p99 latency with 1, 8 and 32
 * concurrent clients on loopback, against the same work done by `Generator.generate` directly
 * (no HTTP, one batch of the same prompts) measured in the same run: `serve/direct` is the share of
 * the generator's token rate the server keeps, per CPU-second of this process (the machine is
 * shared, so wall-clock rates move with other load; CPU time much less).
 *
 * Each client loop sends chat completions back to back (plain fetch, no retries) until the level
 * has `requests` completed; every request has its own short prompt and max_tokens = BENCH_MAX_NEW
 * (default 32), temperature 1 (random weights: replies may end early at an end token; tokens/s
 * counts what was generated). The clients run in the server's process, so they share its CPU.
 *
 * With BENCH_SEEDED=1 every request carries its own `seed` (as `spiral eval`'s requests do).
 *
 * Run: npx tsx bench/serve.ts            (env: BENCH_MODEL=tiny|small, BENCH_MAX_NEW, BENCH_THREADS, BENCH_SEEDED)
 */
import { Generator } from "../src/engine/infer/generate.js";
import { initParams } from "../src/engine/weights/params.js";
import { modelPreset } from "../src/engine/model/presets.js";
import { ByteTokenizer } from "../src/engine/tokenizer/byte-tokenizer.js";
import { createRng } from "../src/core/rng.js";
import { serveModel } from "../src/serve/server.js";

const modelName = process.env.BENCH_MODEL ?? "small";
const maxNew = Number(process.env.BENCH_MAX_NEW ?? 32);
const threads = process.env.BENCH_THREADS === undefined ? undefined : Number(process.env.BENCH_THREADS);
const seeded = process.env.BENCH_SEEDED === "1";
const config = modelPreset(modelName);
const params = initParams(config, createRng(1), 0.1);
const tokenizer = new ByteTokenizer();

const prompt = (i: number): string => `Request ${i}: tell me about game number ${i % 97}.`;

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

interface Level {
  clients: number;
  requests: number;
  seconds: number;
  /** CPU seconds of this process (server and clients). */
  cpu: number;
  tokens: number;
  latencies: number[];
}

async function load(url: string, clients: number, requests: number): Promise<Level> {
  let issued = 0;
  let tokens = 0;
  const latencies: number[] = [];
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const client = async (): Promise<void> => {
    while (issued < requests) {
      const i = issued++;
      const start = performance.now();
      const res = await fetch(`${url}/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "bench", messages: [{ role: "user", content: prompt(i) }], max_tokens: maxNew, temperature: 1, ...(seeded ? { seed: i } : {}) }),
      });
      const body = (await res.json()) as { usage?: { completion_tokens: number }; error?: { message: string } };
      if (!res.ok || body.usage === undefined) throw new Error(`request ${i} failed: ${res.status} ${body.error?.message ?? ""}`);
      tokens += body.usage.completion_tokens;
      latencies.push(performance.now() - start);
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  const c = process.cpuUsage(c0);
  return { clients, requests, seconds: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6, tokens, latencies: latencies.sort((a, b) => a - b) };
}

/** The generator alone: `clients` prompts in one call, repeated to `requests` prompts. */
async function direct(generator: Generator, clients: number, requests: number): Promise<{ seconds: number; cpu: number; tokens: number }> {
  let tokens = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let done = 0; done < requests; done += clients) {
    const batch = Array.from({ length: Math.min(clients, requests - done) }, (_, k) => ({
      prompt: tokenizer.encode(tokenizer.applyChatTemplate([{ role: "user", content: prompt(done + k) }], { addGenerationPrompt: true })),
    }));
    const out = await generator.generate(batch, { maxNewTokens: maxNew, temperature: 1, rng: createRng(done), skipSpecialTokens: true });
    tokens += out.reduce((s, c) => s + c.tokens.length, 0);
  }
  const c = process.cpuUsage(c0);
  return { seconds: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6, tokens };
}

async function main(): Promise<void> {
  const server = await serveModel({ config, params, tokenizer, modelName: "bench" }, { port: 0, ...(threads === undefined ? {} : { threads }) });
  const generator = await Generator.create(config, params, tokenizer, { bakeWeights: true, ...(threads === undefined ? {} : { threads }) });
  console.log(`spiral serve bench: ${modelName} preset (random weights), max_tokens ${maxNew}${seeded ? ", a seed per request" : ""}, ${server.url}`);
  await load(server.url, 2, 4); // warm-up: graph sessions, JIT
  const rows: string[][] = [["clients", "requests", "req/s", "tokens/s", "p50 ms", "p99 ms", "tokens/CPU-s", "direct tokens/CPU-s", "serve/direct (CPU)", "requests/call"]];
  for (const clients of [1, 8, 32]) {
    const requests = Math.max(8, clients * 3);
    const before = server.scheduler.stats;
    const level = await load(server.url, clients, requests);
    const after = server.scheduler.stats;
    const ref = await direct(generator, clients, requests);
    const cpuRate = level.tokens / level.cpu;
    const refRate = ref.tokens / ref.cpu;
    rows.push([
      String(clients), String(requests), (requests / level.seconds).toFixed(2), (level.tokens / level.seconds).toFixed(0),
      percentile(level.latencies, 0.5).toFixed(0), percentile(level.latencies, 0.99).toFixed(0), cpuRate.toFixed(0), refRate.toFixed(0), (cpuRate / refRate).toFixed(2),
      ((after.jobs - before.jobs) / (after.calls - before.calls)).toFixed(1),
    ]);
  }
  const widths = (rows[0] as string[]).map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  for (const r of rows) console.log(r.map((c, i) => c.padStart(widths[i] as number)).join("  "));
  await generator.release();
  await server.close();
}

await main();
