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

/**
 * The games of one step to record, at most `budget`: every game id gets its turn. Finished games
 * come shortest first (a TicTacToe or Kuhn hand ends long before a negotiation), so taking the
 * first few would record only the short games. Instead the ids take turns, in `gameIds` order
 * starting one further each step, each giving its next finished game; so with a budget below the
 * number of ids every id is still recorded in most steps. Deterministic: same games, same pick.
 */
export function pickRecordedGames(trajectories: readonly Trajectory[], budget: number, gameIds: readonly string[], step: number): Trajectory[] {
  const byId = new Map<string, Trajectory[]>(gameIds.map((id) => [id, []]));
  for (const t of trajectories) {
    const list = byId.get(t.result.gameId);
    if (list === undefined) byId.set(t.result.gameId, [t]);
    else list.push(t);
  }
  const ids = [...byId.keys()];
  const offset = ids.length === 0 ? 0 : step % ids.length;
  const order = [...ids.slice(offset), ...ids.slice(0, offset)];
  const picked: Trajectory[] = [];
  for (let round = 0; picked.length < budget; round++) {
    let any = false;
    for (const id of order) {
      const t = byId.get(id)?.[round];
      if (t === undefined) continue;
      any = true;
      if (picked.length < budget) picked.push(t);
    }
    if (!any) break;
  }
  return picked;
}

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
