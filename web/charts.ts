/**
 * Which curves the dashboard draws, as pure functions of metrics lines (rl/loop.ts StepMetrics and
 * EvalMetrics), and the uPlot wrapper that draws them, one series per (run, curve), aligned on the
 * step axis so runs overlay.
 */
import uPlot from "uplot";
import { h } from "./dom.js";

export type MetricsLine = { kind: string; step: number } & Record<string, unknown>;
export interface RunMetrics {
  readonly name: string;
  readonly lines: readonly MetricsLine[];
}

/** One curve of one run: (step, value) points; `band` marks interval bounds drawn dashed. */
export interface Curve {
  readonly label: string;
  readonly xs: number[];
  readonly ys: number[];
  readonly band?: boolean;
}

export interface ChartSpec {
  readonly id: string;
  readonly title: string;
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
function field(kind: string, label: string, keys: readonly string[]): ChartSpec["curves"] {
  return (lines) => {
    const xs: number[] = [];
    const ys: number[] = [];
    for (const line of lines) {
      const y = line.kind === kind ? num(path(line, keys)) : null;
      if (y !== null) {
        xs.push(line.step);
        ys.push(y);
      }
    }
    return xs.length === 0 ? [] : [{ label, xs, ys }];
  };
}

interface Matchup {
  gameId: string;
  opponent: string;
  rates: Record<"win" | "draw" | "loss" | "nonLoss", { rate: number; low: number; high: number }>;
}

function matchups(lines: readonly MetricsLine[]): { step: number; m: Matchup }[] {
  const out: { step: number; m: Matchup }[] = [];
  for (const line of lines) {
    if (line.kind !== "eval" || !Array.isArray(line.matchups)) continue;
    for (const m of line.matchups as Matchup[]) if (typeof m?.gameId === "string" && typeof m.rates === "object") out.push({ step: line.step, m });
  }
  return out;
}

const RATE_LABELS = { win: "win", draw: "draw", loss: "loss", nonLoss: "non-loss" } as const;

/** Per (game, opponent): win, draw and loss rates with their 95% Wilson bounds. */
function evalCharts(lines: readonly MetricsLine[]): ChartSpec[] {
  const keys = [...new Set(matchups(lines).map(({ m }) => `${m.gameId} vs ${m.opponent}`))];
  return keys.map((key) => ({
    id: `eval-${key}`,
    title: `Eval: ${key} (rates, 95% intervals dashed)`,
    curves: (ls) => {
      const rows = matchups(ls).filter(({ m }) => `${m.gameId} vs ${m.opponent}` === key);
      if (rows.length === 0) return [];
      const xs = rows.map((r) => r.step);
      // TicTacToe is judged by the paper as win-or-draw against the perfect player: non-loss too.
      const kinds = key.startsWith("TicTacToe") ? (["win", "draw", "loss", "nonLoss"] as const) : (["win", "draw", "loss"] as const);
      return kinds.filter((o) => rows.every((r) => r.m.rates[o] !== undefined)).flatMap((o) => [
        { label: RATE_LABELS[o], xs, ys: rows.map((r) => r.m.rates[o].rate) },
        { label: `${RATE_LABELS[o]} low`, xs, ys: rows.map((r) => r.m.rates[o].low), band: true },
        { label: `${RATE_LABELS[o]} high`, xs, ys: rows.map((r) => r.m.rates[o].high), band: true },
      ]);
    },
  }));
}

function baselineChart(lines: readonly MetricsLine[]): ChartSpec[] {
  const games = new Set<string>();
  for (const line of lines) if (line.kind === "step" && typeof line.baselines === "object" && line.baselines !== null) Object.keys(line.baselines).forEach((g) => games.add(g));
  if (games.size === 0) return [];
  return [{
    id: "baselines",
    title: "RAE baselines per game and seat",
    curves: (ls) => [...games].flatMap((g) => ([0, 1] as const).flatMap((s) => field("step", `${g} seat ${s}`, ["baselines", g, String(s)])(ls))),
  }];
}

const FIXED: readonly ChartSpec[] = [
  { id: "kuhn", title: "Kuhn exploitability", curves: field("eval", "exploitability", ["kuhn", "exploitability"]) },
  { id: "loss", title: "Loss", curves: field("step", "loss", ["learner", "loss"]) },
  { id: "clip", title: "Clip fraction", curves: field("step", "clip fraction", ["learner", "clipFraction"]) },
  { id: "kl", title: "Approximate KL", curves: field("step", "KL", ["learner", "approxKl"]) },
  { id: "entropy", title: "Entropy", curves: field("step", "entropy", ["learner", "entropy"]) },
  { id: "grad-norm", title: "Gradient norm", curves: field("step", "grad norm", ["learner", "gradNorm"]) },
  { id: "reply-length", title: "Mean reply length (tokens)", curves: field("step", "reply length", ["replyLength"]) },
  { id: "invalid-rate", title: "Invalid-move rate", curves: field("step", "invalid rate", ["invalidRate"]) },
  { id: "samples-per-second", title: "Samples per second", curves: field("step", "samples/s", ["samplesPerSecond"]) },
  { id: "tokens-per-second", title: "Generated tokens per second", curves: field("step", "tokens/s", ["generatedTokensPerSecond"]) },
];

/** Every chart that has data in at least one run. */
export function chartSpecs(runs: readonly RunMetrics[]): ChartSpec[] {
  const all = runs.flatMap((r) => r.lines);
  const specs = [...evalCharts(all), FIXED[0] as ChartSpec, ...FIXED.slice(1), ...baselineChart(all)];
  return specs.filter((s) => runs.some((r) => s.curves(r.lines).length > 0));
}

/** Steps are integers: no ticks at 0.5. */
const STEP_INCREMENTS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000];

const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"];

/** The aligned data and series of one chart over runs. */
export function chartData(spec: ChartSpec, runs: readonly RunMetrics[]): { data: uPlot.AlignedData; series: uPlot.Series[]; points: number } {
  const tables: uPlot.AlignedData[] = [];
  const series: uPlot.Series[] = [{ label: "step" }];
  let points = 0;
  let colour = 0;
  for (const run of runs) {
    let lastColour = PALETTE[0] as string;
    for (const curve of spec.curves(run.lines)) {
      // uPlot needs ascending x; lines normally arrive in step order, but a resumed run may not.
      const order = curve.xs.map((_, i) => i).sort((a, b) => (curve.xs[a] as number) - (curve.xs[b] as number));
      tables.push([order.map((i) => curve.xs[i] as number), order.map((i) => curve.ys[i] as number)]);
      // Interval bounds share their rate's colour, dashed.
      if (!curve.band) lastColour = PALETTE[colour++ % PALETTE.length] as string;
      if (!curve.band) points += curve.ys.length;
      series.push({
        label: runs.length > 1 ? `${run.name}: ${curve.label}` : curve.label,
        stroke: lastColour, width: curve.band ? 1 : 2, ...(curve.band ? { dash: [4, 4] } : {}),
        spanGaps: true, points: { show: !curve.band, size: 5 },
      });
    }
  }
  const data = tables.length === 1 ? (tables[0] as uPlot.AlignedData) : uPlot.join(tables);
  return { data, series, points };
}

/** A chart card that can be fed new data. */
export class Chart {
  readonly el: HTMLElement;
  private plot: uPlot | null = null;
  private seriesKey = "";

  constructor(readonly spec: ChartSpec) {
    this.el = h("div", { class: "chart", "data-chart": spec.id }, h("h3", {}, spec.title));
  }

  update(runs: readonly RunMetrics[]): void {
    const { data, series, points } = chartData(this.spec, runs);
    this.el.setAttribute("data-points", String(points));
    const key = series.map((s) => s.label).join("|");
    if (this.plot !== null && key === this.seriesKey) {
      this.plot.setData(data);
      return;
    }
    this.plot?.destroy();
    this.seriesKey = key;
    this.plot = new uPlot({ width: 460, height: 220, series, scales: { x: { time: false } }, axes: [{ label: "step", incrs: STEP_INCREMENTS }, { size: 64 }], legend: { live: false } }, data, this.el);
  }
}
