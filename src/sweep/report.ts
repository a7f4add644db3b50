/**
 * `spiral report SWEEP_DIR`: a sweep's aggregate as one self-contained HTML file — the tables of
 * aggregate.md and, per metric, every config's median learning curve with its interquartile band
 * (inline SVG, no script, opens offline). Separate from the run report (dashboard/report.ts),
 * which plots single runs.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { AGGREGATE_FILE, formatValue, targetLabel, type ConfigAggregate, type CurvePoint, type SweepAggregate } from "./aggregate.js";
import { SWEEP_STATE_FILE } from "./run.js";

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
const H = 220;
const PAD = { left: 52, right: 10, top: 10, bottom: 28 };

/** One metric: per config, the IQR band as a filled polygon under its median polyline. */
export function curveSvg(metric: string, series: readonly { readonly config: string; readonly points: readonly CurvePoint[] }[]): string {
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return "";
  const x0 = Math.min(...all.map((p) => p.step));
  const x1 = Math.max(...all.map((p) => p.step), x0 + 1);
  let y0 = Math.min(...all.map((p) => p.q1));
  let y1 = Math.max(...all.map((p) => p.q3));
  if (y1 - y0 < 1e-9) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const sx = (x: number) => PAD.left + ((x - x0) / (x1 - x0)) * (W - PAD.left - PAD.right);
  const sy = (y: number) => H - PAD.bottom - ((y - y0) / (y1 - y0)) * (H - PAD.top - PAD.bottom);
  const xy = (x: number, y: number) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`;
  const parts = [`<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeHtml(metric)}">`];
  parts.push(`<line x1="${PAD.left}" y1="${H - PAD.bottom}" x2="${W - PAD.right}" y2="${H - PAD.bottom}" stroke="#999"/><line x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${H - PAD.bottom}" stroke="#999"/>`);
  for (const [y, anchor] of [[y0, H - PAD.bottom], [y1, PAD.top + 8]] as const) parts.push(`<text x="${PAD.left - 4}" y="${anchor}" text-anchor="end" font-size="10">${escapeHtml(formatValue(metric, y))}</text>`);
  parts.push(`<text x="${PAD.left}" y="${H - 8}" font-size="10">step ${x0}</text><text x="${W - PAD.right}" y="${H - 8}" text-anchor="end" font-size="10">${x1}</text>`);
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length] as string;
    if (s.points.length === 0) return;
    const band = [...s.points.map((p) => xy(p.step, p.q3)), ...[...s.points].reverse().map((p) => xy(p.step, p.q1))].join(" ");
    parts.push(`<polygon points="${band}" fill="${color}" fill-opacity="0.18" stroke="none"/>`);
    parts.push(`<polyline points="${s.points.map((p) => xy(p.step, p.median)).join(" ")}" fill="none" stroke="${color}" stroke-width="1.6"><title>${escapeHtml(s.config)}</title></polyline>`);
  });
  parts.push("</svg>");
  return parts.join("");
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
<h2>Final metrics</h2><table>${finalTable}</table>
${diffTable}
<h2>Learning curves</h2><p>${legend}</p>
${charts}
</body></html>
`;
}

/** The report of the sweep in `dir`, from its aggregate.json. */
export async function renderSweepReportOf(dir: string, generated?: string): Promise<string> {
  return renderSweepReport(await readAggregate(dir), generated);
}
