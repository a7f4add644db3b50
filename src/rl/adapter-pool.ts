/**
 * `--opponent pool:K` in a LoRA run: the opponent of step t is one of the last K adapter
 * snapshots (the adapters after steps t−K … t−1, the initial adapter counting as step 0), drawn
 * uniformly from `createRng(seed:pool:t)` — a cheap fictitious self-play. The current policy
 * takes either seat (the actor alternates it, as against any fixed opponent) and trains only on its
 * own seat's samples.
 *
 * The opponent has its own generator over the same frozen base and a buffer the drawn snapshot is
 * copied into (live inputs, nothing rebuilt); a snapshot is one copy of the adapter (megabytes),
 * so K of them cost K adapters. The pool is saved with each checkpoint (`opponent-pool.safetensors`
 * in the step directory), so a resumed run draws the same opponents.
 */
import { join } from "node:path";
import type { ModelConfig } from "../engine/model/config.js";
import { Generator } from "../engine/infer/generate.js";
import { type Adapter } from "../engine/model/lora.js";
import { Params } from "../engine/weights/params.js";
import { readSafetensorsHeader, readSafetensorsInto, type TensorSource } from "../engine/weights/safetensors.js";
import type { Tokenizer } from "../engine/tokenizer/tokenizer.js";
import { createRng } from "../core/rng.js";
import type { PolicyPlayer } from "../policy/policy-spec.js";
import type { PromptMode } from "../policy/prompt-mode.js";
import { modelPolicy } from "../policy/model-policy.js";
import { agentsByGame, type Opponent } from "./opponent.js";
import type { Device, Precision } from "../engine/graph/device.js";

export const POOL_FILE = "opponent-pool.safetensors";

/** K of "pool:K", or undefined when the opponent is not a pool. */
export function parsePoolSpec(opponent: string): number | undefined {
  const m = /^pool:(.*)$/.exec(opponent);
  if (m === null) return undefined;
  const k = Number(m[1]);
  if (!(Number.isInteger(k) && k >= 1)) throw new Error(`opponent: pool:K needs an integer K ≥ 1 (the number of past adapter snapshots); got "${opponent}"`);
  return k;
}

export interface AdapterPool extends Opponent {
  /** Copies the drawn snapshot into the opponent's adapter for step `step`; returns its index (0 = oldest kept). */
  select(step: number): number;
  /** Adds a copy of the current adapter as the newest snapshot (dropping the oldest beyond K). */
  push(adapter: Float32Array): void;
  /** The snapshots as tensors for a checkpoint file. */
  tensors(): TensorSource[];
}

export interface PoolOptions {
  readonly k: number;
  readonly seed: number;
  readonly modelConfig: ModelConfig;
  readonly base: Params;
  readonly adapter: Adapter;
  readonly tokenizer: Tokenizer;
  readonly mode: PromptMode;
  readonly temperature: number;
  readonly topP: number;
  readonly maxNewTokens: number;
  readonly threads: number;
  readonly device?: Device;
  /** fp16 (webgpu): the opponent plays in half precision, as the policy does (docs/device.md "Precision"). */
  readonly precision?: Precision;
  /** Snapshots from a checkpoint (oldest first); default: just the current adapter. */
  readonly snapshots?: readonly Float32Array[];
}

export async function openAdapterPool(o: PoolOptions): Promise<AdapterPool> {
  const size = o.adapter.params.data.length;
  const snapshots: Float32Array[] = (o.snapshots ?? [o.adapter.params.data]).map((s) => s.slice());
  const current = new Params(o.adapter.params.layout);
  const generator = await Generator.create(o.modelConfig, o.base, o.tokenizer, { threads: o.threads, ...(o.device === undefined ? {} : { device: o.device }), ...(o.precision === undefined ? {} : { precision: o.precision }), adapter: { config: o.adapter.config, params: current } });
  const name = `pool:${o.k}`;
  const policy = modelPolicy({ name, generator, tokenizer: o.tokenizer, temperature: o.temperature, topP: o.topP, version: () => 0 });
  const player: PolicyPlayer = { kind: "policy", name, policy, mode: o.mode, maxNewTokens: o.maxNewTokens, batched: true, exact: true, tokenizer: o.tokenizer, close: () => generator.release() };
  return {
    name,
    agentFor: agentsByGame(player),
    select(step) {
      const i = createRng(`${o.seed}:pool:${step}`).int(snapshots.length);
      current.data.set(snapshots[i] as Float32Array);
      return i;
    },
    push(adapter) {
      if (adapter.length !== size) throw new Error(`opponent pool: adapter of ${adapter.length} floats; the pool holds ${size}`);
      snapshots.push(adapter.slice());
      while (snapshots.length > o.k) snapshots.shift();
    },
    tensors: () => snapshots.map((s, j) => ({ name: `pool.${j}`, shape: [size], data: s })),
    close: () => generator.release(),
  };
}

/** The snapshots saved in a checkpoint directory (oldest first). */
export async function loadPoolSnapshots(dir: string, size: number): Promise<Float32Array[]> {
  const path = join(dir, POOL_FILE);
  const header = await readSafetensorsHeader(path);
  const snaps = header.tensors.map(() => new Float32Array(size));
  const targets = new Map(header.tensors.map((t, j) => [`pool.${j}`, { name: `pool.${j}`, shape: [size], data: snaps[j] as Float32Array }]));
  await readSafetensorsInto(path, targets, { requireAll: true });
  return snaps;
}
