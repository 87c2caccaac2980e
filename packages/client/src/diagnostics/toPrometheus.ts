/**
 * The report as Prometheus text exposition format 0.0.4, for node_exporter's textfile collector
 * (write it to a temporary file and rename it into the collector directory). Values describe one
 * pull; `labels` (e.g. `{ remote: 'flathub', ref }`) are added to every sample.
 */
import type { LatencyStats, PullReport } from './PullReport.js';

type Labels = Record<string, string>;

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const escapeHelp = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

export function toPrometheus(report: PullReport, labels: Labels = {}): string {
  for (const k of Object.keys(labels)) {
    if (!LABEL_NAME.test(k) || k.startsWith('__')) throw new RangeError(`invalid Prometheus label name "${k}"`);
  }
  const lines: string[] = [];
  const family = (name: string, type: 'counter' | 'gauge' | 'summary', help: string) => {
    lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
  };
  const sample = (name: string, value: number, extra: Labels = {}) => {
    const all = { ...labels, ...extra };
    const l = Object.entries(all)
      .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
      .join(',');
    lines.push(`${name}${l.length > 0 ? `{${l}}` : ''} ${formatValue(value)}`);
  };
  const secs = (ms: number | null) => (ms === null ? Number.NaN : ms / 1000);

  // Requests by purpose and status.
  family('flathub_fetch_requests_total', 'counter', 'HTTP attempts made by the pull, by purpose and status ("none": no response).');
  const byPurposeStatus = new Map<string, number>();
  for (const e of report.entries) {
    const k = `${e.purpose}\u0000${e.status ?? 'none'}`;
    byPurposeStatus.set(k, (byPurposeStatus.get(k) ?? 0) + 1);
  }
  for (const [k, n] of [...byPurposeStatus].sort()) {
    const [purpose, status] = k.split('\u0000') as [string, string];
    sample('flathub_fetch_requests_total', n, { purpose, status });
  }

  family('flathub_fetch_request_errors_total', 'counter', 'Failed HTTP attempts by error class.');
  for (const [cls, n] of Object.entries(report.errors.byClass).sort()) sample('flathub_fetch_request_errors_total', n, { class: cls });

  family(
    'flathub_fetch_request_errors_by_source_total',
    'counter',
    'Failed HTTP attempts by who produced them (cache, origin, network, content, client).',
  );
  for (const [source, n] of Object.entries(report.errors.bySource).sort())
    sample('flathub_fetch_request_errors_by_source_total', n, { source });

  family('flathub_fetch_retries_total', 'counter', 'Retried attempts by reason (previous error class or HTTP status).');
  for (const [reason, n] of Object.entries(report.retries.byReason).sort()) sample('flathub_fetch_retries_total', n, { reason });

  family(
    'flathub_fetch_retry_amplification',
    'gauge',
    'Requests sent per request needed (1 + retries per request, by cause in the JSON report).',
  );
  if (report.amplification.overall !== null) sample('flathub_fetch_retry_amplification', report.amplification.overall);

  family('flathub_fetch_bytes_total', 'counter', 'Response body bytes received on the wire, by purpose.');
  for (const [purpose, b] of Object.entries(report.bytes.byPurpose).sort()) sample('flathub_fetch_bytes_total', b.wire, { purpose });

  family('flathub_fetch_decoded_bytes_total', 'counter', 'Response body bytes after content decoding, by purpose.');
  for (const [purpose, b] of Object.entries(report.bytes.byPurpose).sort())
    sample('flathub_fetch_decoded_bytes_total', b.decoded, { purpose });

  family(
    'flathub_fetch_waste_bytes',
    'gauge',
    'Wire bytes wasted: failed attempts, duplicate fetches, loose objects a delta part delivered.',
  );
  sample('flathub_fetch_waste_bytes', report.waste.failed.bytes, { kind: 'failed' });
  sample('flathub_fetch_waste_bytes', report.waste.duplicates.bytes, { kind: 'duplicate' });
  sample('flathub_fetch_waste_bytes', report.waste.looseInDelta.bytes, { kind: 'loose-in-delta' });

  family('flathub_fetch_waste_requests', 'gauge', 'Attempts whose bytes were wasted, by kind.');
  sample('flathub_fetch_waste_requests', report.waste.failed.requests, { kind: 'failed' });
  sample('flathub_fetch_waste_requests', report.waste.duplicates.requests, { kind: 'duplicate' });
  sample('flathub_fetch_waste_requests', report.waste.looseInDelta.requests, { kind: 'loose-in-delta' });

  family('flathub_fetch_ideal_requests', 'gauge', 'Requests the plan needed (chosen alternative plus metadata); NaN when unknown.');
  sample('flathub_fetch_ideal_requests', report.requests.ideal ?? Number.NaN);

  family('flathub_fetch_objects', 'gauge', 'Objects of the pulled commit by source.');
  sample('flathub_fetch_objects', report.objects.fromDelta, { source: 'delta' });
  sample('flathub_fetch_objects', report.objects.loose, { source: 'loose' });
  sample('flathub_fetch_objects', report.objects.present, { source: 'present' });

  family('flathub_fetch_connection_reuse_ratio', 'gauge', 'Share of attempts that reused a keep-alive connection; NaN when unknown.');
  sample('flathub_fetch_connection_reuse_ratio', report.connections.reuseRatio ?? Number.NaN);

  const summary = (name: string, help: string, s: LatencyStats) => {
    family(name, 'summary', help);
    sample(name, secs(s.p50), { quantile: '0.5' });
    sample(name, secs(s.p90), { quantile: '0.9' });
    sample(name, secs(s.p99), { quantile: '0.99' });
    sample(`${name}_sum`, s.sum / 1000);
    sample(`${name}_count`, s.count);
  };
  summary('flathub_fetch_first_byte_seconds', 'Time from request sent to response headers, per attempt.', report.latency.firstByte);
  summary('flathub_fetch_request_duration_seconds', 'Time from queued to done, per attempt.', report.latency.total);

  family('flathub_fetch_pull_duration_seconds', 'gauge', 'Wall time of the pull.');
  sample('flathub_fetch_pull_duration_seconds', report.durationMs / 1000);

  family('flathub_fetch_pull_success', 'gauge', '1 when the pull completed, 0 when it failed (then see flathub_fetch_pull_failure_info).');
  sample('flathub_fetch_pull_success', report.failure === null ? 1 : 0);
  if (report.failure !== null) {
    family('flathub_fetch_pull_failure_info', 'gauge', 'Why the pull failed: its error code, as a label (value 1).');
    sample('flathub_fetch_pull_failure_info', 1, { code: report.failure.code });
  }
  family('flathub_fetch_pull_info', 'gauge', 'The pull, as labels (value 1).');
  // A pull that failed before it was planned has no strategy: the label is empty.
  sample('flathub_fetch_pull_info', 1, { strategy: report.strategy ?? '', commit: report.commit });

  return `${lines.join('\n')}\n`;
}
