/**
 * `spiral report SWEEP_DIR`: a sweep's aggregate as one self-contained HTML file — the tables of
 * aggregate.md and, per metric, every config's median learning curve with its interquartile band
 * (inline SVG, no script, opens offline). Separate from the run report (dashboard/report.ts),
 * which plots single runs.
 */
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { EVALUATION_GAME_IDS } from "../rl/final-games.js";
import { AGGREGATE_FILE, formatValue, HEADLINE, OOD_GAIN, OOD_MEAN_WIN, targetLabel, type ConfigAggregate, type CurvePoint, type SweepAggregate } from "./aggregate.js";
import { aggregateSweep } from "./aggregate.js";
import { planSweep } from "./grid.js";
import { readSweepState, SWEEP_STATE_FILE } from "./run.js";

/** A sweep directory holds sweep.json (run state) next to its cells. */
export function isSweepDir(dir: string): boolean {
  return existsSync(join(dir, SWEEP_STATE_FILE));
}

export async function readAggregate(dir: string): Promise<SweepAggregate> {
  try {
    return JSON.parse(await readFile(join(dir, AGGREGATE_FILE), "utf8")) as SweepAggregate;
  } catch {
    throw new Error(`Expected ${join(dir, AGGREGATE_FILE)}; write it with \`spiral sweep … --aggregate-only\` (the same grid and flags)`);
  }
}

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"];

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

const W = 460;

/**
 * Round tick values covering [lo, hi]: steps of 1, 2 or 5 × 10^k, about `count` intervals, only
 * those inside the range (so the axis keeps its data-driven ends and labels never collide).
 */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  // The candidate step whose number of intervals over the range is nearest `count`.
  const step = [1, 2, 5, 10].map((m) => m * mag).reduce((a, b) => (Math.abs((hi - lo) / b - count) < Math.abs((hi - lo) / a - count) ? b : a));
  const ticks: number[] = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) ticks.push(Number((k * step).toPrecision(12)));
  return ticks;
}
const H = 220;
const PAD = { left: 52, right: 10, top: 10, bottom: 28 };

export interface SvgOptions {
  /** A file of its own (docs): the SVG namespace, a white background, a title and a legend. */
  readonly standalone?: boolean;
}

function legendSvg(configs: readonly string[], top: number): string {
  return configs
    .map((c, i) => {
      const y = top + 14 * i;
      return `<rect x="${PAD.left}" y="${y - 9}" width="10" height="10" fill="${COLORS[i % COLORS.length]}"/><text x="${PAD.left + 14}" y="${y}" font-size="10">${escapeHtml(c)}</text>`;
    })
    .join("");
}

function svgOpen(width: number, height: number, label: string, o: SvgOptions): string {
  const ns = o.standalone === true ? ' xmlns="http://www.w3.org/2000/svg"' : "";
  const background = o.standalone === true ? `<rect width="${width}" height="${height}" fill="#fff"/>` : "";
  return `<svg${ns} viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(label)}" font-family="sans-serif">${background}`;
}

/** One metric: per config, the IQR band as a filled polygon under its median polyline. */
export function curveSvg(metric: string, series: readonly { readonly config: string; readonly points: readonly CurvePoint[] }[], o: SvgOptions = {}): string {
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return "";
  const x0 = Math.min(...all.map((p) => p.step));
  const x1 = Math.max(...all.map((p) => p.step), x0 + 1);
  let y0 = Math.min(...all.map((p) => p.q1));
  let y1 = Math.max(...all.map((p) => p.q3));
  if (y1 - y0 < 1e-9) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const top = o.standalone === true ? 22 : 0;
  const height = H + top + (o.standalone === true ? 14 * series.length + 6 : 0);
  const sx = (x: number) => PAD.left + ((x - x0) / (x1 - x0)) * (W - PAD.left - PAD.right);
  const sy = (y: number) => top + H - PAD.bottom - ((y - y0) / (y1 - y0)) * (H - PAD.top - PAD.bottom);
  const xy = (x: number, y: number) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`;
  const parts = [svgOpen(W, height, metric, o)];
  if (o.standalone === true) parts.push(`<text x="${PAD.left}" y="15" font-size="12" font-weight="600">${escapeHtml(metric)}: median and IQR over seeds</text>`);
  const base = top + H - PAD.bottom;
  parts.push(`<line x1="${PAD.left}" y1="${base}" x2="${W - PAD.right}" y2="${base}" stroke="#999"/><line x1="${PAD.left}" y1="${top + PAD.top}" x2="${PAD.left}" y2="${base}" stroke="#999"/>`);
  for (const y of niceTicks(y0, y1, 4)) {
    parts.push(`<line x1="${PAD.left}" y1="${sy(y).toFixed(1)}" x2="${W - PAD.right}" y2="${sy(y).toFixed(1)}" stroke="#eee"/><text x="${PAD.left - 4}" y="${(sy(y) + 3).toFixed(1)}" text-anchor="end" font-size="10">${escapeHtml(formatValue(metric, y))}</text>`);
  }
  for (const x of niceTicks(x0, x1, 6)) {
    parts.push(`<line x1="${sx(x).toFixed(1)}" y1="${base}" x2="${sx(x).toFixed(1)}" y2="${base + 3}" stroke="#999"/><text x="${sx(x).toFixed(1)}" y="${top + H - 14}" text-anchor="middle" font-size="10">${x}</text>`);
  }
  parts.push(`<text x="${W - PAD.right}" y="${top + H - 2}" text-anchor="end" font-size="10">step</text>`);
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length] as string;
    if (s.points.length === 0) return;
    const band = [...s.points.map((p) => xy(p.step, p.q3)), ...[...s.points].reverse().map((p) => xy(p.step, p.q1))].join(" ");
    parts.push(`<polygon points="${band}" fill="${color}" fill-opacity="0.18" stroke="none"/>`);
    parts.push(`<polyline points="${s.points.map((p) => xy(p.step, p.median)).join(" ")}" fill="none" stroke="${color}" stroke-width="1.6"><title>${escapeHtml(s.config)}</title></polyline>`);
  });
  if (o.standalone === true) parts.push(legendSvg(series.map((s) => s.config), top + H + 12));
  parts.push("</svg>");
  return parts.join("");
}

const ROW = 13;
const LABEL_W = 230;

/**
 * Final metrics as mean ± 95% interval: per metric a group of rows, one per config (its colour),
 * a dot at the mean and a whisker over the interval, on one shared axis (the values' range, at
 * least 0–1 when every metric is a rate or an exploitability).
 */
export function intervalSvg(title: string, metrics: readonly string[], configs: readonly ConfigAggregate[], o: SvgOptions = {}): string {
  const shown = metrics.filter((m) => configs.some((c) => c.final[m] !== undefined));
  if (shown.length === 0) return "";
  const values = shown.flatMap((m) => configs.flatMap((c) => {
    const s = c.final[m];
    return s === undefined ? [] : [s.mean, ...(s.ci95 ?? [])];
  }));
  const x0 = Math.min(0, ...values);
  const x1 = Math.max(1, ...values);
  const width = LABEL_W + 300;
  const sx = (x: number) => LABEL_W + ((x - x0) / (x1 - x0)) * (width - LABEL_W - 16);
  const top = 26;
  const groupH = ROW * configs.length + 8;
  const plotBottom = top + groupH * shown.length;
  const height = plotBottom + 22 + (o.standalone === true ? 14 * configs.length + 4 : 0);
  const parts = [svgOpen(width, height, title, o)];
  parts.push(`<text x="4" y="15" font-size="12" font-weight="600">${escapeHtml(title)}</text>`);
  for (const tick of niceTicks(x0, x1, 5)) {
    parts.push(`<line x1="${sx(tick).toFixed(1)}" y1="${top - 4}" x2="${sx(tick).toFixed(1)}" y2="${plotBottom}" stroke="#ddd"/><text x="${sx(tick).toFixed(1)}" y="${plotBottom + 12}" text-anchor="middle" font-size="10">${Number(tick.toFixed(2))}</text>`);
  }
  shown.forEach((m, g) => {
    const y = top + g * groupH;
    parts.push(`<text x="4" y="${y + (ROW * configs.length) / 2 + 4}" font-size="10">${escapeHtml(m)}</text>`);
    configs.forEach((c, i) => {
      const s = c.final[m];
      if (s === undefined) return;
      const color = COLORS[i % COLORS.length] as string;
      const cy = y + ROW * i + ROW / 2;
      const label = `${c.config}: ${formatValue(m, s.mean)}${s.ci95 === null ? "" : ` [${formatValue(m, s.ci95[0])}, ${formatValue(m, s.ci95[1])}]`} (${s.n} seeds)`;
      if (s.ci95 !== null) parts.push(`<line x1="${sx(s.ci95[0]).toFixed(1)}" y1="${cy}" x2="${sx(s.ci95[1]).toFixed(1)}" y2="${cy}" stroke="${color}" stroke-width="2"/>`);
      parts.push(`<circle cx="${sx(s.mean).toFixed(1)}" cy="${cy}" r="3.5" fill="${color}"><title>${escapeHtml(label)}</title></circle>`);
    });
  });
  if (o.standalone === true) parts.push(legendSvg(configs.map((c) => c.config), plotBottom + 30));
  parts.push("</svg>");
  return parts.join("");
}

/** A metric's name as part of a file name: "TicTacToe-v0 vs minimax: non-loss" → "tictactoe-v0-vs-minimax-non-loss". */
export function metricSlug(metric: string): string {
  return metric.toLowerCase().replace(/[^a-z0-9.]+/g, "-").replace(/^-+|-+$/g, "");
}

/**
 * The figures a write-up embeds, as standalone SVG files: the learning curves of the headline
 * metrics and of the training signals (reply and thinking length, entropy, invalid rate, …),
 * the headline final metrics as mean ± 95% interval, and the out-of-distribution games' final
 * win rates when the runs measured them.
 */
export function sweepFigures(a: SweepAggregate): { readonly file: string; readonly svg: string }[] {
  const curveMetrics = [...new Set(a.configs.flatMap((c) => Object.keys(c.curves)))];
  const headline = HEADLINE.filter((m) => curveMetrics.includes(m) || a.configs.some((c) => c.final[m] !== undefined));
  const ood = [OOD_MEAN_WIN, OOD_GAIN];
  const curves = [...headline.filter((m) => !ood.includes(m) && curveMetrics.includes(m)), ...curveMetrics.filter((m) => m.startsWith("training: ")).sort()];
  const out = curves.map((m) => ({ file: `curve-${metricSlug(m)}.svg`, svg: curveSvg(m, a.configs.map((c) => ({ config: c.config, points: c.curves[m] ?? [] })), { standalone: true }) }));
  out.push({ file: "final-headline.svg", svg: intervalSvg(`${a.sweep}: final metrics, mean and 95% interval over seeds`, headline.filter((m) => !ood.includes(m)), a.configs, { standalone: true }) });
  const finals = [...new Set(a.configs.flatMap((c) => Object.keys(c.final)))];
  const unseen = finals.filter((m) => m.endsWith(" vs random: win") && EVALUATION_GAME_IDS.some((g) => m.startsWith(`${g} vs `))).sort();
  if (unseen.length > 0) out.push({ file: "final-ood.svg", svg: intervalSvg(`${a.sweep}: unseen games, win vs random (mean, 95% interval)`, [...unseen, ...ood], a.configs, { standalone: true }) });
  return out.filter((f) => f.svg !== "");
}

/** Writes `sweepFigures` into `dir` (created); returns the files written. */
export async function writeSweepFigures(a: SweepAggregate, dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files = [];
  for (const f of sweepFigures(a)) {
    await writeFile(join(dir, f.file), f.svg + "\n");
    files.push(join(dir, f.file));
  }
  return files;
}

function summaryCell(metric: string, c: ConfigAggregate): string {
  const s = c.final[metric];
  if (s === undefined) return "–";
  if (s.ci95 === null) return formatValue(metric, s.mean);
  return `${formatValue(metric, s.mean)} [${formatValue(metric, s.ci95[0])}, ${formatValue(metric, s.ci95[1])}]`;
}

export function renderSweepReport(a: SweepAggregate, generated = new Date().toISOString()): string {
  const metrics = [...new Set(a.configs.flatMap((c) => Object.keys(c.final)))].sort();
  const curveMetrics = [...new Set(a.configs.flatMap((c) => Object.keys(c.curves)))].sort();
  const legend = a.configs.map((c, i) => `<span class="key"><i style="background:${COLORS[i % COLORS.length]}"></i>${escapeHtml(c.config)} (${c.seeds.length}/${c.runs} seeds)</span>`).join(" ");
  const row = (cells: readonly string[], tag = "td") => `<tr>${cells.map((c) => `<${tag}>${escapeHtml(c)}</${tag}>`).join("")}</tr>`;
  const finalTable = [row(["metric", ...a.configs.map((c) => c.config)], "th"), ...metrics.map((m) => row([m, ...a.configs.map((c) => summaryCell(m, c))]))].join("");
  const targets = a.configs[0]?.targets ?? [];
  const targetTable = [row(["config", ...targets.map((t) => targetLabel(t))], "th"), ...a.configs.map((c) => row([c.config, ...c.targets.map((t) => (t.of === 0 ? "–" : `${t.met}/${t.of}`))]))].join("");
  const reference = a.configs[0]?.config ?? "";
  const others = a.configs.slice(1).map((c) => c.config);
  const diff = (m: string, config: string) => {
    const d = a.comparisons.find((x) => x.metric === m && x.config === config)?.difference;
    if (d === undefined) return "–";
    return d.ci95 === null ? formatValue(m, d.mean) : `${formatValue(m, d.mean)} [${formatValue(m, d.ci95[0])}, ${formatValue(m, d.ci95[1])}]`;
  };
  const diffTable = others.length === 0 ? "" : `<h2>Differences from ${escapeHtml(reference)} (paired by seed)</h2><table>${[row(["metric", ...others], "th"), ...metrics.map((m) => row([m, ...others.map((c) => diff(m, c))]))].join("")}</table>`;
  const finals = sweepFigures(a).filter((f) => f.file.startsWith("final-")).map((f) => `<figure>${f.svg.replace(' xmlns="http://www.w3.org/2000/svg"', "")}</figure>`).join("\n");
  const charts = curveMetrics
    .map((m) => `<figure><figcaption>${escapeHtml(m)}</figcaption>${curveSvg(m, a.configs.map((c) => ({ config: c.config, points: c.curves[m] ?? [] })))}</figure>`)
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>spiral sweep: ${escapeHtml(a.sweep)}</title>
<style>
body{font:14px system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:8px 0 20px}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}
td:first-child,th:first-child{text-align:left}figure{display:inline-block;margin:8px}figcaption{font-weight:600;font-size:12px}.key{margin-right:14px}.key i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:middle}
</style></head><body>
<h1>Sweep ${escapeHtml(a.sweep)}</h1>
<p>Generated ${escapeHtml(generated)}. Final metrics: mean and ${escapeHtml(a.interval)}, written mean [low, high]. Curves: ${escapeHtml(a.quantiles)}.</p>
<h2>Targets</h2><table>${targetTable}</table>
<h2>Final metrics</h2>${finals}<table>${finalTable}</table>
${diffTable}
<h2>Learning curves</h2><p>${legend}</p>
${charts}
</body></html>
`;
}

/**
 * The aggregate of the sweep in `dir` as of now, from its runs (not its aggregate.json, which is
 * written when the sweep ends): the grid recorded in sweep.json, planned again with the sweep's
 * actual location, so a running or moved sweep reads as well as a finished one.
 */
export async function liveAggregate(dir: string): Promise<SweepAggregate> {
  const state = await readSweepState(dir);
  const at = resolve(dir);
  return aggregateSweep(planSweep({ ...state.grid, name: basename(at), out: dirname(at) }, basename(at)));
}

/** The sweeps directly under `root` (directories holding sweep.json): name and run counts. */
export async function listSweeps(root: string): Promise<{ name: string; runs: number; done: number; failed: number; running: number }[]> {
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  const out = [];
  for (const e of entries.filter((x) => x.isDirectory() && isSweepDir(join(root, x.name))).sort((a, b) => a.name.localeCompare(b.name))) {
    const state = await readSweepState(join(root, e.name)).catch(() => undefined);
    if (state === undefined) continue;
    const count = (status: string) => state.runs.filter((r) => r.status === status).length;
    out.push({ name: e.name, runs: state.runs.length, done: count("done"), failed: count("failed"), running: count("running") });
  }
  return out;
}

/** The report of the sweep in `dir`, from its aggregate.json. */
export async function renderSweepReportOf(dir: string, generated?: string): Promise<string> {
  return renderSweepReport(await readAggregate(dir), generated);
}
