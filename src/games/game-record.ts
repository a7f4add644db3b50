/**
 * The one record of a finished game: which game, from which seed, who played each seat, every
 * move as played, the returns and why it ended. `game.init(seed)` and the moves determine every
 * state, so a record is enough to replay the game (the dashboard's replays, `spiral replay`).
 *
 * Written as one JSON object per line by the trainer (transcripts/step-N.jsonl, with `step` and
 * `trainedSeats`) and by `spiral eval --out` (games.jsonl, with `index` and `aSeat`); the play
 * loop (policy/play.ts) makes one per game. `readGameRecord` reads any of those lines, and a
 * match record of the match runner ("spiral.match/1", which also keeps every observation), back
 * into a `GameRecord`; older files with the same fields read the same way.
 */
import type { Seat } from "./game.js";
import type { Scoring } from "./match.js";

/**
 * Why a game ended: the game said so ("terminal"), a reply was unreadable or illegal ("invalid"),
 * the turn cap was reached (a draw, "turn-cap"), or a reply could not be had at all ("transport":
 * an endpoint down, an agent that threw; such a game is void, neither won nor lost).
 */
export type EndReason = "terminal" | "invalid" | "turn-cap" | "transport";

export const END_REASONS: readonly EndReason[] = ["terminal", "invalid", "turn-cap", "transport"];

/** One move as it was played. */
export interface MoveRecord {
  readonly seat: Seat;
  /** The action text the game received (canonical when it parsed). */
  readonly action: string;
  /** The full reply when it differs from `action` (chat mode reasoning, free text). */
  readonly raw?: string;
  /** Set on the move that ended the game as invalid. */
  readonly invalidReason?: string;
}

/** One finished game. Plain data: `JSON.stringify` writes it. */
export interface GameRecord {
  readonly gameId: string;
  /** The seed the game was initialised with (`game.init(seed)`). */
  readonly seed: number;
  /** Who played each seat (e.g. ["policy", "random"]). */
  readonly players: readonly [string, string];
  readonly moves: readonly MoveRecord[];
  /** Returns per seat under the scoring the game was played with; [0, 0] for a turn cap or a transport failure. */
  readonly returns: readonly [number, number];
  readonly endReason: EndReason;
  /** The seat that made the invalid move, when `endReason === "invalid"`. */
  readonly invalidSeat: Seat | null;
  /** What failed, for a transport failure. */
  readonly transport?: string;
}

/** A record read back from a file, with what its writer added when it says. */
export interface ReadGameRecord extends GameRecord {
  /** The policy step of a training game. */
  readonly step?: number;
  /** Seats the trained policy (training) or player A (`spiral eval`) played. */
  readonly policySeats?: readonly Seat[];
  /** How invalid moves were scored: training transcripts "training", `spiral eval` and match records as played. */
  readonly scoring?: Scoring;
}

const isSeat = (v: unknown): v is Seat => v === 0 || v === 1;

/**
 * Reads one JSON value (a transcript line, a games.jsonl line or a match record) as a game record,
 * or says what was expected. Tolerant where writers differ: missing players read as "?", missing
 * returns as [0, 0], a missing `invalidSeat` as null, a missing end reason as "invalid" when a move
 * says it was invalid and "terminal" otherwise; an end reason outside `END_REASONS` is refused.
 */
export function readGameRecord(value: unknown): ReadGameRecord | string {
  if (typeof value !== "object" || value === null) return "expected a JSON object";
  const v = value as Record<string, unknown>;
  if (v.format === "spiral.match/1" && Array.isArray(v.steps)) return fromMatchRecord(v);
  if (typeof v.gameId !== "string" || typeof v.seed !== "number" || !Array.isArray(v.moves)) return "expected gameId, seed and moves";
  // A line without an end reason (hand-written, or cut) reads as it looks: invalid when a move says so.
  const endReason = v.endReason ?? ((v.moves as { invalidReason?: unknown }[]).some((m) => m?.invalidReason !== undefined) ? "invalid" : "terminal");
  if (!(END_REASONS as readonly unknown[]).includes(endReason)) return `expected endReason to be one of ${END_REASONS.join(", ")}; got ${JSON.stringify(endReason)}`;
  // Training records name the trained seats; `spiral eval` games the seat player A played.
  const policySeats = Array.isArray(v.trainedSeats) ? (v.trainedSeats as Seat[]) : isSeat(v.aSeat) ? [v.aSeat] : undefined;
  return {
    gameId: v.gameId, seed: v.seed, players: (v.players ?? ["?", "?"]) as [string, string], moves: v.moves as MoveRecord[],
    returns: (v.returns ?? [0, 0]) as [number, number], endReason: endReason as EndReason, invalidSeat: isSeat(v.invalidSeat) ? v.invalidSeat : null,
    ...(typeof v.transport === "string" ? { transport: v.transport } : {}),
    ...(typeof v.step === "number" ? { step: v.step } : {}),
    ...(policySeats === undefined ? {} : { policySeats }),
    ...(Array.isArray(v.trainedSeats) ? { scoring: "training" as const } : isSeat(v.aSeat) ? { scoring: "evaluation" as const } : {}),
  };
}

/** A match record's replies as moves (retries included: each reply is one move). */
function fromMatchRecord(v: Record<string, unknown>): ReadGameRecord {
  const steps = v.steps as { seat: Seat; reply: string | null; raw: string | null; valid: boolean; reason: string | null }[];
  const offenders = Array.isArray(v.offenders) ? (v.offenders as Seat[]) : [];
  const transport = (v.transport as { message?: unknown } | null | undefined)?.message;
  const endReason = (END_REASONS as readonly unknown[]).includes(v.endReason) ? (v.endReason as EndReason) : "terminal";
  return {
    gameId: String(v.gameId), seed: Number(v.seed), players: (v.agents ?? ["?", "?"]) as [string, string],
    moves: steps.map((s) => ({ seat: s.seat, action: s.reply ?? "", ...(s.raw === null ? {} : { raw: s.raw }), ...(s.valid ? {} : { invalidReason: s.reason ?? "invalid" }) })),
    returns: v.returns as [number, number], endReason, invalidSeat: endReason === "invalid" ? (offenders[0] ?? null) : null,
    ...(typeof transport === "string" ? { transport } : {}),
    ...(v.scoring === "training" || v.scoring === "evaluation" ? { scoring: v.scoring } : {}),
  };
}
