/**
 * Synthetic run directories for the dashboard's tests: a config.json and metrics.jsonl in the
 * trainer's shapes (rl/loop.ts StepMetrics, EvalMetrics) plus one recorded TicTacToe game, so no
 * training is needed.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export function stepLine(step: number): Record<string, unknown> {
  return {
    kind: "step", step, samples: 128, kept: 100, games: 20,
    outcomes: { "TicTacToe-v0": [{ wins: 5, draws: 2, losses: 3 }, { wins: 3, draws: 2, losses: 5 }] },
    invalidRate: 0.1 / step, replyLength: 20 + step, baselines: { "TicTacToe-v0": [0.1 * step, -0.1 * step] },
    learner: { loss: 1 / step, clipFraction: 0.05, approxKl: 0.01 * step, entropy: 2 - 0.1 * step, gradNorm: 0.5, updates: 2, skippedUpdates: 0, samplerLogprobGap: 0, tokens: 1000, seconds: 1 },
    actSeconds: 2, learnSeconds: 1, samplesPerSecond: 40 + step, generatedTokensPerSecond: 900,
  };
}

function interval(rate: number): { rate: number; low: number; high: number } {
  return { rate, low: Math.max(0, rate - 0.1), high: Math.min(1, rate + 0.1) };
}

export function evalLine(step: number): Record<string, unknown> {
  const win = 0.3 + 0.05 * step;
  return {
    kind: "eval", step, seconds: 3,
    matchups: [{
      gameId: "TicTacToe-v0", opponent: "random", outcomes: { wins: 30, draws: 10, losses: 60 },
      rates: { games: 100, win: interval(win), draw: interval(0.1), loss: interval(0.9 - win), nonLoss: interval(win + 0.1) },
      bySeat: [{ wins: 15, draws: 5, losses: 30 }, { wins: 15, draws: 5, losses: 30 }], invalid: 0, meanReturn: 0,
    }],
    kuhn: { exploitability: 0.5 - 0.02 * step, profile: {} },
  };
}

/** A TicTacToe game in five moves: P0 (O) wins on the 2-4-6 diagonal. */
export const TICTACTOE_GAME = {
  step: 2, gameId: "TicTacToe-v0", seed: 7, players: ["policy", "policy"], trainedSeats: [0, 1],
  moves: [
    { seat: 0, action: "[4]", raw: "I take the centre. [4]" },
    { seat: 1, action: "[0]" },
    { seat: 0, action: "[2]" },
    { seat: 1, action: "[1]" },
    { seat: 0, action: "[6]" },
  ],
  returns: [1, -1], endReason: "terminal", invalidSeat: null,
};

export const INVALID_GAME = {
  step: 2, gameId: "TicTacToe-v0", seed: 8, players: ["policy", "random"], trainedSeats: [0],
  moves: [
    { seat: 0, action: "[4]" },
    { seat: 1, action: "[4]", invalidReason: "cell 4 is taken" },
  ],
  returns: [1, -1], endReason: "invalid", invalidSeat: 1,
};

/**
 * Writes runs/<name> with `steps` step lines and eval lines at even steps; `torn` appends a
 * malformed line in the middle and a half-written last line (a run killed mid-write).
 */
export function writeRun(root: string, name: string, steps: number, options: { torn?: boolean; total?: number } = {}): string {
  const dir = join(root, name);
  mkdirSync(join(dir, "transcripts"), { recursive: true });
  writeFileSync(join(dir, "config.json"), JSON.stringify({ name, steps: options.total ?? steps, games: [{ id: "TicTacToe-v0", weight: 1 }] }));
  const lines: string[] = [];
  for (let s = 1; s <= steps; s++) {
    lines.push(JSON.stringify(stepLine(s)));
    if (s % 2 === 0) lines.push(JSON.stringify(evalLine(s)));
    if (options.torn === true && s === 2) lines.push('{"kind":"step","step":');
  }
  let text = lines.join("\n") + "\n";
  if (options.torn === true) text += '{"kind":"step","step":99,"invalid';
  writeFileSync(join(dir, "metrics.jsonl"), text);
  writeFileSync(join(dir, "transcripts", "step-000002.jsonl"), [TICTACTOE_GAME, INVALID_GAME].map((g) => JSON.stringify(g)).join("\n") + "\n");
  return dir;
}

/** Writes heartbeat.json as the trainer does; `ageSeconds` back-dates updatedAt. */
export function writeHeartbeat(dir: string, beat: { pid: number; hostname: string; step: number; totalSteps: number; state: string; ageSeconds?: number; startedSecondsAgo?: number }, now = Date.now()): void {
  const { ageSeconds = 1, startedSecondsAgo = 600, ...rest } = beat;
  writeFileSync(join(dir, "heartbeat.json"), JSON.stringify({
    ...rest, startedAt: new Date(now - startedSecondsAgo * 1000).toISOString(), updatedAt: new Date(now - ageSeconds * 1000).toISOString(),
  }));
}

/** A complete checkpoint directory step-N (only its manifest: enough to be listed). */
export function writeCheckpoint(dir: string, step: number): void {
  mkdirSync(join(dir, `step-${step}`), { recursive: true });
  writeFileSync(join(dir, `step-${step}`, "spiral-manifest.json"), "{}");
}
