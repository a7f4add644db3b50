/**
 * `spiral report`: one self-contained HTML file with the runs' final results, evaluation table per
 * step, summary table, plots and configs: the bundled app (dist/web) and the runs' metrics and
 * summaries are inlined, so the file opens offline, anywhere (web/app.ts `reportView` draws it).
 */
import { basename, resolve } from "node:path";
import { readMetricsFrom, readRun } from "./run-reader.js";
import { appPage, readAssets } from "./server.js";

export interface ReportOptions {
  /** Run directories; several are overlaid in each plot. */
  readonly runs: readonly string[];
  readonly assetsDir?: string;
  /** ISO time written into the report (default: now). */
  readonly generated?: string;
}

export async function renderReport(options: ReportOptions): Promise<string> {
  const runs = [];
  for (const dir of options.runs) {
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
