/**
 * `spiral serve`: an OpenAI-compatible server for a checkpoint (see src/serve/server.ts and
 * docs/serve.md).
 *
 *   spiral serve --model DIR [--adapter DIR] [--lora NAME=DIR ...] [--port 8000] [--host 127.0.0.1] [--name ID] [--max-batch 64]
 *                [--threads N] [--seed S] [--runtime-updates] [--weight-version V]
 *
 * It binds to loopback unless told otherwise; it has no authentication, so put a proxy in front
 * before exposing it.
 */
import { Command } from "commander";
import { openModelDir } from "../engine/weights/model-dir.js";
import { serveCheckpoint, type RunningServer, type ServeOptions } from "../serve/server.js";
import { type CliIo, listening, parseIntegerOption, processIo } from "./io.js";
import { checkSamplerDevice, parseDevice, parsePrecision, parseSampler } from "../engine/graph/device.js";

interface RawOptions {
  model: string;
  adapter?: string;
  lora?: string[];
  port: string;
  host: string;
  name?: string;
  maxBatch: string;
  threads?: string;
  device?: string;
  precision?: string;
  sampler?: string;
  seed: string;
  quiet?: boolean;
  runtimeUpdates?: boolean;
  weightVersion?: string;
}

/** "NAME=DIR" of --lora. */
export function parseLoraModule(text: string): { name: string; dir: string } {
  const eq = text.indexOf("=");
  if (eq <= 0 || eq === text.length - 1) throw new Error(`--lora expects NAME=DIR (a model id and a LoRA adapter directory); got "${text}"`);
  return { name: text.slice(0, eq), dir: text.slice(eq + 1) };
}

export function parseServeOptions(raw: RawOptions, io: CliIo): ServeOptions {
  const port = parseIntegerOption(raw.port, "--port");
  if (port < 0 || port > 65535) throw new Error(`--port expects an integer in [0, 65535]; got "${raw.port}"`);
  const maxBatch = parseIntegerOption(raw.maxBatch, "--max-batch");
  if (maxBatch < 1) throw new Error(`--max-batch expects an integer ≥ 1; got "${raw.maxBatch}"`);
  const threads = raw.threads === undefined ? undefined : parseIntegerOption(raw.threads, "--threads");
  if (threads !== undefined && threads < 1) throw new Error(`--threads expects an integer ≥ 1; got "${raw.threads}"`);
  const sampler = raw.sampler === undefined ? undefined : parseSampler(raw.sampler);
  checkSamplerDevice(raw.device === undefined ? "cpu" : parseDevice(raw.device), sampler);
  return {
    model: raw.model, port, host: raw.host, maxBatch, seed: parseIntegerOption(raw.seed, "--seed"),
    ...(raw.name === undefined ? {} : { modelName: raw.name }), ...(raw.adapter === undefined ? {} : { adapter: raw.adapter }),
    ...(raw.lora === undefined ? {} : { loras: raw.lora.map(parseLoraModule) }), ...(threads === undefined ? {} : { threads }),
    ...(raw.device === undefined ? {} : { device: parseDevice(raw.device) }),
    ...(raw.precision === undefined ? {} : { precision: parsePrecision(raw.precision) }),
    ...(sampler === undefined ? {} : { sampler }),
    ...(raw.quiet === true ? {} : { log: (line: string) => io.err(`${line}\n`) }),
    ...(raw.runtimeUpdates === true ? { runtimeUpdates: true } : {}), ...(raw.weightVersion === undefined ? {} : { weightVersion: raw.weightVersion }),
  };
}

/**
 * Loads the checkpoint (saying what is wrong with the path if it is not one, and "unverified" once
 * when it has no manifest), starts the server and reports where it listens; resolves once it is up.
 */
export async function runServe(options: ServeOptions, io: CliIo): Promise<RunningServer> {
  const base = await openModelDir(options.model, { log: (line) => io.err(`${line}\n`) });
  const server = await listening(serveCheckpoint(base, options), options.port, options.host);
  io.out(`serving ${server.modelName} at ${server.url} (OpenAI-compatible; try: curl ${server.url}/models)\n`);
  return server;
}

export function serveCommand(io: CliIo = processIo()): Command {
  return new Command("serve")
    .description("serve a checkpoint over an OpenAI-compatible HTTP API (chat and text completions, streaming)")
    .requiredOption("--model <dir>", "checkpoint directory")
    .option("--adapter <dir>", "apply a LoRA adapter (PEFT directory); the model id defaults to its directory name")
    .option("--lora <name=dir...>", "also serve these LoRA adapters on the same base, each as model id NAME (chosen per request by `model`)")
    .option("--port <n>", "port (0 picks a free one)", "8000")
    .option("--host <addr>", "address to bind (no authentication: keep it on loopback, or put a proxy in front)", "127.0.0.1")
    .option("--name <id>", "model id clients send (default: the directory name)")
    .option("--max-batch <n>", "rows decoded together", "64")
    .option("--threads <n>", "onnxruntime intra-op threads")
    .option("--seed <n>", "seed for requests that give none", "0")
    .option("--device <d>", "where the model's graphs run: cpu or webgpu (a GPU through onnxruntime's WebGPU EP; see README)", "cpu")
    .option("--precision <p>", "fp32 or fp16: half-precision weights, activations and products on webgpu (needs the adapter's shader-f16; docs/device.md)", "fp32")
    .option("--sampler <s>", "webgpu: device (default: tokens drawn on the GPU, only ids and log-probs come back) or host (the logits come back, float64 draw as on the CPU; docs/device.md)")
    .option("--quiet", "no request log on stderr")
    .option("--runtime-updates", "accept weight updates over HTTP: /v1/load_lora_adapter, /v1/unload_lora_adapter, /update_weights_from_disk (training actors)")
    .option("--weight-version <v>", "the weight version replies report until a reload names another", "0")
    .action(async (raw: RawOptions) => {
      const server = await runServe(parseServeOptions(raw, io), io);
      const stop = (): void => void server.close().then(() => process.exit(0));
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
}
