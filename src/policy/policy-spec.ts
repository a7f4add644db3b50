/**
 * Policy specs: one string names a player everywhere (`spiral eval --a/--b`, `--tournament`,
 * `bench-math --model`, train's `--opponent`).
 *
 *   random | minimax | nash | heuristic | tactics | hold-at-20 …   a reference agent (per game)
 *   optimal                                  the game's perfect player: TicTacToe minimax,
 *                                            Kuhn 1-round Nash, Nim zero nim-sum
 *   openai:<base-url>#<model>                an OpenAI-compatible endpoint; key from
 *                                            $SPIRAL_OPENAI_API_KEY, else $OPENAI_API_KEY
 *   <directory>                              a checkpoint (config.json + weights)
 *   <base>+<adapter>                         a checkpoint with a LoRA adapter (PEFT directory) applied
 *   <adapter directory>                      the same, the base read from its base_model_name_or_path
 *
 * A checkpoint plays with the prompt mode of its training run when it sits in a run directory
 * (runs/<name>/config.json's `promptMode`, and that run's tokenizer when the checkpoint has no
 * tokenizer.json); otherwise the byte-level tokenizer (a tiny model trained from scratch) means
 * compact prompts with constrained decoding, any other chat prompts with boxed-answer extraction.
 * These are training's prompt modes (`policy/prompt-mode.ts`), so a model is evaluated as it was
 * trained. An endpoint plays with chat prompts.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Agent } from "../games/agent.js";
import type { GameInfo, Observation } from "../games/game.js";
import type { Rng } from "../core/rng.js";
import { makeReferenceAgent } from "../games/agent-registry.js";
import { Generator } from "../engine/infer/generate.js";
import { LossRunner } from "../engine/train/loss-runner.js";
import { openModelDir, runSettingsOf } from "../engine/weights/model-dir.js";
import { loadAdapter } from "../engine/weights/peft.js";
import { ByteTokenizer } from "../engine/tokenizer/byte-tokenizer.js";
import type { Tokenizer } from "../engine/tokenizer/tokenizer.js";
import { modelPolicy } from "./model-policy.js";
import type { Policy } from "./policy.js";
import { chatMode, compactMode, type PromptMode, type PromptModeName } from "./prompt-mode.js";
import { openaiPolicy } from "./openai-policy.js";
import type { Device, Precision, SamplerPlace } from "../engine/graph/device.js";

export type PolicySpec =
  | { readonly kind: "reference"; readonly name: string }
  | { readonly kind: "checkpoint"; readonly dir: string; readonly adapter?: string }
  | { readonly kind: "openai"; readonly baseUrl: string; readonly model: string };

/** Names that resolve to reference agents (which games each plays is the registry's business). */
export const REFERENCE_NAMES = ["random", "optimal", "minimax", "nash", "heuristic", "tactics", "hold-at-20"] as const;

/** What `optimal` means per game: the registered perfect (or equilibrium) player. */
export const OPTIMAL_BY_GAME: Readonly<Record<string, string>> = {
  "TicTacToe-v0": "minimax",
  "KuhnPoker-v1-1round": "nash",
  "KuhnPoker-v1": "nash",
  "Nim-v0": "optimal",
};

const AGENTS_HELP = `a reference agent (${REFERENCE_NAMES.join(", ")})`;
const SPEC_HELP = `a checkpoint directory, ${AGENTS_HELP} or openai:<base-url>#<model>`;
const LOCAL_SPEC_HELP = `a checkpoint directory or ${AGENTS_HELP}`;

const unknownPolicy = (spec: string, expected: string): string => `Unknown policy "${spec}": not a directory and not a reference agent. Expected ${expected}`;

/** What is wrong with a spec that names no policy, for callers that take no endpoints (training opponents). */
export function unknownLocalPolicy(spec: string): string {
  return unknownPolicy(spec, LOCAL_SPEC_HELP);
}

/** A spec that is neither a directory, a reference agent nor an endpoint. */
export class UnknownPolicyError extends Error {
  constructor(readonly spec: string) {
    super(unknownPolicy(spec, SPEC_HELP));
  }
}

export function parsePolicySpec(text: string): PolicySpec {
  const spec = text.trim();
  if (spec === "") throw new Error(`Empty policy spec; expected ${SPEC_HELP}`);
  if (spec.startsWith("openai:")) {
    const rest = spec.slice("openai:".length);
    const hash = rest.lastIndexOf("#");
    const baseUrl = hash < 0 ? rest : rest.slice(0, hash);
    const model = hash < 0 ? "" : rest.slice(hash + 1);
    if (model === "" || !/^https?:\/\/[^/]+/.test(baseUrl)) {
      throw new Error(`Expected openai:<base-url>#<model> (e.g. openai:http://127.0.0.1:8000/v1#qwen3-4b); got "${spec}"`);
    }
    return { kind: "openai", baseUrl, model };
  }
  // A directory wins over a reference name, so a checkpoint called "random" can still be named.
  // What is wrong with one (a run directory, no config.json, no tokenizer…) is said when it is
  // opened (engine/weights/model-dir.ts), before any game.
  const isDir = (d: string) => existsSync(d) && statSync(d).isDirectory();
  const plus = spec.lastIndexOf("+");
  if (!isDir(spec) && plus > 0) {
    const dir = spec.slice(0, plus);
    const adapter = spec.slice(plus + 1);
    if (!isDir(dir) || !existsSync(join(dir, "config.json"))) throw new Error(`Expected BASE+ADAPTER with BASE a checkpoint directory; got "${dir}" in "${spec}"`);
    if (!existsSync(join(adapter, "adapter_config.json"))) throw new Error(`Expected BASE+ADAPTER with ADAPTER a LoRA adapter directory (adapter_config.json); got "${adapter}" in "${spec}"`);
    return { kind: "checkpoint", dir, adapter };
  }
  if (isDir(spec) && !existsSync(join(spec, "config.json")) && existsSync(join(spec, "adapter_config.json"))) {
    const base = adapterBase(spec);
    if (base === undefined) throw new Error(`${spec} is a LoRA adapter whose base_model_name_or_path is not a local checkpoint directory; name the base as BASE+${spec}`);
    return { kind: "checkpoint", dir: base, adapter: spec };
  }
  if (isDir(spec)) return { kind: "checkpoint", dir: spec };
  if ((REFERENCE_NAMES as readonly string[]).includes(spec)) return { kind: "reference", name: spec };
  throw new UnknownPolicyError(spec);
}

/** The spec as one string again (for tables and transcripts). */
export function formatPolicySpec(spec: PolicySpec): string {
  if (spec.kind === "reference") return spec.name;
  if (spec.kind === "checkpoint") return spec.adapter === undefined ? spec.dir : `${spec.dir}+${spec.adapter}`;
  return `openai:${spec.baseUrl}#${spec.model}`;
}

/** An adapter directory's base_model_name_or_path, when that is a checkpoint directory here. */
function adapterBase(dir: string): string | undefined {
  try {
    const base = (JSON.parse(readFileSync(join(dir, "adapter_config.json"), "utf8")) as { base_model_name_or_path?: unknown }).base_model_name_or_path;
    return typeof base === "string" && existsSync(join(base, "config.json")) ? base : undefined;
  } catch {
    return undefined;
  }
}

/** A reference agent for `gameId`, with `optimal` resolved to the game's perfect player. */
export function referenceAgentFor(name: string, gameId: string): Agent {
  if (name === "optimal") {
    const resolved = OPTIMAL_BY_GAME[gameId];
    if (resolved === undefined) throw new Error(`"optimal" has no player for ${gameId}; it exists for ${Object.keys(OPTIMAL_BY_GAME).join(", ")}`);
    return { ...makeReferenceAgent(resolved, gameId), name: "optimal" };
  }
  return makeReferenceAgent(name, gameId);
}

export interface SamplingSettings {
  /** Default 0.6 (SPIRAL's evaluation temperature). */
  readonly temperature: number;
  readonly topP?: number;
  /** Token budget of one reply. */
  readonly maxNewTokens: number;
  /** Requests in flight at once for an endpoint. */
  readonly concurrency?: number;
  /** ORT intra-op threads for checkpoints. */
  readonly threads?: number;
  /** Checkpoints: where their graphs run (default cpu; docs/device.md). */
  readonly device?: Device;
  /** Checkpoints: fp16 decodes and scores in half precision on webgpu (docs/device.md "Precision"). */
  readonly precision?: Precision;
  /** Checkpoints on webgpu: where tokens are drawn (default device; docs/device.md "The sampler"). */
  readonly sampler?: SamplerPlace;
  /** Checkpoints: the prompt mode; default the training run's, else by tokenizer (see the file comment). */
  readonly promptMode?: PromptModeName;
  /** Endpoints: per-attempt timeout (default 120 000 ms) and retries (default 4). */
  readonly timeoutMs?: number;
  readonly retries?: number;
  /** Notes for the user (a checkpoint without a manifest is "unverified"). */
  readonly log?: (line: string) => void;
}

/** A model (checkpoint or endpoint) ready to play: its policy and how it is prompted. */
export interface PolicyPlayer {
  readonly kind: "policy";
  readonly name: string;
  readonly policy: Policy;
  readonly mode: PromptMode;
  readonly maxNewTokens: number;
  /** One `generate` call for all requests (a local model); false: one call per request (HTTP). */
  readonly batched: boolean;
  /** `choiceProbabilities` is exact (local models). */
  readonly exact: boolean;
  /** The tokenizer, for local models (reply lengths, chat rendering). */
  readonly tokenizer?: Tokenizer;
  close(): Promise<void>;
}

export interface AgentPlayer {
  readonly kind: "agent";
  readonly name: string;
  /** A fresh agent for a game (reference agents exist per game). */
  agentFor(gameId: string): Agent;
  close(): Promise<void>;
}

export type OpenedPolicy = PolicyPlayer | AgentPlayer;

export { runSettingsOf } from "../engine/weights/model-dir.js";

/**
 * Loads a checkpoint as a policy with its generator and log-prob runner. Prompt mode: the
 * caller's, else the training run's (a checkpoint inside a run directory), else compact for the
 * byte-level tokenizer and chat otherwise.
 */
export async function openCheckpoint(dir: string, settings: SamplingSettings, name = dir, adapterDir?: string): Promise<PolicyPlayer> {
  // A LoRA run's checkpoint sits in its run directory: the prompt mode comes from there.
  const run = runSettingsOf(adapterDir ?? dir);
  const { config, params, tokenizer } = await openModelDir(dir, { what: "checkpoint", ...(settings.log === undefined ? {} : { log: settings.log }) });
  const adapter = adapterDir === undefined ? {} : { adapter: (await loadAdapter(adapterDir, config, { optimizer: false })).adapter };
  const engine = { ...(settings.threads === undefined ? {} : { threads: settings.threads }), ...(settings.device === undefined ? {} : { device: settings.device }), ...(settings.precision === undefined ? {} : { precision: settings.precision }) };
  const sampler = settings.sampler === undefined ? {} : { sampler: settings.sampler };
  // Weights are fixed during evaluation: baked in, ORT prepacks them (on a GPU: uploaded once).
  const generator = await Generator.create(config, params, tokenizer, { bakeWeights: true, ...adapter, ...engine, ...sampler });
  const runner = new LossRunner(config, params, { ...adapter, ...engine });
  const policy = modelPolicy({
    name, generator, runner, tokenizer, temperature: settings.temperature, version: () => 0, ...(settings.topP === undefined ? {} : { topP: settings.topP }),
  });
  const modeName = settings.promptMode ?? run.promptMode ?? (tokenizer instanceof ByteTokenizer ? "compact" : "chat");
  return {
    kind: "policy", name, policy, mode: modeName === "compact" ? compactMode : chatMode(), maxNewTokens: settings.maxNewTokens, batched: true, exact: true, tokenizer,
    async close() {
      await Promise.all([generator.release(), runner.release()]);
    },
  };
}

export async function openPolicy(spec: PolicySpec, settings: SamplingSettings): Promise<OpenedPolicy> {
  const name = formatPolicySpec(spec);
  if (spec.kind === "reference") {
    return { kind: "agent", name, agentFor: (gameId) => referenceAgentFor(spec.name, gameId), close: () => Promise.resolve() };
  }
  if (spec.kind === "checkpoint") return openCheckpoint(spec.dir, settings, name, spec.adapter);
  const policy = openaiPolicy({
    baseUrl: spec.baseUrl, model: spec.model, temperature: settings.temperature,
    ...(settings.topP === undefined ? {} : { topP: settings.topP }), ...(settings.concurrency === undefined ? {} : { concurrency: settings.concurrency }),
    ...(settings.timeoutMs === undefined ? {} : { timeoutMs: settings.timeoutMs }), ...(settings.retries === undefined ? {} : { retries: settings.retries }),
  });
  return { kind: "policy", name, policy, mode: chatMode(), maxNewTokens: settings.maxNewTokens, batched: false, exact: false, close: () => Promise.resolve() };
}

/**
 * Any opened policy as a game `Agent` (what the trainer's `--opponent` and the match runner take).
 * A model's `act` calls made in the same tick are coalesced into ONE `generate` call (the actor
 * asks all live games' opponent moves at once with `Promise.all`), so a checkpoint opponent is
 * still batched across games. The reply is read by the player's prompt mode; a reply with no
 * action becomes an empty move (invalid); a failed request rejects (a transport failure for the
 * runner).
 */
export function agentOf(player: OpenedPolicy, gameId: string, info: GameInfo): Agent {
  if (player.kind === "agent") return player.agentFor(gameId);
  type Waiting = { observation: Observation; rng: Rng; resolve: (r: { action: string; raw: string }) => void; reject: (e: unknown) => void };
  let waiting: Waiting[] = [];
  const flush = async (): Promise<void> => {
    const batch = waiting;
    waiting = [];
    const requests = batch.map((w) => player.mode.request(info, w.observation, player.maxNewTokens));
    try {
      // The first caller's stream drives the batch: the same calls in the same order give the same replies.
      const results = player.batched
        ? await player.policy.generate(requests, (batch[0] as Waiting).rng.split())
        : await Promise.all(requests.map((r, i) => player.policy.generate([r], (batch[i] as Waiting).rng.split()).then((x) => x[0] as (typeof x)[number])));
      batch.forEach((w, i) => {
        const text = results[i]?.text ?? "";
        const extracted = player.mode.extract(text, w.observation);
        // No action found: an empty move, which the game judges invalid (the raw text might
        // otherwise parse, e.g. a bracket in the reasoning of a reply with no box).
        w.resolve({ action: extracted.ok ? extracted.action : "", raw: text });
      });
    } catch (e) {
      for (const w of batch) w.reject(e);
    }
  };
  return {
    name: player.name,
    act(observation, rng) {
      return new Promise((resolve, reject) => {
        if (waiting.length === 0) setImmediate(() => void flush());
        waiting.push({ observation, rng, resolve, reject });
      });
    },
  };
}
