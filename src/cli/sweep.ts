/**
 * `spiral sweep [GRID]`: train configs × seeds (a YAML/JSON grid file and/or flags), each run an
 * ordinary `spiral train` run under sweeps/<name>/<config>/seed-<s>/, resumable, then the
 * aggregate (mean and 95% interval over seeds, targets met, median/IQR learning curves).
 * docs/sweeps.md has the grid format and the statistics.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Command } from "commander";
import { trainPresets } from "../rl/config.js";
import { AGGREGATE_FILE, AGGREGATE_MARKDOWN, aggregateMarkdown, CURVES_CSV } from "../sweep/aggregate.js";
import { defaultSweepName, type Grid, gridFromFlags, planSweep, readGridFile, type SweepFlags, type SweepPlan } from "../sweep/grid.js";
import { isFinished, readSweepState, runSweep, SWEEP_STATE_FILE, writeAggregate } from "../sweep/run.js";
import type { CliIo } from "./io.js";
import { processIo } from "./io.js";
import { count } from "../core/text.js";

export interface SweepCommandFlags extends SweepFlags {
  readonly dryRun?: boolean;
  readonly aggregateOnly?: boolean;
  /** False with --no-reuse: train a run even when a finished run of the same config exists. */
  readonly reuse?: boolean;
}

/**
 * The grid a sweep directory was planned with (its sweep.json), when the command gives no grid of
 * its own (no grid file, --preset, --config, --seeds, --vary or --steps): so `spiral sweep --name
 * NAME --aggregate-only` (or --dry-run, or a plain rerun) means the sweep NAME as it was run, not
 * the default grid under its name.
 */
async function savedGrid(file: string | undefined, f: SweepCommandFlags, plan: SweepPlan): Promise<Grid | undefined> {
  const ownGrid = file !== undefined || f.preset !== undefined || f.config !== undefined || f.seeds !== undefined || (f.vary?.length ?? 0) > 0 || f.steps !== undefined;
  if (ownGrid || !existsSync(join(plan.dir, SWEEP_STATE_FILE))) return undefined;
  const saved = (await readSweepState(plan.dir)).grid;
  return { ...saved, name: plan.name, out: plan.grid.out, ...(f.parallel === undefined ? {} : { parallel: plan.grid.parallel }) };
}

export async function runSweepCommand(file: string | undefined, f: SweepCommandFlags, io: CliIo): Promise<void> {
  const given = gridFromFlags(file === undefined ? undefined : readGridFile(file), f);
  // Every run's config is built and checked here, before anything starts.
  const asGiven = planSweep(given, defaultSweepName(given, file));
  const saved = await savedGrid(file, f, asGiven);
  const plan = saved === undefined ? asGiven : planSweep(saved, asGiven.name);
  const grid = plan.grid;
  const runs = plan.cells.flatMap((c) => c.runs);
  if (f.dryRun === true) {
    io.out(`sweep ${plan.name} in ${plan.dir}: ${plan.cells.length} configs × ${plan.seeds.length} seeds = ${runs.length} runs, ${grid.parallel} at a time\n`);
    for (const run of runs) io.out(`${(await isFinished(run)) ? "done   " : "to run "} ${run.dir}  (${count(run.config.steps, "step")})\n`);
    return;
  }
  if (f.aggregateOnly === true) {
    // An aggregate over runs that do not exist would replace the sweep's real one with an empty table.
    if (!runs.some((run) => existsSync(run.dir))) {
      throw new Error(`--aggregate-only: none of the ${runs.length} runs this grid plans exists under ${plan.dir} (${plan.cells.map((c) => c.name).join(", ")}); give the grid file or flags the sweep was run with`);
    }
    const aggregate = await writeAggregate(plan);
    io.out(aggregateMarkdown(aggregate));
    return;
  }
  const result = await runSweep(plan, { log: (m) => io.err(`${m}\n`), reuse: f.reuse !== false });
  io.out(aggregateMarkdown(result.aggregate));
  io.out(`\nwrote ${plan.dir}/{${AGGREGATE_FILE},${AGGREGATE_MARKDOWN},${CURVES_CSV}}; run state in ${plan.dir}/${SWEEP_STATE_FILE}\n`);
  if (result.failed.length > 0) {
    throw new Error(`${count(result.failed.length, "run")} failed (${result.failed.map((r) => `${r.cell}/seed-${r.seed}: ${r.error ?? "?"}`).join("; ")}); run the same command again to retry them`);
  }
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function sweepCommand(io: CliIo = processIo()): Command {
  return new Command("sweep")
    .description("train a grid of configs × seeds (resumable) and aggregate: mean and 95% interval over seeds, targets met, median/IQR curves")
    .argument("[grid]", "a YAML or JSON grid file (preset, base, seeds, vary, configs, targets, parallel); flags override it")
    .option("--name <name>", "the sweep's directory under --out (default: the grid file's name, or the preset and varied keys)")
    .option("--out <dir>", "parent directory of sweeps (default: sweeps)")
    .option("--preset <name>", `train preset every config starts from: ${Object.keys(trainPresets).join(", ")} (default: default)`)
    .option("--config <file>", "a JSON/YAML partial train config over the preset, for every config")
    .option("--seeds <n|list>", "seed count n (seeds 0..n-1) or a list such as 0,3,7 (default: 5)")
    .option("--vary <key=v1,v2>", "a config key and its values, repeatable: opponent=self,random · rae=on,off · optim.lr=1e-4,2e-4", collect)
    .option("--steps <n>", "policy steps of every run")
    .option("--parallel <k>", "runs at a time (default: 1)")
    .option("--dry-run", "list the runs and whether each is done, and exit")
    .option("--aggregate-only", "only (re)write the aggregate from the finished runs")
    .option("--no-reuse", "train every run, even one whose config equals a finished run's under the same --out (by default that run is linked, not retrained)")
    .action(async (file: string | undefined, flags: SweepCommandFlags) => runSweepCommand(file, flags, io));
}
