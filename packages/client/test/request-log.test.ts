/**
 * RequestLog keeps records as columns and arena bytes: every record read back must equal the one
 * pushed, field for field and in the same key order (a pull's result and its JSON depend on it),
 * across row chunks and arena chunks, with nulls, non-ASCII header values, resumed ranges,
 * errors and a URL longer than an arena chunk.
 */
import { expect, test } from 'vitest';
import { RequestLog } from '../src/http/RequestLog.js';
import type { RequestRecord, RequestTimings } from '../src/http/RequestRecord.js';

/** A deterministic generator (xorshift32), so that a failure reproduces. */
function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x100000000;
  };
}

function record(i: number, r: () => number): RequestRecord {
  const maybe = <T>(v: T): T | null => (r() < 0.2 ? null : v);
  const t0 = 1000 + i * Math.PI;
  const timings: RequestTimings = {
    queued: t0,
    dispatched: maybe(t0 + 0.125),
    dnsStart: maybe(t0 + 0.2),
    dnsEnd: maybe(t0 + 0.3),
    connectStart: maybe(t0 + 0.4),
    connectEnd: maybe(t0 + 1e-9),
    tlsStart: maybe(t0 + 0.6),
    tlsEnd: maybe(t0 + 0.7),
    requestSent: maybe(t0 + 0.8),
    firstByte: maybe(t0 + 20.000001),
    lastByte: maybe(t0 + 21),
    done: maybe(t0 + 22),
  };
  const hex = Array.from({ length: 64 }, () => '0123456789abcdef'[Math.floor(r() * 16)]).join('');
  const url =
    i === 1500
      ? `https://mirror.example/objects/${'x'.repeat(300 * 1024)}`
      : r() < 0.5
        ? `https://dl.example.org/repo/objects/${hex.slice(0, 2)}/${hex.slice(2)}.filez`
        : `https://dl.example.org/repo/deltas/${hex.slice(0, 2)}/${hex.slice(2)}/${Math.floor(r() * 20)}`;
  const cacheHeaders: Record<string, string> = {};
  if (r() < 0.7) cacheHeaders.server = 'nginx/1.22.1';
  if (r() < 0.5) cacheHeaders['last-modified'] = `Thu, 03 Dec 2026 20:05:${String(i % 60).padStart(2, '0')} GMT`;
  if (r() < 0.1) cacheHeaders.via = '1.1 varnish (Varnish/7.1) — café €';
  if (r() < 0.05) cacheHeaders['x-timer'] = '';
  const failed = r() < 0.05;
  return {
    id: i + 1,
    requestId: i + 1 - (i % 3),
    method: r() < 0.9 ? 'GET' : 'HEAD',
    url,
    purpose: r() < 0.5 ? 'file' : 'delta-part',
    attempt: 1 + (i % 3),
    retryOf: i % 3 === 0 ? null : r() < 0.5 ? '503' : 'first-byte-timeout',
    range: r() < 0.1 ? `bytes=${Math.floor(r() * 1e9)}-` : null,
    status: maybe(r() < 0.9 ? 200 : 503),
    httpVersion: maybe(r() < 0.5 ? '2' : '1.1'),
    wireBytes: Math.floor(r() * 2 ** 40),
    bodyBytes: Math.floor(r() * 2 ** 33),
    headerBytes: Math.floor(r() * 900),
    contentEncoding: r() < 0.1 ? 'zstd' : null,
    contentLength: maybe(Math.floor(r() * 2 ** 36)),
    connectionId: maybe(1 + (i % 7)),
    connectionReused: r() < 0.2 ? null : r() < 0.5,
    remoteAddress: maybe(r() < 0.5 ? '127.0.0.1' : '::1'),
    remotePort: maybe(443),
    timings,
    error: failed ? { class: 'reset', message: `socket hang up on request ${i}`, code: r() < 0.5 ? 'ECONNRESET' : null } : null,
    willRetry: failed,
    retryDelay: failed ? r() * 1000 : null,
    inFlightLimit: maybe(Math.floor(r() * 64)),
    cacheHeaders,
  };
}

test('records read back equal to those pushed, across row and arena chunks', () => {
  const r = rng(0x5eed);
  const log = new RequestLog();
  const pushed: RequestRecord[] = [];
  for (let i = 0; i < 3000; i++) {
    const rec = record(i, r);
    pushed.push(structuredClone(rec));
    log.push(rec);
  }
  expect(log.length).toBe(3000);
  for (let i = 0; i < pushed.length; i++) {
    const back = log.at(i);
    expect(back).toStrictEqual(pushed[i]);
    expect(JSON.stringify(back)).toBe(JSON.stringify(pushed[i]));
  }
  expect(log.toArray()).toStrictEqual(pushed);
  expect([...log]).toStrictEqual(pushed);
  expect(log.at(-1)).toStrictEqual(pushed[2999]);
  expect(log.at(3000)).toBeUndefined();
  expect(log.at(-3001)).toBeUndefined();
  expect(log.at(1.5)).toBeUndefined();
  // A record read back is a new object: changing it changes nothing kept.
  const first = log.at(0) as RequestRecord;
  first.cacheHeaders.injected = 'x';
  first.timings.queued = -1;
  expect(log.at(0)).toStrictEqual(pushed[0]);
});

test('hasContentEncoding finds an encoding only when some record had it', () => {
  const log = new RequestLog();
  const r = rng(7);
  for (let i = 0; i < 1500; i++) log.push({ ...record(i, r), contentEncoding: null, retryOf: null });
  expect(log.hasContentEncoding('zstd')).toBe(false);
  // Interned for another field only: still not an encoding any record had.
  log.push({ ...record(1500, r), contentEncoding: null, retryOf: 'zstd' });
  expect(log.hasContentEncoding('zstd')).toBe(false);
  log.push({ ...record(1501, r), contentEncoding: 'zstd' });
  expect(log.hasContentEncoding('zstd')).toBe(true);
  expect(log.hasContentEncoding('gzip')).toBe(false);
});

test('a value the integer columns cannot hold is refused, and nothing of the record is kept', () => {
  const log = new RequestLog();
  const r = rng(11);
  const pushed: RequestRecord[] = [];
  // The refused records would each have begun a new row chunk.
  for (let i = 0; i < 1024; i++) {
    pushed.push(record(i, r));
    log.push(pushed[i] as RequestRecord);
  }
  expect(() => log.push({ ...record(1024, r), id: -1 })).toThrow(/id -1 is not a non-negative 32-bit integer/);
  expect(() => log.push({ ...record(1024, r), status: 200.5 })).toThrow(RangeError);
  expect(() => log.push({ ...record(1024, r), remotePort: 2 ** 31 })).toThrow(RangeError);
  expect(log.length).toBe(1024);
  for (let i = 1024; i < 1100; i++) {
    pushed.push(record(i, r));
    log.push(pushed[i] as RequestRecord);
  }
  expect(log.toArray()).toStrictEqual(pushed);
});
