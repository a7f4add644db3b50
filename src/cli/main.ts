import { Command } from "commander";
import { benchMathCommand } from "./bench-math.js";
import { dashboardCommand } from "./dashboard.js";
import { evalCommand } from "./eval.js";
import { gamesCommand } from "./games.js";
import { generateCommand } from "./generate.js";
import { playCommand } from "./play.js";
import { replayCommand } from "./replay.js";
import { reportCommand } from "./report.js";
import { serveCommand } from "./serve.js";
import { sweepCommand } from "./sweep.js";
import { trainCommand } from "./train.js";

/** Builds the `spiral` command line; each subcommand lives in its own file under src/cli/. */
export function buildProgram(): Command {
  const program = new Command();
  program.name("spiral").description("SPIRAL self-play training for language models, in TypeScript");
  program.addCommand(trainCommand());
  program.addCommand(gamesCommand());
  program.addCommand(playCommand());
  program.addCommand(replayCommand());
  program.addCommand(generateCommand());
  program.addCommand(evalCommand());
  program.addCommand(serveCommand());
  program.addCommand(benchMathCommand());
  program.addCommand(dashboardCommand());
  program.addCommand(reportCommand());
  program.addCommand(sweepCommand());
  return program;
}

export async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv);
}
