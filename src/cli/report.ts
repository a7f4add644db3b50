/** `spiral report RUN... --out FILE.html`: final results, the evaluation table per step, the config and all plots as one offline HTML file. */
import { writeFileSync } from "node:fs";
import { Command } from "commander";
import { renderReport } from "../dashboard/report.js";
import { isSweepDir, renderSweepReportOf } from "../sweep/report.js";
import type { CliIo } from "./io.js";
import { processIo } from "./io.js";

export async function runReport(runs: readonly string[], out: string, io: CliIo): Promise<void> {
  // A sweep directory (spiral sweep) gets its own report: medians and IQR bands per config.
  const sweep = runs.length === 1 && isSweepDir(runs[0] as string) ? runs[0] : undefined;
  const html = sweep === undefined ? await renderReport({ runs }) : await renderSweepReportOf(sweep);
  writeFileSync(out, html);
  io.out(`wrote ${out} (${(html.length / 1024).toFixed(0)} KiB, ${runs.length} run(s))\n`);
}

export function reportCommand(io: CliIo = processIo()): Command {
  return new Command("report")
    .description("one self-contained HTML file: final results, evaluation per step, config and plots (several runs are overlaid)")
    .argument("<run...>", "run directories (runs/<name>)")
    .requiredOption("--out <file>", "the HTML file to write")
    .action(async (runs: string[], raw: { out: string }) => runReport(runs, raw.out, io));
}
