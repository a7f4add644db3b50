/**
 * Game replays for the dashboard: a recorded game (seed + replies) is played again through the
 * game itself, so every frame carries both seats' views and typed information states, which the
 * front end draws as a board, cards and pot, or inventories and offers.
 *
 * Sources, all one game per JSONL line, read as the one game record (games/game-record.ts): the
 * trainer's transcripts/step-N.jsonl, `spiral eval --out` games.jsonl, and match records
 * ("spiral.match/1").
 *
 * Invariant: replaying never throws on a record. A reply that does not parse or is not legal is a
 * frame with `valid: false` and is not applied; a record of an unknown game becomes a notice.
 */
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import type { Seat } from "../games/game.js";
import { readGameRecord, type ReadGameRecord } from "../games/game-record.js";
import { getGame } from "../games/registry.js";
import { TRANSCRIPTS_DIR } from "./run-reader.js";

/** A recorded game as read from a file (games/game-record.ts). */
export type RecordedGame = ReadGameRecord;

/** Both seats' knowledge at one moment. */
export interface SeatsView {
  readonly views: readonly [string, string];
  readonly infos: readonly [unknown, unknown];
  readonly legal: readonly [readonly string[], readonly string[]];
}

export interface ReplayFrame {
  readonly seat: Seat;
  readonly turn: number;
  /** The state before the reply. */
  readonly before: SeatsView;
  readonly reply: string;
  readonly raw: string;
  /** Canonical text of the parsed action; null when the reply did not parse. */
  readonly parsed: string | null;
  readonly valid: boolean;
  readonly reason: string | null;
}

export interface Replay {
  readonly gameId: string;
  readonly seed: number;
  readonly players: readonly [string, string];
  readonly returns: readonly [number, number];
  readonly endReason: string;
  readonly step: number | null;
  readonly frames: readonly ReplayFrame[];
  readonly final: SeatsView;
  /**
   * Set when a game that ended normally replays to other returns than recorded (the record is
   * from another version of the game, or was edited): the drawing may not be what was played.
   */
  readonly mismatch: string | null;
}

function seatsView(game: ReturnType<typeof getGame>, state: unknown): SeatsView {
  const o0 = game.observe(state, 0);
  const o1 = game.observe(state, 1);
  return { views: [o0.view, o1.view], infos: [o0.infoState, o1.infoState], legal: [o0.legal, o1.legal] };
}

/** Plays a recorded game again; throws only for an unknown game id. */
export function replayGame(record: RecordedGame): Replay {
  const game = getGame(record.gameId);
  let state: unknown = game.init(record.seed);
  const frames: ReplayFrame[] = [];
  for (const move of record.moves) {
    const before = seatsView(game, state);
    const parsed = game.parse(state, move.seat, move.action);
    let valid = parsed.ok && move.invalidReason === undefined && game.isLegal(state, move.seat, parsed.action);
    let reason = move.invalidReason ?? (parsed.ok ? null : parsed.reason);
    if (parsed.ok && valid) {
      try {
        state = game.apply(state, move.seat, parsed.action);
      } catch (e) {
        valid = false;
        reason = (e as Error).message;
      }
    } else if (reason === null) {
      reason = "not a legal move here";
    }
    frames.push({
      seat: move.seat, turn: frames.length, before, reply: move.action, raw: move.raw ?? move.action,
      parsed: parsed.ok ? game.format(parsed.action) : null, valid, reason: valid ? null : reason,
    });
  }
  const replayed = game.returns(state);
  const mismatch = record.endReason !== "terminal" ? null
    : !game.isTerminal(state) ? "the recorded moves do not finish the game when replayed"
    : replayed[0] !== record.returns[0] || replayed[1] !== record.returns[1] ? `replayed returns [${replayed.join(", ")}] differ from the recorded [${record.returns.join(", ")}]`
    : null;
  return {
    gameId: record.gameId, seed: record.seed, players: record.players, returns: record.returns, endReason: record.endReason,
    step: record.step ?? null, frames, final: seatsView(game, state), mismatch,
  };
}

/** Reads one JSONL line into a recorded game, or says what was expected. */
export const toRecordedGame = readGameRecord;

export interface GameFile {
  /** Path relative to the run directory, e.g. "transcripts/step-000003.jsonl". */
  readonly path: string;
  readonly games: number;
}

/** Game files of a run: transcripts/*.jsonl, games.jsonl, and <subdir>/games.jsonl (eval outputs). */
export async function listGameFiles(runDir: string): Promise<GameFile[]> {
  const paths: string[] = [];
  const names = async (dir: string): Promise<string[]> => readdir(dir).catch(() => [] as string[]);
  for (const name of (await names(join(runDir, TRANSCRIPTS_DIR))).sort()) {
    if (name.endsWith(".jsonl")) paths.push(join(runDir, TRANSCRIPTS_DIR, name));
  }
  for (const name of (await names(runDir)).sort()) {
    if (name === "games.jsonl") paths.push(join(runDir, name));
    else if ((await names(join(runDir, name))).includes("games.jsonl")) paths.push(join(runDir, name, "games.jsonl"));
  }
  const files: GameFile[] = [];
  for (const path of paths) {
    const text = await readFile(path, "utf8").catch(() => "");
    files.push({ path: relative(runDir, path), games: text.split("\n").filter((l) => l.trim() !== "").length });
  }
  return files;
}

/** The games of one file, replayed; bad lines become notices. */
export async function readGameFile(runDir: string, path: string): Promise<{ replays: Replay[]; notices: string[] }> {
  const text = await readFile(join(runDir, path), "utf8");
  const replays: Replay[] = [];
  const notices: string[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    let record: RecordedGame | string;
    try {
      record = toRecordedGame(JSON.parse(line));
    } catch (e) {
      record = `not JSON (${(e as Error).message})`;
    }
    if (typeof record === "string") {
      notices.push(`${path} line ${i + 1}: skipped, ${record}`);
      return;
    }
    try {
      replays.push(replayGame(record));
    } catch (e) {
      notices.push(`${path} line ${i + 1}: skipped, ${(e as Error).message}`);
    }
  });
  return { replays, notices };
}

/** One recorded game as the games view lists and filters it, without replaying it. */
export interface GameEntry {
  /** The file (as listed by `listGameFiles`) and the 0-based index of the game in it. */
  readonly path: string;
  readonly index: number;
  readonly gameId: string;
  readonly step: number | null;
  readonly seed: number;
  readonly players: readonly [string, string];
  readonly policySeats: readonly Seat[] | null;
  readonly returns: readonly [number, number];
  readonly endReason: string;
  /** The seat whose invalid reply ended the game, if one did. */
  readonly invalidSeat: Seat | null;
  readonly moves: number;
}

function gameLines(text: string): { line: number; text: string }[] {
  return text.split("\n").map((t, i) => ({ line: i + 1, text: t })).filter((l) => l.text.trim() !== "");
}

function entryOf(path: string, index: number, record: RecordedGame): GameEntry {
  const invalid = record.moves.find((m) => m.invalidReason !== undefined);
  const invalidSeat = record.invalidSeat ?? invalid?.seat ?? null;
  return {
    path, index, gameId: record.gameId, step: record.step ?? null, seed: record.seed, players: record.players,
    policySeats: record.policySeats ?? null, returns: record.returns, endReason: record.endReason,
    invalidSeat: record.endReason === "invalid" || invalid !== undefined ? invalidSeat : null, moves: record.moves.length,
  };
}

/** Every game of every game file of a run, for filtering; unreadable lines are skipped (the file view reports them). */
export async function indexGames(runDir: string): Promise<GameEntry[]> {
  const entries: GameEntry[] = [];
  for (const file of await listGameFiles(runDir)) {
    const text = await readFile(join(runDir, file.path), "utf8").catch(() => "");
    gameLines(text).forEach((l, index) => {
      try {
        const record = readGameRecord(JSON.parse(l.text));
        if (typeof record !== "string") entries.push(entryOf(file.path, index, record));
      } catch {
        // Listed as a notice when the file is opened.
      }
    });
  }
  return entries;
}

/** The replay of the `index`-th game of a listed file. */
export async function readOneGame(runDir: string, path: string, index: number): Promise<Replay> {
  const line = gameLines(await readFile(join(runDir, path), "utf8"))[index];
  if (line === undefined) throw new Error(`${path} has no game ${index}`);
  let value: unknown;
  try {
    value = JSON.parse(line.text);
  } catch (e) {
    throw new Error(`${path} line ${line.line}: not JSON (${(e as Error).message})`, { cause: e });
  }
  const record = toRecordedGame(value);
  if (typeof record === "string") throw new Error(`${path} line ${line.line}: ${record}`);
  return replayGame(record);
}
