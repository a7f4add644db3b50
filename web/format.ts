/**
 * Number formats shared by the runs table, chart axes, tooltips and the report, so one quantity
 * reads the same everywhere: rates (fractions in the data) as percentages, other values to three
 * significant digits, durations as "1h 02m".
 */

/** How a quantity is stored and shown. */
export type Unit = "fraction" | "number";

function finite(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

/** Three significant digits; thousands grouped; "–" for a missing value. */
export function fmtNumber(value: unknown): string {
  if (!finite(value)) return "–";
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString("en-US");
  if (value === 0) return "0";
  return String(Number(value.toPrecision(3)));
}

/** A fraction in [0, 1] as a percentage with `digits` decimals: 0.125 → "12.5%". */
export function fmtPercent(value: unknown, digits = 1): string {
  return finite(value) ? `${(value * 100).toFixed(digits)}%` : "–";
}

export function fmtUnit(value: unknown, unit: Unit): string {
  return unit === "fraction" ? fmtPercent(value) : fmtNumber(value);
}

/** A rate with its 95% interval: "45.0% [35.2, 55.1]". */
export function fmtInterval(rate: unknown, low: unknown, high: unknown): string {
  if (!finite(rate)) return "–";
  if (!finite(low) || !finite(high)) return fmtPercent(rate);
  return `${fmtPercent(rate)} [${(low * 100).toFixed(1)}, ${(high * 100).toFixed(1)}]`;
}

/** Seconds as "42s", "5m 20s", "3h 07m", "2d 04h". */
export function fmtDuration(seconds: unknown): string {
  if (!finite(seconds) || seconds < 0) return "–";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  return `${Math.floor(s / 86400)}d ${String(Math.floor((s % 86400) / 3600)).padStart(2, "0")}h`;
}

/** Seconds since the epoch as local "YYYY-MM-DD HH:MM". */
export function fmtTime(epochSeconds: unknown): string {
  if (!finite(epochSeconds)) return "–";
  const d = new Date(epochSeconds * 1000);
  const p = (n: number): string => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}
