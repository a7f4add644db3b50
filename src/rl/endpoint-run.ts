/**
 * Endpoint actors in a training run (config `endpoints`, `spiral train --actor-endpoint URL`):
 * the pool of servers as the actor's policy, the weights published to them after every learner
 * step, the samples the learner may use, and the per-step numbers of docs/scale-out.md.
 *
 * - Start (`publish(startStep)`, once the run directory exists): every server is made to serve the run's current weights (version = the step the run
 *   starts from) before the first game: full weights by reload from disk; a LoRA run its adapter
 *   (and, on a preset base, the base itself first, by reload from `<run>/actor-weights/base`).
 * - After step t: version t is written under `<run>/actor-weights/v<t>` and synced (endpoint-sync.ts).
 * - Usable samples: those whose token ids checked out (`untrainable` unset) and at most
 *   `maxStaleness` versions behind the learner's weights when it trains on them.
 * - Share: with K in-process actors beside the servers (`actors`), the servers' share of a step's
 *   samples is rolloutBatch × W / (W + K), W the summed weights of the servers live when the share
 *   is asked for (each in-process actor weighs 1), rounded, at least 1 and at most
 *   rolloutBatch − K; 0 while no server is live; all of it when K = 0.
 */
import { join } from "node:path";
import type { ModelConfig } from "../engine/model/config.js";
import { saveCheckpoint } from "../engine/weights/checkpoint.js";
import type { Params } from "../engine/weights/params.js";
import type { Tokenizer } from "../engine/tokenizer/tokenizer.js";
import type { TrainConfig } from "./config.js";
import { type WeightPublisher, weightPublisher } from "./endpoint-sync.js";
import { EndpointPool, type EndpointPoolStats } from "./endpoints.js";
import type { LoraRun } from "./lora-run.js";
import type { Policy } from "../policy/policy.js";
import type { Rollout } from "./types.js";

/** What a step's metrics line says about the endpoint actors. */
export interface EndpointStepMetrics {
  /** Learner version minus sample version over the samples trained on. */
  readonly staleness: { readonly mean: number; readonly max: number };
  /** Samples left out: more than maxStaleness behind, or token ids that did not check out. */
  readonly droppedStale: number;
  readonly droppedUntrainable: number;
  /** Seconds the learner waited for the step's rollout. */
  readonly learnerIdleSeconds: number;
  /** Per server: seconds of the step with no request of ours in flight. */
  readonly actorIdleSeconds: readonly number[];
  /** Per server: share of the step with a request in flight. */
  readonly utilisation: readonly number[];
  readonly requests: number;
  /** Attempts that failed in transport this step (each retried elsewhere, or its turn failed). */
  readonly transportFailures: number;
  /** Games of this step's rollout that ended void ("transport": a turn no server could answer); none of their samples is trained on. */
  readonly transportGames: number;
  /** Samples of this step's batch played by the servers (the rest by in-process actors beside them). */
  readonly endpointSamples: number;
  readonly liveEndpoints: number;
  /** Writing and syncing this step's weights. */
  readonly syncSeconds: number;
  /** Bytes each server read for this step's sync. */
  readonly syncBytes: number;
}

export interface EndpointActors {
  readonly policy: Policy;
  readonly pool: EndpointPool;
  readonly maxStaleness: number;
  /** Writes version `version` and syncs every live server to it. */
  publish(version: number): Promise<void>;
  /** The servers' share of a step's samples beside `inProcess` in-process actors (see the file comment). */
  share(rolloutBatch: number, inProcess: number): number;
  /** The rollout with only the samples the learner may use at `learnerVersion`, and the step's numbers. */
  usable(rollout: Rollout, learnerVersion: number): Usable;
  /** Marks the start of a step (for idle times). */
  beginStep(): void;
  endStep(learnerIdleSeconds: number, usable: Usable): EndpointStepMetrics;
  close(): Promise<void>;
}

export interface Usable {
  readonly rollout: Rollout;
  readonly staleness: EndpointStepMetrics["staleness"];
  readonly droppedStale: number;
  readonly droppedUntrainable: number;
  readonly transportGames: number;
  readonly endpointSamples: number;
}

export interface EndpointRunContext {
  readonly runDir: string;
  readonly modelConfig: ModelConfig;
  /** The trained weights (full runs) or the frozen base (LoRA runs). */
  readonly params: Params;
  readonly lora?: LoraRun;
  readonly tokenizer: Tokenizer;
  readonly log: (line: string) => void;
}

export async function openEndpointActors(config: TrainConfig, ctx: EndpointRunContext): Promise<EndpointActors> {
  const pool = new EndpointPool({
    endpoints: config.endpoints, tokenizer: ctx.tokenizer, temperature: config.temperature, topP: config.topP, timeoutSeconds: config.endpointTimeout,
    giveUpSeconds: config.endpointGiveUp, keepVersions: config.maxStaleness + 2, log: (line) => ctx.log(`actors: ${line}`),
  });
  await pool.open();
  const dir = join(ctx.runDir, "actor-weights");
  let base: string | undefined;
  let publisher: WeightPublisher;
  if (ctx.lora !== undefined) {
    base = config.model.dir ?? undefined;
    if (base === undefined) {
      base = join(dir, "base");
      await saveCheckpoint(base, { config: ctx.modelConfig, params: ctx.params });
    }
    publisher = weightPublisher(dir, { kind: "lora", adapter: ctx.lora.adapter, baseModel: base, name: "policy", ...(config.model.dir === null ? { reloadBase: base } : {}) }, config.maxStaleness + 2);
  } else {
    publisher = weightPublisher(dir, { kind: "full", config: ctx.modelConfig, params: ctx.params }, config.maxStaleness + 2);
  }
  let syncMs = 0;
  const publish = async (version: number): Promise<void> => {
    const started = performance.now();
    await pool.publish(await publisher.write(version));
    syncMs += performance.now() - started;
  };
  let stepStart = performance.now();
  let before: EndpointPoolStats = pool.stats;
  let syncBefore = syncMs;
  return {
    policy: pool.policy(),
    pool,
    maxStaleness: config.maxStaleness,
    publish,
    share(rolloutBatch, inProcess) {
      if (inProcess === 0) return rolloutBatch;
      const live = pool.stats.endpoints.reduce((w, e, i) => w + (e.live ? (config.endpoints[i]?.weight ?? 0) : 0), 0);
      if (live === 0) return 0;
      return Math.min(rolloutBatch - inProcess, Math.max(1, Math.round((rolloutBatch * live) / (live + inProcess))));
    },
    usable(rollout, learnerVersion) {
      let droppedStale = 0;
      let droppedUntrainable = 0;
      let sum = 0;
      let max = 0;
      const batch = rollout.batch.filter((s) => {
        if (s.untrainable !== undefined) return (droppedUntrainable++, false);
        const staleness = learnerVersion - s.policyVersion;
        if (staleness > config.maxStaleness) return (droppedStale++, false);
        sum += staleness;
        max = Math.max(max, staleness);
        return true;
      });
      // In-process actors' samples come from actors 0..K−1; the servers' from actor K (0 when K = 0).
      const endpointSamples = batch.filter((s) => s.actorId === config.actors).length;
      const transportGames = rollout.trajectories.filter((t) => t.result.endReason === "transport").length;
      return { rollout: { ...rollout, batch }, staleness: { mean: batch.length === 0 ? 0 : sum / batch.length, max }, droppedStale, droppedUntrainable, transportGames, endpointSamples };
    },
    beginStep() {
      stepStart = performance.now();
      before = pool.stats;
      syncBefore = syncMs;
    },
    endStep(learnerIdleSeconds, usable) {
      const wall = (performance.now() - stepStart) / 1000;
      const now = pool.stats;
      const busy = now.endpoints.map((e, i) => e.busySeconds - (before.endpoints[i]?.busySeconds ?? 0));
      return {
        staleness: usable.staleness, droppedStale: usable.droppedStale, droppedUntrainable: usable.droppedUntrainable, learnerIdleSeconds,
        actorIdleSeconds: busy.map((b) => Math.max(0, wall - b)), utilisation: busy.map((b) => (wall > 0 ? Math.min(1, b / wall) : 0)),
        requests: now.requests - before.requests, transportFailures: now.transportFailures - before.transportFailures,
        transportGames: usable.transportGames, endpointSamples: usable.endpointSamples,
        liveEndpoints: now.endpoints.filter((e) => e.live).length, syncSeconds: (syncMs - syncBefore) / 1000, syncBytes: publisher.lastBytes,
      };
    },
    close: () => pool.close(),
  };
}
