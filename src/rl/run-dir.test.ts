import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  appendMetrics, createRunDir, latestCheckpoint, listCheckpointDirs, listCheckpoints, METRICS_FILE, parseCheckpointName, readMetrics, readRunConfig, renderTranscript,
  setAsideAfter, sweepInterruptedSaves,
} from "./run-dir.js";
import type { Trajectory } from "./types.js";

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "spiral-run-"));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("run directory", () => {
  it("writes the config once and refuses to start a second run in the same place", async () => {
    const dir = join(tempDir(), "a");
    await createRunDir(dir, { steps: 3 });
    expect(await readRunConfig(dir)).toEqual({ steps: 3 });
    await expect(createRunDir(dir, { steps: 3 })).rejects.toThrow(/holds only config\.json, from a start that never ran a step; remove that directory/);
    appendMetrics(dir, { kind: "step", step: 1 });
    await expect(createRunDir(dir, { steps: 3 })).rejects.toThrow(/already holds a run; continue it with --resume/);
    await expect(readRunConfig(join(dir, "nope"))).rejects.toThrow(/Expected a run directory with config.json/);
  });

  it("appends metrics line by line, skips a torn last line, and sets later lines aside for a resume, dropping none", async () => {
    const dir = tempDir();
    for (let step = 1; step <= 4; step++) {
      appendMetrics(dir, { kind: "step", step, loss: step / 10 });
      if (step % 2 === 0) appendMetrics(dir, { kind: "eval", step, win: 0.5 });
    }
    appendFileSync(join(dir, METRICS_FILE), '{"kind":"step","step":5,"lo'); // killed mid-write
    const all = await readMetrics(dir);
    expect(all.map((r) => `${r.kind}${r.step}`)).toEqual(["step1", "step2", "eval2", "step3", "step4", "eval4"]);
    const before = readFileSync(join(dir, METRICS_FILE), "utf8");
    mkdirSync(join(dir, "step-2"));
    mkdirSync(join(dir, "step-4"));
    writeFileSync(join(dir, "step-4", "config.json"), "{}");
    const aside = await setAsideAfter(dir, 2);
    expect(aside).toMatchObject({ kept: 3, linesSetAside: 4, checkpoints: ["step-4"], dir: join(dir, "set-aside", "resume-1") });
    expect(readFileSync(join(dir, METRICS_FILE), "utf8").trim().split("\n")).toHaveLength(3);
    // The file as it was, torn line included, and the later checkpoint with its files.
    expect(readFileSync(join(dir, "set-aside", "resume-1", METRICS_FILE), "utf8")).toBe(before);
    expect(readFileSync(join(dir, "set-aside", "resume-1", "step-4", "config.json"), "utf8")).toBe("{}");
    expect(await listCheckpointDirs(dir)).toEqual([2]);
    appendMetrics(dir, { kind: "step", step: 3, loss: 0.3 });
    expect((await readMetrics(dir)).map((r) => r.step)).toEqual([1, 2, 2, 3]);
    // Nothing later: nothing moved, no new set-aside directory.
    expect(await setAsideAfter(dir, 3)).toEqual({ kept: 4, linesSetAside: 0, checkpoints: [] });
    // From scratch (-1): every line aside, into the next directory.
    expect(await setAsideAfter(dir, -1)).toMatchObject({ kept: 0, linesSetAside: 4, checkpoints: ["step-2"], dir: join(dir, "set-aside", "resume-2") });
    expect(readFileSync(join(dir, METRICS_FILE), "utf8")).toBe("");
  });

  it("sweeps interrupted saves at a start: partial directories go, a lone moved-aside checkpoint comes back", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, ".step-3.partial-12-1-abc"));
    writeFileSync(join(dir, ".step-3.partial-12-1-abc", "model.safetensors"), "x");
    mkdirSync(join(dir, ".step-2.old-9-1-abc"));
    writeFileSync(join(dir, ".step-2.old-9-1-abc", "config.json"), "{}");
    mkdirSync(join(dir, "step-1"));
    mkdirSync(join(dir, ".step-1.old-9-2-abc")); // step-1 exists: this one stays (not the only copy, but not ours to judge)
    const done = await sweepInterruptedSaves(dir);
    expect(done).toHaveLength(2);
    expect(readdirSync(dir).sort()).toEqual([".step-1.old-9-2-abc", "step-1", "step-2"]);
    expect(existsSync(join(dir, "step-2", "config.json"))).toBe(true);
    expect(await sweepInterruptedSaves(join(dir, "missing"))).toEqual([]);
  });

  it("reads checkpoint names for --resume-from", () => {
    expect(parseCheckpointName("step-200")).toBe(200);
    expect(parseCheckpointName("7")).toBe(7);
    expect(() => parseCheckpointName("latest")).toThrow(/--resume-from expects a checkpoint name like step-200; got "latest"/);
  });

  it("lists only complete checkpoints", async () => {
    const dir = tempDir();
    for (const [name, complete] of [["step-10", true], ["step-2", true], ["step-20", false], [".step-30.partial-1", true]] as const) {
      mkdirSync(join(dir, name));
      if (complete) writeFileSync(join(dir, name, "spiral-manifest.json"), "{}");
    }
    expect(await listCheckpoints(dir)).toEqual([2, 10]);
    expect(await latestCheckpoint(dir)).toBe(10);
    expect(await latestCheckpoint(tempDir())).toBeUndefined();
  });

  it("renders a readable transcript", () => {
    const t: Trajectory = {
      result: {
        gameId: "TicTacToe-v0", seed: 7, actorId: 0, gameIndex: 0, returns: [-1.5, 0.5], endReason: "invalid", invalidSeat: 0,
        moves: [{ seat: 0, action: "", raw: "I think \\boxed{}", invalidReason: "empty box" }], trainedSeats: [0, 1], players: ["policy", "policy"],
      },
      samples: [{ gameId: "TicTacToe-v0", seat: 0, actorId: 0, gameIndex: 0, turn: 0, promptIds: [1], generatedIds: [1, 2], logprobs: [-0.5, -0.25], policyVersion: 3, text: "I think \\boxed{}" }],
    };
    const text = renderTranscript(3, [t]);
    expect(text).toContain("step 3 · TicTacToe-v0 · seed 7");
    expect(text).toContain("(logp -0.750, 2 tokens)");
    expect(text).toContain("invalid: empty box");
    expect(text).toContain("→ invalid; returns P0 -1.5, P1 0.5");
  });
});
