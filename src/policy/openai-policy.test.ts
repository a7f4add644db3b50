import { afterEach, describe, expect, it } from "vitest";
import { createRng } from "../core/rng.js";
import { closeFakeEndpoints, fakeEndpoint, okReply } from "./test-endpoint.js";
import { apiKeyFromEnv, openaiPolicy, semaphore, TransportError } from "./openai-policy.js";

afterEach(closeFakeEndpoints);
const fake = fakeEndpoint;
const ok = okReply;
const request = { prompt: { kind: "chat" as const, messages: [{ role: "user" as const, content: "hi" }] }, maxNewTokens: 5, legal: [] };

describe("openaiPolicy", () => {
  it("sends the chat request with sampling settings and the key, and reads the reply", async () => {
    let seen: { body: Record<string, unknown>; auth: string | undefined } | undefined;
    const url = await fake((body, _n, req, res) => {
      seen = { body, auth: req.headers.authorization };
      ok(res, "\\boxed{4}", 7);
    });
    const policy = openaiPolicy({ baseUrl: url + "/", model: "m", apiKey: "k1", temperature: 0.6, topP: 0.95 });
    const [r] = await policy.generate([request], createRng(0));
    expect(r).toMatchObject({ text: "\\boxed{4}", completionTokens: 7 });
    expect(seen?.auth).toBe("Bearer k1");
    expect(seen?.body).toMatchObject({ model: "m", max_tokens: 5, temperature: 0.6, top_p: 0.95, messages: [{ role: "user", content: "hi" }] });
    expect(typeof seen?.body.seed).toBe("number");
  });

  it("retries 429 and 5xx with backoff, then succeeds; does not retry other 4xx", async () => {
    const url = await fake((_b, n, _req, res) => {
      if (n <= 2) {
        res.writeHead(n === 1 ? 429 : 503, { "retry-after": "0" });
        res.end("busy");
      } else ok(res, "fine");
    });
    const policy = openaiPolicy({ baseUrl: url, model: "m", temperature: 0, backoffMs: 1 });
    expect((await policy.generate([request], createRng(0)))[0]?.text).toBe("fine");
    let calls = 0;
    const bad = await fake((_b, _n, _req, res) => {
      calls++;
      res.writeHead(401);
      res.end("no key");
    });
    const refused = openaiPolicy({ baseUrl: bad, model: "m", temperature: 0, backoffMs: 1 });
    await expect(refused.generate([request], createRng(0))).rejects.toThrow(/HTTP 401: no key/);
    expect(calls).toBe(1);
  });

  it("times out, reports unreachable endpoints as TransportError, and bounds requests in flight", async () => {
    const silent = await fake(() => undefined);
    const slow = openaiPolicy({ baseUrl: silent, model: "m", temperature: 0, timeoutMs: 100, retries: 1, backoffMs: 1 });
    await expect(slow.generate([request], createRng(0))).rejects.toThrow(/timed out after 100 ms/);
    const dead = openaiPolicy({ baseUrl: "http://127.0.0.1:9/v1", model: "m", temperature: 0, retries: 0 });
    await expect(dead.generate([request], createRng(0))).rejects.toBeInstanceOf(TransportError);

    // The server holds the first requests until three are in (a 1 s fallback, so a bound below 3
    // fails the test rather than hanging it), then answers each 20 ms after it came: the bound is
    // reached whatever the machine's speed, and a fourth request would be seen if it went out.
    let active = 0;
    let peak = 0;
    const held: (() => void)[] = [];
    const releaseHeld = () => held.splice(0).forEach((answer) => answer());
    const fallback = setTimeout(releaseHeld, 1000);
    const url = await fake((_b, _n, _req, res) => {
      active++;
      peak = Math.max(peak, active);
      const answer = () => {
        active--;
        ok(res, "x");
      };
      if (held.length + 1 < 3 && peak < 3) return void held.push(answer);
      clearTimeout(fallback);
      setTimeout(() => {
        releaseHeld();
        answer();
      }, 20);
    });
    const bounded = openaiPolicy({ baseUrl: url, model: "m", temperature: 0, concurrency: 3 });
    const results = await bounded.generate(Array.from({ length: 12 }, () => request), createRng(0));
    clearTimeout(fallback);
    expect(results).toHaveLength(12);
    expect(peak).toBe(3);
  });

  it("reads the key from SPIRAL_OPENAI_API_KEY, then OPENAI_API_KEY", () => {
    expect(apiKeyFromEnv({ SPIRAL_OPENAI_API_KEY: "a", OPENAI_API_KEY: "b" })).toBe("a");
    expect(apiKeyFromEnv({ OPENAI_API_KEY: "b" })).toBe("b");
    expect(apiKeyFromEnv({})).toBeUndefined();
  });

  it("semaphore runs at most the limit at once", async () => {
    const run = semaphore(2);
    let active = 0;
    let peak = 0;
    await Promise.all(Array.from({ length: 6 }, () => run(async () => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 5));
      active--;
    })));
    expect(peak).toBe(2);
  });
});
