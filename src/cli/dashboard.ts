/**
 * `spiral dashboard [RUNS_DIR]`: serves the dashboard (src/dashboard/) over a directory of runs,
 * on 127.0.0.1 unless --host says otherwise, until interrupted.
 */
import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { METRICS_FILE } from "../rl/run-dir.js";
import { Command } from "commander";
import { startDashboard, type Dashboard, type SweepPages } from "../dashboard/server.js";
import { isSweepDir, listSweeps, liveAggregate, renderSweepReport } from "../sweep/report.js";
import type { CliIo } from "./io.js";
import { listening, parseIntegerOption, processIo } from "./io.js";

export interface DashboardCommandOptions {
  readonly root: string;
  readonly port: number;
  readonly host: string;
}

/** The sweep pages the dashboard serves (sweep/report.ts). */
export const SWEEP_PAGES: SweepPages = {
  list: listSweeps,
  isSweep: isSweepDir,
  render: async (dir) => renderSweepReport(await liveAggregate(dir)),
};

export async function runDashboard(options: DashboardCommandOptions, io: CliIo): Promise<Dashboard> {
  const dashboard = await listening(startDashboard({ ...options, sweeps: SWEEP_PAGES }), options.port, options.host);
  io.out(`spiral dashboard: ${dashboard.url} (runs in ${options.root}; Ctrl-C to stop)\n`);
  return dashboard;
}

/**
 * The runs directory must be a directory; a missing one is fine only when it is the default
 * ("runs", before the first training run), not when the user named it (likely a typo).
 */
function checkRunsDir(root: string, given: boolean): void {
  let info;
  try {
    info = statSync(root);
  } catch {
    if (given) throw new Error(`runs directory ${root}: no such directory (give the directory holding run directories, e.g. runs)`);
    return;
  }
  if (!info.isDirectory()) throw new Error(`runs directory ${root}: is a file; give the directory holding run directories (e.g. runs)`);
  // A run directory's own checkpoints would be listed as runs.
  if (existsSync(join(root, METRICS_FILE))) throw new Error(`runs directory ${root}: is a run directory itself; give the directory holding it: spiral dashboard ${dirname(root)}`);
}

export function dashboardCommand(io: CliIo = processIo()): Command {
  return new Command("dashboard")
    .description("web dashboard: run list, live plots, game replays, play against a checkpoint or policy")
    .argument("[runs-dir]", "directory holding run directories", "runs")
    .option("--port <n>", "port (0 picks a free one)", "8080")
    .option("--host <addr>", "address to bind", "127.0.0.1")
    .action(async (root: string, raw: { port: string; host: string }, command: Command) => {
      const port = parseIntegerOption(raw.port, "--port");
      if (port < 0 || port > 65535) throw new Error(`--port expects an integer in [0, 65535]; got "${raw.port}"`);
      checkRunsDir(root, command.args.length > 0);
      await runDashboard({ root, port, host: raw.host }, io);
    });
}
