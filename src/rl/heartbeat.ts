/**
 * runs/<name>/heartbeat.json: whether a run's trainer is alive, for the dashboard.
 *
 *   { "pid", "hostname", "startedAt", "updatedAt", "step", "totalSteps", "state" }
 *
 * `startedAt` is when this trainer process took the run up (a resumed run starts anew), both times
 * ISO 8601. `state` is "running" while it trains, then "finished", "interrupted" (Ctrl-C, or the
 * process exiting before the run did) or "failed" (an error). The file is rewritten after every
 * step and at least every `intervalMs` while running, so a reader that finds "running" with an old
 * `updatedAt`, or a pid that is gone on the same host, knows the trainer died without a word
 * (kill -9, power loss). Each write replaces the file whole (temporary file + rename).
 */
import { renameSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";

export const HEARTBEAT_FILE = "heartbeat.json";

export type RunState = "running" | "finished" | "interrupted" | "failed";

export interface Heartbeat {
  readonly pid: number;
  readonly hostname: string;
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly step: number;
  readonly totalSteps: number;
  readonly state: RunState;
}

export interface HeartbeatWriter {
  /** Records that `step` finished. */
  readonly beat: (step: number) => void;
  /** Writes the final state and stops the timer (later calls do nothing). */
  readonly end: (state: Exclude<RunState, "running">) => void;
}

export function writeHeartbeat(dir: string, heartbeat: Heartbeat): void {
  const path = join(dir, HEARTBEAT_FILE);
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(heartbeat) + "\n");
  renameSync(tmp, path);
}

export function startHeartbeat(
  dir: string,
  { step, totalSteps, intervalMs = 10_000, now = () => new Date() }: { step: number; totalSteps: number; intervalMs?: number; now?: () => Date },
): HeartbeatWriter {
  const startedAt = now().toISOString();
  let current = step;
  let ended = false;
  const write = (state: RunState) =>
    writeHeartbeat(dir, { pid: process.pid, hostname: hostname(), startedAt, updatedAt: now().toISOString(), step: current, totalSteps, state });
  // process.exit() mid-run (a second Ctrl-C) skips every finally: say so on the way out. 130 is
  // the shell's code for a process ended by Ctrl-C.
  const onExit = (code: number) => end(code === 0 || code === 130 ? "interrupted" : "failed");
  const timer = setInterval(() => write("running"), intervalMs).unref();
  process.on("exit", onExit);
  function end(state: Exclude<RunState, "running">): void {
    if (ended) return;
    ended = true;
    clearInterval(timer);
    process.off("exit", onExit);
    write(state);
  }
  write("running");
  return {
    beat: (s) => {
      if (ended) return;
      current = s;
      write("running");
    },
    end,
  };
}
