/**
 * The statistics and verdicts of `npm run bench:lifecycle`, pure so they are
 * unit-tested (test/unit/bench-lifecycle-stats.test.ts).
 */

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentile of an ascending list; NaN for an empty one. */
export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function summarize(xs: readonly number[]): Summary {
  const s = [...xs].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s.length ? s[s.length - 1]! : Number.NaN };
}

/** a ÷ b, or null when either is missing or b is not positive (nothing to compare with). */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a == null || b == null || !Number.isFinite(a) || !Number.isFinite(b) || b <= 0) return null;
  return a / b;
}

/**
 * Completions per second over the measured window [from, to): arrivals in
 * its first part are the warm-up and are not counted, so a system keeping
 * up shows the arrival rate, and a saturated one its capacity.
 */
export function throughput(completedAt: readonly number[], from: number, to: number): number {
  if (to <= from) return 0;
  return completedAt.filter((t) => t >= from && t < to).length / ((to - from) / 1000);
}

export interface Sample {
  at: number;
  value: number;
}

export interface Trend {
  /** Mean of the window's first third and last third. */
  first: number;
  last: number;
  /** Least-squares slope, per minute. */
  perMinute: number;
  growing: boolean;
}

/**
 * Whether a quantity sampled over a steady load (in-flight dossiers, a task
 * queue's backlog) keeps growing: its last third's mean above the first
 * third's by more than `slack` (absolute) and 25 %. In a steady state the
 * in-flight count is the arrival rate × the journey time (Little's law) and
 * stays level; a system that does not keep up accumulates work.
 */
export function backlogTrend(samples: readonly Sample[], slack: number): Trend {
  const n = samples.length;
  if (n < 3) return { first: Number.NaN, last: Number.NaN, perMinute: Number.NaN, growing: false };
  const third = Math.max(1, Math.floor(n / 3));
  const mean = (xs: readonly Sample[]) => xs.reduce((a, s) => a + s.value, 0) / xs.length;
  const first = mean(samples.slice(0, third));
  const last = mean(samples.slice(n - third));
  const t0 = samples[0]!.at;
  const mx = samples.reduce((a, s) => a + (s.at - t0), 0) / n;
  const my = mean(samples);
  let num = 0;
  let den = 0;
  for (const s of samples) {
    num += (s.at - t0 - mx) * (s.value - my);
    den += (s.at - t0 - mx) ** 2;
  }
  const perMinute = den > 0 ? (num / den) * 60_000 : 0;
  return { first, last, perMinute, growing: last > first * 1.25 + slack };
}

/** Bytes per item from two memory readings, or null when nothing was added. */
export function bytesPer(before: number, after: number, items: number): number | null {
  return items > 0 ? (after - before) / items : null;
}

export const fmtMs = (x: number | null | undefined): string => (x == null || !Number.isFinite(x) ? '–' : x >= 100 ? x.toFixed(0) : x.toFixed(1));
export const fmtRatio = (x: number | null): string => (x == null ? '–' : `${x.toFixed(2)}×`);
