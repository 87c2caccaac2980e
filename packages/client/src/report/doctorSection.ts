/**
 * A connection doctor's result as a section of the HTML report: the verdict, then the tables an
 * operator reads it from (addresses, DNS answers, every request, Range checks, who answered).
 */
import type { DoctorResult } from '../diagnostics/doctor/DoctorResult.js';
import type { Cell } from './html.js';
import type { HtmlSection } from './renderHtmlReport.js';

const ms = (v: number | null) => (v === null ? null : `${Math.round(v)} ms`);
const STATUS = { problem: 'fail', warning: 'warn', info: 'info' } as const;

export function doctorSection(r: DoctorResult, heading = `Connection doctor: ${r.host}`): HtmlSection {
  const addresses: Cell[][] = r.addresses.map((a) => [
    a.address,
    `IPv${a.family}`,
    a.unreachable === null ? { text: 'answered', status: 'pass' } : { text: a.unreachable, status: 'fail' },
    ms(a.connect.median),
    ms(a.firstByte.median),
    a.httpVersion,
    a.tls === null
      ? null
      : `${a.tls.protocol ?? '?'} ${a.tls.alpn ?? ''}${a.tls.authorized ? '' : ` (not trusted: ${a.tls.error ?? '?'})`}`,
    `${a.errors} / ${a.requests}`,
  ]);
  const dns: Cell[][] = r.dns.map((d) => [`IPv${d.family}`, d.source, d.addresses.join(', ') || null, ms(d.ms), d.error]);
  const requests: Cell[][] = r.requests.map((q) => [
    q.what,
    q.url,
    q.address,
    q.range,
    q.status === null ? null : q.status >= 400 ? { text: String(q.status), status: 'fail' } : q.status,
    q.httpVersion,
    q.bytes,
    ms(q.connectMs),
    ms(q.tlsMs),
    ms(q.firstByteMs),
    ms(q.transferMs),
    q.error === null
      ? null
      : { text: `${q.error.class}: ${q.error.message}${q.error.source ? ` (${q.error.source})` : ''}`, status: 'fail' },
  ]);
  const ranges: Cell[][] = r.ranges.map((x) => [
    x.what,
    x.range,
    { text: x.result, status: x.result === 'honoured' ? 'pass' : x.result === 'ignored' ? 'warn' : 'fail' },
    x.detail,
  ]);
  const answered: Cell[][] = [
    ['Server', r.answeredBy.server.join(', ') || null],
    ['Via', r.answeredBy.via.join(', ') || null],
    ['X-Served-By', r.answeredBy.servedBy.join(', ') || null],
    ['Cache', r.answeredBy.cache.join(', ') || null],
    ['Clock skew', r.clockSkewSeconds === null ? null : `${r.clockSkewSeconds} s`],
  ];
  return {
    kind: 'facts',
    heading,
    verdicts: r.findings.map((f) => ({ status: f.kind === 'healthy' ? 'pass' : STATUS[f.severity], text: f.text })),
    tables: [
      {
        caption: 'Addresses',
        columns: ['address', 'family', 'reachable', 'connect (median)', 'first byte (median)', 'HTTP', 'TLS', 'errors'],
        rows: addresses,
      },
      { caption: 'DNS', columns: ['family', 'source', 'addresses', 'time', 'error'], rows: dns },
      {
        caption: `Requests (${r.requests.length})`,
        columns: ['what', 'URL', 'address', 'range', 'status', 'HTTP', 'bytes', 'connect', 'TLS', 'first byte', 'transfer', 'error'],
        rows: requests,
      },
      { caption: 'Range requests', columns: ['what', 'range', 'result', 'detail'], rows: ranges },
      { caption: 'Who answered', columns: ['header', 'values'], rows: answered },
    ],
  };
}
