/** The dashboard's JSON API (src/dashboard/server.ts) as the front end sees it. */
import type { MetricsLine } from "./series.js";

export interface RunSummary {
  name: string;
  status: "running" | "finished" | "interrupted" | "crashed" | "stopped";
  statusDetail: string;
  totalSteps: number | null;
  step: number | null;
  config: Record<string, unknown> | null;
  updated: number;
  startedAt: number | null;
  durationSeconds: number | null;
  secondsPerStep: number | null;
  etaSeconds: number | null;
  checkpoints: number[];
  latestStep: MetricsLine | null;
  latestEval: MetricsLine | null;
  notices: string[];
}

/** GET /api/sweeps: one per sweep directory under the root. */
export interface SweepSummary {
  name: string;
  runs: number;
  done: number;
  failed: number;
  running: number;
}

export interface MetricsChunk {
  lines: MetricsLine[];
  notices: string[];
  next: number;
  nextLine: number;
}

export interface SeatsView {
  views: [string, string];
  infos: [unknown, unknown];
}

export interface Frame {
  seat: 0 | 1;
  turn: number;
  before: SeatsView;
  reply: string;
  raw: string;
  parsed: string | null;
  valid: boolean;
  reason: string | null;
}

export interface Replay {
  gameId: string;
  seed: number;
  players: [string, string];
  returns: [number, number];
  endReason: string;
  step: number | null;
  frames: Frame[];
  final: SeatsView;
  mismatch: string | null;
}

export interface GameEntry {
  path: string;
  index: number;
  gameId: string;
  step: number | null;
  seed: number;
  players: [string, string];
  policySeats: (0 | 1)[] | null;
  returns: [number, number];
  endReason: string;
  invalidSeat: 0 | 1 | null;
  moves: number;
}

export interface GameListing {
  id: string;
  name: string;
  references: string[];
  /** Who acts first, per seat, in words. */
  seats: [string, string];
}

export interface CheckpointListing {
  run: string;
  step: number;
  spec: string;
}

export interface PlayTurn {
  seat: 0 | 1;
  who: "human" | "policy";
  reply: string;
  raw: string;
  action: string | null;
  valid: boolean;
  reason: string | null;
}

export interface PlayView {
  id: string;
  gameId: string;
  humanSeat: 0 | 1;
  policy: string;
  view: string;
  infoState: unknown;
  legal: string[];
  toAct: boolean;
  done: boolean;
  returns: [number, number];
  turns: PlayTurn[];
  error: string | null;
}

export interface Report {
  runs: { summary: RunSummary; lines: MetricsLine[] }[];
  generated: string;
}

export async function api<T>(url: string, body?: unknown): Promise<T> {
  const res = await fetch(url, body === undefined ? {} : { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const value = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new Error(value.error ?? `${res.status} ${res.statusText}`);
  return value;
}
