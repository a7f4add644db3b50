/**
 * `spiral generate`: sample a completion from a checkpoint, streamed as it is produced.
 *
 *   spiral generate --model DIR [--adapter DIR] --prompt TEXT [--chat] [--system TEXT] [--no-thinking]
 *                   [--max-new N] [--temperature T] [--top-p P] [--top-k K] [--seed S] [--json]
 *                   [--choice S ...] [--trigger S] [--suffix S] [--stop S ...]
 *
 * --chat wraps the prompt as one user turn with the checkpoint's chat template (ChatML for
 * byte-level models); --json prints the prompt and generated token ids with their log-probs
 * (log_softmax(logits/T), as the learner recomputes them) instead of streaming text. --choice
 * (repeatable) constrains the completion to one of the given strings — after free text ending in
 * --trigger when given, followed by --suffix — see docs/generation.md.
 */
import { Command } from "commander";
import { Generator } from "../engine/infer/generate.js";
import { openModelDir } from "../engine/weights/model-dir.js";
import { loadAdapter } from "../engine/weights/peft.js";
import type { ChatMessage } from "../engine/tokenizer/tokenizer.js";
import { createRng } from "../core/rng.js";
import { type CliIo, parseIntegerOption, processIo } from "./io.js";
import { checkPrecisionDevice, checkSamplerDevice, type Device, parseDevice, parsePrecision, parseSampler, type Precision, type SamplerPlace } from "../engine/graph/device.js";

export interface GenerateCliOptions {
  model: string;
  /** A LoRA adapter directory applied to the model (PEFT format). */
  adapter?: string;
  prompt: string;
  chat?: boolean;
  system?: string;
  /** false renders Qwen3's empty think block (answer directly). */
  thinking?: boolean;
  maxNew: number;
  temperature: number;
  topP?: number;
  topK?: number;
  seed: number;
  json?: boolean;
  choices?: string[];
  trigger?: string;
  suffix?: string;
  stop?: string[];
  device?: Device;
  precision?: Precision;
  sampler?: SamplerPlace;
}

export interface GenerateCliResult {
  promptTokens: number[];
  tokens: number[];
  logprobs: number[];
  text: string;
  finishReason: string;
}

function parseNumberOption(value: string, option: string, check: (x: number) => boolean, expected: string): number {
  const x = Number(value);
  if (value.trim() === "" || !Number.isFinite(x) || !check(x)) throw new Error(`${option} expects ${expected}; got "${value}"`);
  return x;
}

export async function runGenerate(options: GenerateCliOptions, io: CliIo): Promise<GenerateCliResult> {
  const { config, params, tokenizer } = await openModelDir(options.model, { log: (line) => io.err(`${line}\n`) });
  const adapter = options.adapter === undefined ? {} : { adapter: (await loadAdapter(options.adapter, config, { optimizer: false })).adapter };
  let text = options.prompt;
  if (options.chat === true) {
    const messages: ChatMessage[] = [];
    if (options.system !== undefined) messages.push({ role: "system", content: options.system });
    messages.push({ role: "user", content: options.prompt });
    text = tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true, ...(options.thinking === false && { enableThinking: false }) });
  }
  const prompt = tokenizer.encode(text);
  // The weights never change here: bake them so onnxruntime prepacks them.
  const generator = await Generator.create(config, params, tokenizer, {
    bakeWeights: true, ...adapter, ...(options.device === undefined ? {} : { device: options.device }), ...(options.precision === undefined ? {} : { precision: options.precision }),
    ...(options.sampler === undefined ? {} : { sampler: options.sampler }),
  });
  try {
    const constraint =
      options.choices === undefined || options.choices.length === 0
        ? undefined
        : { choices: options.choices, ...(options.trigger !== undefined && { trigger: options.trigger }), ...(options.suffix !== undefined && { suffix: options.suffix }) };
    const [completion] = await generator.generate([{ prompt, ...(constraint !== undefined && { constraint }) }], {
      temperature: options.temperature,
      ...(options.topP !== undefined && { topP: options.topP }),
      ...(options.topK !== undefined && { topK: options.topK }),
      maxNewTokens: options.maxNew,
      rng: createRng(options.seed),
      ...(options.stop !== undefined && { stopStrings: options.stop }),
      ...(options.json !== true && { onText: (_: number, delta: string) => io.out(delta) }),
    });
    if (completion === undefined) throw new Error("generation returned no completion");
    const result: GenerateCliResult = {
      promptTokens: prompt,
      tokens: completion.tokens,
      logprobs: completion.logprobs,
      text: completion.text,
      finishReason: completion.finishReason,
    };
    if (options.json === true) io.out(JSON.stringify({ ...result, temperature: options.temperature, seed: options.seed }) + "\n");
    else io.out(`\n[${completion.finishReason}, ${completion.tokens.length} tokens]\n`);
    return result;
  } finally {
    await generator.release();
  }
}

interface RawOptions {
  model: string;
  adapter?: string;
  prompt: string;
  chat?: boolean;
  system?: string;
  thinking: boolean;
  maxNew: string;
  temperature: string;
  topP?: string;
  topK?: string;
  seed: string;
  json?: boolean;
  choice?: string[];
  trigger?: string;
  suffix?: string;
  stop?: string[];
  device?: string;
  precision?: string;
  sampler?: string;
}

export function parseGenerateOptions(raw: RawOptions): GenerateCliOptions {
  const maxNew = parseIntegerOption(raw.maxNew, "--max-new");
  if (maxNew < 1) throw new Error(`--max-new expects an integer ≥ 1; got "${raw.maxNew}"`);
  const out: GenerateCliOptions = {
    model: raw.model,
    ...(raw.adapter !== undefined && { adapter: raw.adapter }),
    prompt: raw.prompt,
    ...(raw.chat === true && { chat: true }),
    ...(raw.system !== undefined && { system: raw.system }),
    thinking: raw.thinking,
    maxNew,
    temperature: parseNumberOption(raw.temperature, "--temperature", (x) => x >= 0, "a number ≥ 0 (0 = greedy)"),
    ...(raw.topP !== undefined && { topP: parseNumberOption(raw.topP, "--top-p", (x) => x > 0 && x <= 1, "a number in (0, 1]") }),
    ...(raw.topK !== undefined && { topK: parseNumberOption(raw.topK, "--top-k", (x) => Number.isInteger(x) && x >= 0, "an integer ≥ 0") }),
    seed: parseIntegerOption(raw.seed, "--seed"),
    ...(raw.json === true && { json: true }),
    ...(raw.choice !== undefined && { choices: raw.choice }),
    ...(raw.trigger !== undefined && { trigger: raw.trigger }),
    ...(raw.suffix !== undefined && { suffix: raw.suffix }),
    ...(raw.stop !== undefined && { stop: raw.stop }),
    ...(raw.device !== undefined && { device: parseDevice(raw.device) }),
    ...(raw.precision !== undefined && { precision: parsePrecision(raw.precision) }),
    ...(raw.sampler !== undefined && { sampler: parseSampler(raw.sampler) }),
  };
  checkPrecisionDevice(out.device ?? "cpu", out.precision);
  checkSamplerDevice(out.device ?? "cpu", out.sampler);
  if ((out.system !== undefined || out.thinking === false) && out.chat !== true) throw new Error("--system and --no-thinking apply to the chat template: add --chat");
  if ((out.trigger !== undefined || out.suffix !== undefined) && out.choices === undefined) {
    throw new Error("--trigger and --suffix need at least one --choice (the allowed completions)");
  }
  return out;
}

export function generateCommand(io: CliIo = processIo()): Command {
  return new Command("generate")
    .description("sample a completion from a checkpoint (streamed; --json for tokens and log-probs)")
    .requiredOption("--model <dir>", "checkpoint directory (config.json, model.safetensors, tokenizer.json or a byte-level config)")
    .option("--adapter <dir>", "apply a LoRA adapter (PEFT directory: adapter_config.json + adapter_model.safetensors)")
    .requiredOption("--prompt <text>", "prompt text")
    .option("--chat", "wrap the prompt as a user turn with the chat template")
    .option("--system <text>", "system message (with --chat)")
    .option("--no-thinking", "Qwen3: render an empty think block so the model answers directly (with --chat)")
    .option("--max-new <n>", "maximum new tokens", "256")
    .option("--temperature <t>", "sampling temperature, 0 = greedy", "0.7")
    .option("--top-p <p>", "nucleus sampling mass")
    .option("--top-k <k>", "keep the k most likely tokens (0: no limit)")
    .option("--seed <n>", "random seed", "0")
    .option("--device <d>", "where the model's graphs run: cpu or webgpu (a GPU through onnxruntime's WebGPU EP; see README)", "cpu")
    .option("--precision <p>", "fp32 or fp16: half-precision weights, activations and products on webgpu (needs the adapter's shader-f16; docs/device.md)", "fp32")
    .option("--sampler <s>", "webgpu: device (default: tokens drawn on the GPU, only ids and log-probs come back) or host (the logits come back, float64 draw as on the CPU; docs/device.md)")
    .option("--json", "print prompt/generated token ids and per-token log-probs as JSON")
    .option("--choice <text...>", "constrain the completion to one of these strings (repeatable)")
    .option("--trigger <text>", "with --choice: free text until it ends with this, then a choice")
    .option("--suffix <text>", "with --choice: text that must follow the choice")
    .option("--stop <text...>", "stop when the completion contains one of these")
    .action(async (raw: RawOptions) => {
      await runGenerate(parseGenerateOptions(raw), io);
    });
}

/** Adds `generate` to the program (for src/cli/main.ts). */
export function registerGenerate(program: Command, io: CliIo = processIo()): Command {
  return program.addCommand(generateCommand(io));
}
