/**
 * The statistics of a sweep's aggregate, over seeds (one number per seed):
 *
 * - mean and sample standard deviation (n − 1);
 * - a two-sided 95% t-interval on the mean: mean ± t(0.975, n − 1) · sd / √n. With the 5–10 seeds
 *   a laptop can afford, the normal approximation is too narrow (t(0.975, 4) = 2.78 vs 1.96) and a
 *   bootstrap of 5 values has only a handful of distinct resamples, so the t-interval is used for
 *   every n ≥ 2 (it tends to the normal one as n grows). It assumes the seed-to-seed spread is
 *   roughly normal; it is not clipped to a metric's range.
 * - quantiles by linear interpolation between order statistics (Hyndman & Fan type 7, the
 *   default of numpy and R): median and interquartile band of the learning curves.
 */
import jstat from "jstat";

export interface Summary {
  readonly n: number;
  readonly mean: number;
  /** Sample standard deviation; 0 for one value. */
  readonly sd: number;
  /** 95% t-interval on the mean; null for fewer than two values. */
  readonly ci95: readonly [number, number] | null;
}

export function mean(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error("mean of no values");
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

export function sampleSd(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

/** The (1 + level) / 2 quantile of Student's t with n − 1 degrees of freedom. */
export function tCritical(n: number, level = 0.95): number {
  if (n < 2) throw new Error(`a t-interval needs at least 2 values; got ${n}`);
  return jstat.jStat.studentt.inv((1 + level) / 2, n - 1);
}

export function summarize(xs: readonly number[]): Summary {
  const m = mean(xs);
  const sd = sampleSd(xs);
  if (xs.length < 2) return { n: xs.length, mean: m, sd, ci95: null };
  const half = (tCritical(xs.length) * sd) / Math.sqrt(xs.length);
  return { n: xs.length, mean: m, sd, ci95: [m - half, m + half] };
}

/** The p-quantile (0 ≤ p ≤ 1) of the values, type 7: linear between order statistics. */
export function quantile(xs: readonly number[], p: number): number {
  if (xs.length === 0) throw new Error("quantile of no values");
  if (!(p >= 0 && p <= 1)) throw new Error(`quantile: p must be in [0, 1]; got ${p}`);
  const sorted = [...xs].sort((a, b) => a - b);
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const a = sorted[lo] as number;
  const b = sorted[Math.min(lo + 1, sorted.length - 1)] as number;
  return a + (h - lo) * (b - a);
}

export interface Band {
  readonly n: number;
  readonly median: number;
  readonly q1: number;
  readonly q3: number;
}

/** Median and interquartile band of one curve point over seeds. */
export function band(xs: readonly number[]): Band {
  return { n: xs.length, median: quantile(xs, 0.5), q1: quantile(xs, 0.25), q3: quantile(xs, 0.75) };
}
