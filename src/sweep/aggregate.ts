/**
 * A sweep's aggregate: per config, over its finished seeds,
 *
 * - each final metric (the evaluation after the last step): mean, sd and 95% t-interval (stats.ts),
 *   the out-of-distribution games (`eval.finalGames`) and their mean win rate among them;
 * - each target: how many seeds meet it ("9/10");
 * - learning curves: per metric and step, median and interquartile band. Evaluation metrics at
 *   their evaluation steps; training metrics (reply length, invalid rate, entropy, …) first
 *   averaged per run over windows of ⌈steps/100⌉ steps, so a 1000-step curve has 100 points.
 *
 * Only finished runs (the final checkpoint written) count, so every number of a config is over
 * the same seeds. Timings are left out: the aggregate of a sweep depends only on its runs'
 * results, so an interrupted and resumed sweep aggregates to the same file as an uninterrupted one.
 *
 * Written as aggregate.json, aggregate.md (tables) and curves.csv in the sweep directory.
 */
import { getVariant } from "../games/registry.js";
import { FINAL_GAMES_OPPONENT } from "../rl/final-games.js";
import type { EvalMetrics, StepMetrics } from "../rl/loop.js";
import { latestCheckpoint, readMetrics } from "../rl/run-dir.js";
import type { SweepCell, SweepPlan, Target } from "./grid.js";
import { band, summarize, type Band, type Summary } from "./stats.js";

export const AGGREGATE_FILE = "aggregate.json";
export const AGGREGATE_MARKDOWN = "aggregate.md";
export const CURVES_CSV = "curves.csv";

/** The default preset's targets (README): what "the run learned" means. */
export const DEFAULT_TARGETS: readonly Target[] = [
  { metric: "TicTacToe-v0 vs random: non-loss", op: ">=", value: 0.9, label: "TicTacToe non-loss vs random ≥ 90%" },
  { metric: "TicTacToe-v0 vs minimax: non-loss", op: ">=", value: 0.5, label: "TicTacToe non-loss vs minimax ≥ 50%" },
  { metric: "KuhnPoker-v1-1round: exploitability", op: "<=", value: 0.15, label: "Kuhn exploitability ≤ 0.15" },
  { metric: "SimpleNegotiation-v1 vs random: win", op: ">", value: 0.6, label: "Negotiation win vs random > 60%" },
];

/**
 * The mean win rate vs random over the out-of-distribution games a run evaluated
 * (`eval.finalGames`: evaluation-split games it never trained on), SPIRAL's transfer summary.
 */
export const OOD_MEAN_WIN = "out-of-distribution vs random: mean win";
/** Per run, the final mean win over the unseen games minus the untrained policy's (step 0): transfer. */
export const OOD_GAIN = "out-of-distribution vs random: mean win, change since step 0";

/** Columns of the headline table, when the runs have them. */
export const HEADLINE = [
  "TicTacToe-v0 vs random: non-loss",
  "TicTacToe-v0 vs minimax: non-loss",
  "KuhnPoker-v1-1round vs random: win",
  "KuhnPoker-v1-1round: exploitability",
  "SimpleNegotiation-v1 vs random: win",
  // Non-loss: the heuristic accepts only trades it judges put it ahead, so wins against it are rare
  // (none in any ablation run); holding it to a draw is the skill.
  "SimpleNegotiation-v1 vs heuristic: non-loss",
  OOD_MEAN_WIN,
  OOD_GAIN,
];

const MATCHUP_METRICS = ["win", "draw", "non-loss", "invalid", "mean return"] as const;

function isOutOfDistribution(m: { readonly gameId: string; readonly opponent: string }): boolean {
  if (m.opponent !== FINAL_GAMES_OPPONENT) return false;
  try {
    return getVariant(m.gameId).split === "evaluation";
  } catch {
    return false; // a game this build does not know (metrics of another version): not counted
  }
}

/** Every final metric name an evaluation of `matchups` can report (targets must name one). */
export function finalMetricNames(matchups: readonly { readonly gameId: string; readonly opponent: string }[]): string[] {
  return [
    ...matchups.flatMap((m) => MATCHUP_METRICS.map((k) => `${m.gameId} vs ${m.opponent}: ${k}`)),
    "KuhnPoker-v1-1round: exploitability",
    ...(matchups.some(isOutOfDistribution) ? [OOD_MEAN_WIN, OOD_GAIN] : []),
  ];
}

/** The named numbers of one evaluation. */
export function evalValues(e: Pick<EvalMetrics, "matchups" | "kuhn">): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of e.matchups) {
    const at = `${m.gameId} vs ${m.opponent}`;
    out[`${at}: win`] = m.rates.win.rate;
    out[`${at}: draw`] = m.rates.draw.rate;
    out[`${at}: non-loss`] = m.rates.nonLoss.rate;
    out[`${at}: invalid`] = m.rates.games === 0 ? 0 : m.invalid / m.rates.games;
    out[`${at}: mean return`] = m.meanReturn;
  }
  if (e.kuhn !== undefined) out["KuhnPoker-v1-1round: exploitability"] = e.kuhn.exploitability;
  const ood = e.matchups.filter(isOutOfDistribution);
  if (ood.length > 0) out[OOD_MEAN_WIN] = ood.reduce((a, m) => a + m.rates.win.rate, 0) / ood.length;
  return out;
}

/** The named training numbers of one policy step: the collapse signature among them. */
export function stepValues(m: Pick<StepMetrics, "replyLength" | "thinkingLength" | "invalidRate" | "kept" | "samples" | "learner">): Record<string, number> {
  return {
    "training: reply length": m.replyLength,
    ...(m.thinkingLength === undefined ? {} : { "training: thinking length": m.thinkingLength }),
    "training: invalid rate": m.invalidRate,
    "training: entropy": m.learner.entropy,
    "training: approx KL": m.learner.approxKl,
    "training: kept share": m.samples === 0 ? 0 : m.kept / m.samples,
  };
}

/** One run as the aggregate sees it. */
export interface RunResult {
  readonly seed: number;
  readonly finished: boolean;
  /** The final evaluation's numbers (empty when evaluation is off). */
  readonly final: Readonly<Record<string, number>>;
  /** metric → step → value. */
  readonly curves: Readonly<Record<string, ReadonlyMap<number, number>>>;
}

function addPoint(curves: Record<string, Map<number, number>>, metric: string, step: number, value: number): void {
  (curves[metric] ??= new Map()).set(step, value);
}

/** A run's result from its metrics lines; `steps` is the run's length. */
export function runResultOf(seed: number, steps: number, finished: boolean, records: readonly Record<string, unknown>[]): RunResult {
  const curves: Record<string, Map<number, number>> = {};
  let final: Record<string, number> = {};
  const window = Math.max(1, Math.ceil(steps / 100));
  const sums: Record<string, Map<number, { sum: number; n: number }>> = {};
  for (const r of records) {
    if (r.kind === "eval") {
      const e = r as unknown as EvalMetrics;
      const values = evalValues(e);
      for (const [k, v] of Object.entries(values)) addPoint(curves, k, e.step, v);
      if (e.step === steps) final = values;
    } else if (r.kind === "step") {
      const m = r as unknown as StepMetrics;
      const end = Math.min(steps, Math.ceil(m.step / window) * window);
      for (const [k, v] of Object.entries(stepValues(m))) {
        const at = (sums[k] ??= new Map());
        const s = at.get(end) ?? { sum: 0, n: 0 };
        at.set(end, { sum: s.sum + v, n: s.n + 1 });
      }
    }
  }
  for (const [k, at] of Object.entries(sums)) for (const [step, s] of at) addPoint(curves, k, step, s.sum / s.n);
  const before = curves[OOD_MEAN_WIN]?.get(0);
  const after = final[OOD_MEAN_WIN];
  if (before !== undefined && after !== undefined && steps > 0) final = { ...final, [OOD_GAIN]: after - before };
  return { seed, finished, final, curves };
}

export interface MetricSummary extends Summary {
  /** Per finished seed, in seed order. */
  readonly values: readonly number[];
}

export interface TargetCount {
  readonly label: string;
  readonly metric: string;
  readonly op: Target["op"];
  readonly value: number;
  /** Seeds meeting the target, of the finished seeds that report the metric. */
  readonly met: number;
  readonly of: number;
}

export interface CurvePoint extends Band {
  readonly step: number;
}

export interface ConfigAggregate {
  readonly config: string;
  readonly settings: Readonly<Record<string, unknown>>;
  readonly runs: number;
  /** The finished seeds: every number below is over these. */
  readonly seeds: readonly number[];
  readonly final: Readonly<Record<string, MetricSummary>>;
  readonly targets: readonly TargetCount[];
  readonly curves: Readonly<Record<string, readonly CurvePoint[]>>;
}

/** A config's final metric minus the reference config's, paired by seed. */
export interface Comparison {
  readonly config: string;
  readonly reference: string;
  readonly metric: string;
  /** Seeds finished in both configs and reporting the metric in both. */
  readonly seeds: readonly number[];
  readonly difference: Summary;
}

export interface SweepAggregate {
  readonly format: "spiral.sweep-aggregate/1";
  readonly sweep: string;
  readonly interval: string;
  readonly quantiles: string;
  readonly configs: readonly ConfigAggregate[];
  /** Every other config against the first, metric by metric. */
  readonly comparisons: readonly Comparison[];
}

export function targetLabel(t: Target): string {
  return t.label ?? `${t.metric} ${t.op} ${t.value}`;
}

export function meets(x: number, t: Pick<Target, "op" | "value">): boolean {
  switch (t.op) {
    case ">=": return x >= t.value;
    case ">": return x > t.value;
    case "<=": return x <= t.value;
    case "<": return x < t.value;
  }
}

/** One config's numbers over its finished runs. */
export function aggregateConfig(cell: Pick<SweepCell, "name" | "settings">, results: readonly RunResult[], targets: readonly Target[]): ConfigAggregate {
  const done = results.filter((r) => r.finished).sort((a, b) => a.seed - b.seed);
  const metrics = [...new Set(done.flatMap((r) => Object.keys(r.final)))].sort();
  const valuesOf = (metric: string) => done.flatMap((r) => {
    const v = r.final[metric];
    return v === undefined ? [] : [v];
  });
  const final: Record<string, MetricSummary> = {};
  for (const metric of metrics) {
    const values = valuesOf(metric);
    final[metric] = { ...summarize(values), values };
  }
  const counts = targets.map((t) => {
    const values = valuesOf(t.metric);
    return { label: targetLabel(t), metric: t.metric, op: t.op, value: t.value, met: values.filter((x) => meets(x, t)).length, of: values.length };
  });
  const curves: Record<string, CurvePoint[]> = {};
  for (const metric of [...new Set(done.flatMap((r) => Object.keys(r.curves)))].sort()) {
    const steps = [...new Set(done.flatMap((r) => [...(r.curves[metric]?.keys() ?? [])]))].sort((a, b) => a - b);
    curves[metric] = steps.map((step) => {
      const values = done.flatMap((r) => {
        const v = r.curves[metric]?.get(step);
        return v === undefined ? [] : [v];
      });
      return { step, ...band(values) };
    });
  }
  return { config: cell.name, settings: cell.settings, runs: results.length, seeds: done.map((r) => r.seed), final, targets: counts, curves };
}

export const INTERVAL_NOTE = "95% t-interval on the mean over seeds: mean ± t(0.975, n−1)·sd/√n";
export const QUANTILE_NOTE = "median and interquartile band over seeds (type-7 quantiles: linear between order statistics)";

type CellResults = { readonly cell: Pick<SweepCell, "name" | "settings">; readonly results: readonly RunResult[] };

/**
 * Each config against the first, per final metric: the per-seed differences and their t-interval.
 * Pairing by seed is meaningful: seed s gives every config the same initial weights and the same
 * random streams, so the difference removes the part of the spread that the seed alone causes.
 */
export function compareConfigs(cells: readonly CellResults[]): Comparison[] {
  const [reference, ...others] = cells;
  if (reference === undefined) return [];
  const finals = (c: CellResults) => new Map(c.results.filter((r) => r.finished).map((r) => [r.seed, r.final]));
  const base = finals(reference);
  const out: Comparison[] = [];
  for (const other of others) {
    const mine = finals(other);
    const metrics = [...new Set([...mine.values()].flatMap((f) => Object.keys(f)))].sort();
    for (const metric of metrics) {
      const pairs = [...mine.entries()]
        .sort(([a], [b]) => a - b)
        .flatMap(([seed, f]) => {
          const x = f[metric];
          const y = base.get(seed)?.[metric];
          return x === undefined || y === undefined ? [] : [{ seed, d: x - y }];
        });
      if (pairs.length > 0) out.push({ config: other.cell.name, reference: reference.cell.name, metric, seeds: pairs.map((p) => p.seed), difference: summarize(pairs.map((p) => p.d)) });
    }
  }
  return out;
}

export function aggregateResults(sweep: string, cells: readonly CellResults[], targets: readonly Target[]): SweepAggregate {
  return {
    format: "spiral.sweep-aggregate/1", sweep, interval: INTERVAL_NOTE, quantiles: QUANTILE_NOTE,
    configs: cells.map((c) => aggregateConfig(c.cell, c.results, targets)),
    comparisons: compareConfigs(cells),
  };
}

/** Reads every run of a planned sweep and aggregates the finished ones. */
export async function aggregateSweep(plan: SweepPlan): Promise<SweepAggregate> {
  const cells = [];
  for (const cell of plan.cells) {
    const results = [];
    for (const run of cell.runs) {
      const finished = (await latestCheckpoint(run.dir).catch(() => undefined)) === run.config.steps;
      results.push(runResultOf(run.seed, run.config.steps, finished, finished ? await readMetrics(run.dir) : []));
    }
    cells.push({ cell, results });
  }
  return aggregateResults(plan.name, cells, plan.grid.targets ?? DEFAULT_TARGETS);
}

function isRate(metric: string): boolean {
  return /: (win|draw|non-loss|invalid|mean win|mean win, change since step 0)$|invalid rate$|kept share$/.test(metric);
}

/** A metric's value as the tables print it: rates in percent, the rest to 3 decimals. */
export function formatValue(metric: string, x: number): string {
  return isRate(metric) ? `${(100 * x).toFixed(1)}%` : x.toFixed(3);
}

function formatSummary(metric: string, s: MetricSummary | undefined): string {
  if (s === undefined) return "–";
  if (s.ci95 === null) return formatValue(metric, s.mean);
  const [lo, hi] = s.ci95;
  return isRate(metric)
    ? `${(100 * s.mean).toFixed(1)}% [${(100 * lo).toFixed(1)}, ${(100 * hi).toFixed(1)}]`
    : `${s.mean.toFixed(3)} [${lo.toFixed(3)}, ${hi.toFixed(3)}]`;
}

function formatDifference(metric: string, s: Summary | undefined): string {
  if (s === undefined) return "–";
  const f = (x: number) => (isRate(metric) ? `${x >= 0 ? "+" : ""}${(100 * x).toFixed(1)}` : `${x >= 0 ? "+" : ""}${x.toFixed(3)}`);
  const unit = isRate(metric) ? " pts" : "";
  return s.ci95 === null ? `${f(s.mean)}${unit}` : `${f(s.mean)}${unit} [${f(s.ci95[0])}, ${f(s.ci95[1])}]`;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.map((c) => c.replace(/\|/g, "\\|")).join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

/** The aggregate as markdown: headline metrics, targets, then every final metric. */
export function aggregateMarkdown(a: SweepAggregate): string {
  const all = [...new Set(a.configs.flatMap((c) => Object.keys(c.final)))].sort();
  const headline = HEADLINE.filter((m) => all.includes(m));
  const seeds = (c: ConfigAggregate) => `${c.seeds.length}/${c.runs}`;
  const out = [
    `# Sweep ${a.sweep}`,
    "",
    `Final metrics per config, over its finished seeds: the mean and the ${a.interval}, written mean [low, high]. Seeds: finished of planned.`,
    "",
  ];
  if (headline.length > 0) out.push(table(["config", "seeds", ...headline], a.configs.map((c) => [c.config, seeds(c), ...headline.map((m) => formatSummary(m, c.final[m]))])), "");
  const targets = a.configs[0]?.targets.map((t) => t.label) ?? [];
  if (targets.length > 0) {
    out.push("## Targets", "", "Seeds meeting each target, of the finished seeds that report its metric.", "");
    out.push(table(["config", ...targets], a.configs.map((c) => [c.config, ...c.targets.map((t) => (t.of === 0 ? "–" : `${t.met}/${t.of}`))])), "");
  }
  const reference = a.configs[0]?.config;
  if (a.configs.length > 1 && headline.length > 0 && reference !== undefined) {
    out.push(`## Differences from ${reference}`, "", `Per seed, config − ${reference}, then the mean and 95% t-interval of the differences (rates in percentage points); an interval that excludes 0 separates the two configs at this sample size.`, "");
    out.push(table(["config", "paired seeds", ...headline], a.configs.slice(1).map((c) => {
      const of = (m: string) => a.comparisons.find((x) => x.config === c.config && x.metric === m);
      const n = Math.max(0, ...headline.map((m) => of(m)?.seeds.length ?? 0));
      return [c.config, String(n), ...headline.map((m) => formatDifference(m, of(m)?.difference))];
    })), "");
  }
  if (all.length > 0) {
    out.push("## Every final metric", "", table(["metric", ...a.configs.map((c) => c.config)], all.map((m) => [m, ...a.configs.map((c) => formatSummary(m, c.final[m]))])), "");
  }
  if (a.configs.every((c) => c.seeds.length === 0)) out.push("No run has finished yet.", "");
  return out.join("\n");
}

function csvCell(text: string): string {
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The learning curves as CSV: config, metric, step, n, median, q1, q3. */
export function curvesCsv(a: SweepAggregate): string {
  const lines = ["config,metric,step,n,median,q1,q3"];
  for (const c of a.configs) {
    for (const [metric, points] of Object.entries(c.curves)) {
      for (const p of points) lines.push([csvCell(c.config), csvCell(metric), p.step, p.n, p.median, p.q1, p.q3].join(","));
    }
  }
  return lines.join("\n") + "\n";
}
