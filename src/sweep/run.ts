/**
 * Runs a planned sweep: every run is an ordinary training run (`train`, the function behind
 * `spiral train`) in its own run directory, one after another or K at a time, then aggregates.
 *
 * Resumability: what a run has done lives in its run directory, which the trainer keeps crash
 * safe (atomic checkpoints, fsync'ed metrics lines). So at start, a run whose final checkpoint
 * exists is finished and skipped; a run with a config.json but no final checkpoint is resumed
 * from its latest checkpoint (`resume`, exact); any other is started. A kill -9 at any moment
 * therefore costs at most the steps since each live run's last checkpoint. A run directory whose
 * saved config differs from the grid's is refused before anything starts: a sweep never mixes
 * two configs under one name.
 *
 * sweep.json in the sweep directory records the grid and each run's status (pending, running,
 * done, failed + error), rewritten atomically on every change; it is a record for people and
 * tools, not the source of truth (the run directories are).
 *
 * Reuse: a run is a pure function of its config (seed included; training is deterministic), so a
 * planned run whose config equals a finished run's elsewhere under the same --out (another sweep
 * or another cell; only the run's name and place differ) is not trained again: its directory
 * becomes a symbolic link to that run. The ablations share their baseline this way.
 */
import { existsSync } from "node:fs";
import { lstat, mkdir, readdir, readFile, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { writeTextAtomic } from "../engine/weights/safetensors.js";
import { parseTrainConfig } from "../rl/config.js";
import { train, type EvalMetrics } from "../rl/loop.js";
import { latestCheckpoint, readRunConfig, RUN_CONFIG_FILE } from "../rl/run-dir.js";
import { evalHeadline } from "../rl/eval-headline.js";
import { AGGREGATE_FILE, AGGREGATE_MARKDOWN, aggregateMarkdown, aggregateSweep, CURVES_CSV, curvesCsv, type SweepAggregate } from "./aggregate.js";
import type { Grid, SweepPlan, SweepRun } from "./grid.js";
import { count } from "../core/text.js";

export const SWEEP_STATE_FILE = "sweep.json";
/** Held by the process running a sweep: {"pid": N}. */
export const SWEEP_LOCK_FILE = "sweep.lock";

export type RunStatus = "pending" | "running" | "done" | "failed";

export interface RunState {
  readonly cell: string;
  readonly seed: number;
  readonly dir: string;
  status: RunStatus;
  error?: string;
}

export interface SweepState {
  readonly format: "spiral.sweep/1";
  readonly name: string;
  readonly grid: Grid;
  readonly runs: RunState[];
}

export interface SweepOptions {
  /** Runs at a time (default: the grid's `parallel`). */
  readonly parallel?: number;
  /** Progress lines. */
  readonly log?: (message: string) => void;
  /** Link to a finished run of the same config under the same --out instead of training it (default true). */
  readonly reuse?: boolean;
}

export interface SweepResult {
  readonly aggregate: SweepAggregate;
  readonly ran: number;
  readonly skipped: number;
  readonly failed: readonly RunState[];
}

/** True when the run's final checkpoint exists. */
export async function isFinished(run: SweepRun): Promise<boolean> {
  return (await latestCheckpoint(run.dir).catch(() => undefined)) === run.config.steps;
}

/**
 * Ignored when configs are compared: where a run lives (name, out), and `deterministic`, which no
 * longer changes anything (every run is reproducible) but is in configs saved before.
 */
const PLACE_KEYS = new Set(["name", "out", "deterministic"]);

/** The first config key where a saved run differs from the planned one, or undefined. */
function configDifference(saved: unknown, planned: unknown, path = ""): string | undefined {
  if (JSON.stringify(saved) === JSON.stringify(planned)) return undefined;
  if (typeof saved === "object" && saved !== null && typeof planned === "object" && planned !== null && !Array.isArray(saved)) {
    const a = saved as Record<string, unknown>;
    const b = planned as Record<string, unknown>;
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (path === "" && PLACE_KEYS.has(key)) continue;
      const d = configDifference(a[key], b[key], path === "" ? key : `${path}.${key}`);
      if (d !== undefined) return d;
    }
    // Only the place keys differ, or the same keys in another order.
    if (!Array.isArray(planned)) return undefined;
  }
  return `${path}: ${JSON.stringify(saved)} there, ${JSON.stringify(planned)} in the grid`;
}

/**
 * A finished run with the planned run's config under the sweeps' parent directory
 * (<out>/<sweep>/<cell>/seed-<s>), or undefined. Links are not followed, so a reused run is
 * found through its original only.
 */
export async function findTwin(out: string, run: SweepRun): Promise<string | undefined> {
  const seedDir = `seed-${run.seed}`;
  const own = join(run.dir); // normalised, as the candidates are
  for (const sweep of await readdir(out, { withFileTypes: true }).catch(() => [])) {
    if (!sweep.isDirectory()) continue;
    for (const cell of await readdir(join(out, sweep.name), { withFileTypes: true }).catch(() => [])) {
      if (!cell.isDirectory()) continue;
      const dir = join(out, sweep.name, cell.name, seedDir);
      if (dir === own || !existsSync(join(dir, RUN_CONFIG_FILE)) || (await lstat(dir)).isSymbolicLink()) continue;
      const saved = parseTrainConfig(await readRunConfig(dir).catch(() => ({})));
      if (configDifference(saved, run.config) !== undefined) continue;
      if ((await latestCheckpoint(dir).catch(() => undefined)) === run.config.steps) return dir;
    }
  }
  return undefined;
}

/** Refuses run directories that hold a run of another config. */
async function checkExistingRuns(plan: SweepPlan): Promise<void> {
  for (const cell of plan.cells) {
    for (const run of cell.runs) {
      if (!existsSync(join(run.dir, RUN_CONFIG_FILE))) continue;
      const saved = parseTrainConfig(await readRunConfig(run.dir));
      const diff = configDifference(saved, run.config);
      if (diff !== undefined) {
        throw new Error(`${run.dir} holds a run with another config (${diff}); give the sweep another name, or remove that run directory to redo it`);
      }
    }
  }
}

export async function readSweepState(dir: string): Promise<SweepState> {
  const path = join(dir, SWEEP_STATE_FILE);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    throw new Error(`Expected a sweep directory with ${SWEEP_STATE_FILE}; got ${dir}`);
  }
  return JSON.parse(text) as SweepState;
}

/** Writes aggregate.json, aggregate.md and curves.csv into the sweep directory. */
export async function writeAggregate(plan: SweepPlan): Promise<SweepAggregate> {
  const aggregate = await aggregateSweep(plan);
  await writeTextAtomic(join(plan.dir, AGGREGATE_FILE), JSON.stringify(aggregate, null, 1) + "\n");
  await writeTextAtomic(join(plan.dir, AGGREGATE_MARKDOWN), aggregateMarkdown(aggregate));
  await writeTextAtomic(join(plan.dir, CURVES_CSV), curvesCsv(aggregate));
  return aggregate;
}

function evalLine(e: EvalMetrics): string {
  return Object.entries(evalHeadline(e)).filter(([, v]) => v !== "–").map(([k, v]) => `${k} ${v}`).join(" · ");
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Takes the sweep's lock: two processes training the same runs would corrupt them. A lock left
 * by a process that no longer exists (killed) is taken over.
 */
export async function lockSweep(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, SWEEP_LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(path, JSON.stringify({ pid: process.pid }) + "\n", { flag: "wx" });
      return () => rm(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const holder = (JSON.parse(await readFile(path, "utf8").catch(() => "{}")) as { pid?: number }).pid;
      if (typeof holder === "number" && holder !== process.pid && isAlive(holder)) {
        throw new Error(`another spiral sweep (pid ${holder}) is running ${dir}; wait for it, or stop it first (${path})`, { cause: e });
      }
      await rm(path, { force: true });
    }
  }
  throw new Error(`could not take the sweep lock ${path}`);
}

/** Links every not-yet-started run that has a finished twin (see the header) to it. */
async function linkTwins(plan: SweepPlan, log: (message: string) => void): Promise<void> {
  for (const run of plan.cells.flatMap((c) => c.runs)) {
    if (existsSync(run.dir)) continue;
    // A link whose run was removed: drop it, then link again or train.
    if ((await lstat(run.dir).catch(() => undefined))?.isSymbolicLink() === true) {
      await rm(run.dir);
      log(`[${run.cell}/seed-${run.seed}] the run it was linked to is gone: link removed`);
    }
    const twin = await findTwin(plan.grid.out, run).catch(() => undefined);
    if (twin === undefined) continue;
    await mkdir(dirname(run.dir), { recursive: true });
    await symlink(relative(dirname(run.dir), twin), run.dir, "dir");
    log(`[${run.cell}/seed-${run.seed}] same config as ${await realpath(twin)}: reused, not trained again`);
  }
}

/** Runs every unfinished run of the plan, then writes the aggregate. */
export async function runSweep(plan: SweepPlan, options: SweepOptions = {}): Promise<SweepResult> {
  await mkdir(plan.dir, { recursive: true });
  const unlock = await lockSweep(plan.dir);
  try {
    return await runLocked(plan, options);
  } finally {
    await unlock();
  }
}

async function runLocked(plan: SweepPlan, options: SweepOptions): Promise<SweepResult> {
  const log = options.log ?? (() => {});
  const parallel = options.parallel ?? plan.grid.parallel;
  await checkExistingRuns(plan);
  if (options.reuse !== false) await linkTwins(plan, log);

  const runs = plan.cells.flatMap((c) => c.runs);
  const states: RunState[] = [];
  for (const run of runs) states.push({ cell: run.cell, seed: run.seed, dir: run.dir, status: (await isFinished(run)) ? "done" : "pending" });
  const state: SweepState = { format: "spiral.sweep/1", name: plan.name, grid: plan.grid, runs: states };
  // Rewrites are chained so two runs finishing together cannot interleave them.
  let saving = Promise.resolve();
  const save = () => (saving = saving.then(async () => {
    await writeTextAtomic(join(plan.dir, SWEEP_STATE_FILE), JSON.stringify(state, null, 1) + "\n");
  }));
  await save();

  const todo = runs.map((run, i) => ({ run, state: states[i] as RunState })).filter((r) => r.state.status !== "done");
  const skipped = runs.length - todo.length;
  log(`sweep ${plan.name}: ${runs.length} runs (${plan.cells.length} configs × ${plan.seeds.length} seeds); ${skipped} finished, ${todo.length} to run, ${parallel} at a time`);
  let next = 0;
  let completed = 0;
  const worker = async () => {
    for (let item = todo[next++]; item !== undefined; item = todo[next++]) {
      const { run, state: rs } = item;
      const tag = `[${run.cell}/seed-${run.seed}]`;
      const resume = existsSync(join(run.dir, RUN_CONFIG_FILE));
      rs.status = "running";
      delete rs.error;
      await save();
      log(`${tag} ${resume ? "resuming" : "starting"} (${count(run.config.steps, "step")})`);
      const started = performance.now();
      try {
        await train(run.config, {
          runDir: run.dir,
          resume,
          hooks: {
            log: (m) => log(`${tag} ${m}`),
            onEval: (e) => log(`${tag} eval @${e.step}: ${evalLine(e)}`),
            // A line every tenth of the run, so long runs show they are alive.
            onStep: (m) => {
              if (m.step % Math.max(1, Math.floor(run.config.steps / 10)) === 0) log(`${tag} step ${m.step}/${run.config.steps} · reply ${m.replyLength.toFixed(1)} tokens · invalid ${(100 * m.invalidRate).toFixed(0)}% · ${m.samplesPerSecond.toFixed(1)} samples/s`);
            },
          },
        });
        rs.status = "done";
        completed++;
        log(`${tag} done in ${((performance.now() - started) / 60_000).toFixed(1)} min (${skipped + completed}/${runs.length} finished)`);
      } catch (e) {
        rs.status = "failed";
        rs.error = (e as Error).message;
        log(`${tag} failed: ${rs.error}`);
      }
      await save();
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, Math.max(1, todo.length)) }, worker));
  await saving;
  const aggregate = await writeAggregate(plan);
  return { aggregate, ran: todo.length, skipped, failed: states.filter((s) => s.status === "failed") };
}
