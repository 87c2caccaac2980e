/**
 * RequestRecords as undici's connector and diagnostics channels fill them: one record per attempt,
 * ordered phases, DNS/connect/TLS only on the request that opened its connection, stable
 * connection ids with keep-alive reuse, HTTP/2 over TLS by ALPN, HTTP/1.1 pipelining, and the
 * cache/CDN headers kept.
 */
import { lookup } from 'node:dns/promises';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createSecureServer } from 'node:http2';
import { type AddressInfo, createServer as createTcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HttpClient } from '../src/http/HttpClient.js';
import { TIMING_PHASES } from '../src/http/RequestRecord.js';
import { scriptedHttp } from './support/scriptedHttp.js';
import type { RequestRecord } from '../src/http/RequestRecord.js';

const { serve, client, cleanups } = scriptedHttp();

const ORDER = TIMING_PHASES;

/** Non-null phases never decrease, and all lie within [queued, done]. */
function expectOrdered(r: RequestRecord): void {
  const values = ORDER.map((k) => r.timings[k]).filter((v): v is number => v !== null);
  for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThanOrEqual(values[i - 1] as number);
  expect(r.timings.done).not.toBeNull();
  // HAR-style phases are each non-negative and add up to no more than the whole attempt.
  const t = r.timings;
  const span = (a: number | null, b: number | null) => (a === null || b === null ? 0 : b - a);
  const phases = [
    span(t.queued, t.dispatched),
    span(t.dnsStart, t.dnsEnd),
    span(t.connectStart, t.connectEnd),
    span(t.tlsStart, t.tlsEnd),
    span(t.requestSent, t.firstByte),
    span(t.firstByte, t.lastByte),
  ];
  for (const p of phases) expect(p).toBeGreaterThanOrEqual(0);
  const total = (t.done as number) - t.queued;
  expect(phases.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(total + 1e-6);
}

// Self-signed for localhost and 127.0.0.1, valid 2000–2100 (test only).
const KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQguoOzSFjYlDt0aLMy
ElzFS1kUfe+bnHDGA1krQw5l1gmhRANCAAQY+cvOLzzDwQXEYjvhzvML/TUDPhSd
05Bdzv/14rxaYhNmGOWaYN00AWPF2ONZ1zC/ChF+qBtdYnTHpjjJTiH0
-----END PRIVATE KEY-----
`;
const CERT = `-----BEGIN CERTIFICATE-----
MIIBaDCCAQ2gAwIBAgIBATAKBggqhkjOPQQDAjAUMRIwEAYDVQQDDAlsb2NhbGhv
c3QwIBcNMDAwMTAxMDAwMDAwWhgPMjEwMDAxMDEwMDAwMDBaMBQxEjAQBgNVBAMM
CWxvY2FsaG9zdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABBj5y84vPMPBBcRi
O+HO8wv9NQM+FJ3TkF3O//XivFpiE2YY5Zpg3TQBY8XY41nXML8KEX6oG11idMem
OMlOIfSjTjBMMA8GA1UdEwEB/wQFMAMBAf8wGgYDVR0RBBMwEYIJbG9jYWxob3N0
hwR/AAABMB0GA1UdDgQWBBQBcVqCt2ewQB8uRwybp9uMUpWEfjAKBggqhkjOPQQD
AgNJADBGAiEAlhvv5hPy5xksIEz0KLQyG+heMCp3Q7X+qsR/YoGtIk8CIQDT/iO4
w44EM0EFVHn9mSJwe1BQNtp4xQlYveD2k6oLOQ==
-----END CERTIFICATE-----
`;

describe('RequestRecord', () => {
  it('keeps one connection alive: connect phases on the first request only, same connection id', async () => {
    const { base, port } = await serve((_req, res) => {
      res.writeHead(200, {
        'x-cache': 'MISS, HIT',
        'x-cache-hits': '0, 3',
        age: '42',
        etag: '"abc"',
        via: '1.1 varnish',
        'x-served-by': 'cache-fra-1',
        'fastly-debug-digest': 'd1',
        'cf-cache-status': 'HIT',
        'x-unrelated': 'no',
        'content-length': 10,
      });
      res.end('0123456789');
    });
    const { http, records } = client(base);
    await http.get('a', { purpose: 'config', maxBytes: 100 });
    await http.get('b', { purpose: 'summary', maxBytes: 100 });
    expect(records).toHaveLength(2);
    const [first, second] = records as [RequestRecord, RequestRecord];
    for (const r of records) expectOrdered(r);
    expect(first).toMatchObject({ connectionReused: false, remoteAddress: '127.0.0.1', remotePort: port, httpVersion: '1.1', status: 200 });
    expect(first.connectionId).not.toBeNull();
    expect(first.timings.dnsStart).toBeNull(); // an IP literal: no DNS
    expect(first.timings.connectStart).not.toBeNull();
    expect(first.timings.connectEnd).not.toBeNull();
    expect(first.timings.tlsStart).toBeNull();
    expect(second).toMatchObject({ connectionReused: true, connectionId: first.connectionId });
    expect(second.timings.connectStart).toBeNull();
    expect(second.timings.connectEnd).toBeNull();
    expect(second.timings.requestSent).not.toBeNull();
    expect(second.timings.firstByte).not.toBeNull();
    expect(second.timings.lastByte).not.toBeNull();
    expect(first.cacheHeaders).toEqual({
      'x-cache': 'MISS, HIT',
      'x-cache-hits': '0, 3',
      age: '42',
      etag: '"abc"',
      via: '1.1 varnish',
      'x-served-by': 'cache-fra-1',
      'fastly-debug-digest': 'd1',
      'cf-cache-status': 'HIT',
    });
    expect(first).toMatchObject({
      wireBytes: 10,
      bodyBytes: 10,
      contentEncoding: null,
      contentLength: 10,
      error: null,
      willRetry: false,
      retryDelay: null,
    });
    expect(first.headerBytes).toBeGreaterThan(100);
    expect(second.id).toBeGreaterThan(first.id);
    expect(second.requestId).toBe(second.id);
  });

  it('writes one record per attempt, each ordered, the retry on the kept-alive connection', async () => {
    const { base } = await serve((_req, res, n) => {
      if (n === 0) res.writeHead(503, { 'content-length': 4 }).end('busy');
      else res.writeHead(200, { 'content-length': 2 }).end('ok');
    });
    const { http, records } = client(base, { connections: 1 });
    await http.get('summary.idx', { purpose: 'summary.idx', maxBytes: 10 });
    expect(records.map((r) => [r.id, r.requestId, r.attempt, r.status, r.willRetry, r.connectionReused])).toEqual([
      [1, 1, 1, 503, true, false],
      [2, 1, 2, 200, false, true],
    ]);
    for (const r of records) expectOrdered(r);
    expect(records[1]?.timings.queued).toBeGreaterThanOrEqual(records[0]?.timings.done as number);
  });

  it('cuts off an error page over 64 KiB (the retry opens a new connection); a large body read slowly arrives whole', async () => {
    const big = Buffer.alloc(2_000_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
    const { base } = await serve((req, res, n) => {
      if (req.url?.endsWith('/error') && n === 0) res.writeHead(503, { 'content-length': 200_000 }).end(Buffer.alloc(200_000));
      else if (req.url?.endsWith('/error')) res.writeHead(200, { 'content-length': 2 }).end('ok');
      else res.writeHead(200, { 'content-length': big.length }).end(big);
    });
    const { http, records } = client(base, { connections: 1, retry: { minDelay: 1, maxDelay: 1 } });
    await http.get('error', { purpose: 'other', maxBytes: 10 });
    expect(records.map((r) => [r.status, r.connectionId, r.connectionReused])).toEqual([
      [503, 1, false],
      [200, 2, false],
    ]);
    // Read up to 64 KiB (whole chunks), never the whole page.
    expect(records[0]?.wireBytes).toBeGreaterThanOrEqual(64 * 1024);
    expect(records[0]?.wireBytes).toBeLessThan(200_000);
    const chunks: Uint8Array[] = [];
    await http.download('big', {
      purpose: 'other',
      maxBytes: big.length,
      onChunk: async (c) => {
        chunks.push(c);
        if (chunks.length % 8 === 0) await new Promise((r) => setTimeout(r, 2));
      },
      onRestart: () => {
        chunks.length = 0;
      },
    });
    expect(Buffer.concat(chunks).equals(big)).toBe(true);
    expect(records[2]).toMatchObject({ status: 200, wireBytes: big.length, bodyBytes: big.length, error: null });
  });

  it('records DNS on the first request of a connection made by name', async () => {
    const addresses = await lookup('localhost', { all: true }).catch(() => []);
    if (!addresses.some((a) => a.address === '127.0.0.1')) {
      console.warn('DNS case skipped: localhost does not resolve to 127.0.0.1 here');
      return;
    }
    const { port } = await serve((_req, res) => res.end('x'));
    const { http, records } = client(`http://localhost:${port}/`, { connections: 1 });
    await http.get('a', { purpose: 'other', maxBytes: 10 });
    await http.get('b', { purpose: 'other', maxBytes: 10 });
    const [first, second] = records as [RequestRecord, RequestRecord];
    expectOrdered(first);
    expect(first.timings.dnsStart).not.toBeNull();
    expect(first.timings.dnsEnd).not.toBeNull();
    expect(first.timings.connectStart).toBeGreaterThanOrEqual(first.timings.dnsEnd as number);
    expect(first.remoteAddress).toBe('127.0.0.1');
    expect(second.timings.dnsStart).toBeNull();
    expect(second.connectionReused).toBe(true);
  });

  it('gives each connection of a pool its own id and phases', async () => {
    const { base } = await serve((_req, res) => setTimeout(() => res.end('x'), 50));
    const { http, records } = client(base, { connections: 3 });
    await Promise.all([1, 2, 3].map((i) => http.get(`p${i}`, { purpose: 'file', maxBytes: 10 })));
    await Promise.all([4, 5, 6].map((i) => http.get(`p${i}`, { purpose: 'file', maxBytes: 10 })));
    const firstRound = records.slice(0, 3);
    const ids = new Set(firstRound.map((r) => r.connectionId));
    expect(ids.size).toBe(3);
    for (const r of firstRound) {
      expect(r.connectionReused).toBe(false);
      expect(r.timings.connectEnd).not.toBeNull();
    }
    for (const r of records.slice(3)) {
      expect(ids.has(r.connectionId)).toBe(true);
      expect(r.connectionReused).toBe(true);
      expect(r.timings.connectStart).toBeNull();
    }
    for (const r of records) expectOrdered(r);
  });

  it('pipelines HTTP/1.1 requests once the server has kept a connection alive', async () => {
    // A minimal HTTP/1.1 server that counts requests received before it answers any.
    let maxQueued = 0;
    const sockets: Socket[] = [];
    const server = createTcpServer((sock) => {
      sockets.push(sock);
      let buf = '';
      const queue: string[] = [];
      sock.on('data', (d) => {
        buf += d.toString('latin1');
        for (let i = buf.indexOf('\r\n\r\n'); i >= 0; i = buf.indexOf('\r\n\r\n')) {
          queue.push(buf.slice(0, i).split(' ')[1] ?? '');
          buf = buf.slice(i + 4);
        }
        maxQueued = Math.max(maxQueued, queue.length);
        setTimeout(() => {
          for (let p = queue.shift(); p !== undefined; p = queue.shift()) {
            const body = `body of ${p}`;
            sock.write(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\nkeep-alive: timeout=30\r\n\r\n${body}`);
          }
        }, 50);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          server.close(() => resolve());
        }),
    );
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const run = async (pipelining: number) => {
      maxQueued = 0;
      const { http, records } = client(base, { connections: 1, pipelining });
      await http.get('warm-up', { purpose: 'other', maxBytes: 100 });
      const bodies = await Promise.all([1, 2, 3, 4].map((i) => http.get(`r${i}`, { purpose: 'other', maxBytes: 100 })));
      expect(bodies.map((b) => new TextDecoder().decode(b))).toEqual(['body of /r1', 'body of /r2', 'body of /r3', 'body of /r4']);
      expect(new Set(records.map((r) => r.connectionId)).size).toBe(1);
      for (const r of records) expectOrdered(r);
      return maxQueued;
    };
    expect(await run(4)).toBeGreaterThanOrEqual(2);
    expect(await run(1)).toBe(1);
  });

  it('uses HTTP/2 over TLS by ALPN and records the TLS phases', async () => {
    const server = createSecureServer({ key: KEY, cert: CERT, allowHTTP1: true }, (req, res) => {
      res.writeHead(200, { 'x-version': req.httpVersion });
      res.end(`hello over ${req.httpVersion}`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const base = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;

    const h2 = client(base, { http: { tls: { ca: CERT } } });
    expect(new TextDecoder().decode(await h2.http.get('a', { purpose: 'other', maxBytes: 100 }))).toBe('hello over 2.0');
    await h2.http.get('b', { purpose: 'other', maxBytes: 100 });
    const [first, second] = h2.records as [RequestRecord, RequestRecord];
    expect(first).toMatchObject({ httpVersion: '2', connectionReused: false });
    expect(first.timings.tlsStart).not.toBeNull();
    expect(first.timings.tlsEnd).toBeGreaterThanOrEqual(first.timings.tlsStart as number);
    expect(first.timings.connectEnd).toBeLessThanOrEqual(first.timings.tlsStart as number);
    expect(second).toMatchObject({ httpVersion: '2', connectionReused: true, connectionId: first.connectionId });
    expect(second.timings.tlsStart).toBeNull();
    for (const r of h2.records) expectOrdered(r);

    const h1 = client(base, { allowHttp2: false, http: { tls: { ca: CERT } } });
    expect(new TextDecoder().decode(await h1.http.get('a', { purpose: 'other', maxBytes: 100 }))).toBe('hello over 1.1');
    expect(h1.records[0]).toMatchObject({ httpVersion: '1.1', connectionReused: false });
    expect(h1.records[0]?.timings.tlsEnd).not.toBeNull();
  });

  it('grants HTTP/2 flow-control windows large enough for a fast link (4 MiB per stream, 32 MiB per connection)', async () => {
    // The server reads what the client granted: its SETTINGS (per stream) and the connection
    // window after the client's WINDOW_UPDATE.
    const seen: Array<{ stream: number | undefined; connection: number | undefined }> = [];
    const server = createSecureServer({ key: KEY, cert: CERT }, (req, res) => {
      const session = req.stream.session;
      seen.push({ stream: session?.remoteSettings.initialWindowSize, connection: session?.state.remoteWindowSize });
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const base = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const defaults = client(base, { http: { tls: { ca: CERT } } });
    await defaults.http.get('a', { purpose: 'other', maxBytes: 100 });
    const custom = client(base, { http: { tls: { ca: CERT }, http2StreamWindow: 1 << 20, http2ConnectionWindow: 2 << 20 } });
    await custom.http.get('b', { purpose: 'other', maxBytes: 100 });
    expect(seen).toEqual([
      { stream: 4 * 1024 * 1024, connection: 32 * 1024 * 1024 },
      { stream: 1 << 20, connection: 2 << 20 },
    ]);
  });

  it('fills what FileTransport can tell (no connection)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ff-rec-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'config'), '[core]\nmode=archive-z2\n');
    const { http, records } = client(pathToFileURL(`${dir}/`));
    await http.get('config', { purpose: 'config', maxBytes: 100 });
    const [r] = records as [RequestRecord];
    expectOrdered(r);
    expect(r).toMatchObject({ status: 200, connectionId: null, connectionReused: null, wireBytes: 23, bodyBytes: 23 });
    expect(r.timings.requestSent).not.toBeNull();
    expect(r.timings.firstByte).not.toBeNull();
    expect(r.timings.lastByte).not.toBeNull();
  });

  it('ignores an onRecord callback that throws', async () => {
    const { base } = await serve((_req, res) => res.end('fine'));
    const http = new HttpClient(base, {
      onRecord: () => {
        throw new Error('observer bug');
      },
    });
    cleanups.push(() => http.close());
    expect(new TextDecoder().decode(await http.get('x', { purpose: 'other', maxBytes: 10 }))).toBe('fine');
  });
});

it('recording: false fetches the same bytes but traces nothing and delivers no records', async () => {
  const body = Buffer.from('x'.repeat(1000));
  const { base } = await serve((_req, res) => res.end(body));
  const { http, records } = client(base, { recording: false });
  const got = await http.get('a', { purpose: 'file', maxBytes: 10_000 });
  expect(Buffer.from(got).equals(body)).toBe(true);
  expect(records).toEqual([]);
});
