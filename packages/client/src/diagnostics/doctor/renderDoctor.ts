/**
 * The doctor's result as text: a terminal summary, and a Markdown block to paste into Flathub's
 * "Slow connection" issue form (the figures it asks for — DNS, connect, TLS, first byte,
 * throughput, who answers — in one place). Both are built from the DoctorResult only.
 */
import type { DoctorResult } from './DoctorResult.js';
import { fmtMs, fmtRate } from './verdict.js';

const dash = (x: number | null, f: (n: number) => string = fmtMs) => (x === null ? '—' : f(x));

function addressRows(r: DoctorResult): string[][] {
  return r.addresses.map((a) => [
    a.address,
    `IPv${a.family}`,
    a.unreachable !== null ? `unreachable: ${a.unreachable}` : dash(a.connect.median),
    a.tls === null ? '—' : `${a.tls.protocol ?? '?'}${a.tls.alpn ? `, ALPN ${a.tls.alpn}` : ''}${a.tls.authorized ? '' : ', NOT VERIFIED'}`,
    a.httpVersion === null ? '—' : `HTTP/${a.httpVersion}`,
    `${dash(a.firstByte.median)} (${dash(a.firstByte.min)}–${dash(a.firstByte.max)})`,
    `${a.errors}/${a.requests}`,
  ]);
}

const ADDRESS_HEAD = ['Address', 'Family', 'Connect', 'TLS', 'HTTP', 'First byte median (min–max)', 'Errors'];

function whoLines(r: DoctorResult): string[] {
  const w = r.answeredBy;
  const parts = [
    ['Server', w.server],
    ['Via', w.via],
    ['X-Served-By', w.servedBy],
    ['X-Cache', w.cache],
  ] as const;
  return parts.filter(([, v]) => v.length > 0).map(([k, v]) => `${k}: ${v.join(' | ')}`);
}

function throughput(r: DoctorResult): string | null {
  const timed = r.requests.filter((q) => q.bytesPerSecond !== null).sort((a, b) => b.bytes - a.bytes)[0];
  return timed === undefined ? null : `${fmtRate(timed.bytesPerSecond as number)} over ${timed.bytes} bytes (${timed.what})`;
}

/** The Markdown block for Flathub's "Slow connection" form. */
export function renderDoctorMarkdown(r: DoctorResult): string {
  const row = (cells: readonly string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  const table = (head: readonly string[], rows: string[][]) => [row(head), row(head.map(() => '---')), ...rows.map(row)];
  const md: string[] = [
    `### flathub-fetch doctor: ${r.url}`,
    '',
    `Run at ${r.startedAt}, ${r.requests.length} requests in ${fmtMs(r.durationMs)}. Nothing was uploaded; this block is all there is.`,
    '',
    '**Verdict**',
    '',
    ...r.findings.map((f) => `- ${f.severity === 'problem' ? '**problem**' : f.severity}: ${f.text}`),
    '',
    '**DNS**',
    '',
    ...table(
      ['Query', 'Source', 'Answer', 'Resolver time'],
      r.dns.map((d) => [d.family === 4 ? 'A' : 'AAAA', d.source, d.addresses.join(', ') || (d.error ?? 'none'), dash(d.ms)]),
    ),
    '',
    '**Per address**',
    '',
    ...table(ADDRESS_HEAD, addressRows(r)),
    '',
  ];
  const who = whoLines(r);
  if (who.length > 0) md.push('**Who answers**', '', ...who.map((l) => `- ${l}`), '');
  const facts: string[] = [];
  if (r.clockSkewSeconds !== null) facts.push(`Clock: server Date − local clock = ${r.clockSkewSeconds} s`);
  const tp = throughput(r);
  if (tp !== null) facts.push(`Throughput: ${tp}`);
  if (r.sampled !== null)
    facts.push(
      `Sample: ${r.sampled.ref} at ${r.sampled.commit.slice(0, 12)}, ${r.sampled.objects} objects${r.sampled.deltaPart ? `, delta part ${r.sampled.deltaPart}` : ''}`,
    );
  for (const c of r.ranges) facts.push(`Range ${c.range} on ${c.what}: ${c.result} (${c.detail})`);
  const bySource = Object.entries(r.errorsBySource);
  if (bySource.length > 0) facts.push(`Failed requests by source: ${bySource.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (facts.length > 0) md.push('**Measurements**', '', ...facts.map((l) => `- ${l}`), '');
  const failed = r.requests.filter((q) => q.error !== null).slice(0, 10);
  if (failed.length > 0) {
    md.push('**Failed requests** (first 10)', '');
    md.push(
      ...table(
        ['URL', 'Address', 'Status', 'First byte', 'Error', 'Made by'],
        failed.map((q) => [
          q.url,
          q.address ?? '—',
          q.status === null ? '—' : String(q.status),
          dash(q.firstByteMs),
          q.error?.message ?? '',
          `${q.error?.source ?? '?'}${q.error?.cache ? ` (${q.error.cache})` : ''}`,
        ]),
      ),
      '',
    );
  }
  return md.join('\n');
}

/** A terminal summary: verdict first, then the per-address table and the facts. */
export function renderDoctorText(r: DoctorResult): string[] {
  const lines: string[] = [`Doctor of ${r.url} (${r.requests.length} requests, ${fmtMs(r.durationMs)})`, ''];
  lines.push('Verdict:');
  for (const f of r.findings) lines.push(`  ${f.severity === 'problem' ? '✗' : f.severity === 'warning' ? '!' : '·'} ${f.text}`);
  lines.push('', 'DNS:');
  for (const d of r.dns)
    lines.push(
      `  ${(d.family === 4 ? 'A' : 'AAAA').padEnd(4)} ${d.source.padEnd(8)} ${dash(d.ms).padStart(7)}  ${d.addresses.join(', ') || (d.error ?? 'none')}`,
    );
  lines.push('');
  const rows = [ADDRESS_HEAD, ...addressRows(r)];
  const widths = ADDRESS_HEAD.map((_, i) => Math.max(...rows.map((x) => (x[i] ?? '').length)));
  for (const x of rows) lines.push(`  ${x.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ')}`.trimEnd());
  const who = whoLines(r);
  if (who.length > 0) lines.push('', 'Who answers:', ...who.map((l) => `  ${l}`));
  const tp = throughput(r);
  lines.push('');
  if (r.clockSkewSeconds !== null) lines.push(`Clock skew: ${r.clockSkewSeconds} s (server Date − local clock)`);
  if (tp !== null) lines.push(`Throughput: ${tp}`);
  for (const c of r.ranges) lines.push(`Range on ${c.what}: ${c.result} (${c.detail})`);
  return lines;
}
