/**
 * The report as HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/): one page for the pull,
 * one entry per attempt. Timings: blocked (queue), dns, connect (TLS included, as HAR requires),
 * ssl, send, wait, receive; -1 where a phase did not happen (reused connection). Gaps between
 * recorded phases go to the phase that follows, so the phases sum to `time` (= done - queued).
 * Client fields that HAR lacks are `_`-prefixed.
 */
import type { RequestRecord } from '../http/RequestRecord.js';
import type { PullReport } from './PullReport.js';
import { round } from './latencyStats.js';

export interface HarTimings {
  blocked: number;
  dns: number;
  connect: number;
  ssl: number;
  send: number;
  wait: number;
  receive: number;
}

export interface HarLog {
  log: {
    version: '1.2';
    creator: { name: string; version: string };
    pages: unknown[];
    entries: Array<Record<string, unknown> & { timings: HarTimings; time: number }>;
    comment?: string;
  };
}

export interface ToHarOptions {
  /** @default { name: 'flathub-fetch', version: '0.1.0' } */
  creator?: { name: string; version: string };
}

const wallClock = (ms: number) => new Date(performance.timeOrigin + ms).toISOString();

export function toHAR(report: PullReport, options: ToHarOptions = {}): HarLog {
  const { creator = { name: 'flathub-fetch', version: '0.1.0' } } = options;
  const pageId = 'pull';
  const started = report.startedAt ?? 0;
  return {
    log: {
      version: '1.2',
      creator,
      pages: [
        {
          startedDateTime: report.startedDateTime ?? wallClock(started),
          id: pageId,
          title: `pull ${report.ref ?? report.commit} from ${report.remote}`,
          pageTimings: { onContentLoad: -1, onLoad: report.durationMs },
        },
      ],
      entries: [...report.entries].sort((a, b) => a.timings.queued - b.timings.queued || a.id - b.id).map((r) => entry(r, pageId)),
      comment: `${report.schema} strategy=${report.strategy}`,
    },
  };
}

export function harTimings(r: RequestRecord): HarTimings {
  const t = r.timings;
  const end = t.done ?? Math.max(t.queued, t.lastByte ?? t.firstByte ?? t.requestSent ?? t.dispatched ?? t.queued);
  let cursor = t.queued;
  const step = (to: number | null) => {
    if (to === null) return null;
    const d = Math.max(0, to - cursor);
    cursor = Math.max(cursor, to);
    return d;
  };
  const blocked = step(t.dnsStart ?? t.connectStart ?? t.tlsStart ?? t.requestSent ?? t.firstByte ?? end) as number;
  const dns = t.dnsEnd !== null ? step(t.dnsEnd) : null;
  const connect = t.connectStart !== null || t.tlsStart !== null ? step(t.tlsEnd ?? t.connectEnd ?? end) : null;
  const ssl = t.tlsStart !== null && t.tlsEnd !== null ? Math.max(0, t.tlsEnd - t.tlsStart) : null;
  const send = step(t.requestSent) ?? 0;
  const wait = step(t.firstByte) ?? 0;
  const receive = t.firstByte !== null ? (step(end) ?? 0) : 0;
  const timings: HarTimings = {
    blocked: round(blocked),
    dns: dns === null ? -1 : round(dns),
    connect: connect === null ? -1 : round(connect),
    ssl: ssl === null ? -1 : round(Math.min(ssl, connect ?? ssl)),
    send: round(send),
    wait: round(wait),
    receive: round(receive),
  };
  // A failure before the response: the time after the last phase is spent waiting.
  const rest = round(end - cursor);
  if (rest > 0) timings.wait = round(timings.wait + rest);
  return timings;
}

function entry(r: RequestRecord, pageref: string): HarLog['log']['entries'][number] {
  const timings = harTimings(r);
  const time = round(
    timings.blocked + Math.max(0, timings.dns) + Math.max(0, timings.connect) + timings.send + timings.wait + timings.receive,
  );
  const httpVersion = r.httpVersion === null ? '' : `HTTP/${r.httpVersion}`;
  const responseHeaders: Array<{ name: string; value: string }> = Object.entries(r.cacheHeaders).map(([name, value]) => ({ name, value }));
  if (r.contentEncoding !== null) responseHeaders.push({ name: 'content-encoding', value: r.contentEncoding });
  if (r.contentLength !== null) responseHeaders.push({ name: 'content-length', value: String(r.contentLength) });
  const e: HarLog['log']['entries'][number] = {
    pageref,
    startedDateTime: wallClock(r.timings.queued),
    time,
    request: {
      method: r.method,
      url: r.url,
      httpVersion,
      cookies: [],
      headers: r.range === null ? [] : [{ name: 'range', value: r.range }],
      queryString: [],
      headersSize: -1,
      bodySize: 0,
    },
    response: {
      status: r.status ?? 0,
      statusText: '',
      httpVersion,
      cookies: [],
      headers: responseHeaders,
      content: {
        size: r.bodyBytes,
        ...(r.bodyBytes !== r.wireBytes ? { compression: r.bodyBytes - r.wireBytes } : {}),
        mimeType: 'application/octet-stream',
      },
      redirectURL: '',
      headersSize: r.status === null ? -1 : r.headerBytes,
      bodySize: r.wireBytes,
      ...(r.error !== null ? { _error: r.error.message } : {}),
    },
    cache: {},
    timings,
    _id: r.id,
    _requestId: r.requestId,
    _purpose: r.purpose,
    _attempt: r.attempt,
    _retryOf: r.retryOf,
    _error: r.error,
    _willRetry: r.willRetry,
    _retryDelay: r.retryDelay,
    _connectionReused: r.connectionReused,
    _remotePort: r.remotePort,
    _wireBytes: r.wireBytes,
    _bodyBytes: r.bodyBytes,
  };
  if (r.remoteAddress !== null) e.serverIPAddress = r.remoteAddress;
  if (r.connectionId !== null) e.connection = String(r.connectionId);
  return e;
}
