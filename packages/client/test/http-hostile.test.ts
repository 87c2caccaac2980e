/**
 * HttpClient against a hostile or broken server (RepoServer fault injection over a real
 * directory): redirects followed only within http(s) and never in a loop, endless and lying
 * bodies cut off at the declared limit, connections dropped before the headers, stale or wrong
 * content caught by the caller's verification. Every failure is a typed error naming the URL.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../src/errors/codes.js';
import { FlathubFetchError } from '../src/errors/FlathubFetchError.js';
import { HttpClient } from '../src/http/HttpClient.js';
import type { HttpClientOptions } from '../src/http/HttpClientOptions.js';
import type { RequestRecord } from '../src/http/RequestRecord.js';
import { type FaultPolicy, RepoServer, scriptedFaults } from '../src/testing/index.js';
import { makeTestCertificates } from '../../../test/support/tls.js';
import { toolPath } from '../../../test/support/tools.js';
import { rejection } from './support/scriptedHttp.js';

const dir = mkdtempSync(join(tmpdir(), 'ffetch-hostile-'));
const A = 'a'.repeat(1000);
const B = 'b'.repeat(1000);
beforeAll(() => {
  writeFileSync(join(dir, 'a'), A);
  writeFileSync(join(dir, 'b'), B);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(faults: FaultPolicy, options: HttpClientOptions = {}) {
  const server = await RepoServer.start(dir, { faults });
  const records: RequestRecord[] = [];
  const http = new HttpClient(server.url, { retry: { minDelay: 1, maxDelay: 5 }, onRecord: (r) => records.push(r), ...options });
  cleanups.push(
    () => server.close(),
    () => http.close(),
  );
  return { server, http, records };
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('redirects', () => {
  it('follows a redirect chain within the server; hops are recorded, not counted as retries', async () => {
    const { http, records, server } = await setup(
      scriptedFaults({ '/x': [{ kind: 'redirect', location: '/y', status: 301 }], '/y': [{ kind: 'redirect', location: 'a' }] }),
    );
    expect(text(await http.get('x', { purpose: 'other', maxBytes: 10_000 }))).toBe(A);
    expect(server.log.map((e) => [e.path, e.status])).toEqual([
      ['/x', 301],
      ['/y', 302],
      ['/a', 200],
    ]);
    expect(records.map((r) => [new URL(r.url).pathname, r.status, r.error, r.retryOf])).toEqual([
      ['/x', 301, null, null],
      ['/y', 302, null, 'redirect'],
      ['/a', 200, null, 'redirect'],
    ]);
    // Redirects spend no retry budget (it was a fixed 500; since issue #16 it refills, up to its reserve).
    expect(http.retryBudget).toBe(100);
  });

  it.each<[string, Record<string, { kind: 'redirect'; location: string }[]>, string]>([
    ['a redirect to itself', { '/x': [{ kind: 'redirect', location: '/x' }] }, 'redirect loop'],
    ['a two-hop loop', { '/x': [{ kind: 'redirect', location: '/y' }], '/y': [{ kind: 'redirect', location: '/x' }] }, 'redirect loop'],
    ['a redirect to file:', { '/x': [{ kind: 'redirect', location: 'file:///etc/passwd' }] }, 'file: is not http or https'],
    ['a redirect to ftp:', { '/x': [{ kind: 'redirect', location: 'ftp://127.0.0.1/a' }] }, 'ftp: is not http or https'],
    ['an invalid Location', { '/x': [{ kind: 'redirect', location: 'http://[::1' }] }, 'not a valid URL'],
  ])('refuses %s with ERR_REDIRECT', async (_name, script, reason) => {
    const { http, server, records } = await setup(scriptedFaults(script));
    const err = await rejection(http.get('x', { purpose: 'other', maxBytes: 10_000 }));
    expect(err.code).toBe(ErrorCodes.REDIRECT);
    // The refused hop is on record, with the reason.
    expect(records.at(-1)?.error).toMatchObject({ code: ErrorCodes.REDIRECT, message: err.message });
    expect(err.data).toMatchObject({ reason });
    expect(err.message).toContain(`${server.url}`);
    expect(err.message.split('\n')).toHaveLength(1);
  });

  it('refuses more than maxRedirects hops', async () => {
    const { http, server } = await setup((ctx) => ({ kind: 'redirect', location: `${ctx.path}x` }), { maxRedirects: 3 });
    const err = await rejection(http.get('r', { purpose: 'other', maxBytes: 10 }));
    expect(err.code).toBe(ErrorCodes.REDIRECT);
    expect(err.data).toMatchObject({ reason: 'more than 3 redirects' });
    expect(server.log).toHaveLength(4);
  });

  it.skipIf(toolPath('openssl') === null)('refuses a downgrade from https to http', async () => {
    const certs = makeTestCertificates();
    const plain = await RepoServer.start(dir);
    const tls = createHttpsServer({ key: readFileSync(certs.serverKey), cert: readFileSync(certs.serverCert) }, (_req, res) => {
      res.writeHead(302, { location: `${plain.url}a`, 'content-length': '0' }).end();
    });
    await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
    const http = new HttpClient(`https://127.0.0.1:${(tls.address() as AddressInfo).port}/`, { http: { tls: { ca: certs.caPem } } });
    cleanups.push(
      async () => certs.remove(),
      () => plain.close(),
      () => new Promise<void>((r) => tls.close(() => r())),
      () => http.close(),
    );
    tls.on('connection', (s) => cleanups.push(async () => void s.destroy()));
    const err = await rejection(http.get('x', { purpose: 'other', maxBytes: 10_000 }));
    expect(err.code).toBe(ErrorCodes.REDIRECT);
    expect(err.data).toMatchObject({ reason: 'downgrade from https to http' });
    expect(plain.log).toHaveLength(0);
  });
});

describe('hostile bodies', () => {
  it('an endless chunked body stops at maxBytes (ERR_SIZE_LIMIT, not retried)', async () => {
    const { http, server } = await setup(() => ({ kind: 'endless' }));
    const err = await rejection(http.get('a', { purpose: 'other', maxBytes: 1 << 20 }));
    expect(err.code).toBe(ErrorCodes.SIZE_LIMIT);
    // The server logs the response when the client hangs up.
    await expect.poll(() => server.log.length).toBe(1);
    expect(server.log[0]?.fault).toBe('endless');
  });

  it('an endless streamed download stops at expectedSize', async () => {
    const { http } = await setup(() => ({ kind: 'endless' }));
    let got = 0;
    const err = await rejection(
      http.download('a', {
        purpose: 'delta-part',
        maxBytes: 1 << 30,
        expectedSize: 100_000,
        onChunk: (c) => {
          got += c.length;
        },
        onRestart: () => {
          got = 0;
        },
      }),
    );
    expect(err.code).toBe(ErrorCodes.SIZE_LIMIT);
    expect(got).toBeLessThanOrEqual(100_000);
  });

  it('an absurd declared Content-Length is refused before the body is read', async () => {
    const { http, records } = await setup(() => ({ kind: 'endless', declare: 2 ** 50 }));
    const err = await rejection(http.get('a', { purpose: 'other', maxBytes: 1 << 20 }));
    expect(err.code).toBe(ErrorCodes.SIZE_LIMIT);
    expect(records[0]?.bodyBytes).toBe(0);
  });

  it('a connection dropped before the headers is retried', async () => {
    const { http, records } = await setup(scriptedFaults({ '/a': [{ kind: 'drop' }, { kind: 'drop' }] }));
    expect(text(await http.get('a', { purpose: 'other', maxBytes: 10_000 }))).toBe(A);
    expect(records.map((r) => r.error?.class ?? null)).toEqual(['reset', 'reset', null]);
  });

  it('wrong or stale content is caught by verification and re-fetched', async () => {
    const stale = new TextEncoder().encode(A.slice(0, 500));
    const { http, server, records } = await setup(
      scriptedFaults({
        '/a': [
          { kind: 'substitute', path: '/b' },
          { kind: 'substitute', body: stale },
        ],
      }),
    );
    const want = sha(new TextEncoder().encode(A));
    const verify = (b: Uint8Array) => {
      const got = sha(b);
      if (got !== want) throw new FlathubFetchError(ErrorCodes.CHECKSUM_MISMATCH, `a: ${got} != ${want}`, { expected: want, actual: got });
    };
    expect(text(await http.get('a', { purpose: 'file', maxBytes: 10_000, verify }))).toBe(A);
    expect(server.log.map((e) => e.fault)).toEqual(['substitute', 'substitute', null]);
    expect(records.map((r) => r.error?.class ?? null)).toEqual(['checksum-mismatch', 'checksum-mismatch', null]);
  });

  it('truncation: an honest short Content-Length is caught by expectedSize; a lying one is resumed with Range', async () => {
    const honest = await setup(scriptedFaults({ '/a': [{ kind: 'truncate', keep: 300, lie: false }] }));
    expect(text(await honest.http.get('a', { purpose: 'file', maxBytes: 10_000, expectedSize: 1000 }))).toBe(A);
    expect(honest.records.map((r) => r.error?.class ?? null)).toEqual(['truncated', null]);
    const lying = await setup(scriptedFaults({ '/b': [{ kind: 'truncate', keep: 300, lie: true }] }));
    expect(text(await lying.http.get('b', { purpose: 'file', maxBytes: 10_000 }))).toBe(B);
    expect(lying.records.map((r) => [r.error === null, r.range])).toEqual([
      [false, null],
      [true, 'bytes=300-'],
    ]);
  });

  it('a body that stalls mid-way past bodyStall is resumed; a slow but steady one is not an error', async () => {
    const { http, records } = await setup(
      scriptedFaults({ '/a': [{ kind: 'stall', after: 400, ms: 3000 }], '/b': [{ kind: 'slow', bytesPerSecond: 20_000 }] }),
      { timeouts: { bodyStall: 300 } },
    );
    expect(text(await http.get('a', { purpose: 'file', maxBytes: 10_000 }))).toBe(A);
    expect(records.map((r) => [r.error?.class ?? null, r.range])).toEqual([
      ['body-stall', null],
      [null, 'bytes=400-'],
    ]);
    expect(text(await http.get('b', { purpose: 'file', maxBytes: 10_000 }))).toBe(B);
    expect(records.at(-1)?.error).toBeNull();
  });

  it('the server log records only faults that took effect', async () => {
    const { http, server } = await setup(() => ({ kind: 'reset', after: 5000 }));
    expect(text(await http.get('a', { purpose: 'other', maxBytes: 10_000 }))).toBe(A);
    expect(await http.get('missing', { purpose: 'other', maxBytes: 10, allowMissing: true })).toBeNull();
    expect(server.log.map((e) => [e.path, e.fault])).toEqual([
      ['/a', null],
      ['/missing', null],
    ]);
  });
});
