/**
 * `spiral sweep` end to end with real training runs of a tiny model: a 2 configs × 2 seeds grid,
 * a second sweep that reuses its finished runs, then the same grid in a child process killed with
 * SIGKILL mid-way and rerun.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { scriptedIo } from "../cli/io.js";
import { runReport } from "../cli/report.js";
import { runSweepCommand } from "../cli/sweep.js";
import { latestCheckpoint } from "../rl/run-dir.js";
import { freezeAfterStderr, until } from "../core/test-waits.js";
import type { SweepAggregate } from "./aggregate.js";
import type { SweepState } from "./run.js";

const root = mkdtempSync(join(tmpdir(), "spiral-sweep-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const STEPS = 6;
const grid = join(root, "tiny.yaml");
writeFileSync(grid, [
  "name: tiny",
  "seeds: [0, 1]",
  "vary:",
  "  rae: [on, off]",
  "base:",
  `  steps: ${STEPS}`,
  "  games: [{ id: TicTacToe-v0 }]",
  "  rolloutBatch: 4",
  "  envs: 4",
  "  actors: 1",
  "  maxNewTokens: 8",
  "  threads: 1",
  "  checkpointEvery: 2",
  "  transcripts: 0",
  "  model: { preset: tiny, overrides: { hiddenSize: 32, intermediateSize: 64, numHiddenLayers: 1, numAttentionHeads: 2, numKeyValueHeads: 1, headDim: 16 } }",
  "  eval: { every: 3, games: 2, kuhn: true }",
].join("\n"));

const CELLS = ["rae=on", "rae=off"];
const runDirs = (out: string) => CELLS.flatMap((cell) => [0, 1].map((seed) => join(out, "tiny", cell, `seed-${seed}`)));

/** Every file under dir: path → mtime and content hash. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out[path] = `${statSync(path).mtimeMs} ${createHash("sha256").update(readFileSync(path)).digest("hex")}`;
  }
  return out;
}

const weights = (runDir: string) => readFileSync(join(runDir, `step-${STEPS}`, "model.safetensors"));
const readState = (out: string) => JSON.parse(readFileSync(join(out, "tiny", "sweep.json"), "utf8")) as SweepState;

describe("spiral sweep end to end", () => {
  const a = join(root, "a");

  it("runs a tiny grid (2 configs × 2 seeds, 2 at a time) and writes the aggregate", async () => {
    const io = scriptedIo([]);
    await runSweepCommand(grid, { out: a, parallel: "2" }, io);
    for (const dir of runDirs(a)) expect(await latestCheckpoint(dir)).toBe(STEPS);
    expect(readState(a).runs.map((r) => r.status)).toEqual(["done", "done", "done", "done"]);
    const aggregate = JSON.parse(readFileSync(join(a, "tiny", "aggregate.json"), "utf8")) as SweepAggregate;
    expect(aggregate.configs.map((c) => [c.config, c.seeds])).toEqual([["rae=on", [0, 1]], ["rae=off", [0, 1]]]);
    const on = aggregate.configs[0];
    const ttt = on?.final["TicTacToe-v0 vs random: non-loss"];
    expect(ttt?.values.length).toBe(2);
    expect(ttt?.ci95).not.toBeNull();
    expect(on?.final["KuhnPoker-v1-1round: exploitability"]?.values.length).toBe(2);
    expect(on?.targets.find((t) => t.label.startsWith("TicTacToe non-loss vs random"))?.of).toBe(2);
    // Evaluations at steps 0, 3, 6; training curves at every step (6 steps < 100: windows of 1).
    expect(on?.curves["TicTacToe-v0 vs minimax: non-loss"]?.map((p) => [p.step, p.n])).toEqual([[0, 2], [3, 2], [6, 2]]);
    expect(on?.curves["training: reply length"]?.length).toBe(STEPS);
    expect(io.stdout()).toMatch(/\| rae=off \| 2\/2 \|/);
    // Two at a time: the second run starts before the first is done.
    expect(io.stderr().indexOf("[rae=on/seed-1] starting")).toBeLessThan(io.stderr().indexOf("done in"));
    expect(readFileSync(join(a, "tiny", "curves.csv"), "utf8")).toMatch(/^rae=on,TicTacToe-v0 vs random: non-loss,3,2,/m);
    expect(readFileSync(join(a, "tiny", "aggregate.md"), "utf8")).toMatch(/## Targets/);

    // spiral report renders the sweep: one median line and one IQR band per config and metric.
    const html = join(root, "sweep.html");
    await runReport([join(a, "tiny")], html, scriptedIo([]));
    const page = readFileSync(html, "utf8");
    expect(page).toMatch(/<h1>Sweep tiny<\/h1>/);
    expect(page).toMatch(/<h2>Differences from rae=on \(paired by seed\)<\/h2>/);
    expect(aggregate.comparisons.filter((c) => c.config === "rae=off").map((c) => c.seeds.length)).toContain(2);
    const curves = Object.keys(on?.curves ?? {}).length;
    expect(page.match(/<polygon /g)?.length).toBe(2 * curves);
    expect(page.match(/<polyline /g)?.length).toBe(2 * curves);

    // Run again: nothing is redone, no run file is touched.
    const before = snapshot(join(a, "tiny", "rae=on"));
    const again = scriptedIo([]);
    await runSweepCommand(grid, { out: a }, again);
    expect(again.stderr()).toMatch(/4 finished, 0 to run/);
    expect(snapshot(join(a, "tiny", "rae=on"))).toEqual(before);
    const dry = scriptedIo([]);
    await runSweepCommand(grid, { out: a, seeds: "0,1,2", dryRun: true }, dry);
    expect(dry.stdout().match(/^done /gm)?.length).toBe(4);
    expect(dry.stdout()).toMatch(/^to run +\S+rae=off\/seed-2 +\(6 steps\)$/m);
  }, 180_000);

  it("reuses a finished run of the same config from another sweep instead of training it", async () => {
    // The same base and seeds under another sweep name; rae=on is the default, so its runs are twins.
    const again = join(root, "again.yaml");
    writeFileSync(again, readFileSync(grid, "utf8").replace("name: tiny", "name: again").replace("vary:\n  rae: [on, off]", "configs:\n  - name: baseline"));
    // A config saved by an older spiral still carries `deterministic`, which no longer changes a run.
    const saved = join(a, "tiny", "rae=on", "seed-1", "config.json");
    writeFileSync(saved, JSON.stringify({ ...(JSON.parse(readFileSync(saved, "utf8")) as object), deterministic: true }));
    const io = scriptedIo([]);
    await runSweepCommand(again, { out: a }, io);
    expect(io.stderr().match(/same config as \S+rae=on\/seed-\d: reused, not trained again/g)?.length).toBe(2);
    expect(io.stderr()).toMatch(/2 finished, 0 to run/);
    expect(io.stderr()).not.toMatch(/starting/);
    for (const seed of [0, 1]) expect(lstatSync(join(a, "again", "baseline", `seed-${seed}`)).isSymbolicLink()).toBe(true);
    const final = (name: string) => (JSON.parse(readFileSync(join(a, name, "aggregate.json"), "utf8")) as SweepAggregate).configs[0]?.final;
    expect(final("again")).toEqual(final("tiny"));
  }, 60_000);

  it("resumes after kill -9: finished runs untouched, the aggregate equal to the uninterrupted sweep's", async () => {
    const b = join(root, "b");
    // Killed once a run has finished and the next one is part-way: the child stops dead right after
    // writing the next run's first step line, so the kill lands there whatever this process's speed.
    const child = spawn(process.execPath, [
      "--import", "tsx", "--input-type=module", "-e",
      `${freezeAfterStderr(/ done in [\s\S]*\] step \d+\/\d+ /)}\nimport { main } from "./src/cli/main.js"; await main(["node", "spiral", "sweep", ${JSON.stringify(grid)}, "--out", ${JSON.stringify(b)}]);`,
    ], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
    await until("a run done and the next one's first step", () => {
      if (child.exitCode !== null) throw new Error(`the sweep ended before it could be killed mid-way: ${stderr}`);
      return / done in [\s\S]*\] step \d+\/\d+ /.test(stderr);
    }, { timeoutMs: 150_000 });
    // What the kill leaves: a run finished, the next one with a step written and not its last checkpoint.
    const state = readState(b);
    const running = state.runs.find((r) => r.status === "running");
    expect(state.runs.some((r) => r.status === "done")).toBe(true);
    expect(running).toBeDefined();
    expect(readFileSync(join(running!.dir, "metrics.jsonl"), "utf8")).toContain('"kind":"step"');
    expect(await latestCheckpoint(running!.dir)).not.toBe(STEPS);
    child.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");

    const finished: string[] = [];
    const unfinished: string[] = [];
    for (const dir of runDirs(b)) ((await latestCheckpoint(dir).catch(() => undefined)) === STEPS ? finished : unfinished).push(dir);
    expect(finished.length).toBeGreaterThanOrEqual(1);
    expect(unfinished.length).toBeGreaterThanOrEqual(1);
    const before = Object.fromEntries(finished.map((dir) => [dir, snapshot(dir)]));
    // The killed process's lock is left behind; the rerun takes it over.
    expect(existsSync(join(b, "tiny", "sweep.lock"))).toBe(true);

    const io = scriptedIo([]);
    await runSweepCommand(grid, { out: b }, io);
    expect(io.stderr()).toMatch(new RegExp(`${finished.length} finished, ${unfinished.length} to run`));
    expect(io.stderr()).toMatch(/resuming/);
    for (const dir of finished) expect(snapshot(dir)).toEqual(before[dir]);
    expect(readState(b).runs.every((r) => r.status === "done")).toBe(true);
    // Exact resume: the same final weights as the uninterrupted sweep, run for run, and the same aggregate.
    for (const [i, dir] of runDirs(b).entries()) expect(weights(dir).equals(weights(runDirs(join(root, "a"))[i] as string))).toBe(true);
    expect(readFileSync(join(b, "tiny", "aggregate.json"), "utf8")).toBe(readFileSync(join(root, "a", "tiny", "aggregate.json"), "utf8"));
  }, 240_000);

  it("refuses a run directory that holds another config, before anything starts", async () => {
    const io = scriptedIo([]);
    await expect(runSweepCommand(grid, { out: join(root, "a"), steps: "7" }, io)).rejects.toThrow(/seed-0 holds a run with another config \(steps: 6 there, 7 in the grid\)/);
  });
});
