import { createRequire } from "node:module";
import { Command } from "commander";
import { benchMathCommand } from "./bench-math.js";
import { dashboardCommand } from "./dashboard.js";
import { evalCommand } from "./eval.js";
import { exportCommand } from "./export.js";
import { gamesCommand } from "./games.js";
import { generateCommand } from "./generate.js";
import { mergeCommand } from "./merge.js";
import { playCommand } from "./play.js";
import { replayCommand } from "./replay.js";
import { reportCommand } from "./report.js";
import { serveCommand } from "./serve.js";
import { sweepCommand } from "./sweep.js";
import { trainCommand } from "./train.js";

/** The version in package.json (two folders up from src/cli/ and dist/cli/). */
function packageVersion(): string {
  return (createRequire(import.meta.url)("../../package.json") as { version: string }).version;
}

/** Builds the `spiral` command line; each subcommand lives in its own file under src/cli/. */
export function buildProgram(): Command {
  const program = new Command();
  program.name("spiral").description("SPIRAL self-play training for language models, in TypeScript").version(packageVersion(), "-V, --version", "print the version");
  program.addCommand(trainCommand());
  program.addCommand(gamesCommand());
  program.addCommand(playCommand());
  program.addCommand(replayCommand());
  program.addCommand(generateCommand());
  program.addCommand(evalCommand());
  program.addCommand(serveCommand());
  program.addCommand(mergeCommand());
  program.addCommand(benchMathCommand());
  program.addCommand(dashboardCommand());
  program.addCommand(reportCommand());
  program.addCommand(exportCommand());
  program.addCommand(sweepCommand());
  return program;
}

export async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv);
}

/**
 * `main` as the `spiral` binary runs it: an error ends the process with exit code 1 and its
 * message on one line of stderr (no stack trace; a bad flag or path is the user's to fix, and the
 * message says what was expected). SPIRAL_DEBUG=1 prints the stack as well.
 */
export async function runCli(argv: string[]): Promise<void> {
  // A reader that closed the pipe (`spiral games | head -1`) has all it wanted: stop quietly, as
  // command-line tools do on SIGPIPE, instead of dying on an unhandled EPIPE.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code !== "EPIPE") throw err;
    process.exit(0);
  });
  try {
    await main(argv);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`spiral: ${message}\n`);
    if (process.env.SPIRAL_DEBUG === "1" && err instanceof Error && err.stack !== undefined) process.stderr.write(`${err.stack}\n`);
    process.exitCode = 1;
    // Let pending writes drain; worker threads were released by the command's own cleanup.
    process.exit(1);
  }
}
