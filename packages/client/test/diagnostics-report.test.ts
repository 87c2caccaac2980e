/**
 * Diagnostics on hand-built RequestRecords: percentiles, waste (failed, resumed, duplicate,
 * loose objects a delta part delivered), ideal vs actual requests, HAR timings and shape, and
 * Prometheus text parsed by a real parser.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  buildReport,
  harTimings,
  latencyStats,
  renderSummaryTable,
  toHAR,
  toJSON,
  toNDJSON,
  toPrometheus,
} from '../src/diagnostics/index.js';
import type { RequestRecord } from '../src/http/RequestRecord.js';
import type { PullResult } from '../src/pull/PullResult.js';

const require = createRequire(import.meta.url);
const harValidator = require('har-validator') as { har(data: unknown): Promise<unknown> };
const parsePrometheus = require('parse-prometheus-text-format') as (text: string) => Array<{
  name: string;
  type: string;
  help: string;
  metrics: Array<{ value?: string; labels?: Record<string, string>; quantiles?: Record<string, string>; count?: string; sum?: string }>;
}>;

const BASE = 'http://127.0.0.1:8080/repo/';
const TO = 'b'.repeat(64);
const FILE_A = `objects/aa/${'a'.repeat(62)}.filez`;
const FILE_C = `objects/cc/${'c'.repeat(62)}.filez`;

let nextId = 1;
function rec(p: Partial<RequestRecord> & { url: string; at: number; dur?: number }): RequestRecord {
  const id = nextId++;
  const { at, dur = 10, ...rest } = p;
  return {
    id,
    requestId: id,
    method: 'GET',
    purpose: 'file',
    attempt: 1,
    retryOf: null,
    range: null,
    status: 200,
    httpVersion: '1.1',
    wireBytes: 100,
    bodyBytes: 100,
    headerBytes: 50,
    contentEncoding: null,
    contentLength: 100,
    connectionId: 1,
    connectionReused: true,
    remoteAddress: '127.0.0.1',
    remotePort: 8080,
    timings: {
      queued: at,
      dispatched: at + 1,
      dnsStart: null,
      dnsEnd: null,
      connectStart: null,
      connectEnd: null,
      tlsStart: null,
      tlsEnd: null,
      requestSent: at + 2,
      firstByte: at + 2 + dur / 2,
      lastByte: at + dur,
      done: at + dur,
    },
    error: null,
    willRetry: false,
    retryDelay: null,
    inFlightLimit: null,
    cacheHeaders: {},
    ...rest,
    url: BASE + p.url,
  };
}

function result(requests: RequestRecord[], over: Partial<PullResult> = {}): PullResult {
  return {
    remote: BASE,
    ref: 'app/org.example.Hello/x86_64/stable',
    commit: TO,
    repo: '/tmp/repo',
    plan: {
      remote: BASE,
      ref: 'app/org.example.Hello/x86_64/stable',
      target: TO,
      strategy: 'delta-scratch',
      reason: 'test',
      chosen: { strategy: 'delta-scratch', available: true, delta: TO, from: null, requests: 3, bytes: 300, estimate: 'exact', note: '' },
      alternatives: [],
      superblockDigest: null,
      localCommits: [],
    },
    strategy: 'delta-scratch',
    objects: { fromDelta: 2, loose: 1, present: 0 },
    partsSkipped: 0,
    partsRecovered: 0,
    decoders: { xz: null, zstd: null },
    requests,
    durationMs: 1234.5,
    ...over,
  };
}

describe('latencyStats', () => {
  it('nearest-rank percentiles over 1..100', () => {
    const s = latencyStats(Array.from({ length: 100 }, (_, i) => 100 - i));
    expect(s).toEqual({ count: 100, p50: 50, p90: 90, p99: 99, max: 100, sum: 5050 });
  });
  it('one sample, and none', () => {
    expect(latencyStats([7])).toMatchObject({ p50: 7, p90: 7, p99: 7, max: 7 });
    expect(latencyStats([])).toEqual({ count: 0, p50: null, p90: null, p99: null, max: null, sum: 0 });
  });
});

describe('buildReport', () => {
  function scenario() {
    nextId = 1;
    const rs: RequestRecord[] = [];
    rs.push(rec({ url: 'config', purpose: 'config', at: 0, connectionReused: false, wireBytes: 20, bodyBytes: 20 }));
    rs.push(rec({ url: 'summary', purpose: 'summary', at: 20, wireBytes: 1000, bodyBytes: 1000, dur: 30 }));
    return rs;
  }

  it('counts, waste, ideal, latency, throughput and errors', async () => {
    const { deltaPartPath } = await import('../src/formats/paths.js');
    const rs = scenario();
    const part0 = deltaPartPath(null, TO, 0);
    const part1 = deltaPartPath(null, TO, 1);
    rs.push(
      rec({
        url: `${deltaPartPath(null, TO, 0).replace(/0$/, 'superblock')}`,
        purpose: 'superblock',
        at: 60,
        wireBytes: 300,
        bodyBytes: 300,
      }),
    );
    // part 0 delivered; part 1 failed with a 503 then succeeded.
    rs.push(rec({ url: part0, purpose: 'delta-part', at: 80, wireBytes: 5000, bodyBytes: 5000, dur: 200 }));
    const p1a = rec({
      url: part1,
      purpose: 'delta-part',
      at: 80,
      status: 503,
      wireBytes: 10,
      bodyBytes: 10,
      willRetry: true,
      retryDelay: 5,
    });
    p1a.error = { class: 'http-status', message: 'HTTP 503', code: 'ERR_HTTP_STATUS' };
    rs.push(p1a);
    // a reset mid-body (400 of 1000 bytes), resumed from byte 400
    const p1b = rec({
      url: part1,
      purpose: 'delta-part',
      at: 100,
      attempt: 2,
      retryOf: '503',
      wireBytes: 400,
      bodyBytes: 400,
      willRetry: true,
    });
    p1b.requestId = p1a.id;
    p1b.error = { class: 'reset', message: 'socket reset', code: 'ECONNRESET' };
    rs.push(p1b);
    const p1c = rec({
      url: part1,
      purpose: 'delta-part',
      at: 130,
      attempt: 3,
      retryOf: 'reset',
      range: 'bytes=400-',
      status: 206,
      wireBytes: 600,
      bodyBytes: 600,
    });
    p1c.requestId = p1a.id;
    rs.push(p1c);
    // a loose fetch of an object part 0 produced, and the same fetched twice (a duplicate)
    rs.push(rec({ url: FILE_A, at: 400, wireBytes: 70, bodyBytes: 70 }));
    rs.push(rec({ url: FILE_A, at: 420, wireBytes: 70, bodyBytes: 70 }));
    // a legitimate fallback
    rs.push(rec({ url: FILE_C, purpose: 'fallback', at: 430, wireBytes: 80, bodyBytes: 80, connectionId: 2, connectionReused: false }));
    const r = buildReport(
      result(rs, {
        delta: {
          name: TO,
          parts: [
            { index: 0, inline: false, objects: [FILE_A] },
            { index: 1, inline: false, objects: [] },
          ],
        },
      }),
      { slowest: 3 },
    );
    expect(r.schema).toBe('flathub-fetch/pull-report@1');
    expect(r.requests).toMatchObject({ total: 10, errors: 2, retries: 2, logical: 8, abandoned: 0 });
    expect(r.requests.byPurpose).toEqual({ config: 1, summary: 1, superblock: 1, 'delta-part': 4, file: 2, fallback: 1 });
    expect(r.requests.byStatus).toEqual({ '200': 8, '503': 1, '206': 1 });
    // ideal: plan's 3 + 2 metadata URLs (config, summary)
    expect(r.requests.ideal).toBe(5);
    expect(r.requests.excess).toBe(5);
    expect(r.bytes.wire).toBe(20 + 1000 + 300 + 5000 + 10 + 400 + 600 + 70 + 70 + 80);
    expect(r.waste.failed).toEqual({ requests: 2, bytes: 10 }); // the reset's 400 bytes were resumed
    expect(r.waste.duplicates).toEqual({ requests: 1, bytes: 70 });
    expect(r.waste.looseInDelta).toEqual({ checked: true, requests: 1, bytes: 70 });
    expect(r.waste).toMatchObject({ requests: 4, bytes: 150 });
    expect(r.errors.byClass).toEqual({ 'http-status': 1, reset: 1 });
    expect(r.errors.byStatus).toEqual({ '503': 1, '200': 1 });
    expect(r.retries.byReason).toEqual({ '503': 1, reset: 1 });
    expect(r.connections).toEqual({ distinct: 2, known: 10, reused: 8, reuseRatio: 0.8 });
    expect(r.latency.total.max).toBe(200);
    expect(r.latency.byPurpose['delta-part']?.total.count).toBe(4);
    expect(r.throughput.bucketMs).toBe(100);
    expect(r.throughput.buckets.reduce((a, b) => a + b, 0)).toBe(r.bytes.wire);
    expect(r.slowest.map((s) => s.totalMs)).toEqual([200, 30, 10]);
    expect(r.entries).toHaveLength(10);
    expect(r.entries[0]).toEqual(rs[0]);
    const json = toJSON(r);
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
    const table = renderSummaryTable(r).join('\n');
    expect(table).toMatch(/delta-part +4 +2/);
    expect(table).toContain('waste: 4 requests');
  });

  it('a failed part is not "delivered": its objects fetched loose are not waste; no delta, no check', () => {
    nextId = 1;
    const rs = [rec({ url: FILE_A, at: 0 })];
    const r = buildReport(result(rs, { delta: { name: TO, parts: [{ index: 0, inline: false, objects: [FILE_A] }] } }));
    expect(r.waste.looseInDelta).toEqual({ checked: true, requests: 0, bytes: 0 });
    const inline = buildReport(result(rs, { delta: { name: TO, parts: [{ index: 0, inline: true, objects: [FILE_A] }] } }));
    expect(inline.waste.looseInDelta.requests).toBe(1);
    expect(buildReport(result(rs)).waste.looseInDelta.checked).toBe(false);
  });

  it('up-to-date plans ideally need only metadata; empty pulls are well-formed', () => {
    nextId = 1;
    const r0 = buildReport(result([]));
    expect(r0.requests.total).toBe(0);
    expect(r0.startedAt).toBeNull();
    expect(r0.latency.firstByte.p50).toBeNull();
    const res = result([rec({ url: 'summary', purpose: 'summary', at: 0 })]);
    res.plan.strategy = 'up-to-date';
    expect(buildReport(res).requests.ideal).toBe(1);
  });

  it('the slowest requests: the same as sorting them all (ties by id, unfinished last), for any count', () => {
    nextId = 1;
    // Durations from a small set (many ties), some requests unfinished (no `done`).
    let seed = 42;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const rs = Array.from({ length: 400 }, (_, i) => {
      const r = rec({ url: `objects/aa/${i}.filez`, at: Math.floor(rand() * 1000), dur: 1 + Math.floor(rand() * 20) });
      if (rand() < 0.1) r.timings.done = null;
      return r;
    });
    const total = (r: RequestRecord) => (r.timings.done === null ? -1 : r.timings.done - r.timings.queued);
    const sorted = [...rs].sort((a, b) => total(b) - total(a) || a.id - b.id).map((r) => r.id);
    for (const n of [0, 1, 10, 399, 400, 500]) {
      expect(buildReport(result(rs), { slowest: n }).slowest.map((s) => s.id)).toEqual(sorted.slice(0, n));
    }
  });
});

describe('HAR', () => {
  it('a fresh connection: every phase, summing to time; a reused one: -1 for dns/connect/ssl', async () => {
    nextId = 1;
    const fresh = rec({ url: 'config', purpose: 'config', at: 0, connectionReused: false });
    fresh.timings = {
      queued: 0,
      dispatched: 1,
      dnsStart: 2,
      dnsEnd: 4,
      connectStart: 5,
      connectEnd: 8,
      tlsStart: 8,
      tlsEnd: 12,
      requestSent: 13,
      firstByte: 20,
      lastByte: 25,
      done: 26,
    };
    expect(harTimings(fresh)).toEqual({ blocked: 2, dns: 2, connect: 8, ssl: 4, send: 1, wait: 7, receive: 6 });
    const reused = rec({ url: 'summary', purpose: 'summary', at: 30 });
    expect(harTimings(reused)).toEqual({ blocked: 2, dns: -1, connect: -1, ssl: -1, send: 0, wait: 5, receive: 3 });
    // A connection refused: no response at all.
    const refused = rec({
      url: 'summary',
      purpose: 'summary',
      at: 50,
      status: null,
      wireBytes: 0,
      bodyBytes: 0,
      connectionId: null,
      connectionReused: null,
    });
    refused.timings = { ...refused.timings, connectStart: 51, requestSent: null, firstByte: null, lastByte: null, done: 55 };
    refused.error = { class: 'refused', message: 'connect ECONNREFUSED', code: 'ECONNREFUSED' };
    expect(harTimings(refused)).toEqual({ blocked: 1, dns: -1, connect: 4, ssl: -1, send: 0, wait: 0, receive: 0 });

    const har = toHAR(buildReport(result([fresh, reused, refused])));
    await expect(harValidator.har(har)).resolves.toBeDefined();
    expect(har.log.entries).toHaveLength(3);
    for (const e of har.log.entries) {
      const t = e.timings;
      expect(e.time).toBeCloseTo(t.blocked + Math.max(0, t.dns) + Math.max(0, t.connect) + t.send + t.wait + t.receive, 6);
    }
    const [a, , c] = har.log.entries as Array<Record<string, unknown>>;
    expect(a).toMatchObject({
      _purpose: 'config',
      _attempt: 1,
      _connectionReused: false,
      connection: '1',
      serverIPAddress: '127.0.0.1',
      time: 26,
    });
    expect(c).toMatchObject({ response: { status: 0 }, _error: { class: 'refused' } });
    expect(c?.connection).toBeUndefined();
  });
});

describe('Prometheus', () => {
  it('parses with a real parser; values equal the report', () => {
    nextId = 1;
    const bad = rec({ url: FILE_C, purpose: 'fallback', at: 10, status: 503, wireBytes: 5, bodyBytes: 5, willRetry: true });
    bad.error = { class: 'http-status', message: 'HTTP 503', code: 'ERR_HTTP_STATUS' };
    const good = rec({ url: FILE_C, purpose: 'fallback', at: 20, attempt: 2, retryOf: '503' });
    good.requestId = bad.id;
    const report = buildReport(result([rec({ url: 'config', purpose: 'config', at: 0 }), bad, good]));
    const text = toPrometheus(report, { remote: 'flat"hub\\x', ref: 'app/x' });
    const families = parsePrometheus(text);
    const fam = (n: string) => families.find((f) => f.name === n);
    expect(fam('flathub_fetch_requests_total')?.type).toBe('COUNTER');
    const reqs = fam('flathub_fetch_requests_total')?.metrics ?? [];
    expect(reqs.map((m) => [m.labels?.purpose, m.labels?.status, Number(m.value)])).toEqual([
      ['config', '200', 1],
      ['fallback', '200', 1],
      ['fallback', '503', 1],
    ]);
    expect(reqs[0]?.labels?.remote).toBe('flat"hub\\x');
    expect(fam('flathub_fetch_retries_total')?.metrics.map((m) => [m.labels?.reason, m.value])).toEqual([['503', '1']]);
    const waste = fam('flathub_fetch_waste_bytes')?.metrics.find((m) => m.labels?.kind === 'failed');
    expect(Number(waste?.value)).toBe(5);
    // This parser drops _count/_sum of labelled summaries: check the summary without extra labels.
    const ttfb = parsePrometheus(toPrometheus(report)).find((f) => f.name === 'flathub_fetch_first_byte_seconds');
    expect(ttfb?.type).toBe('SUMMARY');
    expect(Number(ttfb?.metrics[0]?.count)).toBe(3);
    expect(Number(ttfb?.metrics[0]?.quantiles?.['0.5'])).toBeCloseTo((report.latency.firstByte.p50 as number) / 1000, 9);
    expect(Number(fam('flathub_fetch_pull_duration_seconds')?.metrics[0]?.value)).toBeCloseTo(1.2345, 6);
    expect(() => toPrometheus(report, { 'bad-name': 'x' })).toThrow(RangeError);
  });
});

describe('NDJSON', () => {
  it('one line per event; done drops the records', () => {
    nextId = 1;
    const res = result([rec({ url: 'config', purpose: 'config', at: 0 })]);
    const text = toNDJSON(
      [
        { type: 'request', record: res.requests[0] as RequestRecord },
        { type: 'done', result: res },
      ],
      5,
    );
    const lines = text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ type: 'request', t: 5, record: { purpose: 'config' } });
    expect(lines[1].result.requests).toBeUndefined();
    expect(lines[1].result.requestCount).toBe(1);
  });
});
