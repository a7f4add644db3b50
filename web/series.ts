/**
 * What the dashboard plots, as pure functions of metrics lines (rl/loop.ts StepMetrics and
 * EvalMetrics): the chart specs (one quantity per card, grouped by section), each run's curves,
 * the x axis (step, training wall time or samples seen), EMA smoothing and the CSV of a chart.
 * No DOM and no uPlot here, so it is tested in node.
 */
import type { Unit } from "./format.js";

export type MetricsLine = { kind: string; step: number } & Record<string, unknown>;
export interface RunMetrics {
  readonly name: string;
  readonly lines: readonly MetricsLine[];
}

/** One curve of one run over steps; `low`/`high` are its 95% interval (drawn as a shaded band). */
export interface Curve {
  readonly label: string;
  readonly steps: number[];
  readonly ys: number[];
  readonly low?: number[];
  readonly high?: number[];
  /** Line style within a run (runs differ by colour): 0 solid, 1 dashed, 2 dotted. */
  readonly dash?: 0 | 1 | 2;
}

export type Section = "Evaluation" | "Learner" | "Rollouts" | "Throughput" | "Baselines";

export interface ChartSpec {
  readonly id: string;
  readonly title: string;
  readonly section: Section;
  readonly unit: Unit;
  /** The y axis label, with its unit. */
  readonly yLabel: string;
  /** Noisy per-step scalars are smoothed (EMA); evaluation rates with intervals are not. */
  readonly smooth: boolean;
  readonly curves: (lines: readonly MetricsLine[]) => Curve[];
}

function num(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

function path(value: unknown, keys: readonly string[]): unknown {
  let v = value;
  for (const k of keys) v = typeof v === "object" && v !== null ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

/** A curve over the lines of one kind, from a field path. */
function field(kind: string, label: string, keys: readonly string[], dash: 0 | 1 | 2 = 0): ChartSpec["curves"] {
  return (lines) => {
    const steps: number[] = [];
    const ys: number[] = [];
    for (const line of lines) {
      const y = line.kind === kind ? num(path(line, keys)) : null;
      if (y !== null) {
        steps.push(line.step);
        ys.push(y);
      }
    }
    return steps.length === 0 ? [] : [{ label, steps, ys, dash }];
  };
}

interface Interval {
  rate: number;
  low: number;
  high: number;
}

export interface Matchup {
  gameId: string;
  opponent: string;
  rates: Partial<Record<RateKind, Interval>> & { games?: number };
}

export type RateKind = "win" | "draw" | "loss" | "nonLoss";
export const RATE_LABELS: Readonly<Record<RateKind, string>> = { win: "win rate", draw: "draw rate", loss: "loss rate", nonLoss: "non-loss rate" };

/** The matchups of one eval line (tolerating older or partial lines). */
export function matchupsOf(line: MetricsLine | null | undefined): Matchup[] {
  if (line?.kind !== "eval" || !Array.isArray(line.matchups)) return [];
  return (line.matchups as Matchup[]).filter((m) => typeof m?.gameId === "string" && typeof m.opponent === "string" && typeof m.rates === "object" && m.rates !== null);
}

/**
 * The rates shown per matchup: TicTacToe and negotiation also by non-loss, the headline measure
 * where a draw is the best a policy can expect (the perfect TicTacToe player; the negotiation
 * heuristic, which accepts only trades it judges put it ahead).
 */
export function rateKinds(gameId: string): RateKind[] {
  return gameId.startsWith("TicTacToe") || gameId.startsWith("SimpleNegotiation") ? ["win", "draw", "loss", "nonLoss"] : ["win", "draw", "loss"];
}

export function matchupKey(m: { gameId: string; opponent: string }): string {
  return `${m.gameId} vs ${m.opponent}`;
}

/** Every (game, opponent) evaluated in the lines, in first-seen order. */
export function matchupKeys(lines: readonly MetricsLine[]): { key: string; gameId: string; opponent: string }[] {
  const seen = new Map<string, { key: string; gameId: string; opponent: string }>();
  for (const line of lines) for (const m of matchupsOf(line)) if (!seen.has(matchupKey(m))) seen.set(matchupKey(m), { key: matchupKey(m), gameId: m.gameId, opponent: m.opponent });
  return [...seen.values()];
}

/** One card per (game, opponent, rate), the rate with its 95% Wilson interval as a band. */
function evalCharts(lines: readonly MetricsLine[]): ChartSpec[] {
  return matchupKeys(lines).flatMap(({ key, gameId }) => rateKinds(gameId).map((kind): ChartSpec => ({
    id: `eval-${key}-${kind}`,
    title: `${key}: ${RATE_LABELS[kind]}`,
    section: "Evaluation",
    unit: "fraction",
    yLabel: `${RATE_LABELS[kind]} (%)`,
    smooth: false,
    curves: (ls) => {
      const steps: number[] = [];
      const ys: number[] = [];
      const low: number[] = [];
      const high: number[] = [];
      for (const line of ls) {
        for (const m of matchupsOf(line)) {
          const r = m.rates[kind];
          if (matchupKey(m) !== key || r === undefined || num(r.rate) === null) continue;
          steps.push(line.step);
          ys.push(r.rate);
          low.push(num(r.low) ?? r.rate);
          high.push(num(r.high) ?? r.rate);
        }
      }
      return steps.length === 0 ? [] : [{ label: RATE_LABELS[kind], steps, ys, low, high }];
    },
  })));
}

/** Per game: the RAE baseline of each seat (seat 1 dashed). */
function baselineCharts(lines: readonly MetricsLine[]): ChartSpec[] {
  const games = new Set<string>();
  for (const line of lines) if (line.kind === "step" && typeof line.baselines === "object" && line.baselines !== null) Object.keys(line.baselines).forEach((g) => games.add(g));
  return [...games].map((g) => ({
    id: `baseline-${g}`, title: `RAE baseline: ${g}`, section: "Baselines", unit: "number", yLabel: "baseline (return)", smooth: true,
    curves: (ls: readonly MetricsLine[]) => ([0, 1] as const).flatMap((s) => field("step", `seat ${s}`, ["baselines", g, String(s)], s)(ls)),
  }));
}

const FIXED: readonly ChartSpec[] = [
  { id: "kuhn", title: "Kuhn exploitability", section: "Evaluation", unit: "number", yLabel: "exploitability (chips/hand)", smooth: false, curves: field("eval", "exploitability", ["kuhn", "exploitability"]) },
  { id: "loss", title: "Loss", section: "Learner", unit: "number", yLabel: "loss", smooth: true, curves: field("step", "loss", ["learner", "loss"]) },
  { id: "kl", title: "Approximate KL", section: "Learner", unit: "number", yLabel: "KL (nats)", smooth: true, curves: field("step", "KL", ["learner", "approxKl"]) },
  { id: "entropy", title: "Entropy", section: "Learner", unit: "number", yLabel: "entropy (nats/token)", smooth: true, curves: field("step", "entropy", ["learner", "entropy"]) },
  { id: "clip", title: "Clip fraction", section: "Learner", unit: "fraction", yLabel: "clipped tokens (%)", smooth: true, curves: field("step", "clip fraction", ["learner", "clipFraction"]) },
  { id: "grad-norm", title: "Gradient norm", section: "Learner", unit: "number", yLabel: "gradient norm", smooth: true, curves: field("step", "grad norm", ["learner", "gradNorm"]) },
  { id: "lr", title: "Learning rate", section: "Learner", unit: "number", yLabel: "learning rate", smooth: false, curves: field("step", "learning rate", ["lr"]) },
  { id: "invalid-rate", title: "Invalid-move rate", section: "Rollouts", unit: "fraction", yLabel: "games ended by an invalid move (%)", smooth: true, curves: field("step", "invalid rate", ["invalidRate"]) },
  { id: "reply-length", title: "Mean reply length", section: "Rollouts", unit: "number", yLabel: "tokens per reply", smooth: true, curves: field("step", "reply length", ["replyLength"]) },
  { id: "samples-per-second", title: "Samples per second", section: "Throughput", unit: "number", yLabel: "samples/s", smooth: true, curves: field("step", "samples/s", ["samplesPerSecond"]) },
  { id: "tokens-per-second", title: "Generated tokens per second", section: "Throughput", unit: "number", yLabel: "tokens/s", smooth: true, curves: field("step", "tokens/s", ["generatedTokensPerSecond"]) },
];

export const SECTIONS: readonly Section[] = ["Evaluation", "Learner", "Rollouts", "Throughput", "Baselines"];

/** Every chart that has data in at least one run, in section order. */
export function chartSpecs(runs: readonly RunMetrics[]): ChartSpec[] {
  const all = runs.flatMap((r) => r.lines);
  const specs = [...evalCharts(all), ...FIXED, ...baselineCharts(all)];
  return SECTIONS.flatMap((s) => specs.filter((c) => c.section === s && runs.some((r) => c.curves(r.lines).length > 0)));
}

export type XAxis = "step" | "time" | "samples";
export const X_LABELS: Readonly<Record<XAxis, string>> = { step: "step", time: "training time", samples: "samples" };

/**
 * Maps a run's steps onto the chosen x axis. Training time is the sum of each step's acting,
 * learning and evaluation seconds up to the end of that step (pauses between a Ctrl-C and a
 * resume do not count); samples is the running total of samples generated.
 */
export function xMapper(lines: readonly MetricsLine[], axis: XAxis): (step: number) => number | null {
  if (axis === "step") return (step) => step;
  const at = new Map<number, number>();
  let total = 0;
  for (const line of lines) {
    if (line.kind === "step") {
      total += axis === "time" ? (num(line.actSeconds) ?? 0) + (num(line.learnSeconds) ?? 0) : (num(line.samples) ?? 0);
      at.set(line.step, total);
    } else if (line.kind === "eval" && axis === "time") {
      total += num(line.seconds) ?? 0;
      at.set(line.step, total);
    }
  }
  return (step) => at.get(step) ?? null;
}

/**
 * Debiased exponential moving average (TensorBoard's smoothing): weight 0 is the raw series,
 * 0.99 is very smooth; the first points are not pulled towards zero.
 */
export function ema(ys: readonly number[], weight: number): number[] {
  if (weight <= 0) return [...ys];
  let last = 0;
  let n = 0;
  return ys.map((y) => {
    last = last * weight + (1 - weight) * y;
    n++;
    return last / (1 - weight ** n);
  });
}

function csvCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return "";
  const s = String(value);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A chart's raw data as CSV: one row per (run, curve, step), intervals included. */
export function chartCsv(spec: ChartSpec, runs: readonly RunMetrics[], axis: XAxis): string {
  const rows: string[] = [["run", "curve", "step", ...(axis === "step" ? [] : [X_LABELS[axis]]), "value", "low", "high"].join(",")];
  for (const run of runs) {
    const toX = xMapper(run.lines, axis);
    for (const c of spec.curves(run.lines)) {
      c.steps.forEach((step, i) => rows.push([run.name, c.label, step, ...(axis === "step" ? [] : [toX(step)]), c.ys[i], c.low?.[i], c.high?.[i]].map(csvCell).join(",")));
    }
  }
  return rows.join("\n") + "\n";
}

/** Colours by run index, from Tableau 10 then a second, darker set; runs keep theirs in every card. */
export const RUN_COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22",
  "#0b3d91", "#7b0d0d", "#145a14", "#a34700", "#4b2a7a", "#4e2f26", "#8e2f6d", "#0b6b76", "#3a3a3a", "#6b6b0b"];

export function runColour(index: number): string {
  return RUN_COLOURS[index % RUN_COLOURS.length] as string;
}
