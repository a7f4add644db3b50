/**
 * `spiral replay`: replays a file of replies from a seed, step by step, as the match runner would
 * have scored them (an invalid reply ends the replay unless an error allowance is given).
 *
 * The actions file is either a JSON array of strings or one reply per line (blank lines skipped).
 * `--record FILE` replays a saved record instead and checks that it comes out the same: a match
 * record step by step, or one game (`--index N`) of a file of game records (training transcripts,
 * `spiral eval --out` games.jsonl) move by move.
 * Each step shows which of the game's reply patterns decided the reply ("Pattern: … matched …").
 * With `--json`, one JSON object per line: a `"type": "step"` object per reply (its `match` is that
 * pattern and the text it matched), then one `"type": "result"` object. `--rules reference`
 * replays under the published rules (`ID:reference`).
 */
import { readFileSync } from "node:fs";
import { Command } from "commander";
import type { Scoring } from "../games/match.js";
import { replayActions } from "../games/match.js";
import { readGameRecord } from "../games/game-record.js";
import { messageText, newMessages, observationText, parseMatchRecord, verifyGameRecord, verifyReplay } from "../games/record.js";
import { parseRules, withRules } from "../games/game.js";
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
  /** One allowance for both seats, or one per seat (Infinity: unlimited). Default 0. */
  readonly errorAllowance?: number | readonly [number, number];
}

/** `--rules` applied to a `--game` value (absent: the game spec as given). */
function gameWithRules(game: string, rules: string | undefined): string {
  return rules === undefined ? game : withRules(game, parseRules(rules));
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
  // Which pattern decided each reply: parse it again against the state it was judged in. Steps
  // before a move share its state (retries), so that state is the one after the valid steps so
  // far; in a simultaneous round the second seat was judged before the first seat's move was
  // applied, but Snake's reading does not depend on the state.
  let applied = 0;
  const matches = replay.steps.map((step) => {
    const state = replay.states[Math.min(applied, replay.states.length - 1)];
    if (step.valid) applied++;
    return step.reply === null ? undefined : game.parse(state, step.seat, step.reply).match;
  });
  replay.steps.forEach((step, index) => {
    const match = matches[index];
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
          match: match ?? null,
          done: step.done,
          returns: step.returns,
        }) + "\n",
      );
      return;
    }
    io.out(`--- step ${index}: move ${step.turn}, Player ${step.seat}${step.attempt > 0 ? ` (retry ${step.attempt})` : ""} ---\n`);
    io.out(`${step.observation.view}\n`);
    if (step.observation.legal.length > 0) io.out(`Legal moves: ${step.observation.legal.join(" ")}\n`);
    io.out(`Reply: ${JSON.stringify(step.reply)} -> ${step.valid ? `${step.action ?? ""} (valid)` : `invalid: ${step.reason ?? ""}`}\n`);
    if (match !== undefined) io.out(`Pattern: ${match.pattern}${match.text === null ? " (no match)" : ` matched ${JSON.stringify(match.text)}`}\n`);
    io.out("\n");
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

/** A match record: one JSON object with format "spiral.match/1" (possibly pretty-printed). */
function isMatchRecordText(text: string): boolean {
  try {
    return (JSON.parse(text) as { format?: unknown } | null)?.format === "spiral.match/1";
  } catch {
    return false;
  }
}

/**
 * Replays a record and checks it: a match record (`spiral play --record`) step by step, or game
 * `index` (0-based line) of a file of game records (transcripts/step-N.jsonl, `spiral eval --out`
 * games.jsonl) move by move.
 */
export async function runReplayRecord(text: string, options: { readonly json?: boolean; readonly index?: number }, io: CliIo): Promise<void> {
  if (!isMatchRecordText(text)) {
    await runReplayGameRecord(text, options, io);
    return;
  }
  if (options.index !== undefined) throw new Error(`--index picks a game of a file of game records (one JSON line per game); this file is one match record (spiral play --record), which holds one match: leave --index out`);
  const record = parseMatchRecord(text);
  const game = getGame(record.gameId);
  const allowance = (a: number | null): number => a ?? Number.POSITIVE_INFINITY;
  await runReplay(
    {
      game: record.gameId,
      seed: record.seed,
      actions: record.steps.flatMap((s) => (s.reply === null ? [] : [s.reply])),
      json: options.json === true,
      scoring: record.scoring,
      errorAllowance: [allowance(record.errorAllowance[0]), allowance(record.errorAllowance[1])],
    },
    io,
  );
  const problems = await verifyReplay(game, record);
  if (problems.length > 0) {
    throw new Error(`The record does not replay faithfully:\n${problems.join("\n")}`);
  }
  const cut = record.endReason === "transport" ? ` (the match itself ended in a transport failure: ${record.transport?.message ?? ""})` : "";
  io.err(`The replay matches the record: ${record.steps.length} steps, returns ${record.returns.join(", ")}${cut}.\n`);
}

async function runReplayGameRecord(text: string, options: { readonly json?: boolean; readonly index?: number }, io: CliIo): Promise<void> {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  const index = options.index ?? 0;
  const line = lines[index];
  if (line === undefined) throw new Error(`Expected a game at --index ${index}; the file holds ${lines.length} game record(s)`);
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    throw new Error(`Expected a match record or a JSON line per game; line ${index + 1} does not parse: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const record = readGameRecord(value);
  if (typeof record === "string") throw new Error(`Not a game record at line ${index + 1}: ${record}`);
  await runReplay({ game: record.gameId, seed: record.seed, actions: record.moves.map((m) => m.action), json: options.json === true, scoring: record.scoring ?? "evaluation" }, io);
  const problems = await verifyGameRecord(getGame(record.gameId), record);
  if (problems.length > 0) throw new Error(`The record does not replay faithfully:\n${problems.join("\n")}`);
  io.err(`The replay matches the record: ${record.moves.length} moves, ${record.endReason}, returns ${record.returns.join(", ")}.\n`);
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new Error(`Cannot read the ${what} ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

interface ReplayFlags {
  game?: string;
  seed?: string;
  actions?: string;
  record?: string;
  index?: string;
  json?: boolean;
  scoring: string;
  errorAllowance: string;
  rules?: string;
}

export function replayCommand(io: CliIo = processIo()): Command {
  return new Command("replay")
    .description("replay a file of actions from a seed (or a match record) and print every step")
    .option("--game <id>", "game id (see `spiral games`)")
    .option("--seed <n>", "the game seed")
    .option("--actions <file>", "replies: a JSON array of strings, or one per line")
    .option("--record <file>", "instead of --game/--seed/--actions: a record to replay and check: a match record (spiral play --record), or a file of game records (a run's transcripts/step-000100.jsonl, spiral eval --out games.jsonl)")
    .option("--index <n>", "with --record on a file of game records: which game (0-based line; default: 0)")
    .option("--json", "print one JSON object per step, then a result object")
    .option("--scoring <kind>", "invalid-move scoring: training (−1.5/+0.5) or evaluation (−1/+1)", "evaluation")
    .option("--error-allowance <n>", "invalid replies a seat may retry per move", "0")
    .option("--rules <mode>", "with --game: spiral (our rules; the default) or reference (the published rules exactly); same as --game ID:reference")
    .action(async (raw: ReplayFlags) => {
      if (raw.record !== undefined) {
        if (raw.game !== undefined || raw.seed !== undefined || raw.actions !== undefined || raw.rules !== undefined) {
          throw new Error("--record replays a match record on its own (its game id carries the rules): give either --record FILE or --game, --seed and --actions");
        }
        await runReplayRecord(readText(raw.record, "record"), { json: raw.json === true, ...(raw.index === undefined ? {} : { index: parseIntegerOption(raw.index, "--index") }) }, io);
        return;
      }
      if (raw.index !== undefined) throw new Error("--index picks a game of the file given by --record FILE; add --record");
      if (raw.game === undefined || raw.seed === undefined || raw.actions === undefined) {
        throw new Error("spiral replay needs --game ID, --seed N and --actions FILE (or --record FILE)");
      }
      if (raw.scoring !== "training" && raw.scoring !== "evaluation") throw new Error(`--scoring expects training or evaluation; got "${raw.scoring}"`);
      const errorAllowance = parseIntegerOption(raw.errorAllowance, "--error-allowance");
      if (errorAllowance < 0) throw new Error(`--error-allowance expects a non-negative integer; got ${errorAllowance}`);
      await runReplay(
        {
          game: gameWithRules(raw.game, raw.rules),
          seed: parseIntegerOption(raw.seed, "--seed"),
          actions: parseActionsFile(readText(raw.actions, "actions file"), raw.actions),
          json: raw.json === true,
          scoring: raw.scoring,
          errorAllowance,
        },
        io,
      );
    });
}
