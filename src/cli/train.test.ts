import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readMetrics } from "../rl/run-dir.js";
import { resolveTrainConfig } from "../rl/config.js";
import { checkTrainConfig } from "../rl/validate.js";
import { scriptedIo } from "./io.js";
import { flagOverrides, parseEndpointFlag, parseGamesFlag, resolveRun, runTrain } from "./train.js";
import { TINY_TEST_MODEL } from "../rl/test-metrics.js";

const root = mkdtempSync(join(tmpdir(), "spiral-cli-train-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("spiral train flags", () => {
  it("parses games with weights and maps flags onto the config", () => {
    expect(parseGamesFlag("TicTacToe-v0, KuhnPoker-v1:2")).toEqual([{ id: "TicTacToe-v0", weight: 1 }, { id: "KuhnPoker-v1", weight: 2 }]);
    expect(() => parseGamesFlag("TicTacToe-v0:0")).toThrow(/weight of TicTacToe-v0 must be a positive number/);
    expect(flagOverrides({ steps: "5", rae: false, init: "small", lr: "0.001" })).toEqual({
      steps: 5, rae: { enabled: false }, model: { preset: "small", dir: null }, optim: { lr: 0.001 },
    });
    expect(() => flagOverrides({ steps: "many" })).toThrow(/--steps expects an integer; got "many"/);
    expect(() => flagOverrides({ lr: "fast" })).toThrow('--lr expects a number; got "fast"');
    expect(() => flagOverrides({ entropyCoef: "" })).toThrow('--entropy-coef expects a number; got ""');
    expect(() => flagOverrides({ model: "runs/x/step-5", init: "micro" })).toThrow("--model DIR and --init PRESET are alternatives");
    for (const name of ["../elsewhere", "a/b", "..", "a\\b"]) expect(() => flagOverrides({ name })).toThrow(`--name expects a folder name under --out (no / or \\, not . or ..); got "${name}"`);
    expect(flagOverrides({ name: "run-1.b" })).toEqual({ name: "run-1.b" });
    expect(flagOverrides({ lrSchedule: "cosine", entropyCoef: "0.1" })).toEqual({ optim: { lrSchedule: "cosine", entropyCoef: 0.1 } });
    expect(flagOverrides({ actorEndpoint: ["http://a:8000/v1", "http://b:8000,weight=2,concurrency=64"], maxStaleness: "1" })).toEqual({
      endpoints: [{ url: "http://a:8000/v1" }, { url: "http://b:8000", weight: 2, concurrency: 64 }], maxStaleness: 1,
    });
    // Endpoint actors alone by default, whatever the preset's in-process actors; beside K of them with --actors K.
    expect(resolveTrainConfig("default", flagOverrides({ actorEndpoint: ["http://a:8000/v1"] })).actors).toBe(0);
    expect(resolveTrainConfig("default", flagOverrides({ actorEndpoint: ["http://a:8000/v1"], actors: "2" })).actors).toBe(2);
    expect(resolveTrainConfig("default", {}).actors).toBe(2);
    expect(() => parseEndpointFlag("a:8000")).toThrow(/--actor-endpoint expects URL\[,weight=W\]\[,concurrency=C\] with an http\(s\) URL; got "a:8000"/);
    expect(() => parseEndpointFlag("http://a:1,weight=0")).toThrow(/"weight=0" is not weight=W \(W > 0\)/);
  });

  it("resolves preset < config file < flags, and refuses to change a resumed run", async () => {
    const file = join(root, "c.json");
    writeFileSync(file, JSON.stringify({ steps: 7, seed: 3 }));
    const r = await resolveRun({ config: file, seed: "4", out: root, name: "x" });
    expect([r.config.steps, r.config.seed, r.config.promptMode, r.runDir]).toEqual([7, 4, "compact", join(root, "x")]);
    writeFileSync(file, JSON.stringify({ stepz: 7 }));
    await expect(resolveRun({ config: file })).rejects.toThrow(/unknown key: "stepz"/);
    // YAML too, as spiral sweep --config reads it.
    const yaml = join(root, "c.yaml");
    writeFileSync(yaml, "steps: 9\noptim:\n  lr: 2.0e-4\n");
    const y = await resolveRun({ config: yaml, out: root, name: "y" });
    expect([y.config.steps, y.config.optim.lr]).toEqual([9, 2e-4]);
    writeFileSync(yaml, "steps: [9\n");
    await expect(resolveRun({ config: yaml })).rejects.toThrow(/^--config: Expected a YAML or JSON train config file; could not read /);
    await expect(resolveRun({ config: join(root, "none.json") })).rejects.toThrow(/^--config: Expected a YAML or JSON train config file; could not read .*none\.json: ENOENT/);
    await expect(resolveRun({ lrSchedule: "step" })).rejects.toThrow(/optim\.lrSchedule/);
    await expect(resolveRun({ entropyCoef: "-1" })).rejects.toThrow(/optim\.entropyCoef/);
    // --games replaces the preset's list, per-game entropy bonus included
    expect((await resolveRun({ games: "KuhnPoker-v1-1round" })).config.games).toEqual([{ id: "KuhnPoker-v1-1round", weight: 1 }]);
    expect((await resolveRun({})).config.games.map((g) => g.entropyCoef)).toEqual([undefined, 0.3, 0.3]);
    // On webgpu the preset's two CPU actors become one (one device per process); a user's count stands.
    expect((await resolveRun({ device: "webgpu" })).config.actors).toBe(1);
    expect((await resolveRun({ device: "webgpu", actors: "2" })).config.actors).toBe(2);
    writeFileSync(file, JSON.stringify({ device: "webgpu", actors: 3 }));
    expect((await resolveRun({ config: file })).config.actors).toBe(3);
    expect((await resolveRun({ device: "cpu" })).config.actors).toBe(2);
    // --precision: absent by default (the run config as before), fp16 kept, a bad value named; fp16 on the CPU refused by the key's name.
    expect((await resolveRun({})).config.precision).toBeUndefined();
    expect((await resolveRun({ device: "webgpu", precision: "fp16" })).config.precision).toBe("fp16");
    await expect(resolveRun({ precision: "bf16" })).rejects.toThrow('--precision expects one of fp32, fp16; got "bf16"');
    await expect(checkTrainConfig((await resolveRun({ precision: "fp16" })).config)).rejects.toThrow(/^precision fp16 is a webgpu option/);
    // fp16 covers LoRA runs on webgpu; on the CPU a LoRA run is refused the same way.
    await expect(checkTrainConfig((await resolveRun({ device: "webgpu", precision: "fp16", lora: "4" })).config)).resolves.toBeUndefined();
    await expect(checkTrainConfig((await resolveRun({ precision: "fp16", lora: "4" })).config)).rejects.toThrow(/^precision fp16 is a webgpu option/);
    // --sampler: absent by default (the device's own: host on the CPU, device on webgpu), host kept, a bad value named; device on the CPU refused by the key's name.
    expect((await resolveRun({})).config.sampler).toBeUndefined();
    expect((await resolveRun({ device: "webgpu", sampler: "host" })).config.sampler).toBe("host");
    await expect(resolveRun({ sampler: "gpu" })).rejects.toThrow('--sampler expects one of device, host; got "gpu"');
    await expect(checkTrainConfig((await resolveRun({ sampler: "device" })).config)).rejects.toThrow(/^sampler device draws on the GPU/);
    await expect(resolveRun({ resume: root, steps: "3" })).rejects.toThrow(/--resume continues the run .* drop the other options \(steps\)/);
    await expect(resolveRun({ resume: root, actorEndpoint: ["http://a:1"], maxStaleness: "1" })).rejects.toThrow(/drop the other options \(maxStaleness\)/);
    await expect(runTrain({ logEvery: "0", out: root, name: "log-every" }, scriptedIo([]))).rejects.toThrow(/--log-every expects a positive integer; got 0/);
  });

  it("trains end to end and prints the results table", async () => {
    const file = join(root, "tiny.json");
    writeFileSync(file, JSON.stringify({
      games: [{ id: "TicTacToe-v0" }], rolloutBatch: 4, envs: 4, maxNewTokens: 8, threads: 1,
      model: TINY_TEST_MODEL,
      eval: { games: 2, kuhn: false },
    }));
    const io = scriptedIo([]);
    await runTrain({ config: file, steps: "1", evalEvery: "1", out: root, name: "cli", progress: false }, io);
    expect(io.stdout()).toMatch(/step\s+TTT\/random\s+TTT\/minimax/);
    expect(io.stdout()).toContain("TTT: TicTacToe non-loss rate vs random / minimax\n");
    expect(io.stdout()).toContain(`1 step in `);
    expect(io.stdout()).toContain(` min → ${join(root, "cli")}/ (metrics.jsonl, transcripts/, step-N/)`);
    expect(io.stderr()).toMatch(/step 1\/1 · loss/);
    expect((await readMetrics(join(root, "cli"))).map((m) => `${m.kind}${m.step}`)).toEqual(["eval0", "step1", "eval1"]);
  }, 60_000);

  it("refuses a run directory that holds a run with that one line, before announcing a start", async () => {
    const dir = join(root, "taken");
    mkdirSync(dir);
    writeFileSync(join(dir, "metrics.jsonl"), "");
    const io = scriptedIo([]);
    await expect(runTrain({ steps: "1", out: root, name: "taken", progress: false }, io)).rejects.toThrow(`${dir} already holds a run`);
    expect(io.stderr()).toBe("");
  });
});
