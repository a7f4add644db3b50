/**
 * `spiral train`: SPIRAL self-play training (src/rl/loop.ts) from a preset, a JSON config and
 * flags, with a progress bar showing live evaluation numbers and a results table at the end.
 *
 * Precedence: preset < --config FILE < flags. `--resume DIR` continues the run in DIR with the
 * config saved there (flags that would change it are refused, so a resumed run is the run).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import cliProgress from "cli-progress";
import { Command, Option } from "commander";
import { parseLoraTargets } from "../engine/lora.js";
import { mergeConfig, parseTrainConfig, resolveTrainConfig, trainPresets, type TrainConfig } from "../rl/config.js";
import type { EvalMetrics, StepMetrics } from "../rl/loop.js";
import { train } from "../rl/loop.js";
import { readRunConfig } from "../rl/run-dir.js";
import type { CliIo } from "./io.js";
import { processIo } from "./io.js";

export interface TrainFlags {
  preset?: string;
  config?: string;
  games?: string;
  steps?: string;
  model?: string;
  init?: string;
  opponent?: string;
  actors?: string;
  out?: string;
  name?: string;
  resume?: string;
  seed?: string;
  rae?: boolean;
  promptMode?: string;
  lr?: string;
  lrSchedule?: string;
  entropyCoef?: string;
  evalEvery?: string;
  threads?: string;
  progress?: boolean;
  lora?: string;
  loraAlpha?: string;
  loraTargets?: string;
}

function integer(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n)) throw new Error(`--${flag} expects an integer; got "${text}"`);
  return n;
}

/** "TicTacToe-v0,KuhnPoker-v1:2" → [{ id, weight }]. */
export function parseGamesFlag(text: string): { id: string; weight: number }[] {
  return text.split(",").map((part) => {
    const [id, weight] = part.trim().split(":");
    if (id === undefined || id === "") throw new Error(`--games expects ids separated by commas, each optionally with :weight; got "${text}"`);
    const w = weight === undefined ? 1 : Number(weight);
    if (!(w > 0)) throw new Error(`--games: the weight of ${id} must be a positive number; got "${weight}"`);
    return { id, weight: w };
  });
}

/** The `lora` block of `--lora R [--lora-alpha A] [--lora-targets LIST]`. */
function loraFlags(f: TrainFlags): Record<string, unknown> {
  const lora: Record<string, unknown> = { r: integer("lora", f.lora as string) };
  if (f.loraAlpha !== undefined) {
    const alpha = Number(f.loraAlpha);
    if (!(alpha > 0)) throw new Error(`--lora-alpha expects a number > 0; got "${f.loraAlpha}"`);
    lora.alpha = alpha;
  }
  if (f.loraTargets !== undefined) lora.targets = parseLoraTargets(f.loraTargets);
  return lora;
}

/** The config overrides the flags ask for (undefined flags are absent). */
export function flagOverrides(f: TrainFlags): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  const model: Record<string, unknown> = {};
  const optim: Record<string, unknown> = {};
  if (f.games !== undefined) o.games = parseGamesFlag(f.games);
  if (f.steps !== undefined) o.steps = integer("steps", f.steps);
  if (f.model !== undefined) Object.assign(model, { dir: f.model, preset: null, tokenizer: "model" });
  if (f.init !== undefined) Object.assign(model, { preset: f.init, dir: null });
  if (f.opponent !== undefined) o.opponent = f.opponent;
  if (f.actors !== undefined) o.actors = integer("actors", f.actors);
  if (f.out !== undefined) o.out = f.out;
  if (f.name !== undefined) o.name = f.name;
  if (f.seed !== undefined) o.seed = integer("seed", f.seed);
  if (f.rae === false) o.rae = { enabled: false };
  if (f.promptMode !== undefined) o.promptMode = f.promptMode;
  if (f.lr !== undefined) optim.lr = Number(f.lr);
  if (f.lrSchedule !== undefined) optim.lrSchedule = f.lrSchedule;
  if (f.entropyCoef !== undefined) optim.entropyCoef = Number(f.entropyCoef);
  if (f.evalEvery !== undefined) o.eval = { every: integer("eval-every", f.evalEvery) };
  if (f.threads !== undefined) o.threads = integer("threads", f.threads);
  if (f.lora !== undefined) o.lora = loraFlags(f);
  else if (f.loraAlpha !== undefined || f.loraTargets !== undefined) throw new Error("--lora-alpha and --lora-targets need --lora R (the adapter rank)");
  if (Object.keys(model).length > 0) o.model = model;
  if (Object.keys(optim).length > 0) o.optim = optim;
  return o;
}

function readConfigFile(path: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new Error(`--config expects a JSON file with a (partial) train config; could not read ${path}: ${(e as Error).message}`, { cause: e });
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error(`--config ${path}: expected a JSON object`);
  return value as Record<string, unknown>;
}

/** The resolved config and run directory for a set of flags. */
export async function resolveRun(f: TrainFlags): Promise<{ config: TrainConfig; runDir: string; resume: boolean }> {
  const overrides = flagOverrides(f);
  if (f.resume !== undefined) {
    if (Object.keys(overrides).length > 0 || f.config !== undefined || f.preset !== undefined) {
      throw new Error(`--resume continues the run in ${f.resume} with its saved config; drop the other options (${Object.keys(overrides).join(", ") || "--preset/--config"})`);
    }
    return { config: parseTrainConfig(await readRunConfig(f.resume)), runDir: f.resume, resume: true };
  }
  const fromFile = f.config === undefined ? {} : readConfigFile(f.config);
  const config = resolveTrainConfig(f.preset ?? "default", mergeConfig(fromFile, overrides));
  return { config, runDir: join(config.out, config.name), resume: false };
}

function pct(x: number | undefined): string {
  return x === undefined ? "–" : `${(100 * x).toFixed(0)}%`;
}

/** The headline numbers of one evaluation. */
export function evalHeadline(e: EvalMetrics): Record<string, string> {
  const find = (game: string, opp: string) => e.matchups.find((m) => m.gameId === game && m.opponent === opp);
  return {
    "TTT≠loss vs random": pct(find("TicTacToe-v0", "random")?.rates.nonLoss.rate),
    "TTT≠loss vs minimax": pct(find("TicTacToe-v0", "minimax")?.rates.nonLoss.rate),
    "Kuhn win vs random": pct(find("KuhnPoker-v1-1round", "random")?.rates.win.rate),
    "Kuhn exploitability": e.kuhn === undefined ? "–" : e.kuhn.exploitability.toFixed(3),
    "Neg win vs random": pct(find("SimpleNegotiation-v1", "random")?.rates.win.rate),
    "Neg win vs heuristic": pct(find("SimpleNegotiation-v1", "heuristic")?.rates.win.rate),
  };
}

/** One row per evaluation: the curve in a table. */
export function resultsTable(evals: readonly EvalMetrics[]): string {
  if (evals.length === 0) return "no evaluations were run\n";
  const rows = evals.map((e) => ({ step: String(e.step), ...evalHeadline(e) }));
  const titles = Object.keys(rows[0] as object);
  const cells = [titles, ...rows.map((r) => titles.map((t) => (r as Record<string, string>)[t] ?? ""))];
  const widths = titles.map((_, i) => Math.max(...cells.map((c) => (c[i] ?? "").length)));
  const line = (c: readonly string[]) => c.map((x, i) => x.padStart(widths[i] ?? 0)).join("  ");
  return [line(cells[0] as string[]), widths.map((w) => "-".repeat(w)).join("  "), ...cells.slice(1).map(line)].join("\n") + "\n";
}

export async function runTrain(f: TrainFlags, io: CliIo): Promise<void> {
  const { config, runDir, resume } = await resolveRun(f);
  io.err(`${resume ? "resuming" : "training"} ${runDir}: ${config.steps} steps × ${config.rolloutBatch} samples, ${config.games.map((g) => g.id).join(" + ")}, ` +
    `${config.opponent === "self" ? "self-play" : `vs ${config.opponent}`}, ${config.promptMode} prompts, model ${config.model.dir ?? config.model.preset}\n`);
  const evals: EvalMetrics[] = [];
  const useBar = f.progress !== false && process.stderr.isTTY === true;
  const bar = useBar
    ? new cliProgress.SingleBar(
        { format: "step {value}/{total} [{bar}] {eta_formatted} | {live}", hideCursor: true, stream: process.stderr },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  let live = "";
  const onStep = (m: StepMetrics) => {
    const line = `loss ${m.learner.loss.toExponential(2)} · kl ${m.learner.approxKl.toFixed(4)} · len ${m.replyLength.toFixed(1)} · invalid ${pct(m.invalidRate)} · ${m.samplesPerSecond.toFixed(1)} samples/s`;
    if (bar === undefined) io.err(`step ${m.step}/${config.steps}: ${line}\n`);
    else bar.update(m.step, { live: `${live} ${line}` });
  };
  const onEval = (e: EvalMetrics) => {
    evals.push(e);
    const h = evalHeadline(e);
    live = `TTT ${h["TTT≠loss vs random"]}/${h["TTT≠loss vs minimax"]} · Kuhn ε ${h["Kuhn exploitability"]} · Neg ${h["Neg win vs random"]} |`;
    if (bar === undefined) io.err(`eval @${e.step}: ${Object.entries(h).map(([k, v]) => `${k} ${v}`).join(" · ")} (${e.seconds.toFixed(1)} s)\n`);
    else bar.update({ live });
  };
  bar?.start(config.steps, 0, { live: "" });
  let summary;
  try {
    summary = await train(config, { runDir, resume, hooks: { onStep, onEval, log: (m) => (bar === undefined ? io.err(`${m}\n`) : undefined) } });
  } finally {
    bar?.stop();
  }
  io.out(resultsTable(evals));
  io.out(`\n${summary.steps} steps in ${(summary.seconds / 60).toFixed(1)} min; run directory ${runDir} (metrics.jsonl, transcripts/, step-N checkpoints)\n`);
}

export function trainCommand(io: CliIo = processIo()): Command {
  return new Command("train")
    .description("train a policy by self-play on the training games (SPIRAL)")
    .addOption(new Option("--preset <name>", `named config: ${Object.keys(trainPresets).join(", ")} (default: default)`))
    .option("--config <file>", "a JSON file with a (partial) train config, over the preset")
    .option("--games <list>", "training games with optional weights, e.g. TicTacToe-v0,KuhnPoker-v1:2")
    .option("--steps <n>", "policy steps")
    .option("--model <dir>", "start from a checkpoint directory (HF layout)")
    .option("--init <preset>", "start from a fresh model of this shape (micro, tiny, small, qwen3-0.6b, …)")
    .option("--opponent <name>", "self (self-play), a fixed opponent (random, minimax, heuristic, nash, optimal, a checkpoint directory), or pool:K (LoRA runs: one of the last K adapter snapshots)")
    .option("--actors <k>", "actors (worker threads)")
    .option("--out <dir>", "parent directory of runs (default runs)")
    .option("--name <name>", "run name: the directory under --out")
    .option("--resume <dir>", "continue the run in this directory from its latest checkpoint")
    .option("--seed <s>", "random seed")
    .option("--no-rae", "ablation: no role-conditioned baseline (advantage = return)")
    .addOption(new Option("--prompt-mode <mode>", "compact or chat").choices(["compact", "chat"]))
    .option("--lr <x>", "learning rate")
    .option("--lr-schedule <s>", "constant, cosine or linear (decay to optim.lrMin over the run)")
    .option("--entropy-coef <x>", "entropy bonus for every game's samples (0: none, the paper); per game in a --config file: games[].entropyCoef")
    .option("--eval-every <k>", "evaluate every k steps (0: never)")
    .option("--threads <n>", "onnxruntime threads per session")
    .option("--no-progress", "plain log lines instead of a progress bar")
    .option("--lora <r>", "train a rank-r LoRA adapter on the frozen model instead of every weight")
    .option("--lora-alpha <a>", "LoRA scaling numerator (scale alpha/r; default alpha = r)")
    .option("--lora-targets <list>", "projections with adapters, comma-separated (default all: q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj)")
    .action(async (flags: TrainFlags) => {
      await runTrain(flags, io);
    });
}

/** Adds `spiral train` to the program. */
export function registerTrain(program: Command, io: CliIo = processIo()): void {
  program.addCommand(trainCommand(io));
}
