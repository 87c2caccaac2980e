/**
 * Streaming downloads, Range resume and size enforcement against real servers on 127.0.0.1:
 * a connection reset or a short body resumes with `Range`/`If-Range`, a server that ignores Range
 * restarts the stream, and bodies longer or shorter than expected are refused or retried.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../src/errors/codes.js';
import { FileTransport } from '../src/http/FileTransport.js';
import { HttpClient } from '../src/http/HttpClient.js';
import { rejection, scriptedHttp } from './support/scriptedHttp.js';
import type { RequestRecord } from '../src/http/RequestRecord.js';
import type { Transport } from '../src/http/Transport.js';

const { serve, client, cleanups } = scriptedHttp();

/** A download into memory that counts restarts. */
function sink() {
  const chunks: Buffer[] = [];
  let restarts = 0;
  return {
    onChunk: (c: Uint8Array) => {
      chunks.push(Buffer.from(c));
    },
    onRestart: () => {
      restarts++;
      chunks.length = 0;
    },
    get body() {
      return Buffer.concat(chunks);
    },
    get restarts() {
      return restarts;
    },
  };
}

/** Serves `body` honouring `Range: bytes=N-` and `If-Range` against `etag`. */
function serveRange(req: IncomingMessage, res: ServerResponse, body: Buffer, etag: string): void {
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  if (m !== null && (req.headers['if-range'] === undefined || req.headers['if-range'] === etag)) {
    const start = Number(m[1]);
    res.writeHead(206, {
      etag,
      'content-length': body.length - start,
      'content-range': `bytes ${start}-${body.length - 1}/${body.length}`,
    });
    res.end(body.subarray(start));
    return;
  }
  res.writeHead(200, { etag, 'content-length': body.length });
  res.end(body);
}

const BODY = randomBytes(512 * 1024);
const ETAG = '"v1-abc"';

describe('HttpClient.download resume', () => {
  it('resumes after a connection reset mid-body with Range and If-Range', async () => {
    const { base, requests } = await serve((req, res, n) => {
      if (n === 0) {
        res.writeHead(200, { etag: ETAG, 'content-length': BODY.length });
        res.write(BODY.subarray(0, 128 * 1024));
        setTimeout(() => req.socket.resetAndDestroy(), 100);
        return;
      }
      serveRange(req, res, BODY, ETAG);
    });
    const { http, records } = client(base);
    const s = sink();
    const result = await http.download('deltas/ab/cd/0', { purpose: 'delta-part', maxBytes: BODY.length, expectedSize: BODY.length, ...s });
    expect(result).toEqual({ bytes: BODY.length, attempts: 2 });
    expect(s.body.equals(BODY)).toBe(true);
    expect(s.restarts).toBe(0);
    const got = records[0]?.bodyBytes ?? 0;
    expect(got).toBeGreaterThan(0);
    expect(got).toBeLessThan(BODY.length);
    expect(records[0]?.error).toMatchObject({ class: 'reset', code: 'ECONNRESET' });
    expect(requests[1]?.headers.range).toBe(`bytes=${got}-`);
    expect(requests[1]?.headers['if-range']).toBe(ETAG);
    expect(records[1]).toMatchObject({
      status: 206,
      range: `bytes=${got}-`,
      wireBytes: BODY.length - got,
      error: null,
      retryOf: records[0]?.error?.class,
    });
  });

  it('keeps the resume point across a failure that delivered nothing (503 on the resume)', async () => {
    const { base, requests } = await serve((req, res, n) => {
      if (n === 0) {
        res.writeHead(200, { etag: ETAG, 'content-length': BODY.length });
        res.write(BODY.subarray(0, 128 * 1024));
        setTimeout(() => req.socket.resetAndDestroy(), 100);
      } else if (n === 1) res.writeHead(503).end();
      else serveRange(req, res, BODY, ETAG);
    });
    const { http, records } = client(base);
    const s = sink();
    await http.download('x', { purpose: 'delta-part', maxBytes: BODY.length, ...s });
    expect(s.body.equals(BODY)).toBe(true);
    expect(s.restarts).toBe(0);
    expect(requests[1]?.headers.range).toBe(requests[2]?.headers.range);
    expect(records.map((r) => r.status)).toEqual([200, 503, 206]);
  });

  it('resumes a body shorter than its Content-Length (truncated), also for get()', async () => {
    const { base, requests } = await serve((req, res, n) => {
      if (n % 2 === 0) {
        res.writeHead(200, { 'last-modified': 'Tue, 01 Jul 2025 10:00:00 GMT', 'content-length': BODY.length });
        res.end(BODY.subarray(0, 100_000)); // then the server closes: Content-Length > body
        res.socket?.end();
        return;
      }
      const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      const start = Number(m?.[1] ?? 0);
      res.writeHead(206, { 'content-range': `bytes ${start}-${BODY.length - 1}/${BODY.length}`, 'content-length': BODY.length - start });
      res.end(BODY.subarray(start));
    });
    const { http, records } = client(base);
    const body = await http.get('objects/aa/bb.filez', { purpose: 'file', maxBytes: 10_000_000 });
    expect(Buffer.from(body).equals(BODY)).toBe(true);
    expect(records[0]?.error?.class).toBe('truncated');
    expect(records[0]?.contentLength).toBe(BODY.length);
    expect(requests[1]?.headers.range).toBe(`bytes=${records[0]?.wireBytes}-`);
    expect(requests[1]?.headers['if-range']).toBe('Tue, 01 Jul 2025 10:00:00 GMT');
  });

  it('starts again when the server ignores Range (200): onRestart, then the whole body', async () => {
    const { base, requests } = await serve((req, res, n) => {
      res.writeHead(200, { etag: ETAG, 'content-length': BODY.length });
      if (n === 0) {
        res.write(BODY.subarray(0, 64 * 1024));
        setTimeout(() => req.socket.destroy(), 100);
      } else res.end(BODY);
    });
    const { http, records } = client(base);
    const s = sink();
    await http.download('x', { purpose: 'delta-part', maxBytes: BODY.length, ...s });
    expect(requests[1]?.headers.range).toMatch(/^bytes=\d+-$/);
    expect(s.restarts).toBe(1);
    expect(s.body.equals(BODY)).toBe(true);
    expect(records[1]).toMatchObject({ status: 200, bodyBytes: BODY.length });
    expect(records[1]?.range).toMatch(/^bytes=/);
  });

  it('does not resume without a validator (no ETag or Last-Modified): it starts over', async () => {
    const { base, requests } = await serve((req, res, n) => {
      res.writeHead(200, { 'content-length': BODY.length });
      if (n === 0) {
        res.write(BODY.subarray(0, 64 * 1024));
        setTimeout(() => req.socket.destroy(), 100);
      } else res.end(BODY);
    });
    const { http } = client(base);
    const s = sink();
    await http.download('x', { purpose: 'delta-part', maxBytes: BODY.length, ...s });
    expect(requests[1]?.headers.range).toBeUndefined();
    expect(s.restarts).toBe(1);
    expect(s.body.equals(BODY)).toBe(true);
  });

  it('refuses a 206 that does not continue where it stopped, then starts over', async () => {
    const { base, requests } = await serve((req, res, n) => {
      if (n === 0) {
        res.writeHead(200, { etag: ETAG, 'content-length': BODY.length });
        res.write(BODY.subarray(0, 64 * 1024));
        setTimeout(() => req.socket.destroy(), 100);
      } else if (n === 1) {
        res.writeHead(206, { etag: ETAG, 'content-range': `bytes 0-99/${BODY.length}`, 'content-length': 100 });
        res.end(BODY.subarray(0, 100));
      } else serveRange(req, res, BODY, ETAG);
    });
    const { http, records } = client(base);
    const s = sink();
    await http.download('x', { purpose: 'delta-part', maxBytes: BODY.length, ...s });
    expect(records.map((r) => [r.status, r.error?.class ?? null])).toEqual([
      [200, records[0]?.error?.class],
      [206, 'other'],
      [200, null],
    ]);
    expect(requests[2]?.headers.range).toBeUndefined();
    expect(s.restarts).toBe(1);
    expect(s.body.equals(BODY)).toBe(true);
  });

  it('refuses a body longer than expectedSize (size-violation, not retried)', async () => {
    const { base, requests } = await serve((_req, res) => {
      res.writeHead(200); // chunked: the length is only known by reading
      res.write(Buffer.alloc(800));
      res.end(Buffer.alloc(800));
    });
    const { http, records } = client(base);
    const s = sink();
    const err = await rejection(http.download('x', { purpose: 'delta-part', maxBytes: 1_000_000, expectedSize: 1000, ...s }));
    expect(err.code).toBe(ErrorCodes.SIZE_LIMIT);
    expect(err.message).toContain('longer than the expected 1000');
    expect(s.body.length).toBeLessThanOrEqual(1000);
    expect(requests).toHaveLength(1);
    expect(records.map((r) => [r.error?.class, r.willRetry])).toEqual([['size-violation', false]]);
  });

  it('refuses a declared Content-Length above maxBytes or expectedSize without reading it', async () => {
    const { base } = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': 5000 });
      res.end(Buffer.alloc(5000));
    });
    const { http, records } = client(base);
    expect((await rejection(http.get('a', { purpose: 'other', maxBytes: 4000 }))).data).toMatchObject({ size: 5000, limit: 4000 });
    expect((await rejection(http.get('b', { purpose: 'other', maxBytes: 10_000, expectedSize: 4999 }))).code).toBe(ErrorCodes.SIZE_LIMIT);
    expect(records.map((r) => [r.error?.class, r.bodyBytes])).toEqual([
      ['size-violation', 0],
      ['size-violation', 0],
    ]);
  });

  it('retries a body shorter than expectedSize as truncated', async () => {
    const { base, requests } = await serve((_req, res, n) => {
      res.writeHead(200);
      res.end(n === 0 ? Buffer.alloc(600) : Buffer.alloc(1000, 7));
    });
    const { http, records } = client(base);
    const body = await http.get('x', { purpose: 'fallback', maxBytes: 1000, expectedSize: 1000 });
    expect(Buffer.from(body).equals(Buffer.alloc(1000, 7))).toBe(true);
    expect(requests).toHaveLength(2);
    expect(records[0]?.error?.class).toBe('truncated');
  });
});

describe('FileTransport', () => {
  it('serves files, Range, If-Range and 416; HttpClient resumes over it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ff-http-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'part'), BODY);
    const file = new FileTransport();
    const url = pathToFileURL(join(dir, 'part'));
    const whole = await file.request({ url, method: 'GET', headers: {} });
    const etag = whole.headers.etag ?? '';
    whole.dispose();
    const read = async (headers: Record<string, string>) => {
      const r = await file.request({ url, method: 'GET', headers });
      const chunks: Uint8Array[] = [];
      for await (const c of r.body) chunks.push(c);
      return { status: r.status, headers: r.headers, body: Buffer.concat(chunks) };
    };
    const part = await read({ range: 'bytes=1000-', 'if-range': etag });
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 1000-${BODY.length - 1}/${BODY.length}`);
    expect(part.body.equals(BODY.subarray(1000))).toBe(true);
    expect((await read({ range: 'bytes=10-19' })).body.equals(BODY.subarray(10, 20))).toBe(true);
    expect((await read({ range: 'bytes=1000-', 'if-range': '"other"' })).status).toBe(200);
    expect((await read({ range: `bytes=${BODY.length}-` })).status).toBe(416);
    expect((await file.request({ url: pathToFileURL(join(dir, 'nope')), method: 'GET', headers: {} })).status).toBe(404);

    // A transport that breaks the first body after 100 kB: HttpClient resumes through FileTransport's Range.
    let calls = 0;
    const flaky: Transport = {
      request: async (req) => {
        const res = await file.request(req);
        if (calls++ > 0) return res;
        return {
          ...res,
          body: (async function* () {
            let n = 0;
            for await (const c of res.body) {
              if (n + c.length > 100_000) {
                yield c.subarray(0, 100_000 - n);
                throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
              }
              n += c.length;
              yield c;
            }
          })(),
        };
      },
      close: async () => {},
    };
    const records: RequestRecord[] = [];
    const http = new HttpClient(pathToFileURL(`${dir}/`), { transport: flaky, sleep: async () => {}, onRecord: (r) => records.push(r) });
    const s = sink();
    expect(await http.download('part', { purpose: 'delta-part', maxBytes: BODY.length, ...s })).toEqual({
      bytes: BODY.length,
      attempts: 2,
    });
    expect(s.body.equals(BODY)).toBe(true);
    expect(s.restarts).toBe(0);
    expect(records.map((r) => [r.status, r.range, r.error?.class ?? null])).toEqual([
      [200, null, 'reset'],
      [206, 'bytes=100000-', null],
    ]);
    expect(await http.get('missing', { purpose: 'other', maxBytes: 10, allowMissing: true })).toBeNull();
  });
});
