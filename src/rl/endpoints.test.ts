/**
 * Endpoint actors against real `spiral serve` processes on loopback: exact token ids and
 * log-probs per seed, constrained replies with their allowed sets, weight sync (full weights and
 * LoRA) with versions, a server killed mid-batch (nothing lost, nothing doubled, probed back in
 * and re-synced), and a clear error when no server lives.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer as createHttpServer, type Server, type ServerResponse } from "node:http";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { ModelConfig } from "../engine/model/config.js";
import { Generator } from "../engine/infer/generate.js";
import { initAdapter, LORA_TARGETS } from "../engine/model/lora.js";
import { modelPreset } from "../engine/model/presets.js";
import { ByteTokenizer } from "../engine/tokenizer/byte-tokenizer.js";
import { saveCheckpoint } from "../engine/weights/checkpoint.js";
import { initParams, type Params } from "../engine/weights/params.js";
import { getGame } from "../games/registry.js";
import { createRng } from "../core/rng.js";
import { killOnNextCompletion, until } from "../core/test-waits.js";
import { startServeProcess, type ServeProcess } from "../serve/process.js";
import { weightPublisher } from "./endpoint-sync.js";
import { EndpointPool, EndpointsLostError, endpointUrls } from "./endpoints.js";
import type { PolicyRequest } from "../policy/policy.js";
import { chatMode, compactMode } from "../policy/prompt-mode.js";

const root = mkdtempSync(join(tmpdir(), "spiral-endpoints-"));
const shape: ModelConfig = { ...modelPreset("tiny"), hiddenSize: 32, intermediateSize: 64, numHiddenLayers: 2, numAttentionHeads: 2, numKeyValueHeads: 1, headDim: 16 };
const tok = new ByteTokenizer();
const servers: ServeProcess[] = [];
let v0: Params;

beforeAll(async () => {
  v0 = initParams(shape, createRng("v0"), 0.3);
  await saveCheckpoint(join(root, "v0"), { config: shape, params: v0 });
  servers.push(...(await Promise.all([0, 1].map(() => startServeProcess(["--model", join(root, "v0"), "--port", "0", "--runtime-updates", "--quiet", "--threads", "1"])))));
}, 120_000);
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop("SIGKILL")));
  rmSync(root, { recursive: true, force: true });
});

/** A mixed batch: compact (choice-constrained) and chat (free) requests from real game states. */
function requests(n: number): PolicyRequest[] {
  const ttt = getGame("TicTacToe-v0");
  const kuhn = getGame("KuhnPoker-v1");
  return Array.from({ length: n }, (_, i) => {
    const game = i % 2 === 0 ? ttt : kuhn;
    const state = game.init(i);
    const seat = game.toAct(state)[0] as 0 | 1;
    const mode = i % 3 === 2 ? chatMode() : compactMode;
    return mode.request(game.info, game.observe(state, seat), 12);
  });
}

/** What the in-process generator gives for one request with the seed the pool sent. */
async function expected(g: Generator, r: PolicyRequest, seed: number) {
  const prompt = tok.encode(r.prompt.kind === "text" ? r.prompt.text : tok.applyChatTemplate(r.prompt.messages, { addGenerationPrompt: true }));
  const [c] = await g.generate(
    [{ prompt, rng: createRng(seed).split(), sampling: { temperature: 1, topP: 1 }, ...(r.constraint === undefined ? {} : { constraint: r.constraint }) }],
    { maxNewTokens: r.maxNewTokens, temperature: 1, rng: createRng(0), skipSpecialTokens: true },
  );
  return c!;
}

function replyJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

/** A scripted OpenAI-style server on loopback: healthy, one model "m", completions answered by `complete`. */
async function stubServer(complete: (res: ServerResponse) => void): Promise<{ stub: Server; url: string }> {
  const stub = createHttpServer((req, res) => {
    if (req.url === "/v1/models") return replyJson(res, 200, { data: [{ id: "m" }] });
    if (req.url === "/health") return replyJson(res, 200, {});
    req.resume();
    req.on("end", () => complete(res));
  });
  await new Promise<void>((r) => stub.listen(0, "127.0.0.1", () => r()));
  return { stub, url: `http://127.0.0.1:${(stub.address() as AddressInfo).port}/v1` };
}

describe("endpoint actors", () => {
  it("parses endpoint URLs with or without /v1", () => {
    expect(endpointUrls("http://h:1/v1")).toEqual({ root: "http://h:1", v1: "http://h:1/v1" });
    expect(endpointUrls("http://h:1/")).toEqual({ root: "http://h:1", v1: "http://h:1/v1" });
    expect(() => endpointUrls("h:1")).toThrow(/http\(s\) URL/);
  });

  it("samples over two servers with exact ids and log-probs, syncs full weights with versions, and survives a server killed mid-batch", async () => {
    const pool = new EndpointPool({ endpoints: servers.map((s) => ({ url: s.url, weight: 1, concurrency: 4 })), tokenizer: tok, temperature: 1, topP: 1, probeSeconds: 0.2 });
    await pool.open();
    try {
      // Version 1: new weights published to both servers.
      const v1 = initParams(shape, createRng("v1"), 0.3);
      const publisher = weightPublisher(join(root, "sync"), { kind: "full", config: shape, params: v1 }, 2);
      await pool.publish(await publisher.write(1));
      expect(pool.stats.endpoints.map((e) => e.version)).toEqual([1, 1]);

      const batch = requests(16);
      const rng = createRng("batch");
      const seeds = createRng("batch");
      const results = await pool.generate(batch, rng);
      const g = await Generator.create(shape, v1, tok);
      for (const [i, r] of results.entries()) {
        const want = await expected(g, batch[i] as PolicyRequest, seeds.nextUint32());
        expect(r.untrainable).toBeUndefined();
        expect(r.policyVersion).toBe(1);
        expect(r.generatedIds).toEqual(want.tokens);
        r.logprobs.forEach((lp, j) => expect(Math.abs(lp - (want.logprobs[j] as number))).toBeLessThan(1e-4));
        expect(r.text).toBe(want.text);
        if (batch[i]?.constraint !== undefined) expect(r.allowedIds).toEqual(want.allowed.map((a) => (a === null ? null : Array.from(a))));
        else expect(r.allowedIds).toBeUndefined();
      }
      const per = pool.stats.endpoints.map((e) => e.requests);
      expect(per.every((n) => n >= 4)).toBe(true); // both servers took a share

      // Kill one server while a batch is in flight: every turn still gets exactly its answer. The
      // kill happens inside the batch's first completion request to server 0 (which then meets a
      // dead server), while the batch's other requests are out, not on a timer that a fast machine
      // could beat.
      const batch2 = requests(24);
      const seeds2 = createRng("batch2");
      const victim = servers[0]!;
      const killer = killOnNextCompletion(() => [victim], { armed: true });
      let results2;
      try {
        results2 = await pool.generate(batch2, createRng("batch2"));
      } finally {
        killer.restore();
      }
      expect(killer.killed()).toBe(true);
      expect(results2).toHaveLength(24);
      for (const [i, r] of results2.entries()) {
        const want = await expected(g, batch2[i] as PolicyRequest, seeds2.nextUint32());
        expect(r.generatedIds).toEqual(want.tokens);
        expect(r.policyVersion).toBe(1);
      }
      const stats = pool.stats;
      expect(stats.endpoints[0]?.live).toBe(false);
      expect(stats.transportFailures).toBeGreaterThanOrEqual(1);
      expect(stats.droppedSamples).toBe(0);
      // Requests counted = accepted replies + failed attempts: no reply was taken twice.
      expect(stats.requests).toBe(16 + 24 + stats.transportFailures);

      // Version 2 while server 0 is down; it comes back (same port) and is re-synced before use.
      const v2 = initParams(shape, createRng("v2"), 0.3);
      const publisher2 = weightPublisher(join(root, "sync"), { kind: "full", config: shape, params: v2 }, 2);
      await pool.publish(await publisher2.write(2));
      servers[0] = await startServeProcess(["--model", join(root, "v0"), "--port", String(servers[0]!.port), "--runtime-updates", "--quiet", "--threads", "1"]);
      await until("the pool to probe server 0 back in", () => pool.stats.endpoints[0]!.live);
      expect(pool.stats.endpoints.map((e) => [e.live, e.version])).toEqual([[true, 2], [true, 2]]);
      const g2 = await Generator.create(shape, v2, tok);
      const batch3 = requests(8);
      const seeds3 = createRng("batch3");
      for (const [i, r] of (await pool.generate(batch3, createRng("batch3"))).entries()) {
        expect(r.generatedIds).toEqual((await expected(g2, batch3[i] as PolicyRequest, seeds3.nextUint32())).tokens);
        expect(r.policyVersion).toBe(2);
      }
      await g.release();
      await g2.release();
    } finally {
      await pool.close();
      // Later tests need server 0 live whatever happened here.
      if (servers[0]!.child.exitCode !== null || servers[0]!.child.signalCode !== null) {
        servers[0] = await startServeProcess(["--model", join(root, "v0"), "--port", "0", "--runtime-updates", "--quiet", "--threads", "1"]);
      }
    }
  }, 180_000);

  it("syncs a LoRA adapter under a per-version name and samples from it", async () => {
    const pool = new EndpointPool({ endpoints: [{ url: servers[1]!.url, weight: 1, concurrency: 8 }], tokenizer: tok, temperature: 1, topP: 1, keepVersions: 2 });
    await pool.open();
    try {
      const base = initParams(shape, createRng("v0"), 0.3);
      const adapter = initAdapter(shape, { r: 4, alpha: 8, targets: [...LORA_TARGETS] }, createRng("lora"));
      const publisher = weightPublisher(join(root, "lora-sync"), { kind: "lora", adapter, baseModel: join(root, "v0"), name: "policy" }, 3);
      // The server currently holds v2 full weights from the test above; put v0 back first.
      await pool.publish({ kind: "full", version: 0, path: join(root, "v0") });
      for (const version of [1, 2, 3]) {
        const rng = createRng(`B${version}`);
        for (const v of adapter.params.layout.views) if (v.name.endsWith("lora_B.weight")) for (let i = 0; i < v.size; i++) adapter.params.data[v.offset + i] = 0.5 * rng.normal();
        await pool.publish(await publisher.write(version));
        const batch = requests(4);
        const seeds = createRng(`lora${version}`);
        const g = await Generator.create(shape, base, tok, { adapter });
        for (const [i, r] of (await pool.generate(batch, createRng(`lora${version}`))).entries()) {
          expect(r.policyVersion).toBe(version);
          expect(r.generatedIds).toEqual((await expected(g, batch[i] as PolicyRequest, seeds.nextUint32())).tokens);
        }
        await g.release();
      }
      const models = (await (await fetch(`${servers[1]!.url}/models`)).json()) as { data: { id: string }[] };
      expect(models.data.map((m) => m.id).filter((id) => id.startsWith("policy-"))).toEqual(["policy-v2", "policy-v3"]);
    } finally {
      await pool.close();
    }
  }, 120_000);

  it("plays but does not train on replies whose ids do not check out; a 5xx is retried, a 400 is an error", async () => {
    // A stand-in for a misconfigured engine (another tokenizer, no token ids): what it answers is scripted.
    const replies: ((res: ServerResponse) => void)[] = [];
    const json = (status: number, body: unknown) => (res: ServerResponse) => replyJson(res, status, body);
    const choice = (text: string, tokens: string[]) => json(200, { choices: [{ text, logprobs: { tokens, token_logprobs: tokens.map(() => -1) } }] });
    const { stub, url } = await stubServer((res) => (replies.shift() ?? json(500, { error: { message: "script ran out" } }))(res));
    const pool = new EndpointPool({ endpoints: [{ url, weight: 1, concurrency: 1 }], tokenizer: tok, temperature: 1, topP: 1, probeSeconds: 0.05 });
    await pool.open();
    try {
      const free = requests(3)[2] as PolicyRequest; // a chat (free) request
      replies.push(choice("hello", ["token_id:104", "token_id:105"])); // decodes to "hi"
      replies.push(choice("hi", ["h", "i"])); // no ids
      replies.push(json(503, { error: { message: "overloaded" } }), choice("ok", ["token_id:111", "token_id:107"]));
      const [wrongText] = await pool.generate([free], createRng(1));
      const [noIds] = await pool.generate([free], createRng(1));
      const [retried] = await pool.generate([free], createRng(1));
      expect(wrongText?.text).toBe("hello");
      expect(wrongText?.untrainable).toMatch(/decode\(ids\) differs/);
      expect(noIds?.untrainable).toMatch(/did not return token ids/);
      expect(retried).toMatchObject({ text: "ok", generatedIds: [111, 107] });
      expect(retried?.untrainable).toBeUndefined();
      expect(pool.stats).toMatchObject({ droppedSamples: 2, transportFailures: 1, retries: 1 });
      replies.push(json(400, { error: { message: "prompt too long" } }));
      await expect(pool.generate([free], createRng(1))).rejects.toThrow(/refused a request \(HTTP 400\): prompt too long/);
    } finally {
      await pool.close();
      stub.closeAllConnections();
      await new Promise<void>((r) => stub.close(() => r()));
    }
  }, 60_000);

  it("a turn every attempt of which fails is a transport failure, not an error; failing for the give-up time, the pool is lost until a server answers", async () => {
    // A server that stays healthy but answers every completion 503 (overloaded); later it recovers.
    let failing = true;
    const { stub, url } = await stubServer((res) => (failing
      ? replyJson(res, 503, { error: { message: "overloaded" } })
      : replyJson(res, 200, { choices: [{ text: "ok", logprobs: { tokens: ["token_id:111", "token_id:107"], token_logprobs: [-1, -1] } }] })));
    // The pool's clock is set by hand: with a real one, a loaded machine could take longer than the
    // 0.5 s give-up time to probe the server back in between two attempts, and lose the pool early.
    let clock = 0;
    const now = vi.spyOn(performance, "now").mockImplementation(() => clock);
    const pool = new EndpointPool({ endpoints: [{ url, weight: 1, concurrency: 2 }], tokenizer: tok, temperature: 1, topP: 1, maxAttempts: 2, probeSeconds: 0.05, giveUpSeconds: 0.5 });
    const live = () => until("the probe to bring the server back", () => pool.stats.endpoints[0]!.live);
    await pool.open();
    try {
      const free = requests(3)[2] as PolicyRequest;
      const [first] = await pool.generateSettled([free], createRng(1));
      expect(first).toEqual({ kind: "transport", error: expect.stringMatching(/^an actor turn failed 2 times in transport: .*HTTP 503: overloaded/) as unknown });
      expect(pool.stats).toMatchObject({ failedTurns: 1, transportFailures: 2, retries: 1 });
      clock += 499; // still within the give-up time
      await live();
      await expect(pool.generate([free], createRng(1))).rejects.toThrow(/^an actor turn failed 2 times in transport/);
      clock += 2; // every turn has failed for more than 0.5 s
      await live();
      await expect(pool.generateSettled([free], createRng(1))).rejects.toThrow(EndpointsLostError);
      await live();
      await expect(pool.generateSettled([free], createRng(1))).rejects.toThrow(/^every actor turn has failed for 0\.5 s/);
      failing = false;
      await live();
      const [back] = await pool.generateSettled([free], createRng(1));
      expect(back).toMatchObject({ text: "ok", generatedIds: [111, 107] });
    } finally {
      now.mockRestore();
      await pool.close();
      stub.closeAllConnections();
      await new Promise<void>((r) => stub.close(() => r()));
    }
  }, 60_000);

  it("probes a server that is back one contact at a time: a slow GET /v1/models does not start a second one", async () => {
    // The server fails a turn (so it is marked down), then its probe's GET /v1/models is held for
    // ten probe periods: no other probe of it may start meanwhile (a second contact would reset the
    // version the first one syncs).
    let health = 0;
    let models = 0;
    let release: (() => void) | undefined;
    const stub = createHttpServer((req, res) => {
      if (req.url === "/health") return void (health++, replyJson(res, 200, {}));
      if (req.url === "/v1/models") {
        models++;
        const answer = () => replyJson(res, 200, { data: [{ id: "m" }] });
        return void (models === 2 ? (release = answer) : answer());
      }
      req.resume();
      req.on("end", () => replyJson(res, 503, { error: { message: "overloaded" } }));
    });
    await new Promise<void>((r) => stub.listen(0, "127.0.0.1", () => r()));
    const url = `http://127.0.0.1:${(stub.address() as AddressInfo).port}/v1`;
    const pool = new EndpointPool({ endpoints: [{ url, weight: 1, concurrency: 1 }], tokenizer: tok, temperature: 1, topP: 1, maxAttempts: 1, probeSeconds: 0.01 });
    await pool.open();
    try {
      const [failed] = await pool.generateSettled([requests(3)[2] as PolicyRequest], createRng(1));
      expect(failed).toMatchObject({ kind: "transport" });
      await until("the probe's GET /v1/models", () => release !== undefined);
      const checks = health;
      await new Promise((r) => setTimeout(r, 100));
      expect(health).toBe(checks);
      release!();
      await until("the server to be live again", () => pool.stats.endpoints[0]!.live);
      expect(models).toBe(2);
    } finally {
      await pool.close();
      stub.closeAllConnections();
      await new Promise<void>((r) => stub.close(() => r()));
    }
  });

  it("returns the log-probs the learner recomputes for the same weights: |Δ| over 300 replies (docs/scale-out.md)", async () => {
    const pool = new EndpointPool({ endpoints: servers.map((s) => ({ url: s.url, weight: 1, concurrency: 8 })), tokenizer: tok, temperature: 1, topP: 1 });
    await pool.open();
    const { LossRunner } = await import("../engine/train/loss-runner.js");
    const { recomputeLogprobs } = await import("../rl/learner.js");
    const runner = new LossRunner(shape, v0, { threads: 1 });
    try {
      await pool.publish({ kind: "full", version: 7, path: join(root, "v0") });
      const replies = await pool.generate(requests(300), createRng("gap"));
      expect(replies.every((r) => r.policyVersion === 7 && r.untrainable === undefined)).toBe(true);
      const learner = await recomputeLogprobs(runner, replies, 16, 1);
      const gaps = replies.flatMap((r, i) => r.logprobs.map((lp, t) => Math.abs(lp - (learner.logprobs[i]?.[t] as number))));
      const max = Math.max(...gaps);
      const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
      // Measured (docs/scale-out.md): max 9.4e-6, mean 6.6e-7 over 2026 tokens (the same f32 graphs,
      // batched differently); bounds with a 10× margin.
      expect(gaps.length).toBeGreaterThan(1000);
      expect(max).toBeLessThan(1e-4);
      expect(mean).toBeLessThan(1e-5);
      if (process.env.SPIRAL_PRINT_GAP !== undefined) process.stdout.write(`logprob gap over ${replies.length} replies, ${gaps.length} tokens: max ${max.toExponential(2)}, mean ${mean.toExponential(2)}\n`);
    } finally {
      await pool.close();
      await runner.release();
    }
  }, 120_000);

  it("fails clearly when no server answers", async () => {
    const free = await new Promise<number>((r) => {
      const srv = createServer().listen(0, "127.0.0.1", () => {
        const { port } = srv.address() as AddressInfo;
        srv.close(() => r(port));
      });
    });
    const dead = new EndpointPool({ endpoints: [{ url: `http://127.0.0.1:${free}/v1`, weight: 1, concurrency: 1 }], tokenizer: tok, temperature: 1, topP: 1 });
    await expect(dead.open()).rejects.toThrow(new RegExp(`no actor endpoint answers: http://127\\.0\\.0\\.1:${free}/v1 \\(ECONNREFUSED\\)`));
    await dead.close();
    // Live at open, then gone: the call gives up after giveUpSeconds, naming the server.
    const s = await startServeProcess(["--model", join(root, "v0"), "--port", "0", "--quiet", "--threads", "1"]);
    const pool = new EndpointPool({ endpoints: [{ url: s.url, weight: 1, concurrency: 2 }], tokenizer: tok, temperature: 1, topP: 1, giveUpSeconds: 1, probeSeconds: 0.2 });
    await pool.open();
    await s.stop("SIGKILL");
    await expect(pool.generate(requests(2), createRng(1))).rejects.toThrow(/(no actor endpoint has answered for 1 s|failed \d+ times in transport).*ECONNREFUSED/);
    await pool.close();
  }, 60_000);
});
