import { describe, expect, it } from "vitest";
import { createRng } from "../core/rng.js";
import { randomPolicy, type PolicyRequest } from "./policy.js";

const choices = ["[0]", "[1]", "[2]", "[bet]", "[check]"];
const request: PolicyRequest = { prompt: { kind: "text", text: "board" }, constraint: { choices }, maxNewTokens: 16, legal: choices };

describe("randomPolicy", () => {
  it("constrained: replies are uniform over the choices with exact log-probs and allowed sets", async () => {
    const policy = randomPolicy();
    const rng = createRng(1);
    const counts = new Map<string, number>();
    const n = 5000;
    const results = await policy.generate(Array.from({ length: n }, () => request), rng);
    for (const r of results) {
      expect(choices).toContain(r.text);
      // The product of token probabilities is 1/K for every reply (tolerance 1e-12).
      expect(r.logprobs.reduce((a, b) => a + b, 0)).toBeCloseTo(Math.log(1 / choices.length), 12);
      expect(r.allowedIds).toHaveLength(r.generatedIds.length);
      r.generatedIds.forEach((id, t) => expect(r.allowedIds?.[t]).toContain(id));
      counts.set(r.text, (counts.get(r.text) ?? 0) + 1);
    }
    // Each share within 4 standard deviations of 1/5 (sd = sqrt(0.16/5000) ≈ 0.0057).
    for (const c of choices) expect(Math.abs((counts.get(c) ?? 0) / n - 0.2)).toBeLessThan(0.023);
    expect(await policy.choiceProbabilities(request, choices)).toEqual([0.2, 0.2, 0.2, 0.2, 0.2]);
  });

  it("is deterministic for a seed", async () => {
    const a = await randomPolicy().generate([request, request, request], createRng(7));
    const b = await randomPolicy().generate([request, request, request], createRng(7));
    expect(a).toEqual(b);
  });

  it("free mode boxes a legal move, or writes garbage at invalidRate", async () => {
    const free: PolicyRequest = { prompt: { kind: "chat", messages: [{ role: "user", content: "play" }] }, maxNewTokens: 200, legal: ["[4]"] };
    const [ok] = await randomPolicy().generate([free], createRng(1));
    expect(ok?.text).toMatch(/\\boxed\{\[4\]\}$/);
    expect(ok?.allowedIds).toBeUndefined();
    const bad = await randomPolicy({ invalidRate: 1 }).generate([free], createRng(1));
    expect(bad[0]?.text).not.toMatch(/boxed/);
  });

  it("with a trigger writes free text, then a constrained choice and the suffix", async () => {
    const req: PolicyRequest = { ...request, constraint: { choices, trigger: "\\boxed{", suffix: "}" }, maxNewTokens: 64 };
    const [r] = await randomPolicy().generate([req], createRng(3));
    expect(r?.text).toMatch(/\\boxed\{\[(0|1|2|bet|check)\]\}$/);
    const firstConstrained = r!.allowedIds!.findIndex((a) => a !== null);
    expect(firstConstrained).toBeGreaterThan(0);
    expect(r!.allowedIds!.slice(0, firstConstrained).every((a) => a === null)).toBe(true);
  });
});
