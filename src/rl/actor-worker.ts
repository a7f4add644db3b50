/**
 * The body of one worker-thread actor (see actor-pool.ts): builds a generator over the shared
 * weights once (in a LoRA run: over its own copy of the frozen base, with only the adapter shared),
 * then answers each `collect` request with one `collectRollout` over the options every actor
 * builds from the config (actor-options.ts).
 */
import { parentPort, workerData } from "node:worker_threads";
import { Generator } from "../engine/infer/generate.js";
import { type Adapter, loraLayout } from "../engine/model/lora.js";
import { Params, paramLayout } from "../engine/weights/params.js";
import { getGame } from "../games/registry.js";
import { rngFromState } from "../core/rng.js";
import { collectRollout } from "./actor.js";
import { loraConfigOf, openLoraBase } from "./lora-run.js";
import { actorOptions } from "./actor-options.js";
import type { ActorInit, ActorMessage, CollectRequest, GradRequest } from "./actor-pool.js";
import { LossRunner } from "../engine/train/loss-runner.js";
import { modelPolicy } from "../policy/model-policy.js";
import { openOpponent } from "./opponent.js";
import { promptMode } from "../policy/prompt-mode.js";
import { tokenizerFor } from "./run-tokenizer.js";

const port = parentPort;
if (port === null) throw new Error("actor-worker.ts runs only as a worker thread (see actor-pool.ts)");

async function start(init: ActorInit): Promise<void> {
  const { config } = init;
  // A LoRA run: the frozen base opened as the learner opened it, and an adapter buffer that the
  // shared mirror (adapter-sized) refreshes before each collect. Otherwise the whole model mirrors.
  const lora = config.lora === null ? undefined : loraConfigOf(config.lora);
  const params = lora === undefined ? new Params(paramLayout(init.modelConfig)) : (await openLoraBase(config)).base;
  const adapter: Adapter | undefined = lora === undefined ? undefined : { config: lora, params: new Params(loraLayout(init.modelConfig, lora)) };
  const mirrored = adapter?.params.data ?? params.data;
  const shared = new Float32Array(init.weights);
  if (shared.length !== mirrored.length) throw new Error(`actor ${init.actorId}: the shared weights hold ${shared.length} floats; this actor's ${adapter ? "adapter" : "model"} has ${mirrored.length}`);
  // Names first (the learner checked them too): an error thrown while a session is being built
  // can abort the process natively instead of reaching the learner as a message.
  for (const g of config.games) getGame(g.id);
  const mode = promptMode(config.promptMode);
  const tokenizer = tokenizerFor(config);
  const fixed = await openOpponent(config, init.threads);
  const generator = await Generator.create(init.modelConfig, params, tokenizer, { threads: init.threads, device: config.device, ...(adapter === undefined ? {} : { adapter }) });
  let version = 0;
  const policy = modelPolicy({ name: "policy", generator, tokenizer, temperature: config.temperature, topP: config.topP, version: () => version });
  const actor = actorOptions(config, { actorId: init.actorId, policy, mode, ...(fixed === undefined ? {} : { opponent: fixed.agentFor }) });
  const send = (m: ActorMessage, transfer: ArrayBuffer[] = []) => port?.postMessage(m, transfer);
  const fail = (e: unknown) => send({ type: "error", message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  // The learner's micro-batches (actor-pool.ts GradRequest), on a session built at the first one.
  let runner: LossRunner | undefined;
  const grad = (request: GradRequest): void => {
    if (request.syncWeights) mirrored.set(shared);
    runner ??= new LossRunner(init.modelConfig, params, { threads: init.threads, device: config.device, ...(adapter === undefined ? {} : { adapter }) });
    const grads = new Float32Array(runner.trainedLayout.totalSize);
    runner.lossAndGrad(request.batch, request.settings, grads).then((stats) => send({ type: "grad", stats, grads }, [grads.buffer]), fail);
  };
  port?.on("message", (request: CollectRequest | GradRequest) => {
    if (request.type === "grad") return grad(request);
    version = request.version;
    mirrored.set(shared);
    collectRollout({ ...actor, rolloutBatch: request.rolloutBatch }, rngFromState(request.rng)).then(
      (rollout) => send({ type: "rollout", rollout }),
      fail,
    );
  });
  send({ type: "ready" });
}

start(workerData as ActorInit).catch((e: unknown) => port.postMessage({ type: "error", message: e instanceof Error ? (e.stack ?? e.message) : String(e) } satisfies ActorMessage));
