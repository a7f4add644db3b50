/**
 * Reads training run directories for the dashboard and `spiral report` (layout: rl/run-dir.ts).
 *
 * Invariants the reader keeps:
 * - It never throws on a run's content: a metrics line that is not a JSON object with a `kind`
 *   and a numeric `step` is skipped and reported as a notice naming the file and line, so a run
 *   killed mid-write (a torn last line) or a hand-edited file still shows everything else.
 * - An unterminated last line is not consumed: `next` stops before it, so a tail that reads from
 *   `next` later sees the line once it is complete (the trainer writes each line with one write).
 * - Status comes from heartbeat.json when the trainer wrote one (`runStatus`), else it is
 *   inferred from files: "finished" when a step line reached the configured step count, "running"
 *   when metrics.jsonl (or config.json, before the first step) changed within `liveSeconds`,
 *   "stopped" otherwise (without a heartbeat a crash cannot be told from a kill or a Ctrl-C).
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { MANIFEST_FILE } from "../engine/weights/checkpoint.js";
import { HEARTBEAT_FILE, type Heartbeat } from "../rl/heartbeat.js";

export const METRICS_FILE = "metrics.jsonl";
export const CONFIG_FILE = "config.json";
export const TRANSCRIPTS_DIR = "transcripts";
/** heartbeat.json is the trainer's (rl/heartbeat.ts): rewritten at every step, every 10 s, and once on exit. */
export { HEARTBEAT_FILE, type Heartbeat };
/** A running trainer rewrites its heartbeat at least this often (seconds)... */
export const HEARTBEAT_INTERVAL_SECONDS = 10;
/** ...so one older than this is from a process that stopped without saying so. */
export const HEARTBEAT_STALE_SECONDS = 60;


/** A metrics line as the trainer writes it: `kind`, `step`, and the kind's own fields. */
export type MetricsLine = { readonly kind: string; readonly step: number } & Readonly<Record<string, unknown>>;

export interface MetricsChunk {
  readonly lines: readonly MetricsLine[];
  /** One per skipped line: "metrics.jsonl line 7: not JSON (…)". */
  readonly notices: readonly string[];
  /** Byte offset after the last complete line read: where the next tail starts. */
  readonly next: number;
  /** 1-based number of the next line, for notices of a later tail. */
  readonly nextLine: number;
}

/**
 * running: the trainer is alive (fresh heartbeat, or recent writes without one); finished: all
 * configured steps done; interrupted: stopped by a signal (Ctrl-C) after saving, resumable;
 * crashed: the trainer failed, or its process died without writing a final state;
 * stopped: no heartbeat and no recent writes, cause unknown.
 */
export type RunStatus = "running" | "finished" | "interrupted" | "crashed" | "stopped";

export interface RunSummary {
  readonly name: string;
  readonly status: RunStatus;
  /** The configured number of steps, when config.json says. */
  readonly totalSteps: number | null;
  /** The last step with a step line; null before the first. */
  readonly step: number | null;
  readonly config: Readonly<Record<string, unknown>> | null;
  /** Seconds since the epoch of the last change to metrics.jsonl or config.json. */
  readonly updated: number;
  /** The last step line and the last eval line, as written. */
  readonly latestStep: MetricsLine | null;
  readonly latestEval: MetricsLine | null;
  readonly notices: readonly string[];
  /** Why the status is what it is, e.g. "pid 4242 on this host is not running". */
  readonly statusDetail: string;
  /** Seconds since the epoch the run started (heartbeat, else config.json's time), if known. */
  readonly startedAt: number | null;
  /** Seconds from the start to the last update (to now while running). */
  readonly durationSeconds: number | null;
  /** Seconds per step over the last steps (act, learn and evaluation time). */
  readonly secondsPerStep: number | null;
  /** Estimated seconds to the configured step count; null unless running. */
  readonly etaSeconds: number | null;
  /** Steps with a complete checkpoint directory (step-N), ascending. */
  readonly checkpoints: readonly number[];
}

/**
 * Parses metrics text that starts at byte `offset` of the file (line number `firstLine`).
 * Only complete lines (ending in "\n") are read.
 */
export function parseMetrics(text: string, offset = 0, firstLine = 1, file = METRICS_FILE): MetricsChunk {
  const end = text.lastIndexOf("\n") + 1;
  const lines: MetricsLine[] = [];
  const notices: string[] = [];
  let lineNo = firstLine;
  for (const raw of text.slice(0, end).split("\n").slice(0, -1)) {
    const problem = lineProblem(raw);
    if (problem === null) lines.push(JSON.parse(raw) as MetricsLine);
    else if (raw.trim() !== "") notices.push(`${file} line ${lineNo}: skipped, ${problem}`);
    lineNo++;
  }
  return { lines, notices, next: offset + Buffer.byteLength(text.slice(0, end)), nextLine: lineNo };
}

function lineProblem(raw: string): string | null {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (e) {
    return `not JSON (${(e as Error).message})`;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "expected a JSON object";
  const record = value as Record<string, unknown>;
  if (typeof record.kind !== "string") return 'expected a string "kind"';
  if (typeof record.step !== "number") return 'expected a numeric "step"';
  return null;
}

/** Metrics from byte `offset` on (a tail); an absent file reads as empty. */
export async function readMetricsFrom(runDir: string, offset = 0, firstLine = 1): Promise<MetricsChunk> {
  let buffer: Buffer;
  try {
    buffer = await readFile(join(runDir, METRICS_FILE));
  } catch {
    return { lines: [], notices: [], next: offset, nextLine: firstLine };
  }
  return parseMetrics(buffer.subarray(offset).toString("utf8"), offset, firstLine);
}

async function mtimeSeconds(path: string): Promise<number | null> {
  try {
    return (await stat(path)).mtimeMs / 1000;
  } catch {
    return null;
  }
}

async function readConfig(runDir: string): Promise<Record<string, unknown> | null> {
  try {
    const value = JSON.parse(await readFile(join(runDir, CONFIG_FILE), "utf8")) as unknown;
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export function inferStatus(totalSteps: number | null, lastStep: number | null, updated: number, now: number, liveSeconds: number): RunStatus {
  if (totalSteps !== null && lastStep !== null && lastStep >= totalSteps) return "finished";
  return now - updated <= liveSeconds ? "running" : "stopped";
}

/** The heartbeat, or null when absent or not of the expected shape (then status is inferred). */
export async function readHeartbeat(runDir: string): Promise<Heartbeat | null> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(join(runDir, HEARTBEAT_FILE), "utf8"));
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const v = value as Record<string, unknown>;
  const states = ["running", "finished", "interrupted", "failed"];
  if (typeof v.pid !== "number" || typeof v.hostname !== "string" || typeof v.startedAt !== "string" || typeof v.updatedAt !== "string"
    || typeof v.step !== "number" || typeof v.totalSteps !== "number" || typeof v.state !== "string" || !states.includes(v.state)) return null;
  if (!Number.isFinite(Date.parse(v.startedAt)) || !Number.isFinite(Date.parse(v.updatedAt))) return null;
  return value as Heartbeat;
}

/** Whether a process with this pid exists here (EPERM: it exists, owned by someone else). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

export interface StatusContext {
  /** Seconds since the epoch. */
  readonly now: number;
  /** This machine's host name: only here can a pid be checked. */
  readonly host: string;
  readonly alive: (pid: number) => boolean;
}

/** Status from a heartbeat: its final state, or for "running" whether it is fresh and its process alive. */
export function heartbeatStatus(beat: Heartbeat, context: StatusContext): { status: RunStatus; detail: string } {
  const age = context.now - Date.parse(beat.updatedAt) / 1000;
  const where = beat.hostname === context.host ? "this host" : beat.hostname;
  switch (beat.state) {
    case "finished": return { status: "finished", detail: `finished at step ${beat.step} of ${beat.totalSteps}` };
    case "interrupted": return { status: "interrupted", detail: `interrupted at step ${beat.step}; continue with spiral train --resume` };
    case "failed": return { status: "crashed", detail: `the trainer failed at step ${beat.step}` };
    case "running":
      if (beat.hostname === context.host && !context.alive(beat.pid)) return { status: "crashed", detail: `pid ${beat.pid} on this host is no longer running (killed or crashed at step ${beat.step})` };
      if (age > HEARTBEAT_STALE_SECONDS) return { status: "crashed", detail: `no heartbeat for ${Math.round(age)} s from pid ${beat.pid} on ${where}` };
      return { status: "running", detail: `pid ${beat.pid} on ${where}, heartbeat ${Math.max(0, Math.round(age))} s ago` };
  }
}

/** Mean wall seconds per step over the last `window` step lines, evaluation time included. */
export function secondsPerStep(lines: readonly MetricsLine[], window = 20): number | null {
  const steps = lines.filter((l) => l.kind === "step" && typeof l.actSeconds === "number" && typeof l.learnSeconds === "number");
  const recent = steps.slice(-window);
  const first = recent[0];
  if (first === undefined) return null;
  let seconds = recent.reduce((sum, l) => sum + (l.actSeconds as number) + (l.learnSeconds as number), 0);
  for (const l of lines) if (l.kind === "eval" && l.step >= first.step && typeof l.seconds === "number") seconds += l.seconds;
  return seconds / recent.length;
}

/** Steps N of the complete checkpoint directories step-N (a manifest is written last). */
export async function listCheckpoints(runDir: string): Promise<number[]> {
  const names = await readdir(runDir).catch(() => [] as string[]);
  const steps: number[] = [];
  for (const name of names) {
    const m = /^step-(\d+)$/.exec(name);
    if (m !== null && (await mtimeSeconds(join(runDir, name, MANIFEST_FILE))) !== null) steps.push(Number(m[1]));
  }
  return steps.sort((a, b) => a - b);
}

export interface ReadRunOptions {
  /** Seconds without a write after which an unfinished run counts as crashed (default 600). */
  readonly liveSeconds?: number;
  /** Seconds since the epoch (default: now). */
  readonly now?: number;
  /** This machine's host name (default: os.hostname()). */
  readonly host?: string;
  /** Whether a local pid is alive (default: signal 0). */
  readonly alive?: (pid: number) => boolean;
}

/** One run's summary, or null when `runDir` is not a run (no config.json and no metrics.jsonl). */
export async function readRun(runDir: string, name: string, options: ReadRunOptions = {}): Promise<RunSummary | null> {
  const config = await readConfig(runDir);
  const metricsTime = await mtimeSeconds(join(runDir, METRICS_FILE));
  const configTime = await mtimeSeconds(join(runDir, CONFIG_FILE));
  if (metricsTime === null && configTime === null) return null;
  const { lines, notices } = await readMetricsFrom(runDir);
  const steps = lines.filter((l) => l.kind === "step");
  const evals = lines.filter((l) => l.kind === "eval");
  const latestStep = steps[steps.length - 1] ?? null;
  const totalSteps = typeof config?.steps === "number" ? config.steps : null;
  const updated = Math.max(metricsTime ?? 0, configTime ?? 0);
  const now = options.now ?? Date.now() / 1000;
  const beat = await readHeartbeat(runDir);
  const step = latestStep?.step ?? null;
  let status: RunStatus;
  let detail: string;
  if (beat !== null) {
    ({ status, detail } = heartbeatStatus(beat, { now, host: options.host ?? hostname(), alive: options.alive ?? pidAlive }));
  } else {
    status = inferStatus(totalSteps, step, updated, now, options.liveSeconds ?? 600);
    const ago = Math.round(now - updated);
    detail = status === "finished" ? `reached step ${step ?? 0} of ${totalSteps ?? "?"}`
      : `no heartbeat.json; last write ${ago} s ago${status === "stopped" ? " (stopped or crashed)" : ""}`;
  }
  const startedAt = beat !== null ? Date.parse(beat.startedAt) / 1000 : configTime;
  // A heartbeat's last update is when its process last worked (its final state is written on exit).
  const endedAt = status === "running" ? now : beat !== null ? Date.parse(beat.updatedAt) / 1000 : updated;
  const perStep = secondsPerStep(lines);
  const remaining = totalSteps !== null ? totalSteps - (step ?? 0) : null;
  return {
    name,
    status,
    statusDetail: detail,
    totalSteps,
    step,
    config,
    updated,
    startedAt,
    durationSeconds: startedAt === null ? null : Math.max(0, endedAt - startedAt),
    secondsPerStep: perStep,
    etaSeconds: status === "running" && perStep !== null && remaining !== null ? Math.max(0, remaining) * perStep : null,
    checkpoints: await listCheckpoints(runDir),
    latestStep,
    latestEval: evals[evals.length - 1] ?? null,
    notices,
  };
}

/** Every run directly under `root`, newest change first. A missing root lists nothing. */
export async function listRuns(root: string, options: ReadRunOptions = {}): Promise<RunSummary[]> {
  let entries: string[];
  try {
    entries = await readdir(root);
  } catch {
    return [];
  }
  const runs: RunSummary[] = [];
  for (const name of entries.sort()) {
    const run = await readRun(join(root, name), name, options).catch(() => null);
    if (run !== null) runs.push(run);
  }
  return runs.sort((a, b) => b.updated - a.updated);
}

/** A run name from a URL: one path segment, no traversal. */
export function isRunName(name: string): boolean {
  return name.length > 0 && name !== "." && name !== ".." && !/[/\\\0]/.test(name);
}
