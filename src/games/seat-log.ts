/**
 * A game's message history with an audience per entry, so one list serves both seats' logs.
 *
 * The evaluation games keep every message they ever delivered in their state as `LogEntry`s;
 * `observe` filters by audience. Hidden information is written only to its owner's entries
 * (e.g. a Liar's Dice hand), which is what keeps it out of the other seat's observation.
 *
 * A log as observed: the rules message, then the delivered history (actions, notices), then one
 * `state` message with the current view — so a model reading the log ends on the decision at hand.
 */
import type { Message, Seat } from "./game.js";

export interface LogEntry {
  /** Who receives this message: one seat, or both. */
  readonly audience: Seat | "both";
  readonly message: Message;
}

/** Both seats' view of one message. */
export function toBoth(message: Message): LogEntry {
  return { audience: "both", message };
}

/** A message only `seat` receives. */
export function toSeat(seat: Seat, message: Message): LogEntry {
  return { audience: seat, message };
}

/** `seat`'s observed log: rules, the history it received, the current view. */
export function seatLog(rules: string, history: readonly LogEntry[], seat: Seat, view: string): Message[] {
  const log: Message[] = [{ kind: "rules", text: rules }];
  for (const entry of history) {
    if (entry.audience === "both" || entry.audience === seat) log.push(entry.message);
  }
  log.push({ kind: "state", text: view });
  return log;
}

/** "Player 0" / "Player 1", as every text names the seats. */
export function playerName(seat: Seat): string {
  return `Player ${seat}`;
}
