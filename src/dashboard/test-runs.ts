/**
 * Synthetic run directories for the dashboard's tests: a config.json and metrics.jsonl in the
 * trainer's shapes (rl/loop.ts StepMetrics, EvalMetrics) plus one recorded TicTacToe game, so no
 * training is needed.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Seat } from "../games/game.js";
import { getGame } from "../games/registry.js";
import { createRng } from "../core/rng.js";

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

/** A recorded game whose returns and end come from playing `moves` through the game itself. */
export function recordOf(gameId: string, seed: number, step: number, trainedSeats: Seat[], moves: { seat: Seat; action: string }[], players: [string, string] = ["policy", "policy"]): Record<string, unknown> {
  const game = getGame(gameId);
  let state = game.init(seed);
  for (const m of moves) {
    const parsed = game.parse(state, m.seat, m.action);
    if (!parsed.ok) throw new Error(`test game ${gameId}: ${parsed.reason}`);
    state = game.apply(state, m.seat, parsed.action);
  }
  return { step, gameId, seed, players, trainedSeats, moves, returns: game.returns(state), endReason: game.isTerminal(state) ? "terminal" : "turn-limit", invalidSeat: null };
}

/** Step 4's games: Kuhn check-check, TicTacToe won by the policy as Player 1, ConnectFour four in a column. */
export function step4Games(): Record<string, unknown>[] {
  const c4: { seat: Seat; action: string }[] = [];
  for (let i = 0; i < 4; i++) {
    c4.push({ seat: 0, action: "[col 0]" });
    if (i < 3) c4.push({ seat: 1, action: "[col 1]" });
  }
  return [
    recordOf("KuhnPoker-v1-1round", 3, 4, [0, 1], [{ seat: 1, action: "[check]" }, { seat: 0, action: "[check]" }]),
    recordOf("TicTacToe-v0", 9, 4, [1], [{ seat: 0, action: "[0]" }, { seat: 1, action: "[4]" }, { seat: 0, action: "[1]" }, { seat: 1, action: "[2]" }, { seat: 0, action: "[8]" }, { seat: 1, action: "[6]" }], ["random", "policy"]),
    recordOf("ConnectFour-v0", 5, 4, [0, 1], c4),
  ];
}

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
  if (steps >= 4) writeFileSync(join(dir, "transcripts", "step-000004.jsonl"), step4Games().map((g) => JSON.stringify(g)).join("\n") + "\n");
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

/**
 * A run that looks like a real one (noisy, improving curves; evaluations every 10 steps against
 * two opponents plus Kuhn exploitability), for screenshots and overlays. Seeded: same files each time.
 */
export function writeDemoRun(root: string, name: string, steps: number, seed: number, options: { total?: number; skill?: number } = {}): string {
  const rng = createRng(seed);
  const noise = (scale: number): number => (rng.next() - 0.5) * 2 * scale;
  const skill = options.skill ?? 1;
  const dir = join(root, name);
  mkdirSync(join(dir, "transcripts"), { recursive: true });
  writeFileSync(join(dir, "config.json"), JSON.stringify({ name, steps: options.total ?? steps, seed,
    games: [{ id: "TicTacToe-v0", weight: 4 }, { id: "KuhnPoker-v1", weight: 2 }, { id: "SimpleNegotiation-v1", weight: 1 }],
    model: { preset: "tiny" }, optim: { lr: 1e-5 } }, null, 2));
  const rate = (p: number, n: number): { rate: number; low: number; high: number } => {
    const r = Math.min(1, Math.max(0, p));
    const half = 1.96 * Math.sqrt((r * (1 - r) + 0.02) / n);
    return { rate: r, low: Math.max(0, r - half), high: Math.min(1, r + half) };
  };
  const lines: string[] = [];
  for (let s = 1; s <= steps; s++) {
    const t = s / steps;
    lines.push(JSON.stringify({
      kind: "step", step: s, samples: 128, kept: 110, games: 24,
      outcomes: {}, invalidRate: Math.max(0, 0.3 * Math.exp(-4 * t * skill) + noise(0.03)), replyLength: 60 - 25 * t + noise(4),
      baselines: { "TicTacToe-v0": [0.2 * t + noise(0.05), -0.1 * t + noise(0.05)], "KuhnPoker-v1": [noise(0.1), noise(0.1)] },
      learner: { loss: 0.5 * Math.exp(-2 * t * skill) + 0.05 + noise(0.04), clipFraction: Math.max(0, 0.08 + noise(0.03)), approxKl: Math.max(0, 0.004 + 0.01 * t + noise(0.003)),
        entropy: 1.4 - 0.6 * t * skill + noise(0.05), gradNorm: 0.8 + noise(0.3), updates: 2, skippedUpdates: 0, samplerLogprobGap: 0, tokens: 7000, seconds: 2 },
      lr: 1e-5, actSeconds: 4 + noise(0.5), learnSeconds: 2 + noise(0.2), samplesPerSecond: 20 + noise(2), generatedTokensPerSecond: 1200 + noise(100),
    }));
    if (s % 10 === 0) {
      const w = 0.3 + 0.5 * t * skill;
      lines.push(JSON.stringify({
        kind: "eval", step: s, seconds: 8,
        matchups: [
          { gameId: "TicTacToe-v0", opponent: "random", rates: { games: 64, win: rate(w + noise(0.05), 64), draw: rate(0.1, 64), loss: rate(0.9 - w, 64), nonLoss: rate(w + 0.1, 64) } },
          { gameId: "KuhnPoker-v1", opponent: "nash", rates: { games: 64, win: rate(0.35 + 0.1 * t * skill + noise(0.05), 64), draw: rate(0, 64), loss: rate(0.6 - 0.1 * t, 64) } },
        ],
        kuhn: { exploitability: 0.4 * Math.exp(-2 * t * skill) + 0.05 + noise(0.02), profile: {} },
      }));
    }
  }
  writeFileSync(join(dir, "metrics.jsonl"), lines.join("\n") + "\n");
  writeFileSync(join(dir, "transcripts", "step-000010.jsonl"), [TICTACTOE_GAME, INVALID_GAME, ...step4Games()].map((g) => JSON.stringify({ ...g, step: 10 })).join("\n") + "\n");
  return dir;
}
