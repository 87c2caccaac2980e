/**
 * Content-Encoding for large uncompressed metadata: `acceptEncoding` sends `Accept-Encoding: zstd,
 * gzip`, responses are decoded as they stream, records show wire vs decoded bytes, and
 * decompression bombs and corrupt streams are refused.
 */
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { gzipSync, zstdCompressSync as zstdCompress } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../src/errors/codes.js';
import { decodeBody } from '../src/http/decodeBody.js';
import { rejection, scriptedHttp } from './support/scriptedHttp.js';

const { serve, client } = scriptedHttp();

/** Compressible "metadata": repeated text with some noise. */
const SUMMARY = Buffer.concat(
  Array.from({ length: 2000 }, (_, i) => Buffer.from(`app/org.example.App${i}/x86_64/stable ${randomBytes(8).toString('hex')}\n`)),
);

/** Writes `body` in small pieces so the client decodes across chunk boundaries. */
function writeSlowly(res: ServerResponse, body: Buffer): void {
  for (let o = 0; o < body.length; o += 4096) res.write(body.subarray(o, o + 4096));
  res.end();
}

describe('Content-Encoding', () => {
  it('asks for zstd and gzip only when acceptEncoding is set', async () => {
    const { base, requests } = await serve((_req, res) => res.end('x'));
    const { http } = client(base);
    await http.get('summary.idx', { purpose: 'summary.idx', maxBytes: 10, acceptEncoding: true });
    await http.get('objects/aa/bb.dirtree', { purpose: 'dirtree', maxBytes: 10 });
    expect(requests[0]?.headers['accept-encoding']).toBe('zstd, gzip');
    expect(requests[1]?.headers['accept-encoding']).toBeUndefined();
  });

  it.each([
    ['gzip', (b: Buffer) => gzipSync(b)],
    ['zstd', (b: Buffer) => zstdCompress(b)],
  ] as const)('decodes %s as it streams and records wire vs body bytes', async (encoding, compress) => {
    const wire = compress(SUMMARY);
    const { base } = await serve((_req, res) => {
      res.writeHead(200, { 'content-encoding': encoding, 'content-length': wire.length, vary: 'accept-encoding' });
      writeSlowly(res, wire);
    });
    const { http, records } = client(base);
    const body = await http.get('summary', { purpose: 'summary', maxBytes: SUMMARY.length, acceptEncoding: true });
    expect(Buffer.from(body).equals(SUMMARY)).toBe(true);
    expect(records[0]).toMatchObject({
      contentEncoding: encoding,
      wireBytes: wire.length,
      bodyBytes: SUMMARY.length,
      contentLength: wire.length,
    });
    expect(records[0]?.wireBytes).toBeLessThan(SUMMARY.length / 2);
  });

  it.each([
    // Many members/frames of 8 MiB of zeros each: ~64 MiB decoded from a few hundred kB on the wire.
    ['gzip', () => Buffer.concat(Array.from({ length: 8 }, () => gzipSync(Buffer.alloc(8 << 20))))],
    ['zstd', () => Buffer.concat(Array.from({ length: 8 }, () => zstdCompress(Buffer.alloc(8 << 20))))],
  ] as const)('refuses a %s decompression bomb at maxBytes without inflating it', async (encoding, bomb) => {
    const wire = bomb();
    const { base, requests } = await serve((_req, res) => {
      res.writeHead(200, { 'content-encoding': encoding, 'content-length': wire.length });
      res.end(wire);
    });
    const { http, records } = client(base);
    const limit = 1 << 20;
    const err = await rejection(http.get('summary', { purpose: 'summary', maxBytes: limit, acceptEncoding: true }));
    expect(err.code).toBe(ErrorCodes.SIZE_LIMIT);
    expect(requests).toHaveLength(1); // final, not retried
    expect(records[0]?.error?.class).toBe('size-violation');
    // Decoding stopped within one output piece of the limit.
    expect(records[0]?.bodyBytes).toBeLessThanOrEqual(limit);
  });

  it.each([
    ['gzip', gzipSync(Buffer.alloc(64 << 20))],
    ['zstd', zstdCompress(Buffer.alloc(64 << 20))],
  ] as const)('decodes %s in bounded pieces, only as they are pulled', async (coding, wire) => {
    // The whole bomb arrives as one wire chunk; the decoder must still hand out small pieces.
    const source = (async function* () {
      yield new Uint8Array(wire);
    })();
    let decoded = 0;
    let largest = 0;
    for await (const piece of decodeBody(coding, source, 'bomb')) {
      decoded += piece.length;
      largest = Math.max(largest, piece.length);
      if (decoded >= 1 << 20) break;
    }
    expect(largest).toBeLessThanOrEqual(128 * 1024);
    expect(decoded).toBeLessThan((1 << 20) + 128 * 1024);
  });

  it('retries a corrupt compressed body (twice at most) and reports ERR_DECOMPRESS', async () => {
    const good = gzipSync(SUMMARY);
    const bad = Buffer.from(good);
    bad.fill(0x55, 100, 200);
    const { base, requests } = await serve((_req, res) => {
      res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': bad.length });
      res.end(bad);
    });
    const { http, records } = client(base);
    const err = await rejection(http.get('summary', { purpose: 'summary', maxBytes: SUMMARY.length, acceptEncoding: true }));
    expect(err.code).toBe(ErrorCodes.DECOMPRESS);
    expect(requests).toHaveLength(3);
    expect(records.map((r) => r.error?.class)).toEqual(['decode', 'decode', 'decode']);
  });

  it('refuses an unsupported Content-Encoding', async () => {
    const { base, requests } = await serve((_req, res) => {
      res.writeHead(200, { 'content-encoding': 'br' });
      res.end('whatever');
    });
    const { http } = client(base);
    const err = await rejection(http.get('summary', { purpose: 'summary', maxBytes: 100, acceptEncoding: true }));
    expect(err.code).toBe(ErrorCodes.DECOMPRESS);
    expect(err.message).toContain('"br"');
    expect(requests).toHaveLength(1);
  });

  it('starts over (no Range) when a compressed body breaks mid-way', async () => {
    const wire = gzipSync(SUMMARY);
    const { base, requests } = await serve((req, res, n) => {
      res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': wire.length, etag: '"z"' });
      if (n === 0) {
        res.write(wire.subarray(0, wire.length >> 1));
        setTimeout(() => req.socket.destroy(), 50);
      } else res.end(wire);
    });
    const { http } = client(base);
    const body = await http.get('summary', { purpose: 'summary', maxBytes: SUMMARY.length, acceptEncoding: true });
    expect(Buffer.from(body).equals(SUMMARY)).toBe(true);
    expect(requests[1]?.headers.range).toBeUndefined();
  });
});
