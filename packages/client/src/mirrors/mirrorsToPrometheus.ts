/**
 * A mirror check as Prometheus text exposition format 0.0.4 (for node_exporter's textfile
 * collector, or a push gateway): one sample per mirror and check, so an alert can fire on
 * `flathub_fetch_mirror_status > 0` or on a single check.
 */
import type { LatencySummary, MirrorCheckResult } from './MirrorCheckResult.js';

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const STATUS_VALUE = { pass: 0, warn: 1, fail: 2, skip: -1 } as const;

export function mirrorsToPrometheus(result: MirrorCheckResult): string {
  const lines: string[] = [];
  const family = (name: string, type: 'gauge' | 'counter', help: string) => lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  const sample = (name: string, value: number | null, labels: Record<string, string>) => {
    const l = Object.entries(labels)
      .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
      .join(',');
    lines.push(`${name}{${l}} ${value === null || Number.isNaN(value) ? 'NaN' : String(value)}`);
  };
  const quantiles = (name: string, s: LatencySummary, scale: number, mirror: string) => {
    for (const [q, v] of [
      ['0.5', s.p50],
      ['0.9', s.p90],
      ['0.99', s.p99],
    ] as const)
      sample(name, v === null ? null : v * scale, { mirror, quantile: q });
  };
  const primary = result.primary.url;
  family('flathub_fetch_mirror_status', 'gauge', 'Overall verdict of the mirror: 0 pass, 1 warn, 2 fail.');
  for (const m of result.mirrors) sample('flathub_fetch_mirror_status', STATUS_VALUE[m.status], { mirror: m.url, primary });
  family('flathub_fetch_mirror_check_status', 'gauge', 'Verdict of one check: 0 pass, 1 warn, 2 fail, -1 skipped.');
  for (const m of result.mirrors)
    for (const c of m.checks) sample('flathub_fetch_mirror_check_status', STATUS_VALUE[c.status], { mirror: m.url, check: c.name });
  family('flathub_fetch_mirror_check_failures', 'gauge', 'Items a check failed (evidence with status fail).');
  for (const m of result.mirrors)
    for (const c of m.checks)
      sample('flathub_fetch_mirror_check_failures', c.evidence.filter((e) => e.status === 'fail').length, { mirror: m.url, check: c.name });
  family('flathub_fetch_mirror_refs_differing', 'gauge', 'Refs whose commit differs from the primary’s (or that one side lacks).');
  for (const m of result.mirrors)
    sample('flathub_fetch_mirror_refs_differing', m.freshness?.refsDiffering.length ?? null, { mirror: m.url });
  family(
    'flathub_fetch_mirror_summary_lag_seconds',
    'gauge',
    'How much older the mirror’s summary is than the primary’s (ostree.summary.last-modified).',
  );
  for (const m of result.mirrors) sample('flathub_fetch_mirror_summary_lag_seconds', m.freshness?.lagSeconds ?? 0, { mirror: m.url });
  family('flathub_fetch_mirror_first_byte_seconds', 'gauge', 'Time to first byte over the sampled objects, by quantile.');
  for (const m of result.mirrors) quantiles('flathub_fetch_mirror_first_byte_seconds', m.performance.firstByteMs, 1 / 1000, m.url);
  quantiles('flathub_fetch_mirror_first_byte_seconds', result.primary.performance.firstByteMs, 1 / 1000, primary);
  family('flathub_fetch_mirror_throughput_bytes_per_second', 'gauge', 'Throughput over the sampled objects, by quantile.');
  for (const m of result.mirrors) quantiles('flathub_fetch_mirror_throughput_bytes_per_second', m.performance.throughput, 1, m.url);
  family('flathub_fetch_mirror_requests', 'gauge', 'Requests made to the server by this check.');
  for (const m of result.mirrors) sample('flathub_fetch_mirror_requests', m.performance.requests, { mirror: m.url });
  sample('flathub_fetch_mirror_requests', result.primary.performance.requests, { mirror: primary });
  family('flathub_fetch_mirror_error_ratio', 'gauge', 'Share of requests that failed for reasons no other check explains.');
  for (const m of result.mirrors) sample('flathub_fetch_mirror_error_ratio', m.performance.errorRate, { mirror: m.url });
  family('flathub_fetch_mirror_check_duration_seconds', 'gauge', 'Wall time of the whole check.');
  lines.push(`flathub_fetch_mirror_check_duration_seconds{primary="${escapeLabel(primary)}"} ${result.durationMs / 1000}`);
  return `${lines.join('\n')}\n`;
}
