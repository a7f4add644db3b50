/**
 * The policy conformance suite over every `Policy` implementation: the random policy, the model
 * policy (a checkpoint opened as `spiral eval` opens one) and the OpenAI-endpoint policy talking to
 * a real `spiral serve` process on loopback; plus checks that the checker catches broken policies.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { saveCheckpoint } from "../engine/weights/checkpoint.js";
import { initParams } from "../engine/weights/params.js";
import { modelPreset } from "../engine/model/presets.js";
import { createRng } from "../core/rng.js";
import { checkPolicyConformance } from "./conformance.js";
import { openaiPolicy } from "./openai-policy.js";
import { randomPolicy, type Policy } from "./policy.js";
import { openCheckpoint, type PolicyPlayer } from "./policy-spec.js";
import { startServeProcess, type ServeProcess } from "../serve/process.js";

const root = mkdtempSync(join(tmpdir(), "spiral-policy-conformance-"));
const checkpoint = join(root, "micro");
beforeAll(async () => {
  const config = modelPreset("micro");
  await saveCheckpoint(checkpoint, { config, params: initParams(config, createRng(5), 0.1) });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("policy conformance: random", () => {
  it("conforms, with invalid free replies too", async () => {
    expect(await checkPolicyConformance(randomPolicy(), { honoursConstraints: true, tokenIds: true, exact: true })).toEqual([]);
    expect(await checkPolicyConformance(randomPolicy({ invalidRate: 0.5 }), { honoursConstraints: true, tokenIds: true, exact: true })).toEqual([]);
  });
});

describe("policy conformance: model", () => {
  let player: PolicyPlayer;
  beforeAll(async () => {
    player = await openCheckpoint(checkpoint, { temperature: 1, maxNewTokens: 12, threads: 1 });
  });
  afterAll(async () => player?.close());

  it("conforms (exact choice probabilities agree with the sampler's log-probs within 1e-3)", async () => {
    expect(await checkPolicyConformance(player.policy, { honoursConstraints: true, tokenIds: true, exact: true })).toEqual([]);
  }, 120_000);
});

describe("policy conformance: OpenAI endpoint against a real spiral serve process", () => {
  let server: ServeProcess | undefined;
  beforeAll(async () => {
    server = await startServeProcess(["--model", checkpoint, "--port", "0", "--host", "127.0.0.1", "--threads", "1", "--seed", "0"]);
  }, 90_000);
  afterAll(async () => {
    await server?.stop();
  });

  it("conforms (no token ids or constraints over HTTP; the same seeds give the same replies)", async () => {
    const policy = openaiPolicy({ baseUrl: (server as { url: string }).url, model: "micro", temperature: 1, retries: 0 });
    expect(await checkPolicyConformance(policy, { honoursConstraints: false, tokenIds: false, exact: false })).toEqual([]);
  }, 120_000);
});

describe("the checker catches broken policies", () => {
  const base = randomPolicy();
  const options = { honoursConstraints: true, tokenIds: true, exact: true } as const;

  it("a result short, log-probs that do not match the tokens, a reply off the constraint", async () => {
    const short: Policy = { ...base, generate: async (r, rng) => (await base.generate(r, rng)).slice(1) };
    expect((await checkPolicyConformance(short, options)).join("\n")).toMatch(/results for .* requests/);
    const lopsided: Policy = { ...base, generate: async (r, rng) => (await base.generate(r, rng)).map((x) => ({ ...x, logprobs: [...x.logprobs, 0] })) };
    expect((await checkPolicyConformance(lopsided, options)).join("\n")).toMatch(/log-probs for .* generated tokens/);
    const stray: Policy = { ...base, generate: async (r, rng) => (await base.generate(r, rng)).map((x) => ({ ...x, text: "[99]" })) };
    expect((await checkPolicyConformance(stray, options)).join("\n")).toMatch(/constrained reply "\[99\]" is not one of/);
  });

  it("non-determinism, probabilities that do not sum to 1, a policy that throws", async () => {
    let calls = 0;
    const drifting: Policy = { ...base, generate: (r, rng) => base.generate(r, createRng(calls++)).then((x) => (void rng, x)) };
    expect((await checkPolicyConformance(drifting, options)).join("\n")).toMatch(/same rng state gave different results/);
    const lossy: Policy = { ...base, choiceProbabilities: (_r, c) => Promise.resolve(c.map(() => 0.1)) };
    expect((await checkPolicyConformance(lossy, options)).join("\n")).toMatch(/sum to/);
    const broken: Policy = { ...base, generate: () => Promise.reject(new Error("boom")) };
    expect((await checkPolicyConformance(broken, options)).join("\n")).toMatch(/threw: boom/);
  });
});
