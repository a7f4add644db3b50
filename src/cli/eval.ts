/**
 * `spiral eval`: arenas between any two policies, round-robin tournaments with ratings, and the
 * exact analyses.
 *
 *   spiral eval --game G --a SPEC [--adapter DIR] --b SPEC [--games N] [--temperature T] [--top-p P] [--seed S]
 *               [--max-new N] [--concurrency C] [--turn-cap N] [--out DIR] [--json]
 *   spiral eval --game G[,G2…] --tournament SPEC SPEC… [--games N per pair] …
 *   spiral eval --game TicTacToe-v0|KuhnPoker-v1-1round --a SPEC --exact [--samples K]
 *
 * SPEC: a checkpoint directory, BASE+ADAPTER (--adapter DIR on --a says the same), random, optimal,
 * heuristic, minimax, nash, tactics, hold-at-20, or openai:<base-url>#<model> (API key from $SPIRAL_OPENAI_API_KEY, else $OPENAI_API_KEY).
 * --out DIR writes games.jsonl (one game per line, reasoning included) and summary.json.
 * Games lost to transport failures (an endpoint unreachable, timing out or failing after its
 * retries) are not counted; when they leave fewer games than asked the command still prints and
 * writes what it has, then exits 1, unless --allow-failures accepts the shortfall.
 */
import { appendFileSync, existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import cliProgress from "cli-progress";
import { Command, Option } from "commander";
import { parseRules, withRules } from "../games/game.js";
import { getGame } from "../games/registry.js";
import { createRng } from "../core/rng.js";
import { mergeOutcomes, NO_OUTCOMES, type Outcomes } from "../eval/stats.js";
import { kuhnAnalysis, ticTacToeOptimalRate } from "../eval/analyses.js";
import { runArena, type ArenaGame, type ArenaReport } from "../eval/arena.js";
import { openPolicy, parsePolicySpec, type OpenedPolicy, type SamplingSettings } from "../policy/policy-spec.js";
import { bradleyTerry, type PairResult } from "../eval/ratings.js";
import { formatArena, formatKuhn, formatOptimalRate, formatRatings } from "../eval/report.js";
import { type CliIo, numberOption, parseIntegerOption, positiveIntegerOption, processIo } from "./io.js";
import { checkSamplerDevice, type Device, parseDevice, parsePrecision, parseSampler, type Precision, type SamplerPlace } from "../engine/graph/device.js";

export interface EvalCliOptions {
  readonly game: string;
  readonly a?: string;
  readonly b?: string;
  readonly tournament?: readonly string[];
  readonly exact: boolean;
  readonly games: number;
  readonly samples: number;
  readonly positions?: number;
  readonly temperature: number;
  readonly topP?: number;
  readonly seed: number;
  readonly maxNew: number;
  readonly concurrency: number;
  readonly turnCap?: number;
  readonly timeoutS: number;
  readonly retries: number;
  readonly promptMode?: "compact" | "chat";
  readonly out?: string;
  readonly json: boolean;
  /** Exit 0 even when transport failures left fewer games than asked. */
  readonly allowFailures?: boolean;
  /** Where checkpoints' graphs run (default cpu). */
  readonly device?: Device;
  readonly precision?: Precision;
  readonly sampler?: SamplerPlace;
}

interface RawOptions {
  game: string;
  a?: string;
  b?: string;
  tournament?: string[];
  exact?: boolean;
  adapter?: string;
  games: string;
  samples?: string;
  positions?: string;
  temperature: string;
  topP?: string;
  seed: string;
  maxNew: string;
  concurrency: string;
  turnCap?: string;
  timeout: string;
  retries: string;
  promptMode?: "compact" | "chat";
  out?: string;
  json?: boolean;
  allowFailures?: boolean;
  rules?: string;
  device?: string;
  precision?: string;
  sampler?: string;
}

/**
 * `--adapter DIR` on a command that takes a policy spec: the spec BASE+DIR (policy-spec.ts), so a
 * flag and a spec name one thing. `what` names the option the spec came from.
 */
export function withAdapter(spec: string, adapter: string | undefined, what: string): string {
  if (adapter === undefined) return spec;
  if (spec.startsWith("openai:")) throw new Error(`--adapter applies a LoRA adapter to a checkpoint; ${what} ${spec} is an endpoint (name the adapter's model id after # instead)`);
  if (spec.includes("+")) throw new Error(`--adapter: ${what} ${spec} already names an adapter (BASE+ADAPTER); give one or the other`);
  return `${spec}+${adapter}`;
}

/** Sampled replies per Kuhn information set under --exact, unless --samples says otherwise. */
const KUHN_SAMPLES = 64;

export function parseEvalOptions(raw: RawOptions): EvalCliOptions {
  const tournament = raw.tournament ?? [];
  const modes = [raw.exact === true, tournament.length > 0, raw.b !== undefined].filter(Boolean).length;
  if (modes !== 1) throw new Error("Give exactly one of: --a SPEC --b SPEC (a match), --tournament SPEC SPEC… (a round robin), or --a SPEC --exact (exact analyses)");
  if (raw.b !== undefined && raw.a === undefined) throw new Error("--b needs --a");
  if (raw.exact === true && raw.a === undefined) throw new Error("--exact analyses the policy given by --a");
  if (raw.adapter !== undefined && raw.a === undefined) throw new Error("--adapter applies to the checkpoint given by --a (in a tournament, name each as BASE+ADAPTER)");
  if (tournament.length > 0 && tournament.length < 2) throw new Error(`--tournament needs at least two policy specs; got ${tournament.length}`);
  if (raw.exact !== true && (raw.samples !== undefined || raw.positions !== undefined)) throw new Error(`${raw.samples !== undefined ? "--samples" : "--positions"} tunes the exact analyses: it needs --exact`);
  const rules = raw.rules === undefined ? undefined : parseRules(raw.rules);
  return {
    game: rules === undefined ? raw.game : raw.game.split(",").map((g) => (g.trim() === "" ? g : withRules(g.trim(), rules))).join(","),
    ...(raw.a === undefined ? {} : { a: withAdapter(raw.a, raw.adapter, "--a") }),
    ...(raw.b === undefined ? {} : { b: raw.b }),
    ...(tournament.length === 0 ? {} : { tournament }),
    exact: raw.exact === true,
    games: positiveIntegerOption(raw.games, "--games"),
    samples: raw.samples === undefined ? KUHN_SAMPLES : positiveIntegerOption(raw.samples, "--samples"),
    ...(raw.positions === undefined ? {} : { positions: positiveIntegerOption(raw.positions, "--positions") }),
    temperature: numberOption(raw.temperature, "--temperature", (x) => x >= 0, "a number ≥ 0 (0 = greedy)"),
    ...(raw.topP === undefined ? {} : { topP: numberOption(raw.topP, "--top-p", (x) => x > 0 && x <= 1, "a number in (0, 1]") }),
    seed: parseIntegerOption(raw.seed, "--seed"),
    maxNew: positiveIntegerOption(raw.maxNew, "--max-new"),
    concurrency: positiveIntegerOption(raw.concurrency, "--concurrency"),
    ...(raw.turnCap === undefined ? {} : { turnCap: positiveIntegerOption(raw.turnCap, "--turn-cap") }),
    timeoutS: numberOption(raw.timeout, "--timeout", (x) => x > 0, "a number of seconds > 0"),
    retries: numberOption(raw.retries, "--retries", (x) => Number.isInteger(x) && x >= 0, "an integer ≥ 0"),
    ...(raw.promptMode === undefined ? {} : { promptMode: raw.promptMode }),
    ...(raw.out === undefined ? {} : { out: raw.out }),
    json: raw.json === true,
    ...(raw.allowFailures === true ? { allowFailures: true } : {}),
    ...(raw.device === undefined ? {} : { device: parseDevice(raw.device) }),
    ...(raw.precision === undefined ? {} : { precision: parsePrecision(raw.precision) }),
    ...(raw.sampler === undefined ? {} : { sampler: samplerFor(raw.sampler, raw.device) }),
  };
}

/** Games lost to transport failures across the reports of one command, and the first error. */
function transportShortfall(reports: readonly ArenaReport[]): { lost: number; asked: number; first?: string } {
  let lost = 0;
  let asked = 0;
  let first: string | undefined;
  for (const r of reports) {
    const o = r.outcomes;
    lost += r.transportFailures;
    asked += o.wins + o.draws + o.losses + r.transportFailures;
    first ??= r.firstTransportError;
  }
  return { lost, asked, ...(first === undefined ? {} : { first }) };
}

/** What `runEval` returns (and prints with --json). */
export type EvalResult =
  | { readonly kind: "match"; readonly report: ArenaReport }
  | { readonly kind: "tournament"; readonly players: readonly string[]; readonly pairs: readonly ArenaReport[]; readonly ratings: ReturnType<typeof bradleyTerry> }
  | { readonly kind: "exact"; readonly player: string; readonly ticTacToe?: Awaited<ReturnType<typeof ticTacToeOptimalRate>>; readonly kuhn?: Awaited<ReturnType<typeof kuhnAnalysis>> };

export async function runEval(options: EvalCliOptions, io: CliIo): Promise<EvalResult> {
  const result = await playEval(options, io);
  const reports = result.kind === "match" ? [result.report] : result.kind === "tournament" ? result.pairs : [];
  const { lost, asked, first } = transportShortfall(reports);
  if (lost > 0 && options.allowFailures !== true) {
    throw new Error(`${lost} of ${asked} games were lost to transport failures${first === undefined ? "" : ` (first: ${first})`}; the results above count only the ${asked - lost} played. Check the endpoint, or pass --allow-failures to accept fewer games`);
  }
  return result;
}

async function playEval(options: EvalCliOptions, io: CliIo): Promise<EvalResult> {
  // A tournament may pool several games (comma-separated ids); the other modes take one.
  const gameIds = options.game.split(",").map((g) => g.trim()).filter((g) => g !== "");
  if (gameIds.length !== 1 && options.tournament === undefined) throw new Error(`--game takes one id here (several, comma-separated, only with --tournament); got "${options.game}"`);
  const gameList = gameIds.map(getGame);
  const game = gameList[0] as (typeof gameList)[number];
  const settings: SamplingSettings = {
    temperature: options.temperature, maxNewTokens: options.maxNew, concurrency: options.concurrency, ...(options.device === undefined ? {} : { device: options.device }), ...(options.precision === undefined ? {} : { precision: options.precision }), ...(options.sampler === undefined ? {} : { sampler: options.sampler }), ...(options.topP === undefined ? {} : { topP: options.topP }),
    timeoutMs: options.timeoutS * 1000, retries: options.retries, ...(options.promptMode === undefined ? {} : { promptMode: options.promptMode }),
    log: (line) => io.err(`${line}\n`),
  };
  const specs = options.tournament ?? [options.a, options.b].filter((s): s is string => s !== undefined);
  const parsed = specs.map(parsePolicySpec);
  const opened: OpenedPolicy[] = [];
  const rng = createRng(options.seed);
  const transcript = options.out === undefined ? undefined : join(options.out, "games.jsonl");
  // A progress bar on an interactive terminal only (games finish out of order; the bar counts them).
  const pairs = options.tournament === undefined ? 1 : (options.tournament.length * (options.tournament.length - 1)) / 2;
  const bar = !options.json && !options.exact && process.stderr.isTTY === true
    ? new cliProgress.SingleBar({ format: "games {value}/{total} [{bar}] {eta_formatted}", hideCursor: true, stream: process.stderr }, cliProgress.Presets.shades_classic)
    : undefined;
  bar?.start(options.games * pairs * gameList.length, 0);
  const onGame = (g: ArenaGame): void => {
    bar?.increment();
    if (transcript !== undefined) appendFileSync(transcript, JSON.stringify(g) + "\n");
  };
  try {
    // The same spec twice (self-play of a checkpoint) shares one loaded model.
    const bySpec = new Map<string, OpenedPolicy>();
    for (const [i, spec] of parsed.entries()) {
      const key = specs[i] as string;
      let player = bySpec.get(key);
      if (player === undefined) {
        player = await openPolicy(spec, settings);
        bySpec.set(key, player);
      }
      opened.push(player);
    }
    // Files only once every player has opened: a bad spec or path leaves nothing behind.
    if (options.out !== undefined) {
      if (existsSync(options.out) && !statSync(options.out).isDirectory()) throw new Error(`--out ${options.out}: is a file; expected a folder for games.jsonl and summary.json`);
      mkdirSync(options.out, { recursive: true });
    }
    if (transcript !== undefined) writeFileSync(transcript, "");
    let result: EvalResult;
    if (options.exact) {
      const player = opened[0] as OpenedPolicy;
      if (game.info.id === "TicTacToe-v0") {
        const r = await ticTacToeOptimalRate(game, player, rng, options.positions === undefined ? {} : { positions: options.positions });
        if (!options.json) io.out(formatOptimalRate(player.name, r));
        result = { kind: "exact", player: player.name, ticTacToe: r };
      } else if (game.info.id === "KuhnPoker-v1-1round") {
        const r = await kuhnAnalysis(game, player, rng, options.samples);
        if (!options.json) io.out(formatKuhn(player.name, r));
        result = { kind: "exact", player: player.name, kuhn: r };
      } else {
        throw new Error(`--exact analyses exist for TicTacToe-v0 (optimal-move rate) and KuhnPoker-v1-1round (exploitability); got ${game.info.id}`);
      }
    } else if (options.tournament === undefined) {
      const report = await runArena(
        { game, a: opened[0] as OpenedPolicy, b: opened[1] as OpenedPolicy, games: options.games, concurrency: options.concurrency, ...(options.turnCap === undefined ? {} : { turnCap: options.turnCap }), onGame },
        rng,
      );
      if (!options.json) io.out(formatArena(report));
      result = { kind: "match", report };
    } else {
      const pairs: ArenaReport[] = [];
      const results: PairResult[] = [];
      const records: Outcomes[] = opened.map(() => NO_OUTCOMES);
      for (const g of gameList) for (let i = 0; i < opened.length; i++) {
        for (let j = i + 1; j < opened.length; j++) {
          const report = await runArena(
            { game: g, a: opened[i] as OpenedPolicy, b: opened[j] as OpenedPolicy, games: options.games, concurrency: options.concurrency, ...(options.turnCap === undefined ? {} : { turnCap: options.turnCap }), onGame },
            rng.split(),
          );
          pairs.push(report);
          const o = report.outcomes;
          results.push({ i, j, wins: o.wins, draws: o.draws, losses: o.losses });
          records[i] = mergeOutcomes(records[i] as Outcomes, o);
          records[j] = mergeOutcomes(records[j] as Outcomes, { wins: o.losses, draws: o.draws, losses: o.wins });
          if (!options.json && bar === undefined) io.err(`${g.info.id}: ${report.a} vs ${report.b}: ${o.wins}/${o.draws}/${o.losses}${report.transportFailures > 0 ? `, ${report.transportFailures} transport failures` : ""}\n`);
        }
      }
      const ratings = bradleyTerry(opened.length, results);
      const names = opened.map((p) => p.name);
      if (!options.json) io.out(`${gameIds.join(" + ")} round robin, ${options.games} games per pair${gameList.length > 1 ? " per game, pooled" : ""}; Bradley–Terry ratings (Elo scale, mean 0, Hessian 95% intervals)\n\n${formatRatings(names, ratings, records)}`);
      result = { kind: "tournament", players: names, pairs, ratings };
    }
    if (options.json) io.out(JSON.stringify(result, null, 2) + "\n");
    if (options.out !== undefined) writeFileSync(join(options.out, "summary.json"), JSON.stringify(result, null, 2) + "\n");
    return result;
  } finally {
    bar?.stop();
    for (const p of new Set(opened)) await p.close();
  }
}

export function evalCommand(io: CliIo = processIo()): Command {
  return new Command("eval")
    .description("play two policies against each other, a round robin with ratings, or exact analyses")
    .requiredOption("--game <id>", "game id (see `spiral games`); with --tournament, several comma-separated ids pool into one rating")
    .option("--rules <mode>", "spiral (our rules, with the documented fixes; the default) or reference (the published rules exactly); same as --game ID:reference")
    .option("--a <spec>", "policy A: checkpoint dir, BASE+ADAPTER (a LoRA adapter on a checkpoint), random, optimal, heuristic, …, or openai:<base-url>#<model>")
    .option("--adapter <dir>", "apply this LoRA adapter (PEFT directory) to the checkpoint given by --a: the same as --a BASE+DIR")
    .option("--b <spec>", "policy B (same forms)")
    .option("--tournament <specs...>", "round robin over these policies with Bradley–Terry ratings")
    .option("--exact", "exact analyses of --a: TicTacToe optimal-move rate, Kuhn 1-round exploitability")
    .option("--games <n>", "games per pairing (seats alternate)", "64")
    .option("--samples <k>", `--exact on Kuhn: sampled replies per information set for agents and endpoints (default: ${KUHN_SAMPLES})`)
    .option("--positions <n>", "--exact on TicTacToe: score a uniform sample of n positions instead of all 4,520")
    .option("--temperature <t>", "sampling temperature for models, 0 = greedy", "0.6")
    .option("--top-p <p>", "nucleus sampling mass for models")
    .option("--seed <n>", "random seed", "0")
    .option("--device <d>", "where the model's graphs run: cpu or webgpu (a GPU through onnxruntime's WebGPU EP; see README)", "cpu")
    .option("--precision <p>", "fp32 or fp16: half-precision weights, activations and products on webgpu (needs the adapter's shader-f16; docs/device.md)", "fp32")
    .option("--sampler <s>", "webgpu: device (default: tokens drawn on the GPU, only ids and log-probs come back) or host (the logits come back, float64 draw as on the CPU; docs/device.md)")
    .option("--max-new <n>", "token budget of one reply", "256")
    .option("--concurrency <n>", "live games at once (and requests in flight per endpoint)", "32")
    .option("--turn-cap <n>", "end games as draws after this many moves")
    .addOption(new Option("--prompt-mode <mode>", "checkpoints: compact or chat (default: the training run's, else by tokenizer)").choices(["compact", "chat"]))
    .option("--timeout <s>", "openai: policies: seconds per request attempt", "120")
    .option("--retries <n>", "openai: policies: retries on 429/5xx/timeouts/connection errors", "4")
    .option("--out <dir>", "write games.jsonl and summary.json here")
    .option("--json", "print the result as JSON")
    .option("--allow-failures", "exit 0 even when transport failures leave fewer games than asked")
    .action(async (raw: RawOptions) => {
      await runEval(parseEvalOptions(raw), io);
    });
}

/** --sampler, checked against --device. */
function samplerFor(value: string, device: string | undefined): SamplerPlace {
  const sampler = parseSampler(value);
  checkSamplerDevice(device === undefined ? "cpu" : parseDevice(device), sampler);
  return sampler;
}
