/**
 * The fault suite, part 2: damaged run directories under `train --resume`, with and without
 * manifests, and starts that fail. Each case asserts the message, what was resumed, and that no
 * file was lost (set aside, never deleted or truncated).
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MANIFEST_FILE } from "../engine/weights/checkpoint.js";
import { checkModelDir } from "../engine/weights/model-dir.js";
import { parseTrainConfig, type TrainConfig } from "./config.js";
import { train } from "./loop.js";
import { METRICS_FILE, readMetrics } from "./run-dir.js";
import { metricsLinesWithoutTimings as strip, TINY_TEST_MODEL } from "./test-metrics.js";

const root = mkdtempSync(join(tmpdir(), "spiral-resume-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const config: TrainConfig = parseTrainConfig({
  steps: 3,
  games: [{ id: "TicTacToe-v0" }],
  rolloutBatch: 8,
  envs: 4,
  maxNewTokens: 8,
  model: TINY_TEST_MODEL,
  optim: { lr: 1e-2, microBatch: 8 },
  eval: { every: 2, games: 2, kuhn: false },
  checkpointEvery: 1,
  transcripts: 0,
  threads: 1,
});

const base = join(root, "base");
let finalWeights: Buffer;
let baseMetrics: string;

beforeAll(async () => {
  finalWeights = Buffer.from((await train(config, { runDir: base })).params.data.buffer);
  baseMetrics = readFileSync(join(base, METRICS_FILE), "utf8");
}, 120_000);

/** A copy of the finished base run to damage. */
function copyOfBase(name: string): string {
  const dir = join(root, name);
  cpSync(base, dir, { recursive: true });
  return dir;
}

/** Every file under dir with its bytes, for "nothing lost" checks. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string, prefix: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name), `${prefix}${e.name}/`);
      else out.set(`${prefix}${e.name}`, readFileSync(join(d, e.name)).toString("base64"));
    }
  };
  walk(dir, "");
  return out;
}


function flipByte(path: string, at: number): void {
  const bytes = readFileSync(path);
  bytes[at] = (bytes[at] as number) ^ 0x01;
  writeFileSync(path, bytes);
}

describe("train --resume with damaged checkpoints", () => {
  it("stops, naming the damaged newest checkpoint and --resume-from, and changes nothing; --resume-from then continues exactly", async () => {
    const dir = copyOfBase("damaged");
    const weights = join(dir, "step-3", "model.safetensors");
    flipByte(weights, readFileSync(weights).length - 3);
    const before = snapshot(dir);
    await expect(train(config, { runDir: dir, resume: true })).rejects.toThrow(
      /^checkpoint step-3 of .*damaged is damaged: .*model\.safetensors: SHA-256 is [0-9a-f]+ but the checkpoint manifest says [0-9a-f]+ .*\. Nothing was changed; to resume from an earlier one: spiral train --resume .*damaged --resume-from step-2 \(its other checkpoints: step-1, step-2\)/,
    );
    expect(snapshot(dir)).toEqual(before);

    const logs: string[] = [];
    const resumed = await train(config, { runDir: dir, resume: true, resumeFrom: "step-2", hooks: { log: (m) => logs.push(m) } });
    // Same seed: step 3 replays bit for bit; metrics read as the uninterrupted run's.
    expect(Buffer.from(resumed.params.data.buffer).equals(finalWeights)).toBe(true);
    expect((await readMetrics(dir)).map((r) => `${r.kind}${r.step}`)).toEqual(["eval0", "step1", "step2", "eval2", "step3", "eval3"]);
    // Nothing lost: the file as it was and the damaged checkpoint are in set-aside/resume-1.
    const aside = join(dir, "set-aside", "resume-1");
    expect(readFileSync(join(aside, METRICS_FILE), "utf8")).toBe(baseMetrics);
    expect(readFileSync(join(aside, "step-3", "model.safetensors")).toString("base64")).toBe(before.get("step-3/model.safetensors"));
    // Asked for by its old path, the set-aside checkpoint is pointed to.
    await expect(checkModelDir(join(dir, "step-4"))).rejects.toThrow(/step-4: no such directory$/);
    await expect(checkModelDir(join(dir, "step-3"))).resolves.toBeUndefined(); // the new step-3
    rmSync(join(dir, "step-3"), { recursive: true });
    await expect(checkModelDir(join(dir, "step-3"))).rejects.toThrow(/step-3: no such directory; a resume set it aside: .*set-aside\/resume-1\/step-3$/);
    expect(logs.find((l) => l.startsWith("resume:"))).toMatch(/^resume: from step-2 \(4 metrics lines kept\); set aside in .*resume-1: metrics\.jsonl \(2 later lines\), step-3$/);
  }, 120_000);

  it("without manifests: resumes from the newest checkpoint after structural checks, says \"unverified (no manifest)\" once, and keeps every metrics line", async () => {
    const dir = copyOfBase("no-manifest");
    for (const step of [1, 2, 3]) rmSync(join(dir, `step-${step}`, MANIFEST_FILE));
    const logs: string[] = [];
    const resumed = await train(config, { runDir: dir, resume: true, hooks: { log: (m) => logs.push(m) } });
    // It used to say "no checkpoint yet; starting over" and truncate metrics.jsonl to nothing.
    expect(readFileSync(join(dir, METRICS_FILE), "utf8")).toBe(baseMetrics);
    expect(Buffer.from(resumed.params.data.buffer).equals(finalWeights)).toBe(true);
    expect(logs.filter((l) => l.includes("unverified (no manifest)"))).toHaveLength(1);
    expect(logs).toContain("resume: from step-3 (6 metrics lines kept)");
    expect(existsSync(join(dir, "set-aside"))).toBe(false);
  }, 120_000);

  it("without a manifest, a checkpoint whose config.json no longer matches its tensors is damaged", async () => {
    const dir = copyOfBase("no-manifest-config");
    rmSync(join(dir, "step-3", MANIFEST_FILE));
    const path = join(dir, "step-3", "config.json");
    writeFileSync(path, JSON.stringify({ ...(JSON.parse(readFileSync(path, "utf8")) as object), intermediate_size: 96 }));
    const before = snapshot(dir);
    await expect(train(config, { runDir: dir, resume: true })).rejects.toThrow(/^checkpoint step-3 of .* is damaged: .*has shape \[\d+, \d+\]; the model expects .*--resume-from step-2/);
    expect(snapshot(dir)).toEqual(before);
  }, 60_000);

  it("a run killed before its first checkpoint starts over with its old lines set aside, not truncated", async () => {
    const dir = join(root, "no-checkpoint");
    mkdirSync(dir);
    cpSync(join(base, "config.json"), join(dir, "config.json"));
    writeFileSync(join(dir, METRICS_FILE), `${baseMetrics.split("\n")[0] as string}\n{"kind":"step","st`);
    mkdirSync(join(dir, ".step-1.partial-123-1-abc")); // a save killed mid-write
    const lines = readFileSync(join(dir, METRICS_FILE), "utf8");
    const logs: string[] = [];
    const resumed = await train(config, { runDir: dir, resume: true, hooks: { log: (m) => logs.push(m) } });
    expect(Buffer.from(resumed.params.data.buffer).equals(finalWeights)).toBe(true);
    expect(readFileSync(join(dir, "set-aside", "resume-1", METRICS_FILE), "utf8")).toBe(lines);
    expect(strip(readFileSync(join(dir, METRICS_FILE), "utf8"))).toEqual(strip(baseMetrics));
    expect(existsSync(join(dir, ".step-1.partial-123-1-abc"))).toBe(false);
    expect(logs[0]).toMatch(/^start: removed \.step-1\.partial-123-1-abc \(an interrupted save\)$/);
  }, 120_000);
});

describe("failed starts leave nothing behind", () => {
  it("a missing --model, an unknown --init, a bad name, or a setup error after the checks: no run directory", async () => {
    const bad: [Partial<TrainConfig>, RegExp][] = [
      [{ model: { ...config.model, preset: null, dir: join(root, "nonexistent"), tokenizer: "model" } }, /^model\.dir \(--model\) .*nonexistent: no such directory$/],
      [{ model: { ...config.model, preset: "gigantic" } }, /^model\.preset \(--init\): Unknown model preset "gigantic"/],
      [{ games: [{ id: "Foo-v0", weight: 1 }] }, /^games: Unknown game "Foo-v0"/],
      // Passes the name checks; fails once the model is built (a 151,936-token tokenizer on a 264-row model).
      [{ model: { ...config.model, tokenizer: "qwen3" } }, /^model\.tokenizer: the hf tokenizer has \d+ tokens but the model's vocabulary \(vocab_size\) has 264$/],
    ];
    for (const [i, [change, message]] of bad.entries()) {
      const runDir = join(root, "failed", `start-${i}`);
      await expect(train({ ...config, ...change }, { runDir })).rejects.toThrow(message);
      expect(existsSync(runDir)).toBe(false);
    }
    // The same name then starts cleanly.
    expect(existsSync(join(root, "failed"))).toBe(false);
  }, 120_000);
});
