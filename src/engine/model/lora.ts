/**
 * LoRA adapters (Hu et al. 2021, as PEFT implements them) on a frozen base model.
 *
 * For a targeted linear layer with base weight W [out, in]:
 *   y = x·Wᵀ + s · (x·Aᵀ)·Bᵀ,   A [r, in], B [out, r],   s = alpha / r  (rsLoRA: alpha / √r)
 * A starts as PEFT's `reset_lora_parameters` leaves it (kaiming_uniform with a = √5, i.e. uniform in
 * ±1/√in), B at 0, so an untrained adapter computes exactly the base model. The graphs apply the
 * low-rank path beside the base Gemm; the merged weight W + s·B·A is only formed by `mergeAdapter`.
 *
 * All adapter tensors live in one flat buffer (the same `Params` class and 64-byte-aligned layout as
 * the base), named `<module>.lora_A.weight` / `<module>.lora_B.weight` with `<module>` the HF path of
 * the projection (`model.layers.3.self_attn.q_proj`); PEFT's file names add `base_model.model.`
 * (peft.ts). Gradients and AdamW moments use the adapter's layout, never the base's.
 */
import type { Rng } from "../../core/rng.js";
import type { ModelConfig } from "./config.js";
import type { Graph, Tensor } from "../graph/builder.js";
import { layerParamName, layoutOf, type ParamLayout, Params, paramLayout } from "../weights/params.js";

/** The projections an adapter may target, in layout order (PEFT's module names). */
export const LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"] as const;
export type LoraTarget = (typeof LORA_TARGETS)[number];

export interface LoraConfig {
  /** Rank r ≥ 1. */
  readonly r: number;
  /** Scaling numerator (PEFT's lora_alpha). */
  readonly alpha: number;
  /** Projections that carry an adapter (a non-empty subset of LORA_TARGETS, in any order). */
  readonly targets: readonly LoraTarget[];
  /** rsLoRA: scale alpha / √r instead of alpha / r. */
  readonly rslora?: boolean;
}

/** Graph key under which the model builders find the adapter scale (a scalar constant). */
export const LORA_SCALING_KEY = "lora.scaling";

/** Throws, naming the field, unless the config is usable. */
export function checkLoraConfig(c: LoraConfig): void {
  if (!(Number.isInteger(c.r) && c.r >= 1)) throw new Error(`lora.r must be an integer ≥ 1; got ${c.r}`);
  if (!(Number.isFinite(c.alpha) && c.alpha > 0)) throw new Error(`lora.alpha must be a number > 0; got ${c.alpha}`);
  if (c.targets.length === 0) throw new Error(`lora.targets must name at least one of ${LORA_TARGETS.join(", ")}`);
  for (const t of c.targets) {
    if (!(LORA_TARGETS as readonly string[]).includes(t)) throw new Error(`lora.targets: unknown module "${t}"; expected some of ${LORA_TARGETS.join(", ")}`);
  }
  if (new Set(c.targets).size !== c.targets.length) throw new Error(`lora.targets lists a module twice: ${c.targets.join(", ")}`);
}

/** Parses a comma- or space-separated target list ("q_proj,v_proj"; "all" = all seven). */
export function parseLoraTargets(list: string): LoraTarget[] {
  const names = list.split(/[\s,]+/).filter((s) => s !== "");
  if (names.length === 1 && names[0] === "all") return [...LORA_TARGETS];
  for (const n of names) {
    if (!(LORA_TARGETS as readonly string[]).includes(n)) throw new Error(`--lora-targets: unknown module "${n}"; expected a comma-separated list of ${LORA_TARGETS.join(", ")} (or "all")`);
  }
  return names as LoraTarget[];
}

/** s = alpha / r, or alpha / √r with rsLoRA. */
export function loraScale(c: LoraConfig): number {
  return c.rslora === true ? c.alpha / Math.sqrt(c.r) : c.alpha / c.r;
}

/** HF module path of a projection: "model.layers.3.self_attn.q_proj". */
export function loraModule(layer: number, target: LoraTarget): string {
  const group = target === "gate_proj" || target === "up_proj" || target === "down_proj" ? "mlp" : "self_attn";
  return layerParamName(layer, `${group}.${target}`);
}

/** The adapter tensor names beside a base weight ("….q_proj.weight" → "….q_proj.lora_A.weight", "….lora_B.weight"). */
export function loraNames(weightName: string): { a: string; b: string } {
  const module = weightName.replace(/\.weight$/, "");
  return { a: `${module}.lora_A.weight`, b: `${module}.lora_B.weight` };
}

/** Whether a tensor name is an adapter's A or B ("….q_proj.lora_A.weight"). */
export function isAdapterWeight(name: string): boolean {
  return /\.lora_[AB]\.weight$/.test(name);
}

/** Adapter tensor names and shapes in layout order: per layer, per target (LORA_TARGETS order), A then B. */
export function loraShapes(model: ModelConfig, lora: LoraConfig): { name: string; shape: number[]; module: string; kind: "A" | "B" }[] {
  checkLoraConfig(lora);
  const base = paramLayout(model).byName;
  const out: { name: string; shape: number[]; module: string; kind: "A" | "B" }[] = [];
  for (let n = 0; n < model.numHiddenLayers; n++) {
    for (const target of LORA_TARGETS) {
      if (!lora.targets.includes(target)) continue;
      const module = loraModule(n, target);
      const w = base.get(`${module}.weight`);
      if (!w) throw new Error(`LoRA: the model has no ${module}.weight`);
      const [outDim, inDim] = w.shape as [number, number];
      const names = loraNames(`${module}.weight`);
      out.push({ name: names.a, shape: [lora.r, inDim], module, kind: "A" });
      out.push({ name: names.b, shape: [outDim, lora.r], module, kind: "B" });
    }
  }
  return out;
}

export function loraLayout(model: ModelConfig, lora: LoraConfig): ParamLayout {
  return layoutOf(loraShapes(model, lora));
}

/** An adapter: its hyper-parameters and its tensors in one flat buffer. */
export interface Adapter {
  readonly config: LoraConfig;
  readonly params: Params;
}

/**
 * A fresh adapter: A ~ U(−1/√in, 1/√in) (PEFT: kaiming_uniform_(a=√5), bound = gain·√(3/fan_in)
 * with gain = √(2/(1+a²)) = √(1/3)), B = 0. Same seed ⇒ same numbers.
 */
export function initAdapter(model: ModelConfig, lora: LoraConfig, rng: Rng): Adapter {
  const params = new Params(loraLayout(model, lora));
  for (const v of params.layout.views) {
    if (!v.name.endsWith(".lora_A.weight")) continue;
    const bound = 1 / Math.sqrt(v.shape[1] as number);
    const a = params.data.subarray(v.offset, v.offset + v.size);
    for (let i = 0; i < a.length; i++) a[i] = (2 * rng.next() - 1) * bound;
  }
  return { config: lora, params };
}

/**
 * Declares every adapter tensor as a graph input (named as in the layout) and the scale as a
 * constant, into `into` (the model builders' weight map), so `projection` finds them.
 */
export function declareAdapter(g: Graph, model: ModelConfig, lora: LoraConfig, dtype: "float32" | "float64", into: Map<string, Tensor>): string[] {
  const names: string[] = [];
  for (const { name, shape } of loraShapes(model, lora)) {
    into.set(name, g.input(name, dtype, shape));
    names.push(name);
  }
  into.set(LORA_SCALING_KEY, g.scalar(loraScale(lora), dtype));
  return names;
}

/**
 * The merged model: a copy of `base` with W ← W + s·B·A on every targeted projection (accumulated
 * in float64, rounded once to float32). The base is not modified.
 */
export function mergeAdapter(model: ModelConfig, base: Params, adapter: Adapter): Params {
  const merged = base.clone();
  const s = loraScale(adapter.config);
  for (const { module, kind } of loraShapes(model, adapter.config)) {
    if (kind !== "A") continue;
    const w = merged.view(`${module}.weight`);
    const names = loraNames(`${module}.weight`);
    const A = adapter.params.view(names.a);
    const B = adapter.params.view(names.b);
    const r = adapter.config.r;
    const inDim = A.length / r;
    const outDim = B.length / r;
    const row = new Float64Array(inDim);
    for (let o = 0; o < outDim; o++) {
      row.fill(0);
      for (let k = 0; k < r; k++) {
        const b = (B[o * r + k] as number) * s;
        if (b === 0) continue;
        for (let i = 0; i < inDim; i++) row[i] = (row[i] as number) + b * (A[k * inDim + i] as number);
      }
      for (let i = 0; i < inDim; i++) w[o * inDim + i] = (w[o * inDim + i] as number) + (row[i] as number);
    }
  }
  return merged;
}
