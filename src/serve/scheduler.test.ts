import { describe, expect, it } from "vitest";
import type { Generator } from "../engine/generate.js";
import { createRng } from "../games/rng.js";
import { groups, Scheduler, type Job } from "./scheduler.js";

const job = (over: Partial<Job> = {}): { job: Job } => ({
  job: { prompt: [1], n: 1, maxTokens: 4, temperature: 1, topP: 1, stop: [], seed: null, cancelled: () => false, ...over },
});

describe("scheduler groups", () => {
  it("puts jobs with the same sampling settings in one call, whatever their max_tokens; seeded jobs alone", () => {
    const a = job({ maxTokens: 4 });
    const b = job({ maxTokens: 100 });
    const c = job({ temperature: 0 });
    const d = job({ seed: 3 });
    const e = job({ stop: ["\n"] });
    const f = job({ seed: 3 });
    expect(groups([a, b, c, d, e, f])).toEqual([[a, b], [c], [d], [e], [f]]);
  });
});

describe("Scheduler waves", () => {
  /** A stand-in generator that records each call's rows and answers after `ms`. */
  function fakeGenerator(ms: number) {
    const calls: { rows: number; maxNew: readonly (number | undefined)[]; temperature: number }[] = [];
    const generator = {
      generate(requests: readonly { prompt: readonly number[]; maxNewTokens?: number }[], options: { temperature: number; onText?: (r: number, d: string) => void }) {
        calls.push({ rows: requests.length, maxNew: requests.map((r) => r.maxNewTokens), temperature: options.temperature });
        return new Promise((resolve) => setTimeout(() => {
          requests.forEach((_, i) => options.onText?.(i, "x"));
          resolve(requests.map((r) => ({ tokens: [...r.prompt], logprobs: [], allowed: [], text: `row for ${r.prompt.join(",")}`, finishReason: "length" })));
        }, ms));
      },
    };
    return { generator: generator as unknown as Generator, calls };
  }

  it("runs requests arriving together as one call, per-row max_tokens, n rows per request, in order", async () => {
    const { generator, calls } = fakeGenerator(5);
    const s = new Scheduler(generator, createRng(0), 64, 0); // no gathering pause: same-turn submissions still share a wave
    const [a, b] = await Promise.all([s.submit(job({ prompt: [1], maxTokens: 3 }).job), s.submit(job({ prompt: [2], maxTokens: 9, n: 2 }).job)]);
    expect(calls).toEqual([{ rows: 3, maxNew: [3, 9, 9], temperature: 1 }]);
    expect(a!.map((c) => c.text)).toEqual(["row for 1"]);
    expect(b!.map((c) => c.text)).toEqual(["row for 2", "row for 2"]);
    expect(s.stats).toMatchObject({ waves: 1, calls: 1, maxRows: 3, jobs: 2 });
  });

  it("drops a job cancelled while it waited, and sends no text to a cancelled stream", async () => {
    const { generator, calls } = fakeGenerator(20);
    const s = new Scheduler(generator, createRng(0), 64, 0);
    const first = s.submit(job({ prompt: [1] }).job);
    let gone = false;
    const texts: string[] = [];
    const waiting = s.submit({ ...job({ prompt: [2] }).job, cancelled: () => gone, onText: (_c, d) => texts.push(d) });
    const dropped = expect(waiting).rejects.toThrow(/cancelled/);
    gone = true;
    await first;
    await dropped;
    expect(calls.map((c) => c.rows)).toEqual([1]);
    expect(texts).toEqual([]);
  });

  it("waits for announced requests before starting a wave", async () => {
    const { generator, calls } = fakeGenerator(1);
    const s = new Scheduler(generator, createRng(0), 64, 200);
    const withdraw = s.announce();
    const first = s.submit(job({ prompt: [1] }).job);
    await new Promise((r) => setTimeout(r, 20));
    const second = s.submit(job({ prompt: [2] }).job, withdraw);
    await Promise.all([first, second]);
    expect(calls.map((c) => c.rows)).toEqual([2]);
  });
});
