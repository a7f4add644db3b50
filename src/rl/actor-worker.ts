/**
 * The body of one worker-thread actor (see actor-pool.ts): builds a generator over the shared
 * weights once, then answers each `collect` request with one `collectRollout` over the options
 * every actor builds from the config (actor-options.ts).
 */
import { parentPort, workerData } from "node:worker_threads";
import { Generator } from "../engine/infer/generate.js";
import { Params, paramLayout } from "../engine/weights/params.js";
import { getGame } from "../games/registry.js";
import { rngFromState } from "../core/rng.js";
import { collectRollout } from "./actor.js";
import { actorOptions } from "./actor-options.js";
import type { ActorInit, ActorMessage, CollectRequest } from "./actor-pool.js";
import { modelPolicy } from "../policy/model-policy.js";
import { openOpponent } from "./opponent.js";
import { promptMode } from "../policy/prompt-mode.js";
import { tokenizerFor } from "./run-tokenizer.js";

const port = parentPort;
if (port === null) throw new Error("actor-worker.ts runs only as a worker thread (see actor-pool.ts)");

async function start(init: ActorInit): Promise<void> {
  const { config } = init;
  const params = new Params(paramLayout(init.modelConfig));
  const shared = new Float32Array(init.weights);
  // Names first (the learner checked them too): an error thrown while a session is being built
  // can abort the process natively instead of reaching the learner as a message.
  for (const g of config.games) getGame(g.id);
  const mode = promptMode(config.promptMode);
  const tokenizer = tokenizerFor(config);
  const fixed = await openOpponent(config, init.threads);
  const generator = await Generator.create(init.modelConfig, params, tokenizer, { threads: init.threads, device: config.device });
  let version = 0;
  const policy = modelPolicy({ name: "policy", generator, tokenizer, temperature: config.temperature, topP: config.topP, version: () => version });
  const actor = actorOptions(config, { actorId: init.actorId, policy, mode, ...(fixed === undefined ? {} : { opponent: fixed.agentFor }) });
  const send = (m: ActorMessage) => port?.postMessage(m);
  port?.on("message", (request: CollectRequest) => {
    version = request.version;
    params.data.set(shared);
    collectRollout({ ...actor, rolloutBatch: request.rolloutBatch }, rngFromState(request.rng)).then(
      (rollout) => send({ type: "rollout", rollout }),
      (e: unknown) => send({ type: "error", message: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
    );
  });
  send({ type: "ready" });
}

start(workerData as ActorInit).catch((e: unknown) => port.postMessage({ type: "error", message: e instanceof Error ? (e.stack ?? e.message) : String(e) } satisfies ActorMessage));
