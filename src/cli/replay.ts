/**
 * `spiral replay`: replays a file of replies from a seed, step by step, as the match runner would
 * have scored them (an invalid reply ends the replay unless an error allowance is given).
 *
 * The actions file is either a JSON array of strings or one reply per line (blank lines skipped).
 * With `--json`, one JSON object per line: a `"type": "step"` object per reply, then one
 * `"type": "result"` object.
 */
import { readFileSync } from "node:fs";
import { Command } from "commander";
import type { Scoring } from "../games/match.js";
import { replayActions } from "../games/match.js";
import { messageText, newMessages, observationText } from "../games/record.js";
import { getGame } from "../games/registry.js";
import type { CliIo } from "./io.js";
import { parseIntegerOption, processIo } from "./io.js";

export interface ReplayCommandOptions {
  readonly game: string;
  readonly seed: number;
  /** The replies, in the order the runner asks for them. */
  readonly actions: readonly string[];
  readonly json?: boolean;
  readonly scoring?: Scoring;
  readonly errorAllowance?: number;
}

/** Reads an actions file: a JSON array of strings, or one reply per non-blank line. */
export function parseActionsFile(text: string, path = "the actions file"): string[] {
  const trimmed = text.trim();
  if (trimmed.startsWith("[")) {
    let data: unknown;
    try {
      data = JSON.parse(trimmed);
    } catch {
      data = undefined; // Not JSON: a line file whose first reply is in brackets, e.g. "[4]".
    }
    if (Array.isArray(data) && data.every((a) => typeof a === "string")) return data;
  }
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== "");
  if (lines.length === 0) throw new Error(`Expected actions in ${path} (a JSON array of strings, or one per line); it is empty`);
  return lines;
}

export async function runReplay(options: ReplayCommandOptions, io: CliIo): Promise<void> {
  const game = getGame(options.game);
  const replay = await replayActions(game, options.seed, options.actions, {
    scoring: options.scoring ?? "evaluation",
    errorAllowance: options.errorAllowance ?? 0,
  });
  const ignored = options.actions.length - replay.used;
  replay.steps.forEach((step, index) => {
    if (options.json === true) {
      io.out(
        JSON.stringify({
          type: "step",
          step: index,
          seat: step.seat,
          turn: step.turn,
          attempt: step.attempt,
          observation: observationText(step.observation),
          view: step.observation.view,
          legal: step.observation.legal,
          raw: step.reply,
          action: step.action,
          valid: step.valid,
          reason: step.reason,
          done: step.done,
          returns: step.returns,
        }) + "\n",
      );
      return;
    }
    io.out(`--- step ${index}: move ${step.turn}, Player ${step.seat}${step.attempt > 0 ? ` (retry ${step.attempt})` : ""} ---\n`);
    io.out(`${step.observation.view}\n`);
    if (step.observation.legal.length > 0) io.out(`Legal moves: ${step.observation.legal.join(" ")}\n`);
    io.out(`Reply: ${JSON.stringify(step.reply)} -> ${step.valid ? `${step.action ?? ""} (valid)` : `invalid: ${step.reason ?? ""}`}\n\n`);
  });
  const result = { type: "result", endReason: replay.endReason, returns: replay.returns, offenders: replay.offenders, used: replay.used, ignored };
  if (options.json === true) io.out(JSON.stringify(result) + "\n");
  else {
    // What the game told Player 0 after the last reply (the final board, the outcome).
    const last = replay.steps.at(-1);
    const final = game.observe(replay.states.at(-1), 0);
    for (const message of newMessages(last?.observation.log ?? [], final.log)) io.out(`${messageText(message)}\n`);
    io.out(`End: ${replay.endReason}; returns ${replay.returns.join(", ")}.\n`);
  }
  if (ignored > 0) io.err(`${ignored} action(s) after the end of the game were ignored.\n`);
  if (replay.endReason === "incomplete") io.err(`The actions ran out before the game ended (${replay.used} used).\n`);
}

export function replayCommand(io: CliIo = processIo()): Command {
  return new Command("replay")
    .description("replay a file of actions from a seed and print every step")
    .requiredOption("--game <id>", "game id (see `spiral games`)")
    .requiredOption("--seed <n>", "the game seed")
    .requiredOption("--actions <file>", "replies: a JSON array of strings, or one per line")
    .option("--json", "print one JSON object per step, then a result object")
    .option("--scoring <kind>", "invalid-move scoring: training (−1.5/+0.5) or evaluation (−1/+1)", "evaluation")
    .option("--error-allowance <n>", "invalid replies a seat may retry per move", "0")
    .action(async (raw: { game: string; seed: string; actions: string; json?: boolean; scoring: string; errorAllowance: string }) => {
      if (raw.scoring !== "training" && raw.scoring !== "evaluation") throw new Error(`--scoring expects training or evaluation; got "${raw.scoring}"`);
      const errorAllowance = parseIntegerOption(raw.errorAllowance, "--error-allowance");
      if (errorAllowance < 0) throw new Error(`--error-allowance expects a non-negative integer; got ${errorAllowance}`);
      let text: string;
      try {
        text = readFileSync(raw.actions, "utf8");
      } catch (err) {
        throw new Error(`Cannot read the actions file ${raw.actions}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
      await runReplay(
        {
          game: raw.game,
          seed: parseIntegerOption(raw.seed, "--seed"),
          actions: parseActionsFile(text, raw.actions),
          json: raw.json === true,
          scoring: raw.scoring,
          errorAllowance,
        },
        io,
      );
    });
}
