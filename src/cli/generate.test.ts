import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { saveCheckpoint } from "../engine/weights/checkpoint.js";
import { initParams } from "../engine/weights/params.js";
import { modelPreset } from "../engine/model/presets.js";
import { ByteTokenizer } from "../engine/tokenizer/byte-tokenizer.js";
import { createRng } from "../core/rng.js";
import { generateCommand, parseGenerateOptions } from "./generate.js";
import { scriptedIo } from "./io.js";
import { requireWebgpu, skipWebgpu } from "../engine/graph/test-webgpu.js";

async function run(args: string[]): Promise<string> {
  const io = scriptedIo([]);
  await generateCommand(io).parseAsync(args, { from: "user" });
  return io.stdout();
}

describe("spiral generate", () => {
  let dir: string;
  beforeAll(async () => {
    dir = join(mkdtempSync(join(tmpdir(), "spiral-gen-")), "tiny");
    const config = modelPreset("tiny");
    await saveCheckpoint(dir, { config, params: initParams(config, createRng(1), 0.1) });
  });

  it("--json prints prompt and generated ids with log-probs, reproducibly for a seed", async () => {
    const args = ["--model", dir, "--prompt", "Hello", "--max-new", "6", "--temperature", "1", "--seed", "3", "--json"];
    const first = JSON.parse(await run(args)) as { promptTokens: number[]; tokens: number[]; logprobs: number[]; text: string; finishReason: string };
    expect(first.promptTokens).toEqual(new ByteTokenizer().encode("Hello"));
    expect(first.tokens.length).toBeGreaterThan(0);
    expect(first.tokens.length).toBeLessThanOrEqual(6);
    expect(first.logprobs).toHaveLength(first.tokens.length);
    for (const lp of first.logprobs) expect(lp).toBeLessThanOrEqual(0);
    const shown = first.finishReason === "eos" ? first.tokens.slice(0, -1) : first.tokens; // the final eos is not text
    expect(first.text).toBe(new ByteTokenizer().decode(shown));
    expect(JSON.parse(await run(args))).toEqual(first);
  });

  it("streams the completion text, with the chat template under --chat", async () => {
    const out = await run(["--model", dir, "--prompt", "Hi", "--chat", "--no-thinking", "--max-new", "5", "--temperature", "0"]);
    expect(out).toMatch(/\n\[(eos|length), [1-5] tokens\]\n$/);
    const json = JSON.parse(await run(["--model", dir, "--prompt", "Hi", "--chat", "--no-thinking", "--max-new", "5", "--temperature", "0", "--json"])) as {
      promptTokens: number[];
      text: string;
    };
    expect(new ByteTokenizer().decode(json.promptTokens)).toBe("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n");
    expect(out.startsWith(json.text)).toBe(true);
  });

  it("--choice constrains the completion to one of the strings", async () => {
    const choices = ["[0]", "[4]", "[Offer: 3 Wood -> 2 Gold]"];
    for (const seed of ["1", "2", "3"]) {
      const out = JSON.parse(await run(["--model", dir, "--prompt", "Move:", "--temperature", "1.5", "--seed", seed, "--json", "--choice", ...choices])) as {
        text: string;
        finishReason: string;
      };
      expect(choices).toContain(out.text);
      expect(out.finishReason).toBe("constraint");
    }
    const base = { model: dir, prompt: "x", thinking: true, maxNew: "4", temperature: "1", seed: "0" };
    expect(() => parseGenerateOptions({ ...base, trigger: "{" })).toThrow(/need at least one --choice/);
  });

  it("rejects bad options and missing checkpoints with what was expected", async () => {
    const base = { model: dir, prompt: "x", thinking: true, maxNew: "4", temperature: "1", seed: "0" };
    expect(() => parseGenerateOptions({ ...base, temperature: "-1" })).toThrow(/--temperature expects a number ≥ 0/);
    expect(() => parseGenerateOptions({ ...base, maxNew: "0" })).toThrow(/--max-new expects an integer ≥ 1/);
    expect(() => parseGenerateOptions({ ...base, topP: "1.5" })).toThrow(/--top-p expects a number in \(0, 1\]/);
    expect(() => parseGenerateOptions({ ...base, sampler: "gpu" })).toThrow('--sampler expects one of device, host; got "gpu"');
    expect(() => parseGenerateOptions({ ...base, sampler: "device" })).toThrow(/^--sampler device draws on the GPU \(--device webgpu\)/);
    expect(parseGenerateOptions({ ...base, device: "webgpu", sampler: "host" }).sampler).toBe("host");
    // --system and --no-thinking shape the chat template: without --chat they would be ignored.
    expect(() => parseGenerateOptions({ ...base, system: "Be brief." })).toThrow("--system and --no-thinking apply to the chat template: add --chat");
    expect(() => parseGenerateOptions({ ...base, thinking: false })).toThrow("--system and --no-thinking apply to the chat template: add --chat");
    expect(parseGenerateOptions({ ...base, chat: true, system: "Be brief.", thinking: false }).system).toBe("Be brief.");
    await expect(run(["--model", join(dir, "missing"), "--prompt", "x"])).rejects.toThrow(/^--model .*missing: no such directory$/);
  });

  it("says once that a checkpoint without a manifest is unverified, and samples from it", async () => {
    const bare = join(dir, "..", "no-manifest");
    cpSync(dir, bare, { recursive: true });
    rmSync(join(bare, "spiral-manifest.json"));
    const io = scriptedIo([]);
    await generateCommand(io).parseAsync(["--model", bare, "--prompt", "Hi", "--max-new", "2", "--json"], { from: "user" });
    expect(io.stderr().match(/unverified \(no manifest\)/g)).toHaveLength(1);
    expect((JSON.parse(io.stdout()) as { tokens: number[] }).tokens.length).toBeGreaterThan(0);
    const verified = scriptedIo([]);
    await generateCommand(verified).parseAsync(["--model", dir, "--prompt", "Hi", "--max-new", "2", "--json"], { from: "user" });
    expect(verified.stderr()).toBe("");
  });
});

describe.skipIf(skipWebgpu)("spiral generate --device webgpu", { timeout: 120_000 }, () => {
  it("samples on the device (same seed, same completion; constrained too), and with --sampler host gives the CPU's tokens", async () => {
    await requireWebgpu();
    const dir = join(mkdtempSync(join(tmpdir(), "spiral-gen-gpu-")), "tiny");
    try {
      const config = modelPreset("tiny");
      await saveCheckpoint(dir, { config, params: initParams(config, createRng(1), 0.1) });
      type Out = { tokens: number[]; logprobs: number[]; text: string };
      const gen = async (...extra: string[]) => JSON.parse(await run(["--model", dir, "--prompt", "Hello", "--max-new", "8", "--temperature", "1", "--seed", "3", "--json", ...extra])) as Out;
      const device = await gen("--device", "webgpu");
      expect(await gen("--device", "webgpu")).toEqual(device);
      const [host, cpu] = [await gen("--device", "webgpu", "--sampler", "host"), await gen()];
      expect(host.tokens).toEqual(cpu.tokens);
      expect(device.tokens.length).toBeGreaterThan(0);
      const choices = ["[0]", "[4]", "[Offer: 3 Wood -> 2 Gold]"];
      expect(choices).toContain((await gen("--device", "webgpu", "--max-new", "40", "--choice", ...choices)).text);
    } finally {
      rmSync(join(dir, ".."), { recursive: true, force: true });
    }
  });
});
