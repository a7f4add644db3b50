/**
 * A policy served over HTTP by any OpenAI-compatible endpoint (vLLM, llama.cpp's server, Ollama,
 * hosted APIs, `spiral serve`).
 *
 * Invariants:
 * - Chat prompts go to `POST {baseUrl}/chat/completions`, text prompts to `POST {baseUrl}/completions`;
 *   `baseUrl` is what OpenAI clients call the base URL (it usually ends in `/v1`).
 * - At most `concurrency` requests are in flight at once, whatever the number of callers.
 * - 429, 5xx, timeouts and connection errors are retried up to `retries` times with exponential
 *   backoff (`backoffMs · 2^attempt`, or the server's `Retry-After` when it sends one); other 4xx
 *   are not retried. A request that still fails rejects with a `TransportError`: arenas count it
 *   as a transport failure, never as a lost game.
 * - Constraints are not sent (the endpoint cannot be constrained to our action set): replies are
 *   read like any free text, and invalid ones count as invalid moves.
 * - Randomness: each request's `seed` is drawn from the rng, so endpoints that honour `seed` give
 *   the same replies for the same rng state.
 */
import type { Rng } from "../core/rng.js";
import type { Policy, PolicyRequest, PolicyResult } from "./policy.js";

/** The environment variables read for the API key, in order. */
export const API_KEY_ENV = ["SPIRAL_OPENAI_API_KEY", "OPENAI_API_KEY"] as const;

export interface OpenAIPolicyOptions {
  readonly baseUrl: string;
  readonly model: string;
  /** Bearer token; default: $SPIRAL_OPENAI_API_KEY, else $OPENAI_API_KEY, else none. */
  readonly apiKey?: string;
  readonly temperature: number;
  readonly topP?: number;
  /** Requests in flight at once. Default 8. */
  readonly concurrency?: number;
  /** Per attempt. Default 120 000 ms. */
  readonly timeoutMs?: number;
  /** Retries after the first attempt. Default 4. */
  readonly retries?: number;
  /** First backoff. Default 500 ms. */
  readonly backoffMs?: number;
  /** Injected for tests; default the global fetch. */
  readonly fetch?: typeof fetch;
}

/** A request that could not be completed: the endpoint is unreachable, overloaded or refused it. */
export class TransportError extends Error {
  constructor(message: string, readonly status: number | null) {
    super(message);
    this.name = "TransportError";
  }
}

/** A `PolicyResult` from an endpoint: token ids are unknown, the reply's token count is reported. */
export interface RemoteResult extends PolicyResult {
  /** `usage.completion_tokens` when the endpoint reports it. */
  readonly completionTokens: number | null;
}

export function apiKeyFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const name of API_KEY_ENV) {
    const v = env[name];
    if (v !== undefined && v !== "") return v;
  }
  return undefined;
}

/** Bounded concurrency: `run` waits for one of `limit` slots. */
export function semaphore(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function retryable(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

function retryAfterMs(header: string | null): number | undefined {
  if (header === null) return undefined;
  const s = Number(header);
  return Number.isFinite(s) && s >= 0 ? Math.min(s * 1000, 60_000) : undefined;
}

/** POSTs JSON with timeouts and retries; resolves to the parsed body of a 2xx reply. */
export async function postJson(url: string, body: unknown, options: Pick<OpenAIPolicyOptions, "apiKey" | "timeoutMs" | "retries" | "backoffMs" | "fetch">): Promise<unknown> {
  const doFetch = options.fetch ?? fetch;
  const retries = options.retries ?? 4;
  const backoff = options.backoffMs ?? 500;
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (options.apiKey !== undefined) headers.authorization = `Bearer ${options.apiKey}`;
  let last = "";
  let lastStatus: number | null = null;
  for (let attempt = 0; attempt <= retries; attempt++) {
    let wait = backoff * 2 ** attempt;
    try {
      const res = await doFetch(url, { method: "POST", headers, body: JSON.stringify(body), signal: AbortSignal.timeout(options.timeoutMs ?? 120_000) });
      const text = await res.text();
      if (res.ok) {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          throw new TransportError(`${url}: expected a JSON body; got ${JSON.stringify(text.slice(0, 120))}`, res.status);
        }
      }
      lastStatus = res.status;
      last = `HTTP ${res.status}: ${text.slice(0, 300)}`;
      if (!retryable(res.status)) break;
      wait = retryAfterMs(res.headers.get("retry-after")) ?? wait;
    } catch (e) {
      if (e instanceof TransportError) throw e;
      lastStatus = null;
      const err = e as Error & { cause?: { code?: string } };
      last = err.name === "TimeoutError" ? `timed out after ${options.timeoutMs ?? 120_000} ms` : `${err.message}${err.cause?.code === undefined ? "" : ` (${err.cause.code})`}`;
    }
    if (attempt < retries) await sleep(wait);
  }
  throw new TransportError(`${url}: ${last}`, lastStatus);
}

interface ChatCompletionBody {
  choices?: { message?: { content?: string | null }; text?: string }[];
  usage?: { completion_tokens?: number };
}

function replyOf(url: string, body: unknown, chat: boolean): { text: string; completionTokens: number | null } {
  const b = body as ChatCompletionBody;
  const choice = b.choices?.[0];
  const text = chat ? choice?.message?.content : choice?.text;
  if (choice === undefined || (text !== undefined && text !== null && typeof text !== "string")) {
    throw new TransportError(`${url}: expected choices[0].${chat ? "message.content" : "text"} in the reply; got ${JSON.stringify(body).slice(0, 200)}`, null);
  }
  const tokens = b.usage?.completion_tokens;
  return { text: text ?? "", completionTokens: typeof tokens === "number" ? tokens : null };
}

export function openaiPolicy(options: OpenAIPolicyOptions): Policy & { readonly remote: true } {
  const base = options.baseUrl.replace(/\/+$/, "");
  const limit = semaphore(options.concurrency ?? 8);
  const apiKey = options.apiKey ?? apiKeyFromEnv();
  const post = (url: string, body: unknown) => limit(() => postJson(url, body, { ...options, ...(apiKey === undefined ? {} : { apiKey }) }));

  async function one(request: PolicyRequest, seed: number): Promise<RemoteResult> {
    const sampling = { model: options.model, max_tokens: request.maxNewTokens, temperature: options.temperature, seed, ...(options.topP === undefined ? {} : { top_p: options.topP }) };
    const chat = request.prompt.kind === "chat";
    const url = chat ? `${base}/chat/completions` : `${base}/completions`;
    const body = request.prompt.kind === "chat" ? { ...sampling, messages: request.prompt.messages } : { ...sampling, prompt: request.prompt.text };
    const reply = replyOf(url, await post(url, body), chat);
    return { text: reply.text, completionTokens: reply.completionTokens, promptIds: [], generatedIds: [], logprobs: [] };
  }

  return {
    name: `openai:${base}#${options.model}`,
    version: 0,
    remote: true,
    generate(requests, rng: Rng) {
      // Seeds drawn up front, in request order: the same rng gives the same seeds however the
      // requests interleave on the wire.
      const seeds = requests.map(() => rng.int(2 ** 31));
      return Promise.all(requests.map((r, i) => one(r, seeds[i] as number)));
    },
    choiceProbabilities() {
      return Promise.reject(new Error(`${options.model} at ${base}: an HTTP endpoint gives no exact choice probabilities; estimate them by sampling`));
    },
  };
}
