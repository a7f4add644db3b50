/**
 * `spiral dashboard [RUNS_DIR]`: serves the dashboard (src/dashboard/) over a directory of runs,
 * on 127.0.0.1 unless --host says otherwise, until interrupted.
 */
import { Command } from "commander";
import { startDashboard, type Dashboard } from "../dashboard/server.js";
import type { CliIo } from "./io.js";
import { parseIntegerOption, processIo } from "./io.js";

export interface DashboardCommandOptions {
  readonly root: string;
  readonly port: number;
  readonly host: string;
}

export async function runDashboard(options: DashboardCommandOptions, io: CliIo): Promise<Dashboard> {
  const dashboard = await startDashboard(options);
  io.out(`spiral dashboard: ${dashboard.url} (runs in ${options.root}; Ctrl-C to stop)\n`);
  return dashboard;
}

export function dashboardCommand(io: CliIo = processIo()): Command {
  return new Command("dashboard")
    .description("web dashboard: run list, live plots, game replays, play against a checkpoint or policy")
    .argument("[runs-dir]", "directory holding run directories", "runs")
    .option("--port <n>", "port (0 picks a free one)", "8080")
    .option("--host <addr>", "address to bind (loopback by default)", "127.0.0.1")
    .action(async (root: string, raw: { port: string; host: string }) => {
      const port = parseIntegerOption(raw.port, "--port");
      if (port < 0 || port > 65535) throw new Error(`--port expects 0..65535; got ${port}`);
      await runDashboard({ root, port, host: raw.host }, io);
    });
}
