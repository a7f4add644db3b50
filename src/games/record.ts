/**
 * Match records on disk and back: JSON in, checked, replayed.
 *
 * A `MatchRecord` (match.ts) is plain data; `JSON.stringify` writes it. Reading one back checks its
 * shape (so a truncated or foreign file fails with a message naming the field), and
 * `verifyReplay` replays its replies from the seed and lists every step whose observation,
 * action, validity or returns differ: the proof that a record says what happened.
 */
import { z } from "zod";
import type { AnyGame, Message, Observation } from "./game.js";
import type { ReadGameRecord } from "./game-record.js";
import type { MatchRecord } from "./match.js";
import { replayActions } from "./match.js";

/** One message as plain text, naming the seat of an action ("Player 1: [4]"). */
export function messageText(message: Message): string {
  return message.kind === "action" ? `Player ${message.seat}: ${message.text}` : message.text;
}

/** A seat's whole log as plain text, oldest message first: what a terminal shows and a model reads. */
export function observationText(observation: Observation): string {
  return observation.log.map(messageText).join("\n\n");
}

/** Messages of `log` after the longest prefix it shares with `before`: what is new to its reader. */
export function newMessages(before: readonly Message[], log: readonly Message[]): readonly Message[] {
  let shared = 0;
  while (shared < before.length && shared < log.length && JSON.stringify(before[shared]) === JSON.stringify(log[shared])) shared++;
  return log.slice(shared);
}

const seat = z.union([z.literal(0), z.literal(1)]);
const pair = z.tuple([z.number(), z.number()]);
const observation = z.object({
  seat,
  turn: z.number().int(),
  log: z.array(z.object({ kind: z.enum(["rules", "state", "action", "notice"]), text: z.string() }).loose()),
  view: z.string(),
  legal: z.array(z.string()),
  infoState: z.unknown(),
});

const recordSchema = z
  .object({
    format: z.literal("spiral.match/1"),
    gameId: z.string(),
    params: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])),
    seed: z.number().int(),
    agents: z.tuple([z.string(), z.string()]),
    scoring: z.enum(["training", "evaluation"]),
    errorAllowance: z.tuple([z.number().int().nonnegative().nullable(), z.number().int().nonnegative().nullable()]),
    steps: z.array(
      z.object({
        seat,
        turn: z.number().int(),
        attempt: z.number().int(),
        observation,
        reply: z.string().nullable(),
        raw: z.string().nullable(),
        action: z.string().nullable(),
        valid: z.boolean(),
        reason: z.string().nullable(),
        done: z.boolean(),
        returns: pair,
      }),
    ),
    moves: z.number().int(),
    invalid: pair,
    retries: pair,
    endReason: z.enum(["terminal", "invalid", "turn-cap", "transport"]),
    returns: pair,
    offenders: z.array(seat),
    transport: z.object({ seat, kind: z.enum(["error", "timeout"]), message: z.string() }).nullable(),
    finalObservations: z.tuple([observation, observation]),
  });

/** Reads a record written by `JSON.stringify(record)`; throws naming the first field that is wrong. */
export function parseMatchRecord(json: string): MatchRecord {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch (err) {
    throw new Error(`Expected a match record in JSON; the text does not parse: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const result = recordSchema.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issue?.path.join(".") || "(top level)";
    throw new Error(`Not a spiral match record (format spiral.match/1): at ${path}: ${issue?.message ?? "invalid"}`);
  }
  // The schema checked the shape; the record's own objects (observations' infoState) are kept as read.
  return data as MatchRecord;
}

/**
 * Replays `record` with `game` from its seed and lists the steps that differ from the record
 * (empty when the record is faithful). A record that ended in a transport failure is replayed up
 * to the failed reply.
 */
export async function verifyReplay(game: AnyGame, record: MatchRecord): Promise<string[]> {
  if (game.info.id !== record.gameId) return [`record is for ${record.gameId}, not ${game.info.id}`];
  const answered = record.steps.filter((s) => s.reply !== null);
  const allowance = (a: number | null): number => a ?? Number.POSITIVE_INFINITY;
  const replay = await replayActions(
    game,
    record.seed,
    answered.map((s) => s.reply as string),
    { errorAllowance: [allowance(record.errorAllowance[0]), allowance(record.errorAllowance[1])], scoring: record.scoring },
  );
  const problems: string[] = [];
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
  answered.forEach((step, i) => {
    const again = replay.steps[i];
    if (again === undefined) problems.push(`step ${i}: not reached on replay`);
    else if (!same(again.observation, step.observation)) problems.push(`step ${i}: observation differs on replay`);
    else if (again.action !== step.action || again.valid !== step.valid) problems.push(`step ${i}: action ${again.action} (valid ${again.valid}) on replay, ${step.action} (valid ${step.valid}) recorded`);
    else if (!same(again.returns, step.returns) || again.done !== step.done) problems.push(`step ${i}: returns or end differ on replay`);
  });
  if (record.endReason !== "transport" && !same(replay.returns, record.returns)) {
    problems.push(`final returns ${JSON.stringify(replay.returns)} on replay, ${JSON.stringify(record.returns)} recorded`);
  }
  return problems;
}

/**
 * Replays a game record's moves (transcripts, games.jsonl) from its seed under its scoring and
 * lists what differs from the record (empty when faithful). A game cut by a turn cap below the
 * game's own, or voided by a transport failure, replays as incomplete: only its moves are checked.
 */
export async function verifyGameRecord(game: AnyGame, record: ReadGameRecord): Promise<string[]> {
  if (game.info.id !== record.gameId) return [`record is for ${record.gameId}, not ${game.info.id}`];
  const replay = await replayActions(game, record.seed, record.moves.map((m) => m.action), { scoring: record.scoring ?? "evaluation" });
  const problems: string[] = [];
  replay.steps.forEach((step, i) => {
    const move = record.moves[i];
    if (move !== undefined && step.valid !== (move.invalidReason === undefined)) problems.push(`move ${i} (${move.action}): ${step.valid ? "valid" : "invalid"} on replay, ${move.invalidReason === undefined ? "valid" : "invalid"} recorded`);
  });
  if (replay.used < record.moves.length) problems.push(`the game ended after ${replay.used} of the ${record.moves.length} recorded moves on replay`);
  const cut = record.endReason === "turn-cap" || record.endReason === "transport";
  if (cut ? replay.endReason !== "incomplete" && replay.endReason !== record.endReason : replay.endReason !== record.endReason) {
    problems.push(`ends ${replay.endReason} on replay, ${record.endReason} recorded`);
  } else if (!cut && JSON.stringify(replay.returns) !== JSON.stringify(record.returns)) {
    problems.push(`final returns ${JSON.stringify(replay.returns)} on replay, ${JSON.stringify(record.returns)} recorded`);
  }
  return problems;
}
