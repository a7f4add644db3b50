/**
 * The OpenAI wire format as `spiral serve` reads and writes it: request validation into typed
 * records, and OpenAI-shaped errors (`{ error: { message, type, param, code } }` with the HTTP
 * status a client expects).
 *
 * Nothing is silently ignored that would change the answer. Every field of a request is one of:
 * - implemented:
 *   both:        model, max_tokens, temperature, top_p, n, seed, stop, stream,
 *                stream_options.include_usage, logit_bias, presence_penalty, frequency_penalty
 *   chat:        messages, max_completion_tokens, logprobs, top_logprobs,
 *                chat_template_kwargs.enable_thinking (a vLLM-style extension)
 *   completions: prompt (string, [string] or token ids), logprobs (0–5: top alternatives),
 *                return_tokens_as_token_ids (vLLM's: log-prob tokens as "token_id:N", the end
 *                token included), structured_outputs.choice / guided_choice (vLLM's: the reply
 *                is one of the given strings)
 * - inert: OpenAI fields that do not change the generated text (`user`, `metadata`, `store`, …),
 *   accepted and ignored;
 * - not implemented (`tools`, `response_format`, `audio`, …): 400 `unsupported_parameter` naming
 *   the field, unless it has the one value that asks for nothing (`response_format` {"type":"text"},
 *   `tool_choice` "none", `modalities` ["text"], `echo` false, …);
 * - anything else: 400 `unknown_parameter` naming the field, as OpenAI answers an unrecognised
 *   argument (a vLLM extension such as `top_k` would otherwise be dropped without a word).
 */
import type { ChatMessage } from "../engine/tokenizer/tokenizer.js";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly type = status >= 500 ? "server_error" : status === 404 ? "not_found_error" : "invalid_request_error",
  ) {
    super(message);
  }

  body(): { error: { message: string; type: string; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** Sampling settings shared by both endpoints. */
export interface SamplingRequest {
  readonly model: string;
  readonly maxTokens: number;
  /** False when max_tokens was left out: the server may lower it to fit the context. */
  readonly maxTokensGiven: boolean;
  readonly temperature: number;
  readonly topP: number;
  readonly n: number;
  readonly seed: number | null;
  readonly stop: readonly string[];
  readonly stream: boolean;
  readonly includeUsage: boolean;
  /** Return the sampled tokens' log-probs. */
  readonly logprobs: boolean;
  /** Alternatives per position (0 = none). */
  readonly topLogprobs: number;
  /** Token id → bias in [−100, 100] (ids not yet checked against the vocabulary). */
  readonly logitBias: ReadonlyMap<number, number>;
  /** In [−2, 2]; 0 = off. */
  readonly presencePenalty: number;
  readonly frequencyPenalty: number;
}

export interface ChatRequest extends SamplingRequest {
  readonly kind: "chat";
  readonly messages: readonly ChatMessage[];
  readonly enableThinking?: boolean;
}

export interface CompletionRequest extends SamplingRequest {
  readonly kind: "completion";
  readonly prompt: string | readonly number[];
  /** vLLM's `return_tokens_as_token_ids`: log-prob tokens are "token_id:N", every generated token listed. */
  readonly tokenIds: boolean;
  /** vLLM's `structured_outputs: { choice }` (or the older `guided_choice`): the reply is one of these. */
  readonly choice?: readonly string[];
}

export interface Limits {
  /** max_tokens when the request gives none. */
  readonly defaultMaxTokens: number;
  /** Largest max_tokens accepted. */
  readonly maxTokens: number;
  readonly maxN: number;
}

type Json = Record<string, unknown>;

function field<T>(body: Json, name: string, check: (v: unknown) => v is T, expected: string): T | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (!check(v)) throw new ApiError(400, `'${name}' must be ${expected}; got ${JSON.stringify(v)?.slice(0, 80)}`, name, "invalid_value");
  return v;
}

const isNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isInt = (v: unknown): v is number => Number.isInteger(v);
const isBool = (v: unknown): v is boolean => typeof v === "boolean";
const isString = (v: unknown): v is string => typeof v === "string";

function ranged(body: Json, name: string, lo: number, hi: number, int: boolean): number | undefined {
  const v = field(body, name, int ? isInt : isNumber, int ? "an integer" : "a number");
  if (v !== undefined && (v < lo || v > hi)) throw new ApiError(400, `'${name}' must be in [${lo}, ${hi}]; got ${v}`, name, "invalid_value");
  return v;
}

type Endpoint = "chat" | "completion";

const IMPLEMENTED: Readonly<Record<Endpoint, readonly string[]>> = {
  chat: ["model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "n", "seed", "stop", "stream", "stream_options", "logprobs", "top_logprobs", "logit_bias", "presence_penalty", "frequency_penalty", "chat_template_kwargs"],
  completion: ["model", "prompt", "max_tokens", "temperature", "top_p", "n", "seed", "stop", "stream", "stream_options", "logprobs", "logit_bias", "presence_penalty", "frequency_penalty", "return_tokens_as_token_ids", "structured_outputs", "guided_choice"],
};

/** OpenAI fields that leave the generated text as it is (bookkeeping, caching, latency hints). */
const INERT: Readonly<Record<Endpoint, readonly string[]>> = {
  chat: ["user", "metadata", "store", "service_tier", "safety_identifier", "prompt_cache_key", "prompt_cache_options", "prompt_cache_retention", "prediction", "parallel_tool_calls"],
  completion: ["user"],
};

interface Unsupported {
  /** What the field asks for that this server does not do. */
  readonly what: string;
  /** The value that asks for nothing, accepted. */
  readonly noop?: (v: unknown, body: Json) => boolean;
}

const UNSUPPORTED: Readonly<Record<Endpoint, Readonly<Record<string, Unsupported>>>> = {
  chat: {
    tools: { what: "tool calling" },
    tool_choice: { what: "tool calling", noop: (v) => v === "none" },
    functions: { what: "function calling" },
    function_call: { what: "function calling", noop: (v) => v === "none" },
    response_format: { what: "structured output (only {\"type\":\"text\"} is served)", noop: (v) => typeof v === "object" && v !== null && (v as Json).type === "text" },
    audio: { what: "audio output" },
    modalities: { what: "output other than text", noop: (v) => Array.isArray(v) && v.length > 0 && v.every((m) => m === "text") },
    reasoning_effort: { what: "reasoning effort (use chat_template_kwargs.enable_thinking)" },
    verbosity: { what: "verbosity control" },
    web_search_options: { what: "web search" },
    moderation: { what: "moderation" },
  },
  completion: {
    echo: { what: "echoing the prompt", noop: (v) => v === false },
    suffix: { what: "insertion (a suffix)", noop: (v) => v === "" },
    best_of: { what: "best-of ranking", noop: (v, body) => v === (body.n ?? 1) },
  },
};

/** Rejects fields this server would otherwise ignore although they change the answer. */
function checkFields(body: Json, endpoint: Endpoint): void {
  for (const [name, v] of Object.entries(body)) {
    if (IMPLEMENTED[endpoint].includes(name) || INERT[endpoint].includes(name)) continue;
    const unsupported = Object.hasOwn(UNSUPPORTED[endpoint], name) ? UNSUPPORTED[endpoint][name] : undefined;
    if (unsupported !== undefined) {
      if (v === null || unsupported.noop?.(v, body) === true) continue;
      throw new ApiError(400, `'${name}' is not supported: this server does not implement ${unsupported.what}; leave '${name}' out`, name, "unsupported_parameter");
    }
    throw new ApiError(400, `Unrecognized request argument supplied: '${name}' (docs/serve.md lists the fields this server reads)`, name, "unknown_parameter");
  }
}

export const LOGIT_BIAS_MAX = 300;

/** `logit_bias`: { "token id": bias in [−100, 100] }, at most `LOGIT_BIAS_MAX` entries. */
function logitBias(body: Json): Map<number, number> {
  const v = body.logit_bias;
  const bias = new Map<number, number>();
  if (v === undefined || v === null) return bias;
  if (typeof v !== "object" || Array.isArray(v)) throw new ApiError(400, `'logit_bias' must be an object mapping token ids to biases in [-100, 100]; got ${JSON.stringify(v)?.slice(0, 80)}`, "logit_bias", "invalid_value");
  const entries = Object.entries(v as Json);
  // Bounds the per-token work a request can ask for; OpenAI's limit too.
  if (entries.length > LOGIT_BIAS_MAX) throw new ApiError(400, `'logit_bias' may bias at most ${LOGIT_BIAS_MAX} tokens; got ${entries.length}`, "logit_bias", "invalid_value");
  for (const [key, b] of entries) {
    if (!/^(0|[1-9]\d{0,9})$/.test(key)) throw new ApiError(400, `'logit_bias' keys must be token ids (non-negative integers); got ${JSON.stringify(key).slice(0, 40)}`, "logit_bias", "invalid_value");
    if (!isNumber(b) || b < -100 || b > 100) throw new ApiError(400, `'logit_bias' of token ${key} must be a number in [-100, 100]; got ${JSON.stringify(b)?.slice(0, 40)}`, "logit_bias", "invalid_value");
    bias.set(Number(key), b);
  }
  return bias;
}

function sampling(body: Json, limits: Limits, defaultMaxTokens: number, endpoint: Endpoint): SamplingRequest {
  checkFields(body, endpoint);
  const model = field(body, "model", isString, "a string");
  if (model === undefined) throw new ApiError(400, "'model' is required (GET /v1/models lists the served model)", "model", "missing_required_parameter");
  const given = ranged(body, "max_completion_tokens", 1, limits.maxTokens, true) ?? ranged(body, "max_tokens", 1, limits.maxTokens, true);
  // top_p 0 is the limit of an ever smaller nucleus: the most likely token alone (not "unset").
  const topPGiven = ranged(body, "top_p", 0, 1, false);
  const topP = topPGiven === 0 ? Number.MIN_VALUE : topPGiven;
  const stopRaw = body.stop;
  let stop: string[] = [];
  if (typeof stopRaw === "string") stop = [stopRaw];
  else if (Array.isArray(stopRaw) && stopRaw.length <= 4 && stopRaw.every(isString)) stop = stopRaw;
  else if (stopRaw !== undefined && stopRaw !== null) throw new ApiError(400, "'stop' must be a string or an array of at most 4 strings", "stop", "invalid_value");
  const streamOptions = body.stream_options as Json | undefined | null;
  return {
    model,
    maxTokens: given ?? defaultMaxTokens,
    maxTokensGiven: given !== undefined,
    temperature: ranged(body, "temperature", 0, 2, false) ?? 1,
    topP: topP ?? 1,
    n: ranged(body, "n", 1, limits.maxN, true) ?? 1,
    seed: field(body, "seed", isInt, "an integer") ?? null,
    stop: stop.filter((s) => s !== ""),
    stream: field(body, "stream", isBool, "a boolean") ?? false,
    includeUsage: typeof streamOptions === "object" && streamOptions !== null && streamOptions.include_usage === true,
    logprobs: false,
    topLogprobs: 0,
    logitBias: logitBias(body),
    presencePenalty: ranged(body, "presence_penalty", -2, 2, false) ?? 0,
    frequencyPenalty: ranged(body, "frequency_penalty", -2, 2, false) ?? 0,
  };
}

function messageContent(content: unknown, i: number): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content) && content.every((p) => typeof p === "object" && p !== null && (p as Json).type === "text" && typeof (p as Json).text === "string")) {
    return content.map((p) => (p as { text: string }).text).join("");
  }
  throw new ApiError(400, `messages[${i}].content must be a string or an array of text parts`, `messages[${i}].content`, "invalid_value");
}

export function parseChatRequest(body: unknown, limits: Limits): ChatRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new ApiError(400, "the request body must be a JSON object");
  const b = body as Json;
  const base = sampling(b, limits, limits.defaultMaxTokens, "chat");
  if (!Array.isArray(b.messages) || b.messages.length === 0) throw new ApiError(400, "'messages' must be a non-empty array of { role, content }", "messages", "invalid_value");
  const messages: ChatMessage[] = b.messages.map((m: unknown, i) => {
    const role = (m as Json | null)?.role;
    if (role !== "system" && role !== "user" && role !== "assistant" && role !== "developer") {
      throw new ApiError(400, `messages[${i}].role must be system, developer, user or assistant; got ${JSON.stringify(role)}`, `messages[${i}].role`, "invalid_value");
    }
    return { role: role === "developer" ? "system" : role, content: messageContent((m as Json).content, i) };
  });
  const logprobs = field(b, "logprobs", isBool, "a boolean") ?? false;
  const topLogprobs = ranged(b, "top_logprobs", 0, 20, true) ?? 0;
  if (topLogprobs > 0 && !logprobs) throw new ApiError(400, "'top_logprobs' needs 'logprobs': true", "top_logprobs", "invalid_value");
  const kwargs = b.chat_template_kwargs as Json | undefined | null;
  const thinking = typeof kwargs === "object" && kwargs !== null && typeof kwargs.enable_thinking === "boolean" ? kwargs.enable_thinking : undefined;
  return { ...base, kind: "chat", messages, logprobs, topLogprobs, ...(thinking === undefined ? {} : { enableThinking: thinking }) };
}

export function parseCompletionRequest(body: unknown, limits: Limits): CompletionRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new ApiError(400, "the request body must be a JSON object");
  const b = body as Json;
  const base = sampling(b, limits, 16, "completion");
  const p = b.prompt;
  let prompt: string | number[];
  if (typeof p === "string") prompt = p;
  else if (Array.isArray(p) && p.length === 1 && typeof p[0] === "string") prompt = p[0];
  else if (Array.isArray(p) && p.length > 0 && p.every(isInt)) prompt = p as number[];
  else throw new ApiError(400, "'prompt' must be a string, an array with one string, or an array of token ids (one prompt per request)", "prompt", "invalid_value");
  if (prompt === "") throw new ApiError(400, "'prompt' is empty", "prompt", "invalid_value");
  const lp = ranged(b, "logprobs", 0, 5, true);
  const tokenIds = field(b, "return_tokens_as_token_ids", isBool, "a boolean") ?? false;
  const choice = choiceOf(b);
  return { ...base, kind: "completion", prompt, logprobs: lp !== undefined, topLogprobs: lp ?? 0, tokenIds, ...(choice === undefined ? {} : { choice }) };
}

const isChoiceList = (v: unknown): v is string[] => Array.isArray(v) && v.length > 0 && v.length <= 256 && v.every((c) => typeof c === "string" && c !== "");

/**
 * The reply's choices: vLLM's `structured_outputs: { choice: [...] }`, or its older top-level
 * `guided_choice`. Other structured outputs (json, regex, grammar) are not implemented.
 */
function choiceOf(b: Json): string[] | undefined {
  const legacy = field(b, "guided_choice", isChoiceList, "a non-empty array of at most 256 non-empty strings");
  const so = b.structured_outputs;
  if (so === undefined || so === null) return legacy;
  if (typeof so !== "object" || Array.isArray(so)) throw new ApiError(400, "'structured_outputs' must be an object such as { \"choice\": [...] }", "structured_outputs", "invalid_value");
  for (const key of Object.keys(so)) {
    if (key !== "choice") throw new ApiError(400, `'structured_outputs.${key}' is not supported: this server implements only structured_outputs.choice`, `structured_outputs.${key}`, "unsupported_parameter");
  }
  const choice = (so as Json).choice;
  if (!isChoiceList(choice)) throw new ApiError(400, "'structured_outputs.choice' must be a non-empty array of at most 256 non-empty strings", "structured_outputs.choice", "invalid_value");
  if (legacy !== undefined) throw new ApiError(400, "give the choices once: 'structured_outputs.choice' or 'guided_choice', not both", "guided_choice", "invalid_value");
  return choice;
}
