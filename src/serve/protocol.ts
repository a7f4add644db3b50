/**
 * The OpenAI wire format as `spiral serve` reads and writes it: request validation into typed
 * records, and OpenAI-shaped errors (`{ error: { message, type, param, code } }` with the HTTP
 * status a client expects).
 *
 * Accepted (others are ignored, as OpenAI-compatible servers do, so clients that send
 * `user`, `frequency_penalty: 0`, … still work):
 *   chat:        model, messages, max_tokens | max_completion_tokens, temperature, top_p, n, seed,
 *                stop, stream, stream_options.include_usage, logprobs, top_logprobs,
 *                chat_template_kwargs.enable_thinking
 *   completions: model, prompt (string, [string] or token ids), max_tokens, temperature, top_p, n,
 *                seed, stop, stream, stream_options.include_usage, logprobs (0–5: top alternatives)
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
}

export interface ChatRequest extends SamplingRequest {
  readonly kind: "chat";
  readonly messages: readonly ChatMessage[];
  readonly enableThinking?: boolean;
}

export interface CompletionRequest extends SamplingRequest {
  readonly kind: "completion";
  readonly prompt: string | readonly number[];
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

function sampling(body: Json, limits: Limits, defaultMaxTokens: number): SamplingRequest {
  const model = field(body, "model", isString, "a string");
  if (model === undefined) throw new ApiError(400, "'model' is required (GET /v1/models lists the served model)", "model", "missing_required_parameter");
  const given = ranged(body, "max_completion_tokens", 1, limits.maxTokens, true) ?? ranged(body, "max_tokens", 1, limits.maxTokens, true);
  const topP = body.top_p === 0 ? undefined : ranged(body, "top_p", 0, 1, false);
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
  const base = sampling(b, limits, limits.defaultMaxTokens);
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
  const base = sampling(b, limits, 16);
  const p = b.prompt;
  let prompt: string | number[];
  if (typeof p === "string") prompt = p;
  else if (Array.isArray(p) && p.length === 1 && typeof p[0] === "string") prompt = p[0];
  else if (Array.isArray(p) && p.length > 0 && p.every(isInt)) prompt = p as number[];
  else throw new ApiError(400, "'prompt' must be a string, an array with one string, or an array of token ids (one prompt per request)", "prompt", "invalid_value");
  if (prompt === "") throw new ApiError(400, "'prompt' is empty", "prompt", "invalid_value");
  const lp = ranged(b, "logprobs", 0, 5, true);
  if (b.echo === true) throw new ApiError(400, "'echo' is not supported", "echo", "unsupported_parameter");
  return { ...base, kind: "completion", prompt, logprobs: lp !== undefined, topLogprobs: lp ?? 0 };
}
