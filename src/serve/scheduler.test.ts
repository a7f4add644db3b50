import { describe, expect, it } from "vitest";
import type { Generator } from "../engine/infer/generate.js";
import { createRng, type Rng } from "../core/rng.js";
import { Scheduler, type Job } from "./scheduler.js";

const job = (over: Partial<Job> = {}): { job: Job } => ({
  job: { prompt: [1], n: 1, maxTokens: 4, temperature: 1, topP: 1, stop: [], seed: null, signal: new AbortController().signal, ...over },
});

describe("Scheduler waves", () => {
  /** A stand-in generator that records each call's rows and answers after `ms`. */
  function fakeGenerator(ms: number) {
    const calls: { rows: number; maxNew: readonly (number | undefined)[]; temperatures: readonly (number | undefined)[]; firstDraws: readonly (number | undefined)[] }[] = [];
    const generator = {
      generate(
        requests: readonly { prompt: readonly number[]; maxNewTokens?: number; sampling?: { temperature: number }; rng?: Rng }[],
        options: { onText?: (r: number, d: string) => void },
      ) {
        calls.push({
          rows: requests.length,
          maxNew: requests.map((r) => r.maxNewTokens),
          temperatures: requests.map((r) => r.sampling?.temperature),
          firstDraws: requests.map((r) => r.rng?.clone().nextUint32()),
        });
        return new Promise((resolve) => setTimeout(() => {
          requests.forEach((_, i) => options.onText?.(i, "x"));
          resolve(requests.map((r) => ({ tokens: [...r.prompt], logprobs: [], allowed: [], text: `row for ${r.prompt.join(",")}`, finishReason: "length" })));
        }, ms));
      },
    };
    return { generator: generator as unknown as Generator, calls };
  }

  it("runs requests arriving together as one call, per-row max_tokens and sampling, n rows per request, in order", async () => {
    const { generator, calls } = fakeGenerator(5);
    const s = new Scheduler(generator, createRng(0), 64, 0); // no gathering pause: same-turn submissions still share a wave
    const [a, b] = await Promise.all([s.submit(job({ prompt: [1], maxTokens: 3 }).job), s.submit(job({ prompt: [2], maxTokens: 9, n: 2, temperature: 0.5 }).job)]);
    expect(calls).toMatchObject([{ rows: 3, maxNew: [3, 9, 9], temperatures: [1, 0.5, 0.5] }]);
    expect(a!.map((c) => c.text)).toEqual(["row for 1"]);
    expect(b!.map((c) => c.text)).toEqual(["row for 2", "row for 2"]);
    expect(s.stats).toMatchObject({ waves: 1, calls: 1, maxRows: 3, jobs: 2 });
  });

  it("batches seeded requests with everything else; each seeded row draws from its seed's own stream", async () => {
    const { generator, calls } = fakeGenerator(1);
    const s = new Scheduler(generator, createRng(0), 64, 0);
    await Promise.all([s.submit(job({ seed: 7, n: 2 }).job), s.submit(job({ seed: 8 }).job), s.submit(job().job), s.submit(job({ seed: 7, temperature: 0.3 }).job)]);
    expect(calls).toHaveLength(1);
    const seeded = (seed: number, c: number) => {
      const r = createRng(seed);
      for (let k = 0; k < c; k++) r.split();
      return r.split().nextUint32();
    };
    const draws = calls[0]!.firstDraws;
    expect([draws[0], draws[1], draws[2], draws[4]]).toEqual([seeded(7, 0), seeded(7, 1), seeded(8, 0), seeded(7, 0)]);
    expect(new Set(draws).size).toBe(4); // the unseeded row has a stream of its own
  });

  it("drops a job cancelled while it waited, and sends no text to a cancelled stream", async () => {
    const { generator, calls } = fakeGenerator(20);
    const s = new Scheduler(generator, createRng(0), 64, 0);
    const first = s.submit(job({ prompt: [1] }).job);
    const gone = new AbortController();
    const texts: string[] = [];
    const waiting = s.submit({ ...job({ prompt: [2] }).job, signal: gone.signal, onText: (_c, d) => texts.push(d) });
    const dropped = expect(waiting).rejects.toThrow(/cancelled/);
    gone.abort();
    await first;
    await dropped;
    expect(calls.map((c) => c.rows)).toEqual([1]);
    expect(texts).toEqual([]);
  });

  it("waits for announced requests before starting a wave", async () => {
    const { generator, calls } = fakeGenerator(1);
    // A gathering pause far longer than the 20 ms below: the wave waits for the announced request
    // however slowly this process runs (were announcements ignored, the wave would start at once).
    const s = new Scheduler(generator, createRng(0), 64, 60_000);
    const withdraw = s.announce();
    const first = s.submit(job({ prompt: [1] }).job);
    await new Promise((r) => setTimeout(r, 20));
    const second = s.submit(job({ prompt: [2] }).job, withdraw);
    await Promise.all([first, second]);
    expect(calls.map((c) => c.rows)).toEqual([2]);
  });
});
