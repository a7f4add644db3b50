import { describe, expect, it } from "vitest";
import { groups, type Job } from "./scheduler.js";

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
