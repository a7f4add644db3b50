/**
 * The plots of one or several runs, drawn with uPlot the way its users expect: one card per
 * quantity in a responsive grid, grouped by section; a colour per run, the same in every card,
 * with one shared legend (click a run to hide it); a tooltip with every series' value at the
 * cursor; 95% intervals as shaded bands; EMA smoothing with the raw series faint behind; the x axis
 * as step, training time or samples; a log scale per card; drag to zoom, synced across cards, with
 * a reset; CSV and PNG per card.
 */
import uPlot from "uplot";
import { clear, h } from "./dom.js";
import { fmtDuration, fmtNumber, fmtPercent, fmtUnit } from "./format.js";
import {
  chartCsv, chartSpecs, ema, runColour, SECTIONS, X_LABELS, xMapper,
  type ChartSpec, type RunMetrics, type Section, type XAxis,
} from "./series.js";

export type { MetricsLine, RunMetrics } from "./series.js";

const HEIGHT = 240;
/** Steps are integers: no ticks at 0.5. */
const STEP_INCREMENTS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000];

/** Axis ticks with as many decimals as the tick spacing needs; tiny scales (learning rates) in exponent form. */
function numberTicks(_u: uPlot, splits: number[], _a: number, _s: number, incr: number): string[] {
  const decimals = Math.max(0, Math.ceil(-Math.log10(incr) - 1e-9));
  // Log scales leave some splits null (unlabelled).
  return splits.map((v) => (v === null ? "" : v === 0 ? "0" : decimals > 4 ? v.toExponential(Math.min(3, Math.max(1, Math.round(Math.log10(Math.abs(v) / incr))))) : Math.abs(v) >= 10000 ? fmtNumber(v) : v.toFixed(decimals)));
}

/** A colour with alpha, from "#rrggbb". */
function alpha(hex: string, a: number): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${a})`;
}

function download(name: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function fileName(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^_|_$/g, "");
}

/** What every card of a board shares: x axis, smoothing, hidden runs, the zoom. */
export interface BoardState {
  axis: XAxis;
  smoothing: number;
  hidden: Set<string>;
}

/** One plotted series and what the tooltip says of it. */
interface SeriesMeta {
  run: string;
  colour: string;
  label: string;
  role: "main" | "raw" | "high" | "low";
  /** For a main series: the indices of its raw, low and high series, when drawn. */
  raw?: number;
  low?: number;
  high?: number;
}

interface Built {
  data: uPlot.AlignedData;
  series: uPlot.Series[];
  bands: uPlot.Band[];
  meta: SeriesMeta[];
  points: number;
}

/** The aligned data, series and bands of one chart over runs (`colours` by run name). */
export function buildChart(spec: ChartSpec, runs: readonly RunMetrics[], colours: ReadonlyMap<string, string>, state: BoardState, log: boolean): Built {
  const tables: uPlot.AlignedData[] = [];
  const series: uPlot.Series[] = [{ label: X_LABELS[state.axis] }];
  const meta: SeriesMeta[] = [{ run: "", colour: "", label: "", role: "main" }];
  const bands: uPlot.Band[] = [];
  let points = 0;
  const clean = (v: number): number | null => (log && v <= 0 ? null : v);
  for (const run of runs) {
    if (state.hidden.has(run.name)) continue;
    const colour = colours.get(run.name) ?? runColour(0);
    const toX = xMapper(run.lines, state.axis);
    for (const curve of spec.curves(run.lines)) {
      // uPlot needs ascending x; lines normally come in step order, but a resumed run may not.
      const order = curve.steps.map((_, i) => i).filter((i) => toX(curve.steps[i] as number) !== null)
        .sort((a, b) => (toX(curve.steps[a] as number) as number) - (toX(curve.steps[b] as number) as number));
      if (order.length === 0) continue;
      const xs = order.map((i) => toX(curve.steps[i] as number) as number);
      const ys = order.map((i) => curve.ys[i] as number);
      points += ys.length;
      const table: (number | null)[][] = [xs];
      const label = runs.length > 1 ? `${run.name}: ${curve.label}` : curve.label;
      const main: SeriesMeta = { run: run.name, colour, label, role: "main" };
      const dash = curve.dash === 1 ? [6, 4] : curve.dash === 2 ? [2, 3] : undefined;
      const base = series.length;
      if (curve.low !== undefined && curve.high !== undefined) {
        const low = curve.low;
        const high = curve.high;
        table.push(order.map((i) => clean(high[i] as number)), order.map((i) => clean(low[i] as number)));
        for (const role of ["high", "low"] as const) {
          series.push({ label: `${label} ${role}`, stroke: "rgba(0,0,0,0)", width: 0, points: { show: false }, spanGaps: true });
          meta.push({ run: run.name, colour, label, role });
        }
        bands.push({ series: [base, base + 1], fill: alpha(colour, 0.14) });
        main.high = base;
        main.low = base + 1;
      }
      const smoothing = spec.smooth ? state.smoothing : 0;
      if (smoothing > 0) {
        table.push(ys.map(clean));
        series.push({ label: `${label} raw`, stroke: alpha(colour, 0.22), width: 1, points: { show: false }, spanGaps: true, ...(dash === undefined ? {} : { dash }) });
        meta.push({ run: run.name, colour, label, role: "raw" });
        main.raw = series.length - 1;
      }
      table.push(ema(ys, smoothing).map(clean));
      series.push({
        label, stroke: colour, width: spec.smooth ? 1.6 : 2, spanGaps: true, ...(dash === undefined ? {} : { dash }),
        // Sparse evaluation points get markers; dense per-step curves are lines only.
        points: { show: !spec.smooth && ys.length <= 60, size: 5, fill: colour },
      });
      meta.push(main);
      tables.push(table as uPlot.AlignedData);
    }
  }
  const data = tables.length === 0 ? ([[]] as uPlot.AlignedData) : tables.length === 1 ? (tables[0] as uPlot.AlignedData) : uPlot.join(tables);
  return { data, series, bands, meta, points };
}

/** The value of series `s` nearest to index `idx` (overlaid runs may not share x values). */
function nearest(data: uPlot.AlignedData, s: number, idx: number): number | null {
  const ys = data[s] as (number | null | undefined)[] | undefined;
  if (ys === undefined) return null;
  for (let d = 0; d < ys.length; d++) {
    const a = ys[idx - d];
    if (a !== null && a !== undefined) return a;
    const b = ys[idx + d];
    if (b !== null && b !== undefined) return b;
  }
  return null;
}

function fmtX(axis: XAxis, v: number): string {
  return axis === "time" ? fmtDuration(v) : fmtNumber(v);
}

/** A chart card that can be fed new data. */
export class Chart {
  readonly el: HTMLElement;
  private readonly body: HTMLElement;
  private readonly tooltip: HTMLElement;
  private readonly logButton: HTMLButtonElement;
  private plot: uPlot | null = null;
  private key = "";
  private meta: SeriesMeta[] = [];
  private runs: readonly RunMetrics[] = [];
  private log = false;
  private hovered = false;
  private ready = false;
  private readonly resize: ResizeObserver;
  /** Set while this card changes its own scales (data, reset, sync), so they are not broadcast. */
  private quiet = false;

  constructor(readonly spec: ChartSpec, private readonly board: ChartBoard) {
    this.tooltip = h("div", { class: "tt", "data-testid": "tooltip" });
    this.body = h("div", { class: "chart-body" });
    this.logButton = h("button", { class: "tool", title: "logarithmic y axis", "aria-pressed": "false", "data-testid": "log", click: () => this.toggleLog() }, "log");
    this.el = h("div", { class: "chart", "data-chart": spec.id, "data-title": spec.title.toLowerCase() },
      h("div", { class: "chart-head" }, h("h3", {}, spec.title),
        h("span", { class: "tools" }, this.logButton,
          h("button", { class: "tool", title: "download this chart's data as CSV", "data-testid": "csv", click: () => this.csv() }, "CSV"),
          h("button", { class: "tool", title: "download this chart as PNG", "data-testid": "png", click: () => this.png() }, "PNG"))),
      this.body);
    this.resize = new ResizeObserver(() => {
      const width = this.width();
      if (this.plot !== null && Math.abs(this.plot.width - width) > 1) this.plot.setSize({ width, height: HEIGHT });
    });
    this.resize.observe(this.body);
  }

  destroy(): void {
    this.resize.disconnect();
    this.plot?.destroy();
    this.plot = null;
  }

  private width(): number {
    return Math.max(220, Math.floor(this.body.clientWidth));
  }

  private toggleLog(): void {
    this.log = !this.log;
    this.logButton.setAttribute("aria-pressed", String(this.log));
    this.key = "";
    this.update(this.runs);
  }

  update(runs: readonly RunMetrics[]): void {
    this.runs = runs;
    const { state, colours } = this.board;
    const built = buildChart(this.spec, runs, colours, state, this.log);
    this.meta = built.meta;
    this.el.setAttribute("data-points", String(built.points));
    const key = JSON.stringify([built.series.map((s) => [s.label, s.stroke]), state.axis, this.log]);
    this.quiet = true;
    try {
      if (this.plot !== null && key === this.key) {
        this.plot.setData(built.data, this.board.zoom === null);
      } else {
        this.plot?.destroy();
        this.ready = false;
        this.key = key;
        this.plot = new uPlot(this.options(built), built.data, this.body);
        this.plot.over.append(this.tooltip);
        this.plot.over.addEventListener("mouseenter", () => void (this.hovered = true));
        this.plot.over.addEventListener("mouseleave", () => {
          this.hovered = false;
          this.tooltip.style.display = "none";
        });
      }
      const zoom = this.board.zoom;
      if (zoom !== null) this.plot.setScale("x", { min: zoom[0], max: zoom[1] });
    } finally {
      this.quiet = false;
    }
  }

  private options(built: Built): uPlot.Options {
    const { spec } = this;
    const axis = this.board.state.axis;
    const percentTicks = (_u: uPlot, splits: number[], _a: number, _s: number, incr: number): string[] =>
      splits.map((v) => (v === null ? "" : fmtPercent(v, incr * 100 < 1 ? 1 : 0)));
    return {
      width: this.width(),
      height: HEIGHT,
      series: built.series,
      bands: built.bands,
      legend: { show: false },
      scales: { x: { time: false }, y: this.log ? { distr: 3 } : { auto: true } },
      axes: [
        { label: X_LABELS[axis], ...(axis === "step" ? { incrs: STEP_INCREMENTS } : {}), ...(axis === "time" ? { values: (_u: uPlot, splits: number[]) => splits.map((v) => fmtDuration(v)) } : {}) },
        { label: spec.yLabel, size: 60, values: spec.unit === "fraction" ? percentTicks : numberTicks },
      ],
      cursor: { sync: { key: this.board.syncKey, setSeries: false }, drag: { x: true, y: false }, points: { size: 6 } },
      hooks: {
        setCursor: [(u) => this.showTooltip(u)],
        ready: [() => void (this.ready = true)],
        setScale: [(u, scale) => {
          if (scale === "x" && this.ready && !this.quiet) this.board.zoomed(this, u);
        }],
      },
    };
  }

  private showTooltip(u: uPlot): void {
    const idx = u.cursor.idx;
    if (!this.hovered || idx === null || idx === undefined) {
      this.tooltip.style.display = "none";
      return;
    }
    const x = u.data[0][idx];
    const rows = this.meta.flatMap((m, s) => {
      if (m.role !== "main" || s === 0) return [];
      const v = nearest(u.data, s, idx);
      const raw = m.raw === undefined ? null : nearest(u.data, m.raw, idx);
      const low = m.low === undefined ? null : nearest(u.data, m.low, idx);
      const high = m.high === undefined ? null : nearest(u.data, m.high, idx);
      const extra = raw !== null ? ` (raw ${fmtUnit(raw, this.spec.unit)})`
        : low !== null && high !== null ? ` [${fmtUnit(low, this.spec.unit)}, ${fmtUnit(high, this.spec.unit)}]` : "";
      return [h("div", { class: "tt-row", "data-run": m.run },
        h("span", { class: "swatch", style: `background:${m.colour}` }), h("span", { class: "tt-label" }, m.label),
        h("b", { class: "tt-value" }, fmtUnit(v, this.spec.unit)), extra)];
    });
    clear(this.tooltip);
    this.tooltip.append(h("div", { class: "tt-x" }, `${X_LABELS[this.board.state.axis]} ${x === undefined ? "–" : fmtX(this.board.state.axis, x)}`), ...rows);
    this.tooltip.style.display = "block";
    const left = u.cursor.left ?? 0;
    const top = u.cursor.top ?? 0;
    // Right of the cursor in the left half, left of it in the right half; kept inside the card.
    const width = this.tooltip.offsetWidth;
    const wanted = left > u.over.clientWidth / 2 ? left - 12 - width : left + 12;
    this.tooltip.style.left = `${Math.max(-u.over.offsetLeft, Math.min(wanted, u.over.clientWidth - width))}px`;
    this.tooltip.style.top = `${Math.min(Math.max(0, top - 10), Math.max(0, u.over.clientHeight - this.tooltip.offsetHeight))}px`;
  }

  /** Applies another card's zoom (null: back to this card's full range). */
  applyZoom(zoom: readonly [number, number] | null): void {
    if (this.plot === null) return;
    this.quiet = true;
    try {
      if (zoom === null) this.plot.setData(this.plot.data, true);
      else this.plot.setScale("x", { min: zoom[0], max: zoom[1] });
    } finally {
      this.quiet = false;
    }
  }

  private csv(): void {
    download(`${fileName(this.spec.title)}.csv`, new Blob([chartCsv(this.spec, this.runs.filter((r) => !this.board.state.hidden.has(r.name)), this.board.state.axis)], { type: "text/csv" }));
  }

  /** The canvas on white with the card's title and run legend above it. */
  renderPng(): HTMLCanvasElement | null {
    if (this.plot === null) return null;
    const src = this.plot.ctx.canvas;
    const ratio = src.width / Math.max(1, this.plot.width);
    const head = Math.round(44 * ratio);
    const out = document.createElement("canvas");
    out.width = src.width;
    out.height = src.height + head;
    const ctx = out.getContext("2d");
    if (ctx === null) return null;
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, out.width, out.height);
    ctx.fillStyle = "#222";
    ctx.font = `bold ${Math.round(14 * ratio)}px system-ui, sans-serif`;
    ctx.fillText(this.spec.title, 8 * ratio, 18 * ratio);
    ctx.font = `${Math.round(12 * ratio)}px system-ui, sans-serif`;
    let x = 8 * ratio;
    for (const run of this.runs) {
      if (this.board.state.hidden.has(run.name)) continue;
      ctx.fillStyle = this.board.colours.get(run.name) ?? "#000";
      ctx.fillRect(x, 28 * ratio, 12 * ratio, 10 * ratio);
      ctx.fillStyle = "#222";
      ctx.fillText(run.name, x + 16 * ratio, 37 * ratio);
      x += (ctx.measureText(run.name).width + 32 * ratio);
    }
    ctx.drawImage(src, 0, head);
    return out;
  }

  private png(): void {
    this.renderPng()?.toBlob((blob) => {
      if (blob !== null) download(`${fileName(this.spec.title)}.png`, blob);
    }, "image/png");
  }
}

let boards = 0;

/**
 * A board of charts over runs: the toolbar (x axis, smoothing, chart filter, zoom reset), the
 * shared run legend, and one grid per section.
 */
export class ChartBoard {
  readonly el: HTMLElement;
  readonly state: BoardState = { axis: "step", smoothing: 0.6, hidden: new Set() };
  readonly colours = new Map<string, string>();
  readonly syncKey = `spiral-${++boards}`;
  zoom: readonly [number, number] | null = null;
  private readonly charts = new Map<string, Chart>();
  private readonly sections = new Map<Section, HTMLElement>();
  private readonly legend: HTMLElement;
  private readonly reset: HTMLButtonElement;
  private readonly empty: HTMLElement;
  private runs: readonly RunMetrics[] = [];

  constructor(runNames: readonly string[]) {
    runNames.forEach((name, i) => this.colours.set(name, runColour(i)));
    const axis = h("select", { "data-testid": "x-axis", change: (e: Event) => this.set({ axis: (e.target as HTMLSelectElement).value as XAxis }) },
      ...(["step", "time", "samples"] as const).map((a) => h("option", { value: a }, X_LABELS[a])));
    const smoothLabel = h("span", { class: "num" }, "0.60");
    const smooth = h("input", { type: "range", min: "0", max: "0.99", step: "0.01", value: "0.6", "data-testid": "smoothing", input: (e: Event) => {
      const v = Number((e.target as HTMLInputElement).value);
      smoothLabel.textContent = v.toFixed(2);
      this.set({ smoothing: v });
    } });
    const filter = h("input", { type: "search", placeholder: "filter charts", "data-testid": "chart-filter", input: (e: Event) => {
      const q = (e.target as HTMLInputElement).value.trim().toLowerCase();
      for (const c of this.charts.values()) c.el.style.display = q === "" || (c.el.getAttribute("data-title") ?? "").includes(q) ? "" : "none";
    } });
    this.reset = h("button", { "data-testid": "reset-zoom", disabled: "", title: "drag across a chart to zoom all charts; this (or a double-click) shows everything again", click: () => this.resetZoom() }, "Reset zoom");
    this.legend = h("div", { class: "legend", "data-testid": "legend" });
    this.empty = h("p", { class: "muted" }, "No metrics yet.");
    this.el = h("div", { class: "board" },
      h("div", { class: "toolbar" }, h("label", {}, "x axis ", axis), h("label", {}, "smoothing ", smooth, smoothLabel), filter, this.reset),
      this.legend, this.empty,
      ...SECTIONS.map((s) => {
        const grid = h("div", { class: "grid", "data-testid": "plots", "data-section": s });
        this.sections.set(s, grid);
        return h("section", { class: "section", "data-section": s, style: "display:none" }, h("h2", {}, s), grid);
      }));
    this.drawLegend();
  }

  private drawLegend(): void {
    clear(this.legend);
    for (const [name, colour] of this.colours) {
      this.legend.append(h("button", {
        class: `legend-run${this.state.hidden.has(name) ? " off" : ""}`, "data-testid": "legend-run", "data-run": name, "data-colour": colour,
        title: "show or hide this run in every chart", click: () => {
          if (this.state.hidden.has(name)) this.state.hidden.delete(name);
          else this.state.hidden.add(name);
          this.drawLegend();
          this.update(this.runs);
        },
      }, h("span", { class: "swatch", style: `background:${colour}` }), name));
    }
  }

  private set(change: Partial<BoardState>): void {
    Object.assign(this.state, change);
    if (change.axis !== undefined) this.resetZoom();
    this.update(this.runs);
  }

  update(runs: readonly RunMetrics[]): void {
    this.runs = runs;
    for (const spec of chartSpecs(runs)) {
      let chart = this.charts.get(spec.id);
      if (chart === undefined) {
        chart = new Chart(spec, this);
        this.charts.set(spec.id, chart);
        const grid = this.sections.get(spec.section);
        grid?.append(chart.el);
        if (grid?.parentElement !== undefined && grid.parentElement !== null) grid.parentElement.style.display = "";
      }
      chart.update(runs);
    }
    this.empty.style.display = this.charts.size === 0 ? "" : "none";
  }

  /** A card's x scale changed by the user (drag or double-click): every card follows. */
  zoomed(from: Chart, u: uPlot): void {
    const { min, max } = u.scales.x ?? {};
    if (min === undefined || max === undefined) return;
    const xs = u.data[0];
    const full = xs.length === 0 || (min <= (xs[0] as number) && max >= (xs[xs.length - 1] as number));
    const zoom: readonly [number, number] | null = full ? null : [min, max];
    if (zoom === this.zoom || (zoom !== null && this.zoom !== null && zoom[0] === this.zoom[0] && zoom[1] === this.zoom[1])) return;
    this.zoom = zoom;
    this.reset.disabled = this.zoom === null;
    this.el.setAttribute("data-zoom", zoom === null ? "" : zoom.map((v) => v.toFixed(3)).join(","));
    for (const c of this.charts.values()) if (c !== from) c.applyZoom(this.zoom);
  }

  private resetZoom(): void {
    this.zoom = null;
    this.reset.disabled = true;
    this.el.setAttribute("data-zoom", "");
    for (const c of this.charts.values()) c.applyZoom(null);
  }

  /** Releases every card (the view is left). */
  destroy(): void {
    for (const c of this.charts.values()) c.destroy();
    this.charts.clear();
  }
}
