/**
 * Weight sync for endpoint actors: after each learner step the policy's weights are written to a
 * directory the servers can read, and the pool tells each server to pick them up
 * (`EndpointPool.publish`): a LoRA adapter (PEFT layout, loaded under a per-version name with
 * `POST /v1/load_lora_adapter`), or a full checkpoint (reloaded with `/update_weights_from_disk`).
 *
 * Each version gets its own directory `<dir>/v<N>` (written whole, then renamed: a server never
 * reads a half-written one); the newest `keep` stay, older ones are removed, so in-flight
 * requests and a server coming back can still read what they name.
 */
import { rm, readdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { ModelConfig } from "../engine/model/config.js";
import type { Adapter } from "../engine/model/lora.js";
import { saveCheckpoint } from "../engine/weights/checkpoint.js";
import type { Params } from "../engine/weights/params.js";
import { saveAdapter } from "../engine/weights/peft.js";
import type { WeightUpdate } from "./endpoints.js";

export type PublishedWeights =
  | { readonly kind: "full"; readonly config: ModelConfig; readonly params: Params }
  | { readonly kind: "lora"; readonly adapter: Adapter; readonly baseModel: string; readonly name: string; readonly reloadBase?: string };

export interface WeightPublisher {
  /** Writes version `version` and returns the update that names it. */
  write(version: number): Promise<WeightUpdate>;
  /** Bytes of the last version written (what each server reads per sync). */
  readonly lastBytes: number;
}

export function weightPublisher(dir: string, weights: PublishedWeights, keep: number): WeightPublisher {
  const root = resolve(dir);
  let lastBytes = 0;
  return {
    get lastBytes() {
      return lastBytes;
    },
    async write(version) {
      const path = join(root, `v${version}`);
      await rm(path, { recursive: true, force: true });
      let update: WeightUpdate;
      if (weights.kind === "full") {
        await saveCheckpoint(path, { config: weights.config, params: weights.params });
        lastBytes = weights.params.data.byteLength;
        update = { kind: "full", version, path };
      } else {
        await saveAdapter(path, { adapter: weights.adapter, baseModel: weights.baseModel });
        lastBytes = weights.adapter.params.data.byteLength;
        update = { kind: "lora", version, path, name: weights.name, ...(weights.reloadBase === undefined ? {} : { reloadBase: weights.reloadBase }) };
      }
      for (const entry of await readdir(root).catch(() => [] as string[])) {
        const m = /^v(\d+)$/.exec(entry);
        if (m !== null && Number(m[1]) <= version - keep) await rm(join(root, entry), { recursive: true, force: true });
      }
      return update;
    },
  };
}
