/**
 * A plain-text summary of a report for humans (no colour; the CLI adds styling if it wants):
 * one row per purpose with requests, errors, bytes and latency percentiles, then totals, waste,
 * plan vs actual, connection reuse and the slowest requests.
 */
import { formatBytes } from './formatBytes.js';
import type { PullReport } from './PullReport.js';

const bytes = formatBytes;
const ms = (v: number | null) => (v === null ? '-' : v < 1000 ? `${v.toFixed(v < 10 ? 1 : 0)} ms` : `${(v / 1000).toFixed(2)} s`);

function columns(rows: string[][], right: ReadonlySet<number>): string[] {
  const w: number[] = [];
  for (const r of rows) {
    r.forEach((c, i) => {
      w[i] = Math.max(w[i] ?? 0, c.length);
    });
  }
  return rows.map((r) =>
    r
      .map((c, i) => (right.has(i) ? c.padStart(w[i] ?? 0) : c.padEnd(w[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

export function renderSummaryTable(report: PullReport, options: { slowest?: number } = {}): string[] {
  const { slowest = 5 } = options;
  const rows = [['PURPOSE', 'REQ', 'ERR', 'WIRE', 'TTFB p50', 'p90', 'p99', 'TOTAL p50', 'max']];
  const purposes = Object.entries(report.requests.byPurpose).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const errorsOf = (p: string) => report.entries.filter((e) => e.purpose === p && e.error !== null).length;
  for (const [p, n] of purposes) {
    const l = report.latency.byPurpose[p];
    rows.push([
      p,
      String(n),
      String(errorsOf(p)),
      bytes(report.bytes.byPurpose[p]?.wire ?? 0),
      ms(l?.firstByte.p50 ?? null),
      ms(l?.firstByte.p90 ?? null),
      ms(l?.firstByte.p99 ?? null),
      ms(l?.total.p50 ?? null),
      ms(l?.total.max ?? null),
    ]);
  }
  const a = report.latency;
  rows.push([
    'all',
    String(report.requests.total),
    String(report.errors.total),
    bytes(report.bytes.wire),
    ms(a.firstByte.p50),
    ms(a.firstByte.p90),
    ms(a.firstByte.p99),
    ms(a.total.p50),
    ms(a.total.max),
  ]);
  const out = columns(rows, new Set([1, 2, 3, 4, 5, 6, 7, 8]));
  const r = report.requests;
  out.push(
    `requests: ${r.total} (ideal ${r.ideal ?? 'unknown'}${r.excess !== null && r.excess !== 0 ? `, ${r.excess > 0 ? '+' : ''}${r.excess}` : ''}), ` +
      `${r.retries} retries${amplification(report)}, ${r.abandoned} abandoned; bytes: ${bytes(report.bytes.wire)} wire, ${bytes(report.bytes.decoded)} decoded`,
  );
  const errs = Object.entries(report.errors.byClass)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  if (errs.length > 0) {
    const order = ['cache', 'origin', 'network', 'content', 'client'];
    const src = Object.entries(report.errors.bySource)
      .sort((x, y) => order.indexOf(x[0]) - order.indexOf(y[0]))
      .map(([k, n]) =>
        k === 'cache'
          ? `cache ${n} (${Object.entries(report.errors.byCache)
              .map(([c, m]) => `${c} ${m}`)
              .join(', ')})`
          : `${k} ${n}`,
      )
      .join(', ');
    out.push(`errors: ${errs}; produced by ${src}`);
  }
  const lim = report.concurrency;
  if (lim.minLimit !== null && lim.maxLimit !== null && lim.minLimit < lim.maxLimit) {
    out.push(`in-flight limit: lowered under overload from ${lim.maxLimit} to ${lim.minLimit} (last ${lim.lastLimit})`);
  }
  const w = report.waste;
  out.push(
    `waste: ${w.requests} requests, ${bytes(w.bytes)} (failed ${w.failed.requests}/${bytes(w.failed.bytes)}, duplicates ${w.duplicates.requests}/${bytes(w.duplicates.bytes)}, ` +
      `loose already in delta ${w.looseInDelta.checked ? `${w.looseInDelta.requests}/${bytes(w.looseInDelta.bytes)}` : 'n/a'})`,
  );
  const c = report.connections;
  out.push(
    `connections: ${c.distinct}, reuse ${c.reuseRatio === null ? '-' : `${Math.round(c.reuseRatio * 100)}%`} of ${c.known} attempts`,
  );
  const slow = report.slowest.slice(0, slowest);
  if (slow.length > 0) {
    out.push('slowest:');
    for (const s of slow) {
      out.push(`  ${ms(s.totalMs)}  ${s.purpose}  ${s.status ?? s.error ?? '-'}  ${bytes(s.wireBytes)}  ${s.url}`);
    }
  }
  return out;
}

/** ` (×1.42 sent per request needed)` when anything was retried. */
function amplification(report: PullReport): string {
  const a = report.amplification.overall;
  return a === null || report.requests.retries === 0 ? '' : ` (×${a.toFixed(2)} sent per request needed)`;
}
