/**
 * Reads training run directories for the dashboard and `spiral report` (layout: rl/run-dir.ts).
 *
 * Invariants the reader keeps:
 * - It never throws on a run's content: a metrics line that is not a JSON object with a `kind`
 *   and a numeric `step` is skipped and reported as a notice naming the file and line, so a run
 *   killed mid-write (a torn last line) or a hand-edited file still shows everything else.
 * - An unterminated last line is not consumed: `next` stops before it, so a tail that reads from
 *   `next` later sees the line once it is complete (the trainer writes each line with one write).
 * - Status is inferred from files only (the trainer keeps no pid file): "finished" when a step
 *   line reached the configured step count, "running" when metrics.jsonl (or config.json, before
 *   the first step) changed within `liveSeconds`, "crashed" otherwise.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";

export const METRICS_FILE = "metrics.jsonl";
export const CONFIG_FILE = "config.json";
export const TRANSCRIPTS_DIR = "transcripts";

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

export type RunStatus = "running" | "finished" | "crashed";

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
  return now - updated <= liveSeconds ? "running" : "crashed";
}

export interface ReadRunOptions {
  /** Seconds without a write after which an unfinished run counts as crashed (default 600). */
  readonly liveSeconds?: number;
  /** Seconds since the epoch (default: now). */
  readonly now?: number;
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
  return {
    name,
    status: inferStatus(totalSteps, latestStep?.step ?? null, updated, now, options.liveSeconds ?? 600),
    totalSteps,
    step: latestStep?.step ?? null,
    config,
    updated,
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
