/**
 * `spiral bench-math`: math benchmark accuracy with SPIRAL's protocol (see src/eval/bench-math.ts).
 *
 *   spiral bench-math --model SPEC --data FILE.jsonl… [--limit N] [--samples K] [--max-new N]
 *                     [--temperature 0.6] [--top-p 0.95] [--seed S] [--concurrency C]
 *                     [--grader strict|reference] [--json] [--out FILE] [--items FILE.jsonl]
 *
 * SPEC: a checkpoint directory or openai:<base-url>#<model>. Each file is one set (math500,
 * aime24, …; the field layouts are read by `loadMathSet`; the file name, less .jsonl, names the
 * set for the reference grader), reported on its own row with both graders' accuracy.
 */
import { writeFileSync } from "node:fs";
import { basename } from "node:path";
import { Command } from "commander";
import { createRng } from "../core/rng.js";
import { benchMath, MATH_TEMPERATURE, MATH_TOP_P, type GraderSummary, type MathBenchResult } from "../eval/bench-math.js";
import { GRADERS, type GraderName } from "../eval/math-grade.js";
import { loadMathSet } from "../eval/math-data.js";
import { openPolicy, parsePolicySpec } from "../policy/policy-spec.js";
import { formatTable, interval } from "../eval/report.js";
import { withAdapter } from "./eval.js";
import { checkOutputFile, type CliIo, numberOption, parseIntegerOption, positiveIntegerOption, processIo } from "./io.js";
import { checkSamplerDevice, type Device, parseDevice, parsePrecision, parseSampler, type Precision, type SamplerPlace } from "../engine/graph/device.js";
import { count } from "../core/text.js";

export interface BenchMathCliOptions {
  readonly model: string;
  readonly data: readonly string[];
  readonly limit?: number;
  readonly samples: number;
  readonly maxNew: number;
  readonly temperature: number;
  readonly topP: number;
  readonly seed: number;
  readonly concurrency: number;
  readonly timeoutS: number;
  readonly retries: number;
  readonly grader: GraderName;
  readonly json: boolean;
  readonly out?: string;
  readonly items?: string;
  /** Exit 0 even when transport failures lost samples. */
  readonly allowFailures?: boolean;
  /** Where a checkpoint's graphs run (default cpu). */
  readonly device?: Device;
  readonly precision?: Precision;
  readonly sampler?: SamplerPlace;
}

interface RawOptions {
  model: string;
  adapter?: string;
  data: string[];
  limit?: string;
  samples: string;
  maxNew: string;
  temperature: string;
  topP: string;
  seed: string;
  concurrency: string;
  timeout: string;
  retries: string;
  grader: string;
  json?: boolean;
  out?: string;
  items?: string;
  allowFailures?: boolean;
  device?: string;
  precision?: string;
  sampler?: string;
}

export function parseBenchMathOptions(raw: RawOptions): BenchMathCliOptions {
  return {
    model: withAdapter(raw.model, raw.adapter, "--model"),
    data: raw.data,
    ...(raw.limit === undefined ? {} : { limit: positiveIntegerOption(raw.limit, "--limit") }),
    samples: positiveIntegerOption(raw.samples, "--samples"),
    maxNew: positiveIntegerOption(raw.maxNew, "--max-new"),
    temperature: numberOption(raw.temperature, "--temperature", (x) => x >= 0, "a number ≥ 0"),
    topP: numberOption(raw.topP, "--top-p", (x) => x > 0 && x <= 1, "a number in (0, 1]"),
    seed: parseIntegerOption(raw.seed, "--seed"),
    concurrency: positiveIntegerOption(raw.concurrency, "--concurrency"),
    timeoutS: numberOption(raw.timeout, "--timeout", (x) => x > 0, "a number of seconds > 0"),
    retries: numberOption(raw.retries, "--retries", (x) => Number.isInteger(x) && x >= 0, "an integer ≥ 0"),
    grader: grader(raw.grader),
    json: raw.json === true,
    ...(raw.out === undefined ? {} : { out: raw.out }),
    ...(raw.items === undefined ? {} : { items: raw.items }),
    ...(raw.allowFailures === true ? { allowFailures: true } : {}),
    ...(raw.device === undefined ? {} : { device: parseDevice(raw.device) }),
    ...(raw.precision === undefined ? {} : { precision: parsePrecision(raw.precision) }),
    ...(raw.sampler === undefined ? {} : { sampler: samplerFor(raw.sampler, raw.device) }),
  };
}

function grader(value: string): GraderName {
  if (!(GRADERS as readonly string[]).includes(value)) throw new Error(`--grader expects ${GRADERS.join(" or ")}; got "${value}"`);
  return value as GraderName;
}

const extracted = (g: GraderSummary, samples: number): string => `${samples - g.unextractable}/${samples}`;

/**
 * Both graders side by side: strict (spiral's own) and reference (the Qwen2.5-Math harness's
 * rules, as published numbers are graded), each with its Wilson 95% interval over problems and
 * how many samples it could read an answer from (fallbacks: answers found without a box).
 */
export function formatMathResults(model: string, results: readonly MathBenchResult[]): string {
  const headline = results[0]?.grader ?? "strict";
  const samples = (r: MathBenchResult): number => r.details.reduce((n, d) => n + d.samples.length, 0);
  return (
    `${model}: math accuracy, ${count(results[0]?.samplesPerProblem ?? 0, "sample per problem", "samples per problem")} (mean over problems, Wilson 95% over problems); headline grader: ${headline}\n` +
    "strict = spiral's grader (measure progress with it); reference = the Qwen2.5-Math harness's rules (compare with published numbers)\n\n" +
    formatTable([
      ["set", "problems", "strict [95%]", "reference [95%]", "answers read (strict)", "answers read (reference)", "fallbacks (strict/ref)", "mean reply tokens", "transport failures", "seconds"],
      ...results.map((r) => [
        r.name,
        String(r.problems),
        interval(r.strict.interval),
        interval(r.reference.interval),
        extracted(r.strict, samples(r)),
        extracted(r.reference, samples(r)),
        `${r.strict.fallbacks}/${r.reference.fallbacks}`,
        r.meanReplyTokens === null ? "-" : r.meanReplyTokens.toFixed(1),
        String(r.transportFailures),
        r.seconds.toFixed(1),
      ]),
    ])
  );
}

/** One JSON line per graded sample: both verdicts and the answers each grader read. */
export function sampleLines(results: readonly MathBenchResult[]): string {
  const lines = results.flatMap((r) =>
    r.details.flatMap((d) =>
      d.samples.map((s, k) =>
        JSON.stringify({
          set: r.name, id: d.id, sample: k, answer: d.answer,
          strict: { prediction: s.prediction, extraction: s.extraction, correct: s.correct },
          reference: s.reference, tokens: s.tokens,
        }),
      ),
    ),
  );
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}

export async function runBenchMath(options: BenchMathCliOptions, io: CliIo): Promise<MathBenchResult[]> {
  if (options.out !== undefined) checkOutputFile(options.out, "--out");
  if (options.items !== undefined) checkOutputFile(options.items, "--items");
  const spec = parsePolicySpec(options.model);
  if (spec.kind === "reference") throw new Error(`bench-math needs a model: a checkpoint directory or openai:<base-url>#<model>; got the game agent "${spec.name}"`);
  const sets = options.data.map((path) => ({ name: basename(path).replace(/\.jsonl$/, ""), problems: loadMathSet(path).slice(0, options.limit) }));
  const player = await openPolicy(spec, { temperature: options.temperature, topP: options.topP, maxNewTokens: options.maxNew, concurrency: options.concurrency, timeoutMs: options.timeoutS * 1000, retries: options.retries, ...(options.device === undefined ? {} : { device: options.device }), ...(options.precision === undefined ? {} : { precision: options.precision }), ...(options.sampler === undefined ? {} : { sampler: options.sampler }) });
  if (player.kind !== "policy") throw new Error("internal: a model spec opened as an agent");
  const rng = createRng(options.seed);
  const results: MathBenchResult[] = [];
  try {
    for (const set of sets) {
      const r = await benchMath({ name: set.name, player, problems: set.problems, samples: options.samples, batch: player.batched ? 64 : options.concurrency * 4, grader: options.grader }, rng.split());
      results.push(r);
      if (!options.json) io.err(`${set.name}: strict ${r.strict.accuracy.toFixed(3)}, reference ${r.reference.accuracy.toFixed(3)}\n`);
    }
  } finally {
    await player.close();
  }
  const summary = results.map(({ details: _details, ...r }) => r);
  if (options.json) io.out(JSON.stringify({ model: player.name, temperature: options.temperature, topP: options.topP, sets: summary }, null, 2) + "\n");
  else io.out(formatMathResults(player.name, results));
  if (options.out !== undefined) writeFileSync(options.out, JSON.stringify({ model: player.name, temperature: options.temperature, topP: options.topP, sets: results }, null, 2) + "\n");
  if (options.items !== undefined) writeFileSync(options.items, sampleLines(results));
  // As `spiral eval`: results over fewer samples than asked are printed and written, then failed.
  const lost = results.reduce((n, r) => n + r.transportFailures, 0);
  if (lost > 0 && options.allowFailures !== true) {
    throw new Error(`${lost} samples were lost to transport failures; the accuracies above leave them out. Check the endpoint, or pass --allow-failures to accept fewer samples`);
  }
  return results;
}

export function benchMathCommand(io: CliIo = processIo()): Command {
  return new Command("bench-math")
    .description("math benchmark accuracy: reasoning prompt, boxed answers, K samples at T = 0.6, top-p 0.95")
    .requiredOption("--model <spec>", "checkpoint directory, BASE+ADAPTER, or openai:<base-url>#<model>")
    .option("--adapter <dir>", "apply this LoRA adapter (PEFT directory) to the --model checkpoint: the same as --model BASE+DIR")
    .requiredOption("--data <files...>", "benchmark JSONL files (math500, aime24, aime25, amc23, minerva_math, olympiadbench layouts)")
    .option("--limit <n>", "first N problems of each set")
    .option("--samples <k>", "samples per problem", "1")
    .option("--max-new <n>", "token budget of one reply", "4096")
    .option("--temperature <t>", "sampling temperature", String(MATH_TEMPERATURE))
    .option("--top-p <p>", "nucleus sampling mass", String(MATH_TOP_P))
    .option("--seed <n>", "random seed", "0")
    .option("--device <d>", "where the model's graphs run: cpu or webgpu (a GPU through onnxruntime's WebGPU EP; see README)", "cpu")
    .option("--precision <p>", "fp32 or fp16: half-precision weights, activations and products on webgpu (needs the adapter's shader-f16; docs/device.md)", "fp32")
    .option("--sampler <s>", "webgpu: device (default: tokens drawn on the GPU, only ids and log-probs come back) or host (the logits come back, float64 draw as on the CPU; docs/device.md)")
    .option("--concurrency <n>", "requests in flight for an endpoint", "16")
    .option("--timeout <s>", "openai: seconds per request attempt", "600")
    .option("--retries <n>", "openai: retries on 429/5xx/timeouts/connection errors", "4")
    .option("--grader <name>", "headline grader: strict (spiral's) or reference (the Qwen2.5-Math harness's rules); both are always reported", "strict")
    .option("--json", "print the results as JSON")
    .option("--out <file>", "write results with every graded sample as JSON")
    .option("--items <file>", "write one JSON line per graded sample: both verdicts and the extracted answers")
    .option("--allow-failures", "exit 0 even when transport failures lose samples")
    .action(async (raw: RawOptions) => {
      await runBenchMath(parseBenchMathOptions(raw), io);
    });
}

/** --sampler, checked against --device. */
function samplerFor(value: string, device: string | undefined): SamplerPlace {
  const sampler = parseSampler(value);
  checkSamplerDevice(device === undefined ? "cpu" : parseDevice(device), sampler);
  return sampler;
}
