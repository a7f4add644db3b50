/**
 * A run directory, runs/<name>/:
 *
 *   config.json              the resolved TrainConfig (a resumed run reads it back)
 *   metrics.jsonl            one JSON object per line: {"kind":"step",...} per policy step and
 *                            {"kind":"eval",...} per evaluation, each with its `step`
 *   transcripts/step-N.txt   a few games of step N, readable
 *   step-N/                  checkpoints (engine/weights/checkpoint.ts: HF layout + optimiser +
 *                            trainer_state.json with our RNG, RAE and step state), atomic
 *   heartbeat.json           whether the trainer lives (heartbeat.ts)
 *
 *   set-aside/resume-K/      what the K-th resume set aside (see below): never deleted
 *
 * Crash safety (kill -9 at any moment): every metrics line is appended with one write and
 * fsync'ed, so the file is a sequence of complete lines plus at most one partial last line.
 * Checkpoint directories appear only complete (atomic rename); a save killed mid-write leaves a
 * hidden `.step-N.partial-*` directory, swept at the next start. Within one step the loop writes
 * the step line, then the eval line, then the checkpoint.
 *
 * Resume from step S never deletes or truncates anything: lines of later steps (produced after
 * the checkpoint, and produced again by the resumed run) and checkpoints of later steps (e.g. a
 * damaged one the user chose not to resume from) move to set-aside/resume-K/ — the metrics file
 * whole, as it was, and the checkpoint directories by rename — and metrics.jsonl continues with
 * the complete lines of steps ≤ S, so the live file has each step once.
 */
import { closeSync, fsyncSync, openSync, writeSync } from "node:fs";
import { copyFile, link, mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { MANIFEST_FILE } from "../engine/weights/checkpoint.js";
import type { Trajectory } from "./types.js";

export const RUN_CONFIG_FILE = "config.json";
export const METRICS_FILE = "metrics.jsonl";
export const TRANSCRIPTS_DIR = "transcripts";
export const SET_ASIDE_DIR = "set-aside";

/** A metrics line: its kind, the policy step it belongs to, and any JSON fields. */
export interface MetricsRecord {
  readonly kind: "step" | "eval";
  readonly step: number;
}

export function checkpointName(step: number): string {
  return `step-${step}`;
}

/** "step-N" or "N" (what `--resume-from` takes) → N. */
export function parseCheckpointName(text: string): number {
  const m = /^(?:step-)?(\d+)$/.exec(text.trim());
  if (m === null) throw new Error(`--resume-from expects a checkpoint name like step-200; got "${text}"`);
  return Number(m[1]);
}

/** Refuses a directory that already holds a run (before anything is loaded or written). */
export async function assertNewRunDir(dir: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    if ((e as NodeJS.ErrnoException).code === "ENOTDIR") throw new Error(`the run directory ${dir} is a file; pick another --name or --out`, { cause: e });
    throw e;
  }
  if (entries.length === 1 && entries[0] === RUN_CONFIG_FILE) {
    // Left by a start that failed before its first step (older versions wrote config.json first).
    throw new Error(`${dir} holds only ${RUN_CONFIG_FILE}, from a start that never ran a step; remove that directory (or continue it with --resume ${dir}), or pick another --name or --out`);
  }
  if (entries.includes(RUN_CONFIG_FILE) || entries.includes(METRICS_FILE)) {
    throw new Error(`${dir} already holds a run; continue it with --resume ${dir}, or pick another --name or --out`);
  }
}

/** Creates the run directory for a fresh run; refuses to reuse one that holds a run. */
export async function createRunDir(dir: string, config: unknown): Promise<void> {
  await assertNewRunDir(dir);
  await mkdir(dir, { recursive: true });
  await assertNewRunDir(dir);
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
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new Error(`${path}: the run's config is not valid JSON (${(e as Error).message})`, { cause: e });
  }
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

/** What `setAsideAfter` moved. */
export interface SetAside {
  /** Complete metrics lines of steps ≤ S left in metrics.jsonl. */
  readonly kept: number;
  /** Lines (complete or torn) of later steps, now only in the set-aside copy of the file. */
  readonly linesSetAside: number;
  /** Checkpoint directories of later steps, moved. */
  readonly checkpoints: readonly string[];
  /** set-aside/resume-K, when anything was moved there. */
  readonly dir?: string;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function freshSetAsideDir(dir: string): Promise<string> {
  const root = join(dir, SET_ASIDE_DIR);
  await mkdir(root, { recursive: true });
  for (let k = 1; ; k++) {
    const candidate = join(root, `resume-${k}`);
    if (!(await exists(candidate))) {
      await mkdir(candidate);
      return candidate;
    }
  }
}

/**
 * Before a run resumes from step `step` (-1: from scratch): sets aside every metrics line and
 * checkpoint of a later step (see the file comment). Each move keeps the data under some name
 * at every moment: the metrics file is hard-linked (copied where links are not possible) into
 * set-aside/ before metrics.jsonl is replaced, atomically, by its lines of steps ≤ `step`.
 */
export async function setAsideAfter(dir: string, step: number): Promise<SetAside> {
  const path = join(dir, METRICS_FILE);
  let text = "";
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  const lines = text.split("\n");
  const torn = lines.pop() ?? ""; // "" when the file ends with a newline
  const keep: string[] = [];
  let later = torn === "" ? 0 : 1;
  for (const line of lines) {
    if (line === "") continue;
    let record: Partial<MetricsRecord> | undefined;
    try {
      record = JSON.parse(line) as Partial<MetricsRecord>;
    } catch {
      record = undefined;
    }
    if (record !== undefined && typeof record.step === "number" && record.step <= step) keep.push(line);
    else later++;
  }
  const checkpoints = (await listCheckpointDirs(dir)).filter((s) => s > step).map(checkpointName);
  if (later === 0 && checkpoints.length === 0) return { kept: keep.length, linesSetAside: 0, checkpoints: [] };
  const aside = await freshSetAsideDir(dir);
  if (later > 0) {
    try {
      await link(path, join(aside, METRICS_FILE));
    } catch {
      await copyFile(path, join(aside, METRICS_FILE));
    }
    const tmp = `${path}.tmp-${process.pid}`;
    await writeFile(tmp, keep.map((l) => `${l}\n`).join(""));
    const fd = openSync(tmp, "r");
    fsyncSync(fd);
    closeSync(fd);
    await rename(tmp, path);
  }
  for (const name of checkpoints) await rename(join(dir, name), join(aside, name));
  return { kept: keep.length, linesSetAside: later, checkpoints, dir: aside };
}

/** Every step-N directory of a run (complete, damaged or without a manifest), by step ascending. */
export async function listCheckpointDirs(dir: string): Promise<number[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  return names.flatMap((n) => {
    const m = /^step-(\d+)$/.exec(n);
    return m === null ? [] : [Number(m[1])];
  }).sort((a, b) => a - b);
}

/**
 * Cleans up after saves killed mid-write, at the start of a run: hidden `.step-N.partial-*`
 * directories (never complete, never the only copy of anything) are removed; a
 * `.step-N.old-*` directory whose step-N is missing (a save killed between its two renames) is
 * the only copy of that checkpoint and is renamed back. Returns what it did, for the log.
 */
export async function sweepInterruptedSaves(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const done: string[] = [];
  for (const name of names) {
    const partial = /^\.(step-\d+)\.partial-/.exec(name);
    if (partial !== null) {
      await rm(join(dir, name), { recursive: true, force: true });
      done.push(`removed ${name} (an interrupted save)`);
      continue;
    }
    const old = /^\.(step-\d+)\.old-/.exec(name);
    if (old !== null && !(await exists(join(dir, old[1] as string)))) {
      await rename(join(dir, name), join(dir, old[1] as string));
      done.push(`restored ${old[1] as string} from ${name} (a save was interrupted while replacing it)`);
    }
  }
  return done;
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
