import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { appendMetrics, createRunDir, latestCheckpoint, listCheckpoints, METRICS_FILE, readMetrics, readRunConfig, renderTranscript, truncateMetrics } from "./run-dir.js";
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
    await expect(createRunDir(dir, { steps: 3 })).rejects.toThrow(/already holds a run; continue it with --resume/);
    await expect(readRunConfig(join(dir, "nope"))).rejects.toThrow(/Expected a run directory with config.json/);
  });

  it("appends metrics line by line, skips a torn last line, and truncates to a checkpointed step", async () => {
    const dir = tempDir();
    for (let step = 1; step <= 4; step++) {
      appendMetrics(dir, { kind: "step", step, loss: step / 10 });
      if (step % 2 === 0) appendMetrics(dir, { kind: "eval", step, win: 0.5 });
    }
    appendFileSync(join(dir, METRICS_FILE), '{"kind":"step","step":5,"lo'); // killed mid-write
    const all = await readMetrics(dir);
    expect(all.map((r) => `${r.kind}${r.step}`)).toEqual(["step1", "step2", "eval2", "step3", "step4", "eval4"]);
    expect(await truncateMetrics(dir, 2)).toBe(3);
    expect(readFileSync(join(dir, METRICS_FILE), "utf8").trim().split("\n")).toHaveLength(3);
    appendMetrics(dir, { kind: "step", step: 3, loss: 0.3 });
    expect((await readMetrics(dir)).map((r) => r.step)).toEqual([1, 2, 2, 3]);
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
