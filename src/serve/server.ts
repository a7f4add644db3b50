/**
 * `spiral serve`: an OpenAI-compatible HTTP server for one checkpoint, on node:http.
 *
 *   GET  /v1/models, /v1/models/{id}, /health
 *   POST /v1/chat/completions   (JSON or SSE with "stream": true)
 *   POST /v1/completions        (JSON or SSE)
 *   POST /v1/load_lora_adapter, /v1/unload_lora_adapter, /update_weights_from_disk,
 *   GET  /get_weight_version    (runtime weight updates, with `runtimeUpdates`)
 *
 * Invariants:
 * - Every error is `{ error: { message, type, param, code } }` with its status: 400 bad JSON or
 *   parameters (and prompts longer than the context: code "context_length_exceeded"), 404
 *   unknown model or route, 405 wrong method (with Allow), 413 body over `maxBodyBytes`, 500
 *   generation failures. A bad request is rejected before it reaches the scheduler, so it never
 *   delays or breaks others.
 * - Concurrent requests share batched decoding through the `Scheduler` (waves; see scheduler.ts).
 * - A client that disconnects (stream or not) cancels its request: its rows leave the batch at the
 *   next decode step (no more compute is spent on them), nothing more is written to it, and the
 *   other requests in the same batch are unaffected.
 * - Fields that would change the answer and are not implemented are rejected, never ignored
 *   (protocol.ts). `logit_bias` and the presence/frequency penalties follow OpenAI's definition
 *   (sampling.ts `adjustLogits`), per request.
 * - Response ids are random (`chatcmpl-…`, `cmpl-…`, as OpenAI's), unique across servers and restarts.
 * - Text stops before the first stop string (as OpenAI does); streams hold back text that could
 *   be the start of a stop string. finish_reason: "stop" for an end token or a stop string,
 *   "length" at max_tokens.
 * - `logprobs` are the sampler's: log_softmax(logits / T) of each sampled token (T = 1 when
 *   greedy), special end tokens left out. `top_logprobs` come from a float64 re-forward
 *   (top-logprobs.ts), for models up to 50 M parameters; with streaming, log-probs arrive on each
 *   choice's final chunk. `usage.completion_tokens` counts generated tokens, the end token included.
 *   With `return_tokens_as_token_ids` (completions) every generated token is listed, the end
 *   token too, as "token_id:N": a client gets exactly the ids that were sampled.
 * - Weight versions: every model id has a weight version (the base's from `weightVersion`, an
 *   adapter's from its load request), sent with every completion as `metadata.weight_version`
 *   (SGLang's field) and the `x-weight-version` header. A reload waits for the wave under way
 *   and holds the next (Scheduler.exclusive), so every reply comes from exactly one version.
 */
import { randomInt } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { existsSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { basename, resolve } from "node:path";
import { loadCheckpoint } from "../engine/weights/checkpoint.js";
import type { ModelConfig } from "../engine/model/config.js";
import { type Completion, Generator, type GeneratorOptions } from "../engine/infer/generate.js";
import type { Params } from "../engine/weights/params.js";
import { loadTokenizer } from "../engine/tokenizer/load.js";
import type { Tokenizer } from "../engine/tokenizer/tokenizer.js";
import type { Adapter } from "../engine/model/lora.js";
import { loadAdapter } from "../engine/weights/peft.js";
import { createRng } from "../core/rng.js";
import { ApiError, type ChatRequest, type CompletionRequest, type Limits, parseChatRequest, parseCompletionRequest } from "./protocol.js";
import { type Job, Scheduler } from "./scheduler.js";
import { TOP_LOGPROBS_MAX_PARAMS, topAlternatives } from "./top-logprobs.js";
import type { Device, Precision, SamplerPlace } from "../engine/graph/device.js";

export interface ServeOptions {
  /** Checkpoint directory. */
  readonly model: string;
  /** A LoRA adapter directory (PEFT format) applied to the model. */
  readonly adapter?: string;
  /** More adapters on the same base, each served under its own model id (chosen per request by `model`). */
  readonly loras?: readonly { readonly name: string; readonly dir: string }[];
  /** Model id clients send; default the directory's name. */
  readonly modelName?: string;
  /** Default 127.0.0.1 (loopback only). */
  readonly host?: string;
  /** Default 8000; 0 picks a free port. */
  readonly port?: number;
  /** Seed of the rng for requests without a seed. Default 0. */
  readonly seed?: number;
  /** Rows decoded together. Default 64. */
  readonly maxBatch?: number;
  readonly threads?: number;
  /** Where the model's graphs run (default cpu; docs/device.md). */
  readonly device?: Device;
  /** fp16 (webgpu): the base decodes in half precision (docs/device.md "Precision"); default fp32. */
  readonly precision?: Precision;
  /** webgpu: where tokens are drawn (default device; docs/device.md "The sampler"). */
  readonly sampler?: SamplerPlace;
  /** Default 1 MiB. */
  readonly maxBodyBytes?: number;
  /** Default max_tokens for chat requests. Default 512. */
  readonly defaultMaxTokens?: number;
  /** Largest max_tokens accepted. Default 4096. */
  readonly maxTokens?: number;
  /** Largest n. Default 16. */
  readonly maxN?: number;
  /** Context length (prompt + max_tokens); default the config's max_position_embeddings. */
  readonly contextLength?: number;
  /** Request log lines. */
  readonly log?: (line: string) => void;
  /**
   * Accept runtime weight updates over HTTP (`/v1/load_lora_adapter`, `/v1/unload_lora_adapter`,
   * `/update_weights_from_disk`): they read any path the server can, so they are off unless
   * asked for (as vLLM gates its LoRA routes behind VLLM_ALLOW_RUNTIME_LORA_UPDATING).
   */
  readonly runtimeUpdates?: boolean;
  /** The base weights' version, reported with every reply until a reload names another. Default "0". */
  readonly weightVersion?: string;
}

export interface RunningServer {
  /** Base URL for OpenAI clients, ending in /v1. */
  readonly url: string;
  readonly port: number;
  readonly modelName: string;
  readonly scheduler: Scheduler;
  close(): Promise<void>;
}

/** A model id served beside the base: a LoRA adapter with its own generator and scheduler. */
interface Served {
  readonly scheduler: Scheduler;
  readonly generator: Generator;
  readonly version: string;
}

interface Context {
  readonly modelName: string;
  readonly created: number;
  readonly config: ModelConfig;
  readonly params: Params;
  readonly tokenizer: Tokenizer;
  readonly scheduler: Scheduler;
  /** The base's generator (reloads rebuild its baked sessions). */
  readonly generator: Generator;
  /** Extra model ids (LoRA adapters on the same base), each with its own generator and scheduler. */
  readonly adapters: Map<string, Served>;
  /** The served model id's weight version (see the file comment); mutable by reloads. */
  readonly version: { base: string };
  readonly runtimeUpdates: boolean;
  /** How extra adapters' generators run (threads, device, precision, sampler): as the base's. */
  readonly adapterEngine: Pick<GeneratorOptions, "threads" | "device" | "precision" | "sampler">;
  readonly seed: number;
  readonly maxBatch: number;
  readonly limits: Limits;
  readonly maxBodyBytes: number;
  readonly contextLength: number;
  /** A LoRA adapter applies (top log-probs, recomputed from the base weights alone, are refused). */
  readonly lora?: boolean;
}

const ID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/**
 * A response id like OpenAI's: the prefix and 29 random base-62 characters (~173 bits). Drawn
 * from node:crypto, not a seeded rng, on purpose: ids only name responses and enter no
 * computation, so they need not (and should not) repeat across runs or servers.
 */
export function responseId(prefix: "chatcmpl" | "cmpl"): string {
  let id = `${prefix}-`;
  for (let i = 0; i < 29; i++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}

/** Where the first stop string starts in `text`, or -1. */
export function stopIndex(text: string, stops: readonly string[]): number {
  let at = -1;
  for (const s of stops) {
    const i = text.indexOf(s);
    if (i >= 0 && (at < 0 || i < at)) at = i;
  }
  return at;
}

/**
 * Streaming text with stop strings: `push` returns what is safe to send (nothing past a stop
 * string, and not a tail that could still become one).
 */
export function stopStream(stops: readonly string[]): { push(delta: string): string; end(): string; readonly stopped: boolean } {
  let text = "";
  let sent = 0;
  let stopped = false;
  const safeEnd = (): number => {
    const at = stopIndex(text, stops);
    if (at >= 0) {
      stopped = true;
      return at;
    }
    let hold = 0;
    for (const s of stops) for (let k = Math.min(s.length - 1, text.length); k > hold; k--) if (text.endsWith(s.slice(0, k))) hold = k;
    return text.length - hold;
  };
  return {
    push(delta) {
      if (stopped) return "";
      text += delta;
      const end = safeEnd();
      const out = end > sent ? text.slice(sent, end) : "";
      sent = Math.max(sent, end);
      return out;
    },
    end() {
      if (stopped) return "";
      const at = stopIndex(text, stops);
      const out = text.slice(sent, at >= 0 ? at : text.length);
      sent = text.length;
      return out;
    },
    get stopped() {
      return stopped;
    },
  };
}

const finishReason = (c: Completion): "stop" | "length" => (c.finishReason === "length" ? "length" : "stop");

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new ApiError(413, `the request body exceeds ${limit} bytes`, null, "request_too_large"));
        req.removeAllListeners("data");
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolveBody(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject); // also a client gone before its body ended ("aborted"), so the scheduler stops waiting for it
  });
}

/**
 * The prompt ids of a request and its token budget, checked against the context length: a
 * max_tokens the client gave must fit; the default is lowered to what is left of the context.
 */
function promptIds(ctx: Context, request: ChatRequest | CompletionRequest): { ids: number[]; maxTokens: number } {
  let ids: number[];
  if (request.kind === "chat") {
    const text = ctx.tokenizer.applyChatTemplate(request.messages, { addGenerationPrompt: true, ...(request.enableThinking === undefined ? {} : { enableThinking: request.enableThinking }) });
    ids = ctx.tokenizer.encode(text);
  } else if (typeof request.prompt === "string") {
    ids = ctx.tokenizer.encode(request.prompt);
  } else {
    ids = [...request.prompt];
    const bad = ids.find((id) => id < 0 || id >= ctx.config.vocabSize);
    if (bad !== undefined) throw new ApiError(400, `token id ${bad} is outside the vocabulary [0, ${ctx.config.vocabSize})`, "prompt", "invalid_value");
  }
  if (ids.length === 0) throw new ApiError(400, "the prompt encodes to no tokens", request.kind === "chat" ? "messages" : "prompt", "invalid_value");
  const maxTokens = request.maxTokensGiven ? request.maxTokens : Math.min(request.maxTokens, ctx.contextLength - ids.length);
  if (maxTokens < 1 || ids.length + maxTokens > ctx.contextLength) {
    throw new ApiError(
      400,
      `This model's maximum context length is ${ctx.contextLength} tokens; the prompt has ${ids.length} tokens and max_tokens is ${request.maxTokens}. Shorten the prompt or lower max_tokens.`,
      request.kind === "chat" ? "messages" : "prompt",
      "context_length_exceeded",
    );
  }
  return { ids, maxTokens };
}

function checkModel(ctx: Context, model: string): void {
  if (model !== ctx.modelName) {
    const served = [ctx.modelName, ...ctx.adapters.keys()].map((m) => `'${m}'`).join(", ");
    throw new ApiError(404, `The model '${model}' does not exist; this server serves ${served}`, "model", "model_not_found");
  }
}

/** The context of the model a request names: the base's, or one adapter's (its own scheduler). */
function contextFor(ctx: Context, model: string): Context {
  const served = ctx.adapters.get(model);
  return served === undefined ? ctx : { ...ctx, modelName: model, scheduler: served.scheduler, generator: served.generator, version: { base: served.version }, adapters: new Map(), lora: true };
}

interface TokenLogprob {
  token: string;
  logprob: number;
  bytes: number[];
  top_logprobs: { token: string; logprob: number; bytes: number[] }[];
}

/**
 * Per visible token of a completion: its text, the sampler's log-prob and the alternatives. With
 * `return_tokens_as_token_ids` every generated token (the end token too) as "token_id:N".
 */
function tokenLogprobs(ctx: Context, prompt: readonly number[], c: Completion, request: ChatRequest | CompletionRequest): TokenLogprob[] {
  const asIds = request.kind === "completion" && request.tokenIds;
  const shown = c.tokens.map((id, j) => ({ id, j })).filter(({ id }) => asIds || !ctx.tokenizer.isSpecial(id));
  const alternatives = request.topLogprobs > 0 ? topAlternatives(ctx.config, ctx.params, prompt, c.tokens, request.topLogprobs, request.temperature, request) : [];
  const entry = (id: number) => ({ token: asIds ? `token_id:${id}` : ctx.tokenizer.decode([id]), bytes: Array.from(ctx.tokenizer.tokenBytes(id)) });
  return shown.map(({ id, j }) => ({
    ...entry(id),
    logprob: c.logprobs[j] as number,
    top_logprobs: (alternatives[j]?.ids ?? []).map((alt, k) => ({ ...entry(alt), logprob: alternatives[j]?.logprobs[k] as number })),
  }));
}

function legacyLogprobs(items: readonly TokenLogprob[]): unknown {
  let offset = 0;
  const text_offset = items.map((t) => {
    const o = offset;
    offset += t.token.length;
    return o;
  });
  return {
    tokens: items.map((t) => t.token),
    token_logprobs: items.map((t) => t.logprob),
    top_logprobs: items.map((t) => Object.fromEntries(t.top_logprobs.map((a) => [a.token, a.logprob]))),
    text_offset,
  };
}

async function complete(ctx: Context, res: ServerResponse, request: ChatRequest | CompletionRequest, withdraw: () => void): Promise<void> {
  checkModel(ctx, request.model);
  if (request.topLogprobs > 0 && ctx.lora === true) {
    throw new ApiError(400, "top log-probs are not offered for LoRA adapters (they are recomputed from the base weights alone)", request.kind === "chat" ? "top_logprobs" : "logprobs", "unsupported_parameter");
  }
  if (request.topLogprobs > 0 && ctx.params.layout.totalSize > TOP_LOGPROBS_MAX_PARAMS) {
    throw new ApiError(400, `top log-probs are recomputed by a slow reference forward, offered for models up to ${TOP_LOGPROBS_MAX_PARAMS / 1e6} M parameters`, request.kind === "chat" ? "top_logprobs" : "logprobs", "unsupported_parameter");
  }
  for (const tokenId of request.logitBias.keys()) {
    if (tokenId >= ctx.config.vocabSize) throw new ApiError(400, `'logit_bias' names token ${tokenId}, outside the vocabulary [0, ${ctx.config.vocabSize})`, "logit_bias", "invalid_value");
  }
  const { ids: prompt, maxTokens } = promptIds(ctx, request);
  const chat = request.kind === "chat";
  const id = responseId(chat ? "chatcmpl" : "cmpl");
  const created = Math.floor(Date.now() / 1000);
  const object = chat ? "chat.completion" : "text_completion";
  // The client going away (before the whole answer was written) cancels the request's decoding.
  const cancel = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) cancel.abort();
  });
  const isGone = (): boolean => cancel.signal.aborted;
  const usageOf = (cs: readonly Completion[]) => {
    const completion = cs.reduce((s, c) => s + c.tokens.length, 0);
    return { prompt_tokens: prompt.length, completion_tokens: completion, total_tokens: prompt.length + completion };
  };
  const logprobsOf = (c: Completion): unknown => {
    if (!request.logprobs) return null;
    const items = tokenLogprobs(ctx, prompt, c, request);
    return chat ? { content: items } : legacyLogprobs(items);
  };
  const choice = request.kind === "completion" ? request.choice : undefined;
  const job: Job = {
    prompt, n: request.n, maxTokens, temperature: request.temperature, topP: request.topP, stop: request.stop, seed: request.seed, signal: cancel.signal,
    logitBias: request.logitBias, presencePenalty: request.presencePenalty, frequencyPenalty: request.frequencyPenalty,
    ...(choice === undefined ? {} : { constraint: { choices: choice } }),
  };
  // Read when the answer is sent: a reload that waited for this request's wave came after it.
  const metadata = (): { weight_version: string } => ({ weight_version: ctx.version.base });

  if (!request.stream) {
    const completions = await ctx.scheduler.submit(job, withdraw);
    if (isGone()) return;
    const choices = completions.map((c, index) => {
      const at = stopIndex(c.text, request.stop);
      const text = at >= 0 ? c.text.slice(0, at) : c.text;
      const reason = at >= 0 ? "stop" : finishReason(c);
      return chat
        ? { index, message: { role: "assistant", content: text }, logprobs: logprobsOf(c), finish_reason: reason }
        : { index, text, logprobs: logprobsOf(c), finish_reason: reason };
    });
    const meta = metadata();
    res.setHeader("x-weight-version", meta.weight_version);
    sendJson(res, 200, { id, object, created, model: ctx.modelName, choices, usage: usageOf(completions), metadata: meta });
    return;
  }

  // Server-sent events: one chunk per text delta per choice, a final chunk per choice, [DONE].
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive", "x-weight-version": ctx.version.base });
  const chunkObject = chat ? "chat.completion.chunk" : "text_completion";
  const send = (payload: unknown): void => {
    if (!isGone()) res.write(`data: ${JSON.stringify(payload)}\n\n`);
  };
  const chunk = (index: number, text: string | null, reason: string | null, extra: Record<string, unknown> = {}) =>
    send({
      id, object: chunkObject, created, model: ctx.modelName,
      choices: [chat ? { index, delta: text === null ? {} : { content: text }, logprobs: null, finish_reason: reason, ...extra } : { index, text: text ?? "", logprobs: null, finish_reason: reason, ...extra }],
    });
  if (chat) for (let i = 0; i < request.n; i++) send({ id, object: chunkObject, created, model: ctx.modelName, choices: [{ index: i, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }] });
  const streams = Array.from({ length: request.n }, () => stopStream(request.stop));
  try {
    const completions = await ctx.scheduler.submit({
      ...job,
      onText: (choice, delta) => {
        const out = streams[choice]?.push(delta) ?? "";
        if (out !== "") chunk(choice, out, null);
      },
    }, withdraw);
    completions.forEach((c, i) => {
      const s = streams[i] as ReturnType<typeof stopStream>;
      const tail = s.end();
      if (tail !== "") chunk(i, tail, null);
      chunk(i, null, s.stopped || stopIndex(c.text, request.stop) >= 0 ? "stop" : finishReason(c), { logprobs: logprobsOf(c) });
    });
    if (request.includeUsage) send({ id, object: chunkObject, created, model: ctx.modelName, choices: [], usage: usageOf(completions), metadata: metadata() });
    if (!isGone()) res.end("data: [DONE]\n\n");
  } catch (e) {
    if (!isGone()) {
      send({ error: { message: (e as Error).message, type: "server_error", param: null, code: null } });
      res.end("data: [DONE]\n\n");
    }
  }
}

const ROUTES: Readonly<Record<string, string>> = {
  "/v1/models": "GET", "/v1/chat/completions": "POST", "/v1/completions": "POST", "/health": "GET",
  "/v1/load_lora_adapter": "POST", "/v1/unload_lora_adapter": "POST", "/update_weights_from_disk": "POST", "/get_weight_version": "GET",
};

const UPDATE_ROUTES = new Set(["/v1/load_lora_adapter", "/v1/unload_lora_adapter", "/update_weights_from_disk"]);

function stringField(body: Record<string, unknown>, name: string, required: boolean): string | undefined {
  const v = body[name];
  if (v === undefined || v === null) {
    if (required) throw new ApiError(400, `'${name}' is required`, name, "missing_required_parameter");
    return undefined;
  }
  if (typeof v !== "string" || v === "") throw new ApiError(400, `'${name}' must be a non-empty string; got ${JSON.stringify(v)?.slice(0, 80)}`, name, "invalid_value");
  return v;
}

function checkKeys(body: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) throw new ApiError(400, `Unrecognized request argument supplied: '${key}' (this route reads ${allowed.join(", ")})`, key, "unknown_parameter");
  }
}

/**
 * vLLM's runtime LoRA API: `{ lora_name, lora_path, load_inplace? }` adds (or, with load_inplace,
 * replaces) a model id. A replaced adapter's queued requests still finish on the old weights and
 * report its version; its generator is released once they have. `weight_version` (a spiral
 * extension, default "0") is what replies from this adapter report.
 */
async function loadLora(ctx: Context, body: Record<string, unknown>): Promise<string> {
  checkKeys(body, ["lora_name", "lora_path", "load_inplace", "weight_version"]);
  const name = stringField(body, "lora_name", true) as string;
  const path = stringField(body, "lora_path", true) as string;
  const version = stringField(body, "weight_version", false) ?? "0";
  const inplace = body.load_inplace === true;
  if (name === ctx.modelName) throw new ApiError(400, `'${name}' is the base model's id; give the adapter another name`, "lora_name", "invalid_value");
  const old = ctx.adapters.get(name);
  if (old !== undefined && !inplace) throw new ApiError(400, `The lora adapter '${name}' has already been loaded (send load_inplace: true to replace it)`, "lora_name", "invalid_value");
  if (!existsSync(path)) throw new ApiError(404, `lora_path ${path} does not exist on the server`, "lora_path", "not_found");
  let adapter: Adapter;
  try {
    adapter = (await loadAdapter(path, ctx.config, { optimizer: false })).adapter;
  } catch (e) {
    throw new ApiError(400, `could not load the adapter at ${path}: ${(e as Error).message}`, "lora_path", "invalid_value");
  }
  const generator = await Generator.create(ctx.config, ctx.params, ctx.tokenizer, { adapter, ...ctx.adapterEngine });
  ctx.adapters.set(name, { generator, scheduler: new Scheduler(generator, createRng(ctx.seed), ctx.maxBatch), version });
  if (old !== undefined) void old.scheduler.idle().then(() => old.generator.release());
  return `Success: LoRA adapter '${name}' added successfully.`;
}

async function unloadLora(ctx: Context, body: Record<string, unknown>): Promise<string> {
  checkKeys(body, ["lora_name", "lora_int_id"]);
  const name = stringField(body, "lora_name", true) as string;
  const old = ctx.adapters.get(name);
  if (old === undefined) throw new ApiError(404, `The lora adapter '${name}' cannot be found.`, "lora_name", "model_not_found");
  ctx.adapters.delete(name);
  // Requests already queued for it are answered; later ones get 404.
  await old.scheduler.idle();
  await old.generator.release();
  return `Success: LoRA adapter '${name}' removed successfully.`;
}

/**
 * SGLang's `/update_weights_from_disk { model_path, weight_version? }`: the base weights are
 * replaced by the checkpoint at model_path (same shape), between waves of every model id.
 */
async function updateWeights(ctx: Context, body: Record<string, unknown>): Promise<{ success: true; message: string }> {
  checkKeys(body, ["model_path", "weight_version", "load_format", "abort_all_requests"]);
  const path = stringField(body, "model_path", true) as string;
  if (body.load_format !== undefined && body.load_format !== null && body.load_format !== "auto") throw new ApiError(400, "'load_format' must be \"auto\"", "load_format", "unsupported_parameter");
  if (body.abort_all_requests === true) throw new ApiError(400, "'abort_all_requests' is not supported: the reload waits for the wave under way instead", "abort_all_requests", "unsupported_parameter");
  const version = stringField(body, "weight_version", false);
  if (!existsSync(path)) throw new ApiError(404, `model_path ${path} does not exist on the server`, "model_path", "not_found");
  let params: Params;
  try {
    const ck = await loadCheckpoint(path, { optimizer: false });
    const want = JSON.stringify(ctx.config);
    if (JSON.stringify(ck.config) !== want) throw new Error(`its config.json differs from the served model's (${JSON.stringify(ck.config).slice(0, 120)} vs ${want.slice(0, 120)})`);
    params = ck.params;
  } catch (e) {
    throw new ApiError(400, `could not load weights from ${path}: ${(e as Error).message}`, "model_path", "invalid_value");
  }
  // Every scheduler is held between waves while the shared weights change.
  const schedulers = [ctx.scheduler, ...[...ctx.adapters.values()].map((a) => a.scheduler)];
  const hold = async (i: number): Promise<void> => {
    if (i === schedulers.length) {
      ctx.params.data.set(params.data);
      await ctx.generator.refreshWeights();
      if (version !== undefined) ctx.version.base = version;
      return;
    }
    await (schedulers[i] as Scheduler).exclusive(() => hold(i + 1));
  };
  await hold(0);
  return { success: true, message: `Succeeded to update model weights from ${path}${version === undefined ? "" : ` (weight_version ${version})`}.` };
}

async function readJsonBody(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const raw = await readBody(req, limit);
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    throw new ApiError(400, "We could not parse the JSON body of your request: expected a JSON object", null, "invalid_json");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new ApiError(400, "the request body must be a JSON object");
  return body as Record<string, unknown>;
}

async function handle(ctx: Context, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? "/").split("?")[0] as string;
  const modelPath = /^\/v1\/models\/(.+)$/.exec(path);
  const allowed = modelPath === null ? ROUTES[path] : "GET";
  if (allowed === undefined) throw new ApiError(404, `Unknown route ${req.method ?? ""} ${path}; this server has GET /v1/models, POST /v1/chat/completions, POST /v1/completions (docs/serve.md lists the rest)`, null, "unknown_route");
  if (req.method !== allowed) {
    res.setHeader("allow", allowed);
    throw new ApiError(405, `${path} accepts ${allowed}, not ${req.method ?? ""}`, null, "method_not_allowed");
  }
  const card = (id: string) => ({ id, object: "model", created: ctx.created, owned_by: "spiral", ...(id === ctx.modelName ? {} : { parent: ctx.modelName }) });
  if (path === "/health") return sendJson(res, 200, { status: "ok" });
  if (path === "/get_weight_version") return sendJson(res, 200, { weight_version: ctx.version.base });
  if (UPDATE_ROUTES.has(path)) {
    if (!ctx.runtimeUpdates) throw new ApiError(403, `${path} changes the served weights and is off: start the server with --runtime-updates`, null, "runtime_updates_disabled");
    const body = await readJsonBody(req, ctx.maxBodyBytes);
    if (path === "/update_weights_from_disk") return sendJson(res, 200, await updateWeights(ctx, body));
    const text = path === "/v1/load_lora_adapter" ? await loadLora(ctx, body) : await unloadLora(ctx, body);
    res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
    res.end(text);
    return;
  }
  if (path === "/v1/models") return sendJson(res, 200, { object: "list", data: [ctx.modelName, ...ctx.adapters.keys()].map(card) });
  if (modelPath !== null) {
    const id = decodeURIComponent(modelPath[1] as string);
    if (!ctx.adapters.has(id)) checkModel(ctx, id);
    return sendJson(res, 200, card(id));
  }
  // Announced while the body is read, so a wave starting now waits a moment for this request.
  const withdraw = ctx.scheduler.announce();
  try {
    const raw = await readBody(req, ctx.maxBodyBytes);
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      throw new ApiError(400, "We could not parse the JSON body of your request: expected a JSON object", null, "invalid_json");
    }
    const request = path === "/v1/chat/completions" ? parseChatRequest(body, ctx.limits) : parseCompletionRequest(body, ctx.limits);
    await complete(contextFor(ctx, request.model), res, request, withdraw);
  } finally {
    withdraw();
  }
}

/** Serves an already loaded model (tests and benches build one in memory). */
export async function serveModel(
  loaded: { config: ModelConfig; params: Params; tokenizer: Tokenizer; modelName: string; adapter?: Adapter; loras?: readonly { name: string; adapter: Adapter }[] },
  options: Omit<ServeOptions, "model" | "modelName" | "adapter"> = {},
): Promise<RunningServer> {
  const engine: Context["adapterEngine"] = {
    ...(options.threads === undefined ? {} : { threads: options.threads }), ...(options.device === undefined ? {} : { device: options.device }),
    ...(options.precision === undefined ? {} : { precision: options.precision }), ...(options.sampler === undefined ? {} : { sampler: options.sampler }),
  };
  const generator = await Generator.create(loaded.config, loaded.params, loaded.tokenizer, { bakeWeights: true, ...(loaded.adapter === undefined ? {} : { adapter: loaded.adapter }), ...engine });
  const scheduler = new Scheduler(generator, createRng(options.seed ?? 0), options.maxBatch ?? 64);
  // Each extra adapter decodes in its own batches over the shared base (live weights: baking would
  // give every adapter's sessions their own prepacked copy of the base).
  const adapters = new Map<string, Served>();
  const weightVersion = options.weightVersion ?? "0";
  for (const { name, adapter } of loaded.loras ?? []) {
    if (name === loaded.modelName || adapters.has(name)) throw new Error(`serve: model id '${name}' is given twice`);
    const g = await Generator.create(loaded.config, loaded.params, loaded.tokenizer, { adapter, ...engine });
    adapters.set(name, { generator: g, scheduler: new Scheduler(g, createRng(options.seed ?? 0), options.maxBatch ?? 64), version: weightVersion });
  }
  const ctx: Context = {
    modelName: loaded.modelName, created: Math.floor(Date.now() / 1000), config: loaded.config, params: loaded.params, tokenizer: loaded.tokenizer, scheduler, generator, adapters,
    version: { base: weightVersion }, runtimeUpdates: options.runtimeUpdates === true, seed: options.seed ?? 0, maxBatch: options.maxBatch ?? 64,
    adapterEngine: engine,
    ...(loaded.adapter === undefined ? {} : { lora: true }),
    limits: { defaultMaxTokens: options.defaultMaxTokens ?? 512, maxTokens: options.maxTokens ?? 4096, maxN: options.maxN ?? 16 },
    maxBodyBytes: options.maxBodyBytes ?? 2 ** 20, contextLength: options.contextLength ?? loaded.config.maxPositionEmbeddings,
  };
  const server: Server = createServer((req, res) => {
    const started = performance.now();
    handle(ctx, req, res)
      .catch((e: unknown) => {
        if (res.destroyed) return; // the client has gone: nobody to tell
        const err = e instanceof ApiError ? e : new ApiError(500, `generation failed: ${(e as Error).message}`);
        if (res.headersSent) res.end();
        else sendJson(res, err.status, err.body());
      })
      .finally(() => options.log?.(`${req.method ?? ""} ${req.url ?? ""} ${res.statusCode} ${(performance.now() - started).toFixed(0)} ms`));
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 8000, options.host ?? "127.0.0.1", () => resolveListen());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}/v1`,
    port: address.port,
    modelName: loaded.modelName,
    scheduler,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await generator.release();
      for (const a of adapters.values()) await a.generator.release();
    },
  };
}

/** Loads a checkpoint directory and serves it. */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const tokenizer = loadTokenizer(options.model);
  const { config, params } = await loadCheckpoint(options.model, { optimizer: false });
  return serveCheckpoint({ config, params, tokenizer }, options);
}

/**
 * Serves a loaded base checkpoint with the adapters `options` names (`adapter`, `loras`: loaded
 * here), under `modelName`, else the adapter's or the checkpoint's directory name.
 */
export async function serveCheckpoint(base: { config: ModelConfig; params: Params; tokenizer: Tokenizer }, options: ServeOptions): Promise<RunningServer> {
  const { config, params, tokenizer } = base;
  const { model, modelName, adapter: adapterDir, loras: loraDirs, ...rest } = options;
  const adapter = adapterDir === undefined ? {} : { adapter: (await loadAdapter(adapterDir, config, { optimizer: false })).adapter };
  const loras = [];
  for (const { name, dir } of loraDirs ?? []) loras.push({ name, adapter: (await loadAdapter(dir, config, { optimizer: false })).adapter });
  return serveModel({ config, params, tokenizer, modelName: modelName ?? basename(resolve(adapterDir ?? model)), ...adapter, loras }, rest);
}
