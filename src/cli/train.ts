/**
 * `spiral train`: SPIRAL self-play training (src/rl/loop.ts) from a preset, a JSON config and
 * flags, with a progress line showing live evaluation numbers (train-progress.ts) and a results
 * table at the end. Ctrl-C finishes the step under way, saves a checkpoint and says how to resume;
 * a second Ctrl-C quits at once (interrupt.ts).
 *
 * Precedence: preset < --config FILE < flags. `--resume DIR` continues the run in DIR with the
 * config saved there (flags that would change it are refused, so a resumed run is the run), from
 * its latest checkpoint or the one `--resume-from step-N` names; a damaged checkpoint stops the
 * run with a message naming it (see rl/resume.ts).
 */
import { join } from "node:path";
import { Command, Option } from "commander";
import { parseLoraTargets } from "../engine/model/lora.js";
import { mergeConfig, parseGamesFlag, parseTrainConfig, resolveTrainConfig, trainPresets, type TrainConfig } from "../rl/config.js";
import type { EvalMetrics, TrainSummary } from "../rl/loop.js";
import { train } from "../rl/loop.js";
import { assertNewRunDir, checkpointName, latestCheckpoint, listCheckpointDirs, parseCheckpointName, readRunConfig } from "../rl/run-dir.js";
import { opponentSpecOf } from "../rl/opponent.js";
import { checkTrainConfig } from "../rl/validate.js";
import { readGridFile } from "../sweep/grid.js";
import { INTERRUPT_EXIT_CODE, onInterrupt } from "./interrupt.js";
import type { CliIo } from "./io.js";
import { numberOption, parseIntegerOption, processIo } from "./io.js";
import { createTrainProgress, defaultLogEvery, evalHeadline, HEADLINE_LEGEND } from "./train-progress.js";
import { parseDevice, parsePrecision, parseSampler } from "../engine/graph/device.js";
import { count } from "../core/text.js";

/** Kept here for callers of the CLI module; it lives with the config (rl/config.ts). */
export { parseGamesFlag } from "../rl/config.js";

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
  resumeFrom?: string;
  seed?: string;
  rae?: boolean;
  promptMode?: string;
  lr?: string;
  lrSchedule?: string;
  entropyCoef?: string;
  evalEvery?: string;
  threads?: string;
  device?: string;
  precision?: string;
  sampler?: string;
  progress?: boolean;
  logEvery?: string;
  lora?: string;
  loraAlpha?: string;
  loraTargets?: string;
  baseDtype?: string;
  actorEndpoint?: string[];
  maxStaleness?: string;
}

function integer(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n)) throw new Error(`--${flag} expects an integer; got "${text}"`);
  return n;
}

function decimal(flag: string, text: string): number {
  return numberOption(text, `--${flag}`, Number.isFinite, "a number");
}

/** "URL[,weight=W][,concurrency=C]" of --actor-endpoint → an `endpoints` entry. */
export function parseEndpointFlag(text: string): { url: string; weight?: number; concurrency?: number } {
  const [url, ...opts] = text.split(",");
  if (url === undefined || !/^https?:\/\//.test(url)) throw new Error(`--actor-endpoint expects URL[,weight=W][,concurrency=C] with an http(s) URL; got "${text}"`);
  const out: { url: string; weight?: number; concurrency?: number } = { url };
  for (const opt of opts) {
    const [key, value] = opt.split("=");
    const n = Number(value);
    if (key === "weight" && n > 0) out.weight = n;
    else if (key === "concurrency" && Number.isInteger(n) && n >= 1) out.concurrency = n;
    else throw new Error(`--actor-endpoint: "${opt}" is not weight=W (W > 0) or concurrency=C (an integer ≥ 1), in "${text}"`);
  }
  return out;
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
  if (f.baseDtype !== undefined) lora.baseDtype = f.baseDtype;
  return lora;
}

/** The config overrides the flags ask for (undefined flags are absent). */
export function flagOverrides(f: TrainFlags): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  const model: Record<string, unknown> = {};
  const optim: Record<string, unknown> = {};
  if (f.games !== undefined) o.games = parseGamesFlag(f.games);
  if (f.steps !== undefined) o.steps = integer("steps", f.steps);
  if (f.model !== undefined && f.init !== undefined) throw new Error("--model DIR and --init PRESET are alternatives (start from a checkpoint, or from a fresh model of that shape): give one");
  if (f.model !== undefined) Object.assign(model, { dir: f.model, preset: null, tokenizer: "model" });
  if (f.init !== undefined) Object.assign(model, { preset: f.init, dir: null });
  if (f.opponent !== undefined) o.opponent = f.opponent;
  if (f.actors !== undefined) o.actors = integer("actors", f.actors);
  if (f.out !== undefined) o.out = f.out;
  if (f.name !== undefined) {
    // A name is one folder under --out: a path here would put the run elsewhere.
    if (/[/\\]/.test(f.name) || f.name === "." || f.name === "..") throw new Error(`--name expects a folder name under --out (no / or \\, not . or ..); got "${f.name}": give the parent folder with --out`);
    o.name = f.name;
  }
  if (f.seed !== undefined) o.seed = integer("seed", f.seed);
  if (f.rae === false) o.rae = { enabled: false };
  if (f.promptMode !== undefined) o.promptMode = f.promptMode;
  if (f.lr !== undefined) optim.lr = decimal("lr", f.lr);
  if (f.lrSchedule !== undefined) optim.lrSchedule = f.lrSchedule;
  if (f.entropyCoef !== undefined) optim.entropyCoef = decimal("entropy-coef", f.entropyCoef);
  if (f.evalEvery !== undefined) o.eval = { every: integer("eval-every", f.evalEvery) };
  if (f.threads !== undefined) o.threads = integer("threads", f.threads);
  if (f.actorEndpoint !== undefined) o.endpoints = f.actorEndpoint.map(parseEndpointFlag);
  if (f.maxStaleness !== undefined) o.maxStaleness = integer("max-staleness", f.maxStaleness);
  if (f.device !== undefined) o.device = parseDevice(f.device);
  if (f.precision !== undefined) o.precision = parsePrecision(f.precision);
  if (f.sampler !== undefined) o.sampler = parseSampler(f.sampler);
  if (f.lora !== undefined) o.lora = loraFlags(f);
  else if (f.loraAlpha !== undefined || f.loraTargets !== undefined || f.baseDtype !== undefined) throw new Error("--lora-alpha, --lora-targets and --base-dtype need --lora R (the adapter rank): only a LoRA run's base is frozen");
  if (Object.keys(model).length > 0) o.model = model;
  if (Object.keys(optim).length > 0) o.optim = optim;
  return o;
}

/** A JSON or YAML file with a (partial) train config: the reader `spiral sweep --config` uses. */
function readConfigFile(path: string): Record<string, unknown> {
  try {
    return readGridFile(path, "train config");
  } catch (e) {
    throw new Error(`--config: ${(e as Error).message}`, { cause: e });
  }
}

/** The resolved config and run directory for a set of flags. */
export async function resolveRun(f: TrainFlags): Promise<{ config: TrainConfig; runDir: string; resume: boolean }> {
  const overrides = flagOverrides(f);
  if (f.resumeFrom !== undefined && f.resume === undefined) throw new Error("--resume-from names a checkpoint of the run given by --resume DIR; add --resume DIR");
  if (f.resume !== undefined) {
    // Where the actor servers live may change between a kill and a resume; what the run is may not.
    const { endpoints, ...changes } = overrides;
    if (Object.keys(changes).length > 0 || f.config !== undefined || f.preset !== undefined) {
      throw new Error(`--resume continues the run in ${f.resume} with its saved config; drop the other options (${Object.keys(changes).join(", ") || "--preset/--config"})`);
    }
    const saved = parseTrainConfig(await readRunConfig(f.resume));
    const config = endpoints === undefined ? saved : parseTrainConfig({ ...saved, endpoints });
    if (f.resumeFrom !== undefined) {
      const step = parseCheckpointName(f.resumeFrom);
      const steps = await listCheckpointDirs(f.resume);
      if (!steps.includes(step)) {
        throw new Error(`--resume-from ${f.resumeFrom}: ${f.resume} has no ${checkpointName(step)}; ${steps.length === 0 ? "it has no checkpoint" : `its checkpoints: ${steps.map(checkpointName).join(", ")}`}`);
      }
    }
    return { config, runDir: f.resume, resume: true };
  }
  const fromFile = f.config === undefined ? {} : readConfigFile(f.config);
  const merged = mergeConfig(fromFile, overrides);
  // A preset's actor count is for CPU threads; on webgpu one actor batches every game (onnxruntime
  // has one WebGPU device per process), so unless the user set actors, the run gets one.
  const onDevice = merged.device === "webgpu" && merged.actors === undefined ? { ...merged, actors: 1 } : merged;
  const config = resolveTrainConfig(f.preset ?? "default", onDevice);
  return { config, runDir: join(config.out, config.name), resume: false };
}

/** One row per evaluation: the curve in a table. */
export function resultsTable(evals: readonly EvalMetrics[]): string {
  if (evals.length === 0) return "no evaluations were run\n";
  const rows = evals.map((e) => ({ step: String(e.step), ...evalHeadline(e) }));
  const titles = Object.keys(rows[0] as object);
  const cells = [titles, ...rows.map((r) => titles.map((t) => (r as Record<string, string>)[t] ?? ""))];
  const widths = titles.map((_, i) => Math.max(...cells.map((c) => (c[i] ?? "").length)));
  const line = (c: readonly string[]) => c.map((x, i) => x.padStart(widths[i] ?? 0)).join("  ");
  const legend = HEADLINE_LEGEND.map((text) => `${text}\n`).join("");
  return [line(cells[0] as string[]), widths.map((w) => "-".repeat(w)).join("  "), ...cells.slice(1).map(line)].join("\n") + "\n" + legend;
}

/** The step interval of plain log lines: --log-every, else about 20 lines per run. */
function logEvery(f: TrainFlags, steps: number): number {
  if (f.logEvery === undefined) return defaultLogEvery(steps);
  const n = parseIntegerOption(f.logEvery, "--log-every");
  if (n < 1) throw new Error(`--log-every expects a positive integer; got ${n}`);
  return n;
}

/** "self-play", "vs random", or per game: "TicTacToe-v0 vs minimax, KuhnPoker-v1-1round self-play". */
function opponentsLine(config: TrainConfig): string {
  const of = (text: string) => (text === "self" ? "self-play" : `vs ${text}`);
  if (config.opponentByGame === undefined) return of(config.opponent);
  return config.games.map((g) => `${g.id} ${of(opponentSpecOf(config, g.id))}`).join(", ");
}

export async function runTrain(f: TrainFlags, io: CliIo): Promise<TrainSummary> {
  const { config, runDir, resume } = await resolveRun(f);
  const every = logEvery(f, config.steps);
  await checkTrainConfig(config, { resume }); // train checks again; here so a bad name is the only line printed
  if (!resume) await assertNewRunDir(runDir); // the same
  io.err(`${resume ? "resuming" : "training"} ${runDir}: ${config.steps} steps × ${config.rolloutBatch} samples, ${config.games.map((g) => g.id).join(" + ")}, ` +
    `${opponentsLine(config)}, ${config.promptMode} prompts, model ${config.model.dir ?? config.model.preset}\n`);
  const resumeHint = `npx spiral train --resume ${runDir}`;
  const progress = createTrainProgress({
    io, total: config.steps, startStep: resume ? (f.resumeFrom !== undefined ? parseCheckpointName(f.resumeFrom) : ((await latestCheckpoint(runDir)) ?? 0)) : 0, evalEvery: config.eval.every, logEvery: every,
    ...(f.progress !== false && process.stderr.isTTY === true ? { tty: process.stderr } : {}),
  });
  const interrupt = onInterrupt({
    first: () => progress.log("stopping: the step under way finishes, then a checkpoint is saved (press Ctrl-C again to quit at once)"),
    second: () => {
      progress.stop();
      io.err(`quitting at once; the last saved checkpoint is kept. Continue with: ${resumeHint}\n`);
    },
  });
  let summary;
  try {
    summary = await train(config, { runDir, resume, ...(f.resumeFrom === undefined ? {} : { resumeFrom: f.resumeFrom }), signal: interrupt.signal, hooks: progress.hooks });
  } finally {
    interrupt.dispose();
    progress.stop();
  }
  io.out(resultsTable(progress.evals));
  if (summary.interrupted) {
    const saved = summary.steps > 0 ? `checkpoint ${join(runDir, checkpointName(summary.steps))} saved` : "no step had finished, nothing to save";
    io.out(`\ninterrupted after step ${summary.steps} of ${config.steps}; ${saved}.\nContinue with: ${resumeHint}\n`);
  } else {
    io.out(`\n${count(summary.steps, "step")} in ${(summary.seconds / 60).toFixed(1)} min → ${runDir}/ (metrics.jsonl, transcripts/, step-N/)\n`);
  }
  return summary;
}

export function trainCommand(io: CliIo = processIo()): Command {
  return new Command("train")
    .description("train a policy by self-play on the training games (SPIRAL)")
    .addOption(new Option("--preset <name>", `named config: ${Object.keys(trainPresets).join(", ")} (default: default)`))
    .option("--config <file>", "a JSON/YAML file with a (partial) train config, over the preset")
    .option("--games <list>", "training games with optional weights, e.g. TicTacToe-v0,KuhnPoker-v1:2")
    .option("--steps <n>", "policy steps")
    .option("--model <dir>", "start from a checkpoint directory (HF layout)")
    .option("--init <preset>", "start from a fresh model of this shape (micro, tiny, small, qwen3-0.6b, …)")
    .option("--opponent <name>", "self (self-play), a fixed opponent (random, minimax, heuristic, nash, optimal, a checkpoint directory), or pool:K (LoRA runs: one of the last K adapter snapshots)")
    .option("--actors <k>", "in-process actors (1: in the learner's thread; k > 1: worker threads); with --actor-endpoint, beside the servers (default 0: the servers act alone)")
    .option("--out <dir>", "parent directory of runs (default: runs)")
    .option("--name <name>", "run name: the directory under --out")
    .option("--resume <dir>", "continue the run in this directory from its latest checkpoint")
    .option("--resume-from <step-N>", "with --resume: continue from this checkpoint instead of the latest (later lines and checkpoints are set aside, not deleted)")
    .option("--seed <s>", "random seed")
    .option("--no-rae", "ablation: no role-conditioned baseline (advantage = return)")
    .addOption(new Option("--prompt-mode <mode>", "compact or chat").choices(["compact", "chat"]))
    .option("--lr <x>", "learning rate")
    .option("--lr-schedule <s>", "constant, cosine or linear (decay to optim.lrMin over the run)")
    .option("--entropy-coef <x>", "entropy bonus for every game's samples (0: none, the paper); per game in a --config file: games[].entropyCoef")
    .option("--eval-every <k>", "evaluate every k steps (0: never)")
    .option("--threads <n>", "onnxruntime threads per session (0, the default: chosen from the core count)")
    .option("--device <d>", "where the graphs run: cpu or webgpu (a GPU through onnxruntime's WebGPU EP; see README)")
    .option("--precision <p>", "fp32 (default) or fp16: half-precision weights, activations and products on webgpu (needs the adapter's shader-f16; docs/device.md)")
    .option("--sampler <s>", "webgpu: device (default: tokens drawn on the GPU, only ids and log-probs come back) or host (the logits come back, float64 draw: a seed gives the CPU run's games)")
    .option("--no-progress", "plain log lines instead of a progress line (as when stderr is not a terminal)")
    .option("--log-every <n>", "plain log lines: one every n steps, plus every evaluation (default: about 20 per run)")
    .option("--actor-endpoint <url...>", "sample the training games on this OpenAI-compatible server (repeatable; URL[,weight=W][,concurrency=C]; vLLM, SGLang or spiral serve --runtime-updates; docs/scale-out.md)")
    .option("--max-staleness <k>", "endpoint actors: play up to k steps ahead of the learner, dropping samples more than k versions old (0: synchronous)")
    .option("--lora <r>", "train a rank-r LoRA adapter on the frozen model instead of every weight")
    .option("--lora-alpha <a>", "LoRA scaling numerator (scale alpha/r; default alpha = r)")
    .option("--lora-targets <list>", "projections with adapters, comma-separated (default all: q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj)")
    .addOption(new Option("--base-dtype <dtype>", "LoRA: hold the frozen base in fp32, or bf16/fp16 (half the memory, widened per projection); auto: see docs/lora.md").choices(["auto", "fp32", "bf16", "fp16"]))
    .action(async (flags: TrainFlags) => {
      const summary = await runTrain(flags, io);
      if (summary.interrupted) process.exitCode = INTERRUPT_EXIT_CODE;
    });
}

/** Adds `spiral train` to the program. */
export function registerTrain(program: Command, io: CliIo = processIo()): void {
  program.addCommand(trainCommand(io));
}
