/**
 * A sweep's grid: train configs × seeds, from a grid file (YAML or JSON) or `spiral sweep` flags,
 * expanded into one `spiral train` config per run (docs/sweeps.md has the file format).
 *
 * Every run's config is built the way `spiral train` builds one — preset, then a partial config
 * (`base`, a named entry of `configs`), then the varied keys — and validated by the trainer's own
 * schema, so a bad key or value is named before any run starts. Beyond the schema, the game ids,
 * the opponent (for every training game) and the model preset are checked too: those would
 * otherwise fail only when a run reaches them.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { modelPreset } from "../engine/model/presets.js";
import { parsePolicySpec, referenceAgentFor } from "../policy/policy-spec.js";
import { getGame } from "../games/registry.js";
import { mergeConfig, parseGamesFlag, parseTrainConfig, trainPresets, type TrainConfig } from "../rl/config.js";
import { EVAL_MATCHUPS } from "../rl/loop.js";
import { finalMetricNames } from "./aggregate.js";

const SAFE_NAME = /^[A-Za-z0-9._-]+$/;

const targetSchema = z.strictObject({
  /** A final metric's name as the aggregate writes it, e.g. "TicTacToe-v0 vs random: non-loss". */
  metric: z.string().min(1),
  op: z.enum([">=", ">", "<=", "<"]),
  value: z.number(),
  /** How the tables name it (default: "metric op value"). */
  label: z.string().min(1).optional(),
});

export type Target = z.infer<typeof targetSchema>;

export const gridSchema = z.strictObject({
  /** The sweep's directory under `out`; default: the grid file's name. */
  name: z.string().regex(SAFE_NAME, "expected letters, digits, '.', '_' or '-'").optional(),
  /** Parent directory of sweeps. */
  out: z.string().min(1).default("sweeps"),
  /** The train preset every config starts from. */
  preset: z.string().min(1).default("default"),
  /** A partial train config over the preset, shared by every config. */
  base: z.record(z.string(), z.unknown()).default({}),
  /** A count n (seeds 0..n−1) or the list of seeds. */
  seeds: z.union([z.number().int().positive(), z.array(z.number().int().min(0)).min(1)]).default(5),
  /** Config keys (dotted paths or `spiral train` flag names) and their values: the grid is their product. */
  vary: z.record(z.string(), z.array(z.unknown()).min(1)).default({}),
  /** Named partial configs, crossed with `vary` (each needs a `name`). */
  configs: z.array(z.record(z.string(), z.unknown())).min(1).optional(),
  /** Runs at a time. */
  parallel: z.number().int().positive().default(1),
  /** Targets counted per config ("9/10 seeds"); default: the default preset's targets. */
  targets: z.array(targetSchema).optional(),
});

export type Grid = z.infer<typeof gridSchema>;

export interface SweepRun {
  readonly cell: string;
  readonly seed: number;
  /** The run directory: <out>/<sweep>/<cell>/seed-<s> (config.out/config.name, as `spiral train` has it). */
  readonly dir: string;
  readonly config: TrainConfig;
}

export interface SweepCell {
  /** Directory name and label, e.g. "opponent=self_rae=off". */
  readonly name: string;
  /** What sets this config apart: the varied keys' values (and the named config, under "config"). */
  readonly settings: Readonly<Record<string, unknown>>;
  readonly runs: readonly SweepRun[];
}

export interface SweepPlan {
  readonly name: string;
  /** <out>/<name>: sweep.json, the aggregate and one folder per cell. */
  readonly dir: string;
  readonly grid: Grid;
  readonly seeds: readonly number[];
  readonly cells: readonly SweepCell[];
}

/** `spiral train` flag names a grid may use as vary keys, and the config path each sets. */
const ALIASES: Readonly<Record<string, string>> = {
  rae: "rae.enabled",
  lr: "optim.lr",
  "lr-schedule": "optim.lrSchedule",
  "entropy-coef": "optim.entropyCoef",
  "eval-every": "eval.every",
  "prompt-mode": "promptMode",
  init: "model.preset",
};
/** Keys a sweep sets itself. */
const RESERVED = ["name", "out", "seed"] as const;

function formatZod(error: z.ZodError, where: string): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.map(String).join(".");
      if (issue.code === "unrecognized_keys") return `${where}: unknown key${issue.keys.length > 1 ? "s" : ""}${path === "" ? "" : ` in ${path}`}: ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
      return `${where}${path === "" ? "" : ` ${path}`}: ${issue.message}`;
    })
    .join("; ");
}

/** Validates a grid object (from a file or flags). */
export function parseGrid(input: unknown, where = "grid"): Grid {
  const result = gridSchema.safeParse(input);
  if (!result.success) throw new Error(`invalid sweep grid: ${formatZod(result.error, where)}`);
  return result.data;
}

/** Reads a grid file (or, with `what`, a partial train config): YAML, or JSON (a YAML 1.2 document too). */
export function readGridFile(path: string, what = "sweep grid"): Record<string, unknown> {
  let value: unknown;
  try {
    value = parseYaml(readFileSync(path, "utf8"));
  } catch (e) {
    throw new Error(`Expected a YAML or JSON ${what} file; could not read ${path}: ${(e as Error).message}`, { cause: e });
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new Error(`${path}: expected a mapping of ${what === "sweep grid" ? "grid keys (preset, base, seeds, vary, configs, …)" : "train config keys"}`);
  }
  return value as Record<string, unknown>;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function getPath(obj: unknown, path: readonly string[]): unknown {
  let at = obj;
  for (const key of path) {
    if (!isRecord(at) || !Object.hasOwn(at, key)) return undefined;
    at = at[key];
  }
  return at;
}

/** A copy of `obj` with `path` set to `value`, copying each object along the way. */
export function setPath(obj: Record<string, unknown>, path: readonly string[], value: unknown): Record<string, unknown> {
  const [head, ...rest] = path;
  if (head === undefined) throw new Error("setPath: empty path");
  if (rest.length === 0) return { ...obj, [head]: value };
  const inner = obj[head];
  return { ...obj, [head]: setPath(isRecord(inner) ? inner : {}, rest, value) };
}

function configPath(key: string): string {
  return ALIASES[key] ?? key;
}

/** The value a vary entry gives, typed like the config key it sets (flag values arrive as text). */
function coerce(key: string, path: string, value: unknown, reference: TrainConfig): unknown {
  if (path === "games") {
    if (typeof value === "string") return parseGamesFlag(value);
    return Array.isArray(value) ? value : [value];
  }
  if (typeof value !== "string") return value;
  const current = getPath(reference, path.split("."));
  const text = value.trim();
  if (typeof current === "boolean") {
    if (["on", "true", "yes"].includes(text)) return true;
    if (["off", "false", "no"].includes(text)) return false;
    throw new Error(`invalid sweep grid: vary ${key}: expected on/off (or true/false); got "${value}"`);
  }
  if (typeof current === "number" || (current === undefined && path.startsWith("model.overrides."))) {
    const n = Number(text);
    if (text === "" || !Number.isFinite(n)) throw new Error(`invalid sweep grid: vary ${key}: expected a number; got "${value}"`);
    return n;
  }
  if (current === null) {
    if (text === "null") return null;
    return /^-?\d+(\.\d+)?(e-?\d+)?$/i.test(text) ? Number(text) : text;
  }
  return text;
}

/** How a vary value reads in a cell's name. */
function showValue(path: string, value: unknown): string {
  if (path === "rae.enabled" && typeof value === "boolean") return value ? "on" : "off";
  if (path === "games" && Array.isArray(value)) {
    return value.map((g) => (isRecord(g) ? `${String(g.id)}${g.weight === undefined || g.weight === 1 ? "" : `:${String(g.weight)}`}` : String(g))).join("+");
  }
  return typeof value === "string" ? value : JSON.stringify(value);
}

function cellDirName(parts: readonly string[]): string {
  if (parts.length === 0) return "base";
  return parts.join("_").replace(/[^A-Za-z0-9._=+:-]+/g, "-").replace(/:/g, "x");
}

function seedList(seeds: Grid["seeds"]): number[] {
  const list = typeof seeds === "number" ? Array.from({ length: seeds }, (_, i) => i) : [...seeds];
  if (new Set(list).size !== list.length) throw new Error(`invalid sweep grid: seeds: each seed once; got ${list.join(", ")}`);
  return list;
}

/** Checks what the schema cannot: game ids, the opponent against every training game, the model preset. */
function checkRunnable(config: TrainConfig): void {
  for (const g of config.games) getGame(g.id);
  if (config.opponent !== "self") {
    let spec;
    try {
      spec = parsePolicySpec(config.opponent);
    } catch (e) {
      throw new Error(`opponent: ${(e as Error).message}; or "self" for self-play`, { cause: e });
    }
    if (spec.kind === "openai") throw new Error(`opponent: an openai: endpoint cannot be a training opponent; got "${config.opponent}"`);
    if (spec.kind === "reference") for (const g of config.games) referenceAgentFor(spec.name, g.id);
  }
  if (config.model.dir === null && config.model.preset !== null) modelPreset(config.model.preset);
}

interface VaryAxis {
  readonly key: string;
  readonly path: string;
  readonly values: readonly unknown[];
}

function product<T>(axes: readonly (readonly T[])[]): T[][] {
  return axes.reduce<T[][]>((acc, values) => acc.flatMap((combo) => values.map((v) => [...combo, v])), [[]]);
}

/**
 * Expands a grid into its cells and runs, validating every run's config. `defaultName` names the
 * sweep when the grid does not (the grid file's name).
 */
export function planSweep(grid: Grid, defaultName: string): SweepPlan {
  const name = grid.name ?? defaultName;
  if (!SAFE_NAME.test(name)) throw new Error(`sweep name "${name}": expected letters, digits, '.', '_' or '-'`);
  const presetInput = trainPresets[grid.preset];
  if (presetInput === undefined) throw new Error(`invalid sweep grid: preset: unknown train preset "${grid.preset}"; expected one of: ${Object.keys(trainPresets).join(", ")}`);
  for (const key of RESERVED) {
    if (Object.hasOwn(grid.base, key)) throw new Error(`invalid sweep grid: base.${key}: a sweep sets ${key} itself (${key === "seed" ? "seeds come from `seeds`" : "runs live under <out>/<sweep>/<cell>/seed-<s>"})`);
  }
  const base = mergeConfig(presetInput as Record<string, unknown>, grid.base);
  let reference: TrainConfig;
  try {
    reference = parseTrainConfig(base);
  } catch (e) {
    throw new Error(`sweep base config (preset ${grid.preset} + base): ${(e as Error).message}`, { cause: e });
  }

  const axes: VaryAxis[] = Object.entries(grid.vary).map(([key, values]) => {
    const path = configPath(key);
    const top = path.split(".")[0] as string;
    if ((RESERVED as readonly string[]).includes(top)) throw new Error(`invalid sweep grid: vary ${key}: a sweep sets ${top} itself${top === "seed" ? " (use seeds)" : ""}`);
    if (getPath(reference, path.split(".")) === undefined && !path.startsWith("model.overrides.")) {
      throw new Error(`invalid sweep grid: vary ${key}: not a train config key; expected a key of the train config (e.g. opponent, steps, rae.enabled, optim.lr, model.preset) or a \`spiral train\` flag name (${Object.keys(ALIASES).join(", ")}, games)`);
    }
    const typed = values.map((v) => coerce(key, path, v, reference));
    const shown = typed.map((v) => showValue(path, v));
    if (new Set(shown).size !== shown.length) throw new Error(`invalid sweep grid: vary ${key}: a value is listed twice (${shown.join(", ")})`);
    return { key, path, values: typed };
  });

  const named = (grid.configs ?? [undefined]).map((entry, i) => {
    if (entry === undefined) return undefined;
    const { name: configName, ...rest } = entry;
    if (typeof configName !== "string" || !SAFE_NAME.test(configName)) throw new Error(`invalid sweep grid: configs[${i}].name: expected a name of letters, digits, '.', '_' or '-'; got ${JSON.stringify(configName)}`);
    for (const key of RESERVED) if (Object.hasOwn(rest, key)) throw new Error(`invalid sweep grid: configs[${i}].${key}: a sweep sets ${key} itself`);
    return { name: configName, overrides: rest };
  });

  const metrics = finalMetricNames(EVAL_MATCHUPS);
  for (const [i, t] of (grid.targets ?? []).entries()) {
    if (!metrics.includes(t.metric)) throw new Error(`invalid sweep grid: targets[${i}].metric: no final metric "${t.metric}"; expected one of: ${metrics.join(", ")}`);
  }
  const seeds = seedList(grid.seeds);
  const dir = join(grid.out, name);
  const cells: SweepCell[] = [];
  for (const config of named) {
    for (const combo of product(axes.map((a) => a.values.map((v) => ({ axis: a, value: v }))))) {
      let input = config === undefined ? base : mergeConfig(base, config.overrides);
      const settings: Record<string, unknown> = config === undefined ? {} : { config: config.name };
      const parts = config === undefined ? [] : [config.name];
      for (const { axis, value } of combo) {
        input = setPath(input, axis.path.split("."), value);
        settings[axis.key] = value;
        parts.push(`${axis.key}=${showValue(axis.path, value)}`);
      }
      const cellName = cellDirName(parts);
      if (cells.some((c) => c.name === cellName)) throw new Error(`invalid sweep grid: two configs share the folder name "${cellName}"; give them distinct names or values`);
      const runs = seeds.map((seed) => {
        let resolved: TrainConfig;
        try {
          resolved = parseTrainConfig({ ...input, name: `seed-${seed}`, out: join(dir, cellName), seed });
          checkRunnable(resolved);
        } catch (e) {
          throw new Error(`sweep config ${cellName}: ${(e as Error).message}`, { cause: e });
        }
        return { cell: cellName, seed, dir: join(dir, cellName, `seed-${seed}`), config: resolved };
      });
      cells.push({ name: cellName, settings, runs });
    }
  }
  return { name, dir, grid, seeds, cells };
}

export interface SweepFlags {
  readonly name?: string;
  readonly out?: string;
  readonly preset?: string;
  /** A JSON/YAML partial train config over the preset (like `spiral train --config`). */
  readonly config?: string;
  readonly seeds?: string;
  readonly vary?: readonly string[];
  readonly steps?: string;
  readonly parallel?: string;
}

function positiveInteger(flag: string, text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !(n > 0)) throw new Error(`--${flag} expects a positive integer; got "${text}"`);
  return n;
}

/** "10" → 10 (seeds 0..9); "0,3,7" → [0, 3, 7]. */
export function parseSeedsFlag(text: string): number | number[] {
  if (!text.includes(",")) return positiveInteger("seeds", text);
  return text.split(",").map((s) => {
    const n = Number(s.trim());
    if (!/^\d+$/.test(s.trim())) throw new Error(`--seeds expects a count or seeds separated by commas; got "${text}"`);
    return n;
  });
}

/** "opponent=self,random" → ["opponent", ["self", "random"]]. */
export function parseVaryFlag(text: string): [string, string[]] {
  const eq = text.indexOf("=");
  const key = text.slice(0, eq).trim();
  const values = text.slice(eq + 1).split(",").map((v) => v.trim());
  if (eq <= 0 || values.some((v) => v === "")) throw new Error(`--vary expects key=value1,value2,…; got "${text}" (values that hold commas, such as game lists, go in a grid file)`);
  return [key, values];
}

/** The grid of a grid file (or none) with the flags over it; flags win, --vary adds keys. */
export function gridFromFlags(file: Record<string, unknown> | undefined, f: SweepFlags): Grid {
  const raw: Record<string, unknown> = { ...(file ?? {}) };
  if (f.name !== undefined) raw.name = f.name;
  if (f.out !== undefined) raw.out = f.out;
  if (f.preset !== undefined) raw.preset = f.preset;
  if (f.seeds !== undefined) raw.seeds = parseSeedsFlag(f.seeds);
  if (f.parallel !== undefined) raw.parallel = positiveInteger("parallel", f.parallel);
  let base = isRecord(raw.base) ? raw.base : raw.base === undefined ? {} : raw.base;
  if (f.config !== undefined) base = mergeConfig(isRecord(base) ? base : {}, readGridFile(f.config, "train config"));
  if (f.steps !== undefined) base = { ...(isRecord(base) ? base : {}), steps: positiveInteger("steps", f.steps) };
  raw.base = base;
  if (f.vary !== undefined && f.vary.length > 0) {
    const vary: Record<string, unknown> = isRecord(raw.vary) ? { ...raw.vary } : {};
    for (const text of f.vary) {
      const [key, values] = parseVaryFlag(text);
      vary[key] = values;
    }
    raw.vary = vary;
  }
  return parseGrid(raw, file === undefined ? "flags" : "grid");
}

/** A sweep name from the flags when the grid names none: the preset and the varied keys. */
export function defaultSweepName(grid: Grid, file?: string): string {
  if (file !== undefined) {
    const base = file.split("/").pop() ?? file;
    return base.replace(/\.(ya?ml|json)$/i, "").replace(/[^A-Za-z0-9._-]+/g, "-");
  }
  return [grid.preset, ...Object.keys(grid.vary)].join("-").replace(/[^A-Za-z0-9._-]+/g, "-");
}
