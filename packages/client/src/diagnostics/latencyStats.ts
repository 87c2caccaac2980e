import type { LatencyStats } from './PullReport.js';

/** Nearest-rank percentiles (p50/p90/p99), max and sum of durations in ms; non-finite samples are ignored. */
export function latencyStats(samples: readonly number[]): LatencyStats {
  const s = samples.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  const rank = (p: number) => (s.length === 0 ? null : round(s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)] as number));
  return {
    count: s.length,
    p50: rank(50),
    p90: rank(90),
    p99: rank(99),
    max: s.length === 0 ? null : round(s[s.length - 1] as number),
    sum: round(s.reduce((a, b) => a + b, 0)),
  };
}

/** Microsecond precision is plenty for reports. */
export function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
