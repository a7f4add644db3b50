/**
 * `spiral report`: one self-contained HTML file with the runs' final results, evaluation table per
 * step, summary table, plots and configs: the bundled app (dist/web) and the runs' metrics and
 * summaries are inlined, so the file opens offline, anywhere (web/app.ts `reportView` draws it).
 */
import { existsSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { SHARD_INDEX_FILE, SINGLE_FILE } from "../engine/weights/safetensors.js";
import { METRICS_FILE } from "../rl/run-dir.js";
import { readMetricsFrom, readRun } from "./run-reader.js";
import { appPage, readAssets } from "./server.js";

export interface ReportOptions {
  /** Run directories; several are overlaid in each plot. */
  readonly runs: readonly string[];
  readonly assetsDir?: string;
  /** ISO time written into the report (default: now). */
  readonly generated?: string;
}

/** A checkpoint's config.json is a model's, not a run's: refuse it, naming the run it sits in. */
function refuseCheckpoint(dir: string): void {
  if (existsSync(join(dir, METRICS_FILE))) return;
  if (![SINGLE_FILE, SHARD_INDEX_FILE, "adapter_config.json"].some((f) => existsSync(join(dir, f)))) return;
  const run = dirname(resolve(dir));
  const hint = existsSync(join(run, METRICS_FILE)) ? `: give the run it belongs to, ${dirname(dir)}` : "; give a run directory (runs/<name>)";
  throw new Error(`${dir} is a checkpoint, not a run directory${hint}`);
}

export async function renderReport(options: ReportOptions): Promise<string> {
  const runs = [];
  for (const dir of options.runs) {
    refuseCheckpoint(dir);
    const name = basename(resolve(dir));
    const summary = await readRun(dir, name);
    if (summary === null) throw new Error(`Expected a run directory with config.json or metrics.jsonl; got ${dir}`);
    runs.push({ summary, lines: (await readMetricsFrom(dir)).lines });
  }
  const data = { runs, generated: options.generated ?? new Date().toISOString() };
  const assets = await readAssets(options.assetsDir);
  // "<" escaped so no string in the data can close the script element.
  const inline = `window.__SPIRAL_REPORT__=${JSON.stringify(data).replace(/</g, "\\u003c")};\n${assets.js}`;
  return appPage(`spiral report: ${runs.map((r) => r.summary.name).join(" + ")}`, { js: inline, css: assets.css });
}
