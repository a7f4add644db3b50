/**
 * A run directory, runs/<name>/:
 *
 *   config.json              the resolved TrainConfig (a resumed run reads it back)
 *   metrics.jsonl            one JSON object per line: {"kind":"step",...} per policy step and
 *                            {"kind":"eval",...} per evaluation, each with its `step`
 *   transcripts/step-N.txt   a few games of step N, readable
 *   step-N/                  checkpoints (engine/checkpoint.ts: HF layout + optimiser +
 *                            trainer_state.json with our RNG, RAE and step state), atomic
 *   heartbeat.json           whether the trainer lives (heartbeat.ts)
 *
 * Crash safety (kill -9 at any moment): every metrics line is appended with one write and
 * fsync'ed, so the file is a sequence of complete lines plus at most one partial last line.
 * Checkpoint directories appear only complete (atomic rename). On resume from step S, the
 * metrics file is cut back to its complete lines with step ≤ S (lines of later steps were
 * produced after the checkpoint and will be produced again), so nothing is lost or duplicated.
 * Within one step the loop writes the step line, then the eval line, then the checkpoint.
 */
import { closeSync, fsyncSync, openSync, writeSync } from "node:fs";
import { mkdir, readdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { MANIFEST_FILE } from "../engine/checkpoint.js";
import type { Trajectory } from "./types.js";

export const RUN_CONFIG_FILE = "config.json";
export const METRICS_FILE = "metrics.jsonl";
export const TRANSCRIPTS_DIR = "transcripts";

/** A metrics line: its kind, the policy step it belongs to, and any JSON fields. */
export interface MetricsRecord {
  readonly kind: "step" | "eval";
  readonly step: number;
}

export function checkpointName(step: number): string {
  return `step-${step}`;
}

/** Creates the run directory for a fresh run; refuses to reuse one that holds a run. */
export async function createRunDir(dir: string, config: unknown): Promise<void> {
  await mkdir(dir, { recursive: true });
  const entries = await readdir(dir);
  if (entries.includes(RUN_CONFIG_FILE) || entries.includes(METRICS_FILE)) {
    throw new Error(`${dir} already holds a run; continue it with --resume ${dir}, or pick another --name or --out`);
  }
  await writeJsonAtomic(join(dir, RUN_CONFIG_FILE), config);
}

export async function readRunConfig(dir: string): Promise<unknown> {
  const path = join(dir, RUN_CONFIG_FILE);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    throw new Error(`Expected a run directory with ${RUN_CONFIG_FILE}; got ${dir}`);
  }
  return JSON.parse(text) as unknown;
}

async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify(value, null, 2) + "\n");
  const fd = openSync(tmp, "r");
  fsyncSync(fd);
  closeSync(fd);
  await rename(tmp, path);
}

/** Appends one line and fsyncs it. */
export function appendMetrics<R extends MetricsRecord>(dir: string, record: R): void {
  const line = JSON.stringify(record) + "\n";
  const fd = openSync(join(dir, METRICS_FILE), "a");
  try {
    writeSync(fd, line);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Every complete, parseable line of metrics.jsonl (a torn last line is skipped). */
export async function readMetrics(dir: string): Promise<(MetricsRecord & Record<string, unknown>)[]> {
  let text: string;
  try {
    text = await readFile(join(dir, METRICS_FILE), "utf8");
  } catch {
    return [];
  }
  const complete = text.endsWith("\n") ? text : text.slice(0, text.lastIndexOf("\n") + 1);
  return complete
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as MetricsRecord & Record<string, unknown>);
}

/** Cuts metrics.jsonl back to its complete lines with step ≤ `step` (atomic rewrite). */
export async function truncateMetrics(dir: string, step: number): Promise<number> {
  const kept = (await readMetrics(dir)).filter((r) => r.step <= step);
  const path = join(dir, METRICS_FILE);
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, kept.map((r) => JSON.stringify(r) + "\n").join(""));
  const fd = openSync(tmp, "r");
  fsyncSync(fd);
  closeSync(fd);
  await rename(tmp, path);
  return kept.length;
}

/** Steps of the complete checkpoints in a run directory, ascending. */
export async function listCheckpoints(dir: string): Promise<number[]> {
  const steps: number[] = [];
  for (const name of await readdir(dir)) {
    const m = /^step-(\d+)$/.exec(name);
    if (m === null) continue;
    try {
      await stat(join(dir, name, MANIFEST_FILE));
      steps.push(Number(m[1]));
    } catch {
      // Not a complete checkpoint.
    }
  }
  return steps.sort((a, b) => a - b);
}

export async function latestCheckpoint(dir: string): Promise<number | undefined> {
  const steps = await listCheckpoints(dir);
  return steps[steps.length - 1];
}

/** A readable transcript of finished games. */
export function renderTranscript(step: number, trajectories: readonly Trajectory[]): string {
  const out: string[] = [];
  for (const { result, samples } of trajectories) {
    out.push(`=== step ${step} · ${result.gameId} · seed ${result.seed} · ${result.players[0]} (P0) vs ${result.players[1]} (P1)`);
    let policyTurn = 0;
    for (const move of result.moves) {
      const trained = result.trainedSeats.includes(move.seat);
      const sample = trained ? samples[policyTurn++] : undefined;
      const lp = sample === undefined ? "" : `  (logp ${sample.logprobs.reduce((a, b) => a + b, 0).toFixed(3)}, ${sample.generatedIds.length} tokens)`;
      out.push(`P${move.seat}: ${move.action}${lp}`);
      if (move.raw !== undefined && move.raw !== move.action) out.push(`    reply: ${JSON.stringify(move.raw.length > 600 ? `${move.raw.slice(0, 600)}…` : move.raw)}`);
      if (move.invalidReason !== undefined) out.push(`    invalid: ${move.invalidReason}`);
    }
    out.push(`→ ${result.endReason}; returns P0 ${result.returns[0]}, P1 ${result.returns[1]}`, "");
  }
  return out.join("\n");
}

export async function writeTranscript(dir: string, step: number, trajectories: readonly Trajectory[]): Promise<void> {
  const tdir = join(dir, TRANSCRIPTS_DIR);
  await mkdir(tdir, { recursive: true });
  await writeFile(join(tdir, `step-${String(step).padStart(6, "0")}.txt`), renderTranscript(step, trajectories));
}
