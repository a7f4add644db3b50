/**
 * Structured records of a step's sample games, beside the readable transcript: one JSON object
 * per line in transcripts/step-N.jsonl, with the fields `spiral eval --out` games.jsonl also has
 * (gameId, seed, players, moves, returns, endReason), so the dashboard replays both the same way
 * (`game.init(seed)` and the moves determine every state).
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { TRANSCRIPTS_DIR } from "./run-dir.js";
import type { Trajectory } from "./types.js";

/** One line of transcripts/step-N.jsonl. */
export function gameRecordLine(step: number, { result }: Trajectory): string {
  const { gameId, seed, players, moves, returns, endReason, invalidSeat, trainedSeats } = result;
  return JSON.stringify({ step, gameId, seed, players, trainedSeats, moves, returns, endReason, invalidSeat });
}

export async function writeGameRecords(dir: string, step: number, trajectories: readonly Trajectory[]): Promise<void> {
  const tdir = join(dir, TRANSCRIPTS_DIR);
  await mkdir(tdir, { recursive: true });
  await writeFile(join(tdir, `step-${String(step).padStart(6, "0")}.jsonl`), trajectories.map((t) => gameRecordLine(step, t) + "\n").join(""));
}
