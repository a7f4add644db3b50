/** `spiral report RUN... --out FILE.html`: final results, the evaluation table per step, the config and all plots as one offline HTML file. */
import { writeFileSync } from "node:fs";
import { Command } from "commander";
import { renderReport } from "../dashboard/report.js";
import { isSweepDir, readAggregate, renderSweepReportOf, writeSweepFigures } from "../sweep/report.js";
import type { CliIo } from "./io.js";
import { checkOutputFile, processIo } from "./io.js";
import { count } from "../core/text.js";

export async function runReport(runs: readonly string[], out: string, io: CliIo, figures?: string): Promise<void> {
  checkOutputFile(out, "--out");
  // A sweep directory (spiral sweep) gets its own report: medians and IQR bands per config.
  const sweep = runs.length === 1 && isSweepDir(runs[0] as string) ? runs[0] : undefined;
  if (figures !== undefined && sweep === undefined) throw new Error("--figures writes a sweep's plots: give one sweep directory (with sweep.json)");
  const html = sweep === undefined ? await renderReport({ runs }) : await renderSweepReportOf(sweep);
  writeFileSync(out, html);
  io.out(`wrote ${out} (${(html.length / 1024).toFixed(0)} KiB, ${count(runs.length, "run")})\n`);
  if (sweep !== undefined && figures !== undefined) {
    const files = await writeSweepFigures(await readAggregate(sweep), figures);
    io.out(`wrote ${files.length} SVG figures to ${figures}\n`);
  }
}

export function reportCommand(io: CliIo = processIo()): Command {
  return new Command("report")
    .description("one self-contained HTML file: final results, evaluation per step, config and plots (several runs are overlaid)")
    .argument("<run...>", "run directories (runs/<name>), or one sweep directory (spiral sweep)")
    .requiredOption("--out <file>", "the HTML file to write")
    .option("--figures <dir>", "with a sweep directory: also write its plots as SVG files (learning curves, final metrics with intervals) for a write-up")
    .action(async (runs: string[], raw: { out: string; figures?: string }) => runReport(runs, raw.out, io, raw.figures));
}
