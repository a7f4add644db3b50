/**
 * Random-play throughput of every registered game, with observations rendered every step for the
 * seat to act as a model would read them (`observe` + the log joined as text).
 *
 * Per game, two loops of about `--seconds` each:
 * - direct: init → (observe + render + uniform legal choice + apply)* on the game API, as the
 *   trainer's vectorised actors drive it;
 * - runner: `playMatch` with two uniform-random agents that render their observation the same way
 *   (plus what the runner adds: parsing each reply, judging it, async agents, full records);
 * and the ratio runner/direct, which is the match runner's overhead measured in the same run.
 * Rates are per CPU-second of this process, so other load on the machine skews them less, and each
 * is the best of three repeats.
 *
 * Usage: npm run bench:games [-- --seconds 1.5 --game TicTacToe-v0]
 */
import type { Agent } from "../src/games/agent.js";
import { randomAgent } from "../src/games/agents/random.js";
import type { AnyGame, Seat } from "../src/games/game.js";
import { playMatch } from "../src/games/match.js";
import { observationText } from "../src/games/record.js";
import { gameIds, getGame } from "../src/games/registry.js";
import { createRng } from "../src/core/rng.js";
import type { Rng } from "../src/core/rng.js";

interface Rate {
  readonly games: number;
  readonly steps: number;
  readonly cpuSeconds: number;
  readonly observedChars: number;
}

function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** One uniform-random game on the bare API; returns [steps, characters of observation rendered]. */
function directGame(game: AnyGame, seed: number, rng: Rng): [number, number] {
  let state = game.init(seed);
  let steps = 0;
  let chars = 0;
  while (!game.isTerminal(state) && state.turn < game.info.maxTurns) {
    const moves: [Seat, unknown][] = [];
    for (const seat of game.toAct(state)) {
      chars += observationText(game.observe(state, seat)).length;
      moves.push([seat, rng.choice(game.legalActions(state, seat))]);
    }
    for (const [seat, action] of moves) state = game.apply(state, seat, action);
    steps += moves.length;
  }
  return [steps, chars];
}

function measureDirect(game: AnyGame, seconds: number): Rate {
  const rng = createRng(`bench-direct:${game.info.id}`);
  const start = cpuSeconds();
  let games = 0;
  let steps = 0;
  let observedChars = 0;
  while (cpuSeconds() - start < seconds) {
    for (let i = 0; i < 20; i++) {
      const [s, c] = directGame(game, games, rng);
      games++;
      steps += s;
      observedChars += c;
    }
  }
  return { games, steps, cpuSeconds: cpuSeconds() - start, observedChars };
}

/** A uniform-random agent that first renders its observation, as a model agent must. */
function renderingRandomAgent(rendered: { chars: number }): Agent {
  const random = randomAgent();
  return {
    name: "random",
    act(observation, rng) {
      rendered.chars += observationText(observation).length;
      return random.act(observation, rng);
    },
  };
}

async function measureRunner(game: AnyGame, seconds: number): Promise<Rate> {
  const rendered = { chars: 0 };
  const agents = [renderingRandomAgent(rendered), renderingRandomAgent(rendered)] as const;
  const start = cpuSeconds();
  let games = 0;
  let steps = 0;
  while (cpuSeconds() - start < seconds) {
    for (let i = 0; i < 10; i++) {
      const record = await playMatch({ game, agents, seed: games });
      games++;
      steps += record.steps.length;
    }
  }
  return { games, steps, cpuSeconds: cpuSeconds() - start, observedChars: rendered.chars };
}

/** The repeat with the highest games per CPU-second. */
function best(rates: readonly Rate[]): Rate {
  return rates.reduce((a, b) => (b.games / b.cpuSeconds > a.games / a.cpuSeconds ? b : a));
}

async function sequence<T>(tasks: readonly (() => Promise<T>)[]): Promise<T[]> {
  const out: T[] = [];
  for (const task of tasks) out.push(await task());
  return out;
}

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const seconds = Number(option("seconds") ?? "1.5");
  if (!(seconds > 0)) throw new Error(`--seconds expects a positive number; got ${option("seconds")}`);
  const only = option("game");
  const ids = only === undefined ? gameIds() : [getGame(only).info.id];
  const header = ["game", "games/s", "steps/s", "steps/game", "obs chars/step", "runner games/s", "runner/direct"];
  const rows: string[][] = [];
  for (const id of ids) {
    const game = getGame(id);
    // Warm up both paths so the JIT has compiled them before the measured loops.
    measureDirect(game, Math.min(0.2, seconds / 4));
    await measureRunner(game, Math.min(0.2, seconds / 4));
    // Best of three repeats: a GC pause or a stall in one repeat does not set the figure.
    const direct = best([0, 1, 2].map(() => measureDirect(game, seconds / 3)));
    const runner = best(await sequence([0, 1, 2].map(() => () => measureRunner(game, seconds / 3))));
    const directRate = direct.games / direct.cpuSeconds;
    const runnerRate = runner.games / runner.cpuSeconds;
    rows.push([
      id,
      directRate.toFixed(0),
      (direct.steps / direct.cpuSeconds).toFixed(0),
      (direct.steps / direct.games).toFixed(1),
      (direct.observedChars / direct.steps).toFixed(0),
      runnerRate.toFixed(0),
      (runnerRate / directRate).toFixed(2),
    ]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
  console.log(`Random play, per CPU-second (best of 3 repeats, ~${seconds} s per loop in all), Node ${process.version}`);
  console.log(line(header));
  for (const row of rows) console.log(line(row));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
