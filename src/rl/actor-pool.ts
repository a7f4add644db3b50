/**
 * K actors in worker threads, each running `collectRollout` on its own share of the step.
 *
 * Weights: one SharedArrayBuffer the size of the parameters. Before each collect the learner copies
 * its weights in and every worker copies them out into its own buffer (onnxruntime-node rejects
 * tensors over shared memory: "Invalid argument"), one memcpy per side per step (6.4 MB for the
 * tiny preset). In a LoRA run the mirror holds only the adapter (megabytes, not the model): each
 * worker opens the frozen base itself at start, as the learner did (lora-run.ts `openLoraBase`).
 * The loop updates weights only while every actor is idle (collect → learn → collect), so no
 * locking is needed. While it learns, the idle workers compute micro-batch gradients for it
 * (`lossAndGrads`, on a one-thread loss session each; learner.ts sums them in order).
 *
 * Messages are plain data (`ActorInit`, `CollectRequest`, `Rollout`): an actor could as well live
 * in another process. Determinism: actor k gets the k-th split of the step's rng and a fixed share
 * of `rolloutBatch` (the first rolloutBatch mod K actors one more), and rollouts are merged in actor
 * order, so the same seed and the same K give the same run.
 */
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { ModelConfig } from "../engine/model/config.js";
import type { LossBatch, LossSettings, LossStats } from "../engine/train/loss-runner.js";
import type { RngState } from "../core/rng.js";
import type { TrainConfig } from "./config.js";
import type { Rollout } from "./types.js";

/** What a worker needs to build its actor. */
export interface ActorInit {
  readonly actorId: number;
  readonly config: TrainConfig;
  readonly modelConfig: ModelConfig;
  /** The parameters' (LoRA: the adapter's) shared mirror, filled by the learner before each collect. */
  readonly weights: SharedArrayBuffer;
  readonly threads: number;
}

export interface CollectRequest {
  readonly type: "collect";
  readonly rng: RngState;
  readonly rolloutBatch: number;
  readonly version: number;
}

/**
 * One micro-batch's loss and gradients, on the worker's one-thread learner session (the learner's
 * graph; gradients are the same bits at any thread count, docs/training.md "Learner threads").
 * `syncWeights`: copy the shared mirror into the worker's weights first (the learner refreshed it).
 */
export interface GradRequest {
  readonly type: "grad";
  readonly batch: LossBatch;
  readonly settings: LossSettings;
  readonly syncWeights: boolean;
}

/** What a worker computed for a GradRequest: gradients in the trained layout (transferred, not copied). */
export interface GradResult {
  readonly stats: LossStats;
  readonly grads: Float32Array;
}

export type ActorMessage =
  | { readonly type: "ready" }
  | { readonly type: "rollout"; readonly rollout: Rollout }
  | ({ readonly type: "grad" } & GradResult)
  | { readonly type: "error"; readonly message: string };

/** Shares of `total` for K actors: as equal as possible, the first ones one larger. */
export function actorShares(total: number, k: number): number[] {
  return Array.from({ length: k }, (_, i) => Math.floor(total / k) + (i < total % k ? 1 : 0));
}

/** Concatenates rollouts in actor order. */
export function mergeRollouts(parts: readonly Rollout[], seconds: number): Rollout {
  return {
    trajectories: parts.flatMap((p) => p.trajectories),
    batch: parts.flatMap((p) => p.batch),
    policyCalls: parts.reduce((n, p) => n + p.policyCalls, 0),
    generatedTokens: parts.reduce((n, p) => n + p.generatedTokens, 0),
    seconds,
  };
}

export interface ActorPool {
  readonly size: number;
  /** One rollout per actor for this step, merged. */
  collect(rngs: readonly RngState[], rolloutBatch: number, version: number): Promise<Rollout>;
  /**
   * Loss and gradients of each micro-batch, the workers taking the next one (largest first) as
   * they come free; results in job order. The caller has written the current weights into the
   * shared mirror (each worker copies them once per call). Only while no collect is under way.
   */
  lossAndGrads(jobs: readonly { readonly batch: LossBatch; readonly settings: LossSettings }[]): Promise<GradResult[]>;
  close(): Promise<void>;
}

function spawn(init: ActorInit): Worker {
  // Compiled (dist/): the sibling .js file. From TypeScript sources (tests, tsx): register tsx's
  // loader inside the worker, then import the .ts file.
  if (!import.meta.url.endsWith(".ts")) return new Worker(new URL("./actor-worker.js", import.meta.url), { workerData: init });
  // require.resolve finds the package's CommonJS entry; its ESM twin sits beside it.
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx/esm/api").replace(/\.cjs$/, ".mjs")).href;
  const worker = new URL("./actor-worker.ts", import.meta.url).href;
  const code = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(worker)}); })`;
  return new Worker(code, { eval: true, workerData: init });
}

export async function createActorPool(inits: readonly ActorInit[]): Promise<ActorPool> {
  const workers = inits.map(spawn);
  const next = (w: Worker): Promise<ActorMessage> =>
    new Promise((resolve, reject) => {
      const onMessage = (m: ActorMessage) => {
        cleanup();
        resolve(m);
      };
      const onError = (e: Error) => {
        cleanup();
        reject(e);
      };
      const onExit = (code: number) => {
        cleanup();
        reject(new Error(`actor worker exited with code ${code}`));
      };
      const cleanup = () => {
        w.off("message", onMessage);
        w.off("error", onError);
        w.off("exit", onExit);
      };
      w.on("message", onMessage);
      w.on("error", onError);
      w.on("exit", onExit);
    });
  const expect = async <T extends ActorMessage["type"]>(w: Worker, type: T): Promise<Extract<ActorMessage, { type: T }>> => {
    const m = await next(w);
    if (m.type === "error") throw new Error(`actor failed: ${m.message}`);
    if (m.type !== type) throw new Error(`actor sent "${m.type}", expected "${type}"`);
    return m as Extract<ActorMessage, { type: T }>;
  };
  try {
    await Promise.all(workers.map((w) => expect(w, "ready")));
  } catch (e) {
    await Promise.all(workers.map((w) => w.terminate()));
    throw e;
  }
  return {
    size: workers.length,
    async collect(rngs, rolloutBatch, version) {
      if (rngs.length !== workers.length) throw new Error(`collect needs one rng per actor (${workers.length}); got ${rngs.length}`);
      const started = performance.now();
      const shares = actorShares(rolloutBatch, workers.length);
      const replies = workers.map((w, k) => {
        const reply = expect(w, "rollout");
        const request: CollectRequest = { type: "collect", rng: rngs[k] as RngState, rolloutBatch: shares[k] as number, version };
        w.postMessage(request);
        return reply;
      });
      const parts = await Promise.all(replies);
      return mergeRollouts(parts.map((p) => p.rollout), (performance.now() - started) / 1000);
    },
    async lossAndGrads(jobs) {
      const results: GradResult[] = [];
      // Largest first (rows × padded length), so the longest micro-batch does not start last.
      const size = (i: number): number => (jobs[i]?.batch.B ?? 0) * (jobs[i]?.batch.T ?? 0);
      const order = jobs.map((_, i) => i).sort((a, b) => size(b) - size(a) || a - b);
      let next = 0;
      const drain = async (w: Worker): Promise<void> => {
        for (let first = true; next < order.length; first = false) {
          const i = order[next++] as number;
          const job = jobs[i] as (typeof jobs)[number];
          const reply = expect(w, "grad");
          const request: GradRequest = { type: "grad", batch: job.batch, settings: job.settings, syncWeights: first };
          w.postMessage(request);
          const { stats, grads } = await reply;
          results[i] = { stats, grads };
        }
      };
      await Promise.all(workers.map(drain));
      return results;
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
