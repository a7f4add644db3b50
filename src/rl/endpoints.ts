/**
 * Endpoint actors: the training games' replies sampled by OpenAI-compatible inference servers
 * (vLLM, SGLang, another `spiral serve`) instead of the in-process generator (docs/scale-out.md).
 *
 * The pool is a `Policy`: each request of a batch becomes one `/v1/completions` call whose prompt
 * is the learner tokenizer's token ids, with `return_tokens_as_token_ids` and `logprobs: 0`, so
 * the sampled ids come back exactly with their log-probs; a choice-constrained request (compact
 * prompts) sends `structured_outputs.choice` and its allowed sets are rebuilt from the same trie
 * the in-process generator walks. Each request carries a seed drawn from the caller's rng, so the
 * same step asks the same questions whichever server answers, and a retried turn gets the same
 * reply from a server at the same weights.
 *
 * Invariants:
 * - Exact tokens: a reply is accepted for training only when every log-prob token is
 *   "token_id:N", there is one log-prob per id, and decode(ids) equals the returned text; else
 *   the game still takes the server's text as the move but the sample is marked `untrainable`
 *   and counted (`stats.droppedSamples`), never trained on.
 * - Versions: a reply's version is the server's `metadata.weight_version` when it sends one, else
 *   the version the pool last synced that server to; requests go only to servers synced to the
 *   latest published version.
 * - Faults: a refused connection, a timeout, a 5xx, a 404 for our model (a restarted server) or a
 *   body cut off mid-way marks the server down and the turn is retried on another one, at most
 *   `maxAttempts` times; a down server is probed (`GET /health`) and re-synced before it takes
 *   requests again. A turn yields at most one accepted reply (no game repeats a turn); a turn whose
 *   attempts all failed is a `TransportFailure` (`generateSettled`: the actor ends that game as
 *   "transport"; `generate` fails). With no live server for `giveUpSeconds`, or every turn failing
 *   for that long, the pool counts as lost: calls reject with `EndpointsLostError`, naming every
 *   server and why it is down, until a server answers again. Transport failures are counted apart
 *   from invalid moves (`stats.transportFailures`, `stats.failedTurns`).
 * - Other 4xx answers (a request the server refuses: too long a prompt, a missing feature) are
 *   errors, not faults: retrying elsewhere would not help.
 */
import { buildChoiceTrie } from "../engine/infer/trie.js";
import type { Tokenizer } from "../engine/tokenizer/tokenizer.js";
import type { Rng } from "../core/rng.js";
import { encodePrompt } from "../policy/model-policy.js";
import { isTransportFailure, PolicyUnavailableError, type Policy, type PolicyRequest, type PolicyResult, type TransportFailure } from "../policy/policy.js";

export interface EndpointSpec {
  /** Base URL, with or without the trailing /v1. */
  readonly url: string;
  /** Relative share of requests (> 0). */
  readonly weight: number;
  /** Requests in flight at once at most. */
  readonly concurrency: number;
}

/** What the servers should serve after a learner step (see endpoint-sync.ts). */
export type WeightUpdate =
  | { readonly kind: "full"; readonly version: number; readonly path: string }
  | {
      readonly kind: "lora"; readonly version: number; readonly path: string; readonly name: string;
      /** A base the servers must first reload from disk (a LoRA run on a preset base), once per contact. */
      readonly reloadBase?: string;
    };

export interface EndpointPoolOptions {
  readonly endpoints: readonly EndpointSpec[];
  readonly tokenizer: Tokenizer;
  readonly temperature: number;
  readonly topP: number;
  /** Per request attempt. Default 120 s. */
  readonly timeoutSeconds?: number;
  /** Attempts per turn before the call fails. Default max(3, 2 × servers). */
  readonly maxAttempts?: number;
  /** How often down servers are probed. Default 0.5 s. */
  readonly probeSeconds?: number;
  /** How long the pool may have no live server (or fail every turn) before it counts as lost. Default 30 s. */
  readonly giveUpSeconds?: number;
  /** LoRA adapters kept loaded per server (the latest `keepVersions`; in-flight requests may name older ones). Default 2. */
  readonly keepVersions?: number;
  readonly log?: (line: string) => void;
}

export interface EndpointStats {
  readonly url: string;
  readonly live: boolean;
  readonly downReason?: string;
  /** The version the server was last synced to (null: never). */
  readonly version: number | null;
  readonly requests: number;
  readonly transportFailures: number;
  /** Seconds with at least one request in flight. */
  readonly busySeconds: number;
}

export interface EndpointPoolStats {
  readonly requests: number;
  /** Attempts that failed in transport (refused, timeout, 5xx, cut off, model gone), each retried or fatal. */
  readonly transportFailures: number;
  readonly retries: number;
  /** Turns whose every attempt failed (their games end as "transport"). */
  readonly failedTurns: number;
  /** Replies whose token ids did not check out: played, not trained on. */
  readonly droppedSamples: number;
  readonly syncs: number;
  readonly syncSeconds: number;
  readonly endpoints: readonly EndpointStats[];
}

/** A policy result from a server: the version that produced it, and whether the learner may use it. */
export interface EndpointResult extends PolicyResult {
  readonly policyVersion: number;
  /** Why the sample must not be trained on (its ids did not check out); absent when it may. */
  readonly untrainable?: string;
}

interface Endpoint {
  readonly spec: EndpointSpec;
  readonly root: string;
  readonly v1: string;
  live: boolean;
  downReason: string;
  downSince: number;
  /** The served base model id (GET /v1/models), for full-weight runs. */
  baseModel: string | undefined;
  /** Synced version and the model id that serves it. */
  version: number | null;
  model: string | undefined;
  /** LoRA adapter names loaded by the pool, oldest first. */
  loaded: string[];
  inflight: number;
  busySince: number;
  busyMs: number;
  requests: number;
  failures: number;
  syncing: boolean;
}

class TransportError extends Error {}

/** No server has lived (or answered a turn) for the pool's give-up time. */
export class EndpointsLostError extends PolicyUnavailableError {
  override name = "EndpointsLostError";
}

/** "http://h:p", "http://h:p/" or "http://h:p/v1" → the server root and its /v1 base. */
export function endpointUrls(url: string): { root: string; v1: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`actor endpoint: expected an http(s) URL such as http://10.0.0.2:8000/v1; got "${url}"`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error(`actor endpoint: expected an http(s) URL; got "${url}"`);
  const path = u.pathname.replace(/\/+$/, "");
  const root = `${u.origin}${path.endsWith("/v1") ? path.slice(0, -3) : path}`;
  return { root, v1: `${root}/v1` };
}

/** Why a fetch failed, in a word where there is one (ECONNREFUSED, ECONNRESET, a timeout). */
function reasonOf(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === "TimeoutError") return "timed out";
  return e.cause?.code ?? e.cause?.message ?? e.message;
}

/** "token_id:N" → N; undefined otherwise. */
function tokenIdOf(token: unknown): number | undefined {
  if (typeof token !== "string") return undefined;
  const m = /^token_id:(\d+)$/.exec(token);
  return m === null ? undefined : Number(m[1]);
}

export class EndpointPool {
  private readonly eps: Endpoint[];
  private target: WeightUpdate | undefined;
  private waiters: (() => void)[] = [];
  private probing: ReturnType<typeof setInterval> | undefined;
  private closed = false;
  private counts = { requests: 0, transportFailures: 0, retries: 0, failedTurns: 0, droppedSamples: 0, syncs: 0, syncMs: 0 };
  /** Since when every turn has failed (undefined: the last turn got its reply). */
  private failingSince: number | undefined;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly giveUpMs: number;
  private readonly keep: number;
  private readonly log: (line: string) => void;

  constructor(private readonly options: EndpointPoolOptions) {
    if (options.endpoints.length === 0) throw new Error("endpoint actors need at least one endpoint URL");
    this.eps = options.endpoints.map((spec) => {
      if (!(spec.weight > 0)) throw new Error(`actor endpoint ${spec.url}: weight must be > 0; got ${spec.weight}`);
      if (!(Number.isInteger(spec.concurrency) && spec.concurrency >= 1)) throw new Error(`actor endpoint ${spec.url}: concurrency must be an integer ≥ 1; got ${spec.concurrency}`);
      return {
        spec, ...endpointUrls(spec.url), live: false, downReason: "not yet contacted", downSince: performance.now(), baseModel: undefined, version: null, model: undefined,
        loaded: [], inflight: 0, busySince: 0, busyMs: 0, requests: 0, failures: 0, syncing: false,
      };
    });
    const seen = new Set<string>();
    for (const e of this.eps) {
      if (seen.has(e.root)) throw new Error(`actor endpoint ${e.spec.url} is given twice`);
      seen.add(e.root);
    }
    this.timeoutMs = (options.timeoutSeconds ?? 120) * 1000;
    this.maxAttempts = options.maxAttempts ?? Math.max(3, 2 * this.eps.length);
    this.giveUpMs = (options.giveUpSeconds ?? 30) * 1000;
    this.keep = Math.max(1, options.keepVersions ?? 2);
    this.log = options.log ?? (() => {});
  }

  /** Contacts every server (GET /v1/models); fails when none answers. */
  async open(): Promise<void> {
    await Promise.all(this.eps.map((e) => this.contact(e)));
    if (!this.eps.some((e) => e.live)) throw new Error(`no actor endpoint answers: ${this.describeDown()}`);
    const period = (this.options.probeSeconds ?? 0.5) * 1000;
    this.probing = setInterval(() => void this.probe(), period);
    this.probing.unref?.();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.probing !== undefined) clearInterval(this.probing);
    this.wake();
  }

  get stats(): EndpointPoolStats {
    const now = performance.now();
    return {
      requests: this.counts.requests, transportFailures: this.counts.transportFailures, retries: this.counts.retries, failedTurns: this.counts.failedTurns, droppedSamples: this.counts.droppedSamples,
      syncs: this.counts.syncs, syncSeconds: this.counts.syncMs / 1000,
      endpoints: this.eps.map((e) => ({
        url: e.spec.url, live: e.live, ...(e.live ? {} : { downReason: e.downReason }), version: e.version, requests: e.requests, transportFailures: e.failures,
        busySeconds: (e.busyMs + (e.inflight > 0 ? now - e.busySince : 0)) / 1000,
      })),
    };
  }

  /** Servers live now. */
  get liveCount(): number {
    return this.eps.filter((e) => e.live).length;
  }

  /** The latest published version (null before the first publish). */
  get version(): number | null {
    return this.target?.version ?? null;
  }

  /**
   * Makes every live server serve `update` (full weights: reload from disk; LoRA: load the adapter
   * under a per-version name and drop the oldest); a server that fails is marked down and re-synced
   * when it comes back. Resolves when every live server is synced, or none is live (the pool
   * then waits for one to come back, up to its give-up time, when it is next asked).
   */
  async publish(update: WeightUpdate): Promise<void> {
    const started = performance.now();
    this.target = update;
    await Promise.all(this.eps.filter((e) => e.live).map((e) => this.syncOne(e).catch((err: unknown) => this.markDown(e, `sync failed: ${(err as Error).message}`))));
    this.counts.syncs++;
    this.counts.syncMs += performance.now() - started;
    if (!this.eps.some((e) => e.live)) this.log(`no actor endpoint took version ${update.version}: ${this.describeDown()}`);
    this.wake();
  }

  /** The pool as the actor's policy. */
  policy(name = "policy"): Policy {
    const versionOf = (): number => this.version ?? 0;
    return {
      name,
      get version() {
        return versionOf();
      },
      generate: (requests, rng) => this.generate(requests, rng),
      generateSettled: (requests, rng) => this.generateSettled(requests, rng),
      choiceProbabilities: () => Promise.reject(new Error("endpoint actors sample replies only: choice probabilities (evaluation) use the in-process policy")),
    };
  }

  /** One reply per request; fails when any turn failed in transport (`generateSettled` keeps the others). */
  async generate(requests: readonly PolicyRequest[], rng: Rng): Promise<EndpointResult[]> {
    const settled = await this.generateSettled(requests, rng);
    const failed = settled.find(isTransportFailure);
    if (failed !== undefined) throw new Error(failed.error);
    return settled as EndpointResult[];
  }

  /** One reply, or the turn's transport failure, per request; rejects with `EndpointsLostError` (see the file comment). */
  async generateSettled(requests: readonly PolicyRequest[], rng: Rng): Promise<(EndpointResult | TransportFailure)[]> {
    // Drawn up front, in request order: the same rng gives the same seeds however replies arrive.
    const seeds = requests.map(() => rng.nextUint32());
    return Promise.all(requests.map((r, i) => this.turn(r, seeds[i] as number)));
  }

  private async turn(request: PolicyRequest, seed: number): Promise<EndpointResult | TransportFailure> {
    const c = request.constraint;
    if (c?.trigger !== undefined && c.trigger !== "") {
      throw new Error("endpoint actors cannot constrain the answer after free text (chat prompts with a constrained answer); use compact prompts, or chat prompts without the constraint");
    }
    const promptIds = encodePrompt(this.options.tokenizer, request.prompt);
    const choices = c === undefined ? undefined : [...new Set(c.choices)].map((x) => x + (c.suffix ?? ""));
    const tried = new Set<Endpoint>();
    const failures: string[] = [];
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const e = await this.acquire(tried);
      const version = e.version ?? 0;
      const body = {
        model: e.model, prompt: promptIds, max_tokens: request.maxNewTokens, temperature: this.options.temperature, top_p: this.options.topP, seed,
        logprobs: 0, return_tokens_as_token_ids: true, ...(choices === undefined ? {} : { structured_outputs: { choice: choices } }),
      };
      try {
        this.counts.requests++;
        e.requests++;
        const reply = await this.send(e, body);
        const accepted = this.accept(reply, promptIds, version, request);
        this.failingSince = undefined;
        return accepted;
      } catch (err) {
        if (!(err instanceof TransportError)) throw err;
        this.counts.transportFailures++;
        e.failures++;
        failures.push(`${e.spec.url}: ${err.message}`);
        this.markDown(e, err.message);
        tried.add(e);
        if (attempt < this.maxAttempts) this.counts.retries++;
      } finally {
        this.release(e);
      }
    }
    this.counts.failedTurns++;
    const error = `an actor turn failed ${this.maxAttempts} times in transport: ${failures.join("; ")}`;
    const now = performance.now();
    this.failingSince ??= now;
    if (now - this.failingSince > this.giveUpMs) throw new EndpointsLostError(`every actor turn has failed for ${this.giveUpMs / 1000} s (${error}): ${this.describeDown()}`);
    return { kind: "transport", error };
  }

  /** One attempt: the parsed reply, or a TransportError for anything worth retrying elsewhere. */
  private async send(e: Endpoint, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    let res: Response;
    let text: string;
    try {
      res = await fetch(`${e.v1}/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body), signal: AbortSignal.timeout(this.timeoutMs) });
      text = await res.text();
    } catch (err) {
      throw new TransportError((err as Error).name === "TimeoutError" ? `no answer within ${this.timeoutMs / 1000} s` : reasonOf(err));
    }
    const serverMessage = (): string => {
      try {
        return (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? text.slice(0, 200);
      } catch {
        return text.slice(0, 200);
      }
    };
    if (res.status >= 500 || res.status === 429 || res.status === 408) throw new TransportError(`HTTP ${res.status}: ${serverMessage()}`);
    // Our model id gone: the server restarted or dropped the adapter; re-synced when probed back in.
    if (res.status === 404) throw new TransportError(`HTTP 404 (model ${String(body.model)} gone?): ${serverMessage()}`);
    if (res.status !== 200) throw new Error(`actor endpoint ${e.spec.url} refused a request (HTTP ${res.status}): ${serverMessage()}`);
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new TransportError(`the reply was cut off or is not JSON (${text.length} bytes)`);
    }
  }

  /** The reply as a sample, checked token for token (see the file comment). */
  private accept(reply: Record<string, unknown>, promptIds: number[], sentVersion: number, request: PolicyRequest): EndpointResult {
    const choice = (reply.choices as { text?: unknown; logprobs?: { tokens?: unknown[]; token_logprobs?: unknown[] } }[] | undefined)?.[0];
    if (choice === undefined || typeof choice.text !== "string") throw new TransportError("the reply has no choices[0].text");
    const text = choice.text;
    // LoRA: the adapter's name is its version. Full weights: the server's word when it gives one.
    const reported = Number((reply.metadata as { weight_version?: unknown } | undefined)?.weight_version);
    const policyVersion = this.target?.kind !== "lora" && Number.isInteger(reported) ? reported : sentVersion;
    const tokens = choice.logprobs?.tokens ?? [];
    const lps = choice.logprobs?.token_logprobs ?? [];
    const ids = tokens.map(tokenIdOf);
    const tk = this.options.tokenizer;
    let why: string | undefined;
    if (ids.length === 0 || ids.some((id) => id === undefined)) why = "the server did not return token ids (return_tokens_as_token_ids)";
    else if (lps.length !== ids.length || lps.some((x) => typeof x !== "number" || !Number.isFinite(x))) why = "log-probs missing for some tokens";
    else if (tk.decode(ids as number[], { skipSpecialTokens: true }) !== text) why = "decode(ids) differs from the returned text (another tokenizer?)";
    let allowedIds: (readonly number[] | null)[] | undefined;
    if (why === undefined && request.constraint !== undefined) {
      const trie = buildChoiceTrie(tk, request.constraint);
      let node = trie.root;
      allowedIds = [];
      for (const id of ids as number[]) {
        const allowed = Array.from(trie.allowed(node));
        if (!allowed.includes(id)) {
          why = `token ${id} leaves the constraint (the server spelled the choice in other tokens)`;
          break;
        }
        allowedIds.push(allowed);
        node = trie.next(node, id);
      }
    }
    if (why !== undefined) {
      this.counts.droppedSamples++;
      this.log(`dropped a sample: ${why}`);
      const fallback = tk.encode(text);
      return { text, promptIds, generatedIds: fallback, logprobs: fallback.map(() => 0), policyVersion, untrainable: why };
    }
    return { text, promptIds, generatedIds: ids as number[], logprobs: lps as number[], ...(allowedIds === undefined ? {} : { allowedIds }), policyVersion };
  }

  /** Waits for a live, synced server with room, preferring ones this turn has not failed on. */
  private async acquire(avoid: ReadonlySet<Endpoint>): Promise<Endpoint> {
    for (;;) {
      if (this.closed) throw new Error("the endpoint pool is closed");
      const ready = this.eps.filter((e) => e.live && !e.syncing && e.inflight < e.spec.concurrency && (this.target === undefined || e.version === this.target.version));
      const fresh = ready.filter((e) => !avoid.has(e));
      const pool = fresh.length > 0 ? fresh : ready.length > 0 && !this.eps.some((e) => e.live && !avoid.has(e)) ? ready : [];
      if (pool.length > 0) {
        // Weighted least-loaded: the server whose share is least used.
        let best = pool[0] as Endpoint;
        for (const e of pool) if ((e.inflight + 1) / e.spec.weight < (best.inflight + 1) / best.spec.weight) best = e;
        if (best.inflight === 0) best.busySince = performance.now();
        best.inflight++;
        return best;
      }
      if (!this.eps.some((e) => e.live)) {
        const since = Math.min(...this.eps.map((e) => e.downSince));
        if (performance.now() - since > this.giveUpMs) throw new EndpointsLostError(`no actor endpoint has answered for ${this.giveUpMs / 1000} s: ${this.describeDown()}`);
      }
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 100).unref?.();
      });
    }
  }

  private release(e: Endpoint): void {
    e.inflight--;
    if (e.inflight === 0) e.busyMs += performance.now() - e.busySince;
    this.wake();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private markDown(e: Endpoint, reason: string): void {
    if (e.live) {
      e.downSince = performance.now();
      this.log(`actor endpoint ${e.spec.url} is down: ${reason}`);
    }
    e.live = false;
    e.downReason = reason;
    this.wake();
  }

  private describeDown(): string {
    return this.eps.map((e) => `${e.spec.url} (${e.live ? "live" : e.downReason})`).join(", ");
  }

  private async getJson(url: string): Promise<unknown> {
    const res = await fetch(url, { signal: AbortSignal.timeout(Math.min(this.timeoutMs, 5000)) });
    if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
    return res.json();
  }

  private async postUpdate(url: string, body: unknown): Promise<void> {
    const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body), signal: AbortSignal.timeout(this.timeoutMs) });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`POST ${url}: HTTP ${res.status}: ${text.slice(0, 300)}`);
    // SGLang answers 200 with { success: false, message } when a reload fails.
    if (text.startsWith("{") && (JSON.parse(text) as { success?: unknown }).success === false) throw new Error(`POST ${url}: ${text.slice(0, 300)}`);
  }

  /** First contact or a probe: the server's model id, its weights synced, then live. */
  private async contact(e: Endpoint): Promise<void> {
    try {
      const models = (await this.getJson(`${e.v1}/models`)) as { data?: { id?: unknown; parent?: unknown }[] };
      const base = models.data?.find((m) => m.parent === undefined || m.parent === null) ?? models.data?.[0];
      if (typeof base?.id !== "string") throw new Error("GET /v1/models lists no model");
      e.baseModel = base.id;
      // A server coming back may have restarted: it holds none of the adapters we loaded.
      e.loaded = [];
      e.version = null;
      e.model = e.baseModel;
      // A publish while this ran skipped the server (not live yet): catch up to the latest.
      while (this.target !== undefined && e.version !== this.target.version) await this.syncOne(e);
      e.live = true;
      this.log(`actor endpoint ${e.spec.url}: live (model ${e.model ?? "?"}${e.version === null ? "" : `, version ${e.version}`})`);
      this.wake();
    } catch (err) {
      e.live = false;
      e.downReason = reasonOf(err);
    }
  }

  private async probe(): Promise<void> {
    for (const e of this.eps) {
      if (e.live || e.syncing || this.closed) continue;
      // Marked until contact ends: a probe of this server that outlasts the probe period (a slow
      // GET /v1/models) must not start a second contact beside it, which would reset the version
      // the first had just synced and reload the weights again.
      e.syncing = true;
      try {
        // vLLM's /health answers 200 with an empty body, SGLang's and spiral's with JSON.
        const r = await fetch(`${e.root}/health`, { signal: AbortSignal.timeout(2000) });
        await r.arrayBuffer();
        if (r.status !== 200) throw new Error(`health: HTTP ${r.status}`);
        await this.contact(e);
      } catch (err) {
        e.downReason = reasonOf(err);
      } finally {
        e.syncing = false;
      }
    }
  }

  private async syncOne(e: Endpoint): Promise<void> {
    const u = this.target;
    if (u === undefined || e.version === u.version) return;
    e.syncing = true;
    try {
      if (u.kind === "full") {
        await this.postUpdate(`${e.root}/update_weights_from_disk`, { model_path: u.path, weight_version: String(u.version) });
        e.model = e.baseModel;
      } else {
        if (e.version === null && u.reloadBase !== undefined) await this.postUpdate(`${e.root}/update_weights_from_disk`, { model_path: u.reloadBase });
        const name = `${u.name}-v${u.version}`;
        const load = { lora_name: name, lora_path: u.path };
        await this.postUpdate(`${e.v1}/load_lora_adapter`, load).catch(async (err: unknown) => {
          // Still loaded from before the server was marked down: load it afresh.
          if (!/already been loaded/.test((err as Error).message)) throw err;
          await this.postUpdate(`${e.v1}/unload_lora_adapter`, { lora_name: name });
          await this.postUpdate(`${e.v1}/load_lora_adapter`, load);
        });
        e.loaded.push(name);
        e.model = name;
        while (e.loaded.length > this.keep) {
          const old = e.loaded.shift() as string;
          await this.postUpdate(`${e.v1}/unload_lora_adapter`, { lora_name: old }).catch((err: unknown) => this.log(`actor endpoint ${e.spec.url}: unloading ${old}: ${(err as Error).message}`));
        }
      }
      e.version = u.version;
    } finally {
      e.syncing = false;
    }
  }
}
