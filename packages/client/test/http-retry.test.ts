import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../src/errors/codes.js';
import { FlathubFetchError } from '../src/errors/FlathubFetchError.js';
import { backoffDelay } from '../src/http/backoffDelay.js';
import { HttpClient } from '../src/http/HttpClient.js';
import { rejection, scriptedHttp } from './support/scriptedHttp.js';
import { parseRetryAfter } from '../src/http/parseRetryAfter.js';
import { DEFAULT_RETRY } from '../src/http/resolveHttpOptions.js';

const { serve, client, cleanups } = scriptedHttp();

/** A server on 127.0.0.1:0 calling `handler` with the 0-based number of the request. */

/** A client whose backoff sleeps are recorded, not slept, plus its records. */

const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));

describe('HttpClient retries', () => {
  it('retries a 503 and returns the 200 body, one record per attempt', async () => {
    const { base } = await serve((_req, res, n) => {
      if (n === 0) res.writeHead(503).end('busy');
      else res.end('hello');
    });
    const { http, records, sleeps } = client(base);
    expect(text(await http.get('config', { purpose: 'config', maxBytes: 100 }))).toBe('hello');
    expect(sleeps).toEqual([DEFAULT_RETRY.minDelay]); // random() = 0: the floor
    expect(records.map((r) => [r.attempt, r.status, r.error?.class ?? null, r.willRetry, r.retryOf])).toEqual([
      [1, 503, 'http-status', true, null],
      [2, 200, null, false, '503'],
    ]);
    expect(records[0]?.retryDelay).toBe(DEFAULT_RETRY.minDelay);
    expect(records[1]?.requestId).toBe(records[0]?.id);
    // The budget refills (issue #16): one retry spent, one success deposited, capped at the reserve.
    expect(http.retryBudget).toBeCloseTo(DEFAULT_RETRY.budget.reserve, 5);
  });

  it('honours Retry-After in seconds (recorded delay, not wall time)', async () => {
    const { base } = await serve((_req, res, n) => {
      if (n === 0) res.writeHead(503, { 'retry-after': '1' }).end();
      else res.end('ok');
    });
    const { http, sleeps, records } = client(base);
    expect(text(await http.get('summary', { purpose: 'summary', maxBytes: 100 }))).toBe('ok');
    expect(sleeps).toEqual([1000]);
    expect(records[0]?.retryDelay).toBe(1000);
  });

  it('caps Retry-After at maxRetryAfter and accepts HTTP dates', async () => {
    const { base } = await serve((_req, res, n) => {
      if (n === 0) res.writeHead(429, { 'retry-after': '3600' }).end();
      else if (n === 1) res.writeHead(503, { 'retry-after': new Date(Date.now() + 120_000).toUTCString() }).end();
      else res.end('ok');
    });
    const { http, sleeps } = client(base, { retry: { maxRetryAfter: 5000 } });
    await http.get('x', { purpose: 'other', maxBytes: 10 });
    expect(sleeps).toEqual([5000, 5000]);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('Wed, 21 Oct 2015 07:27:00 GMT'))).toBe(60_000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('Wed, 21 Oct 2015 08:00:00 GMT'))).toBe(0);
    expect(parseRetryAfter('soon')).toBeNull();
    expect(parseRetryAfter('-5')).toBeNull();
  });

  it('never retries 404/403/410: null with allowMissing, ERR_NOT_FOUND without', async () => {
    const { base, requests } = await serve((req, res) => {
      res.writeHead(req.url?.endsWith('gone') ? 410 : req.url?.endsWith('forbidden') ? 403 : 404).end();
    });
    const { http, records, sleeps } = client(base);
    expect(await http.get('a', { purpose: 'other', maxBytes: 10, allowMissing: true })).toBeNull();
    const err = await rejection(http.get('b', { purpose: 'commit', maxBytes: 10 }));
    expect(err.code).toBe(ErrorCodes.NOT_FOUND);
    expect(err.message).toContain('/repo/b');
    expect((await rejection(http.get('gone', { purpose: 'other', maxBytes: 10 }))).data.status).toBe(410);
    expect((await rejection(http.get('forbidden', { purpose: 'other', maxBytes: 10 }))).data.status).toBe(403);
    expect(requests).toHaveLength(4);
    expect(sleeps).toEqual([]);
    expect(records.map((r) => [r.status, r.error?.class ?? null, r.willRetry])).toEqual([
      [404, null, false],
      [404, 'http-status', false],
      [410, 'http-status', false],
      [403, 'http-status', false],
    ]);
  });

  it('gives up after `retries` with the last status', async () => {
    const { base, requests } = await serve((_req, res) => res.writeHead(502).end());
    const { http, sleeps, records } = client(base, { retry: 2 });
    const err = await rejection(http.get('x', { purpose: 'other', maxBytes: 10 }));
    expect(err.code).toBe(ErrorCodes.HTTP_STATUS);
    expect(err.data).toMatchObject({ status: 502, attempts: 3 });
    expect(err.message).toMatch(/HTTP 502 \(after 3 attempts\)/);
    expect(requests).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
    expect(records.map((r) => r.willRetry)).toEqual([true, true, false]);
  });

  it('does not retry statuses outside the list', async () => {
    const { base, requests } = await serve((_req, res) => res.writeHead(400).end());
    const { http } = client(base);
    expect((await rejection(http.get('x', { purpose: 'other', maxBytes: 10 }))).code).toBe(ErrorCodes.HTTP_STATUS);
    expect(requests).toHaveLength(1);
  });

  // Was "spends a client-wide retry budget, after which failures are final" (a fixed 500 per
  // client): issue #16 made the budget refill and made a spent budget delay retries, not end them.
  it('paces retries beyond the budget at its refill rate instead of failing them', async () => {
    const { base, requests } = await serve((_req, res, n) => (n < 6 ? res.writeHead(500).end() : res.end('ok')));
    const { http, sleeps } = client(base, { retry: { retries: 10, budget: { reserve: 3, perSecond: 4 } } });
    expect(text(await http.get('a', { purpose: 'other', maxBytes: 10 }))).toBe('ok');
    expect(requests).toHaveLength(7);
    // random() = 0: the backoff floor (250 ms) for the three retries the reserve pays for; then
    // the budget is short by 1, 2, 3 tokens at 4 a second (the test's sleeps take no time).
    expect(sleeps.slice(0, 4)).toEqual([250, 250, 250, 250]);
    // (less the refill during the milliseconds the requests took)
    const [, , , , fifth = 0, sixth = 0] = sleeps;
    expect(fifth).toBeGreaterThan(250);
    expect(fifth).toBeLessThanOrEqual(500);
    expect(sixth).toBeGreaterThan(fifth);
    expect(sixth).toBeLessThanOrEqual(750);
    expect(http.retryBudget).toBeLessThan(0);
  });

  it('keeps a request retrying without limit when asked, until the stall window passes', async () => {
    const { base, requests } = await serve((_req, res) => res.writeHead(503).end());
    const http = new HttpClient(base, { retry: { retries: Number.POSITIVE_INFINITY, minDelay: 1, maxDelay: 5 }, stallTimeout: 300 });
    const started = performance.now();
    const err = await rejection(http.get('x', { purpose: 'commit', maxBytes: 10 }));
    const elapsed = performance.now() - started;
    await http.close();
    expect(err.code).toBe(ErrorCodes.STALLED);
    expect(err.message).toMatch(
      /^http:\/\/127\.0\.0\.1:\d+\/repo\/: stalled: nothing received or verified for 0\.\d s \(stall timeout 0\.3 s\) with 1 request pending; last failure: GET http:\/\/127\.0\.0\.1:\d+\/repo\/x: HTTP 503$/,
    );
    expect(err.data).toMatchObject({ stallTimeout: 300, pending: 1 });
    expect(requests.length).toBeGreaterThan(3);
    expect(elapsed).toBeGreaterThanOrEqual(290);
    // Once stalled, every later request fails at once with the same error.
    expect(await rejection(http.get('y', { purpose: 'commit', maxBytes: 10 }))).toBe(err);
  });

  it('retries random corruption past two bodies but gives up when the same corrupt body repeats', async () => {
    let n = 0;
    const { base, requests } = await serve((_req, res) => res.end(n++ < 4 ? `garbage ${n}` : 'good'));
    const { http } = client(base);
    const verify = (b: Uint8Array) => {
      if (text(b) !== 'good')
        throw new FlathubFetchError(ErrorCodes.CHECKSUM_MISMATCH, 'SHA-256 mismatch', { expected: 'ab', actual: 'cd' });
    };
    expect(text(await http.get('objects/ab/cd.filez', { purpose: 'file', maxBytes: 100, verify }))).toBe('good');
    expect(requests).toHaveLength(5);
  });

  it('retries a failed verification at most twice, then names the URL', async () => {
    const { base, requests } = await serve((_req, res) => res.end('corrupt'));
    const { http, records } = client(base);
    let calls = 0;
    const err = await rejection(
      http.get('objects/ab/cdef.filez', {
        purpose: 'file',
        maxBytes: 100,
        verify: () => {
          calls++;
          throw new FlathubFetchError(ErrorCodes.CHECKSUM_MISMATCH, 'SHA-256 mismatch', { expected: 'ab', actual: 'cd' });
        },
      }),
    );
    expect(calls).toBe(3);
    expect(requests).toHaveLength(3);
    expect(err.code).toBe(ErrorCodes.CHECKSUM_MISMATCH);
    expect(err.message).toContain(`${base}objects/ab/cdef.filez`);
    expect(err.data).toMatchObject({ expected: 'ab', actual: 'cd', url: `${base}objects/ab/cdef.filez`, attempts: 3 });
    expect(records.map((r) => r.error?.class)).toEqual(['checksum-mismatch', 'checksum-mismatch', 'checksum-mismatch']);
    expect(records.map((r) => r.retryOf)).toEqual([null, 'checksum-mismatch', 'checksum-mismatch']);
  });

  it('returns the good body when a retry after a bad one verifies', async () => {
    const { base } = await serve((_req, res, n) => res.end(n === 0 ? 'bad!' : 'good'));
    const { http } = client(base);
    const seen: string[] = [];
    const body = await http.get('x', {
      purpose: 'dirtree',
      maxBytes: 100,
      verify: (b) => {
        seen.push(text(b) ?? '');
        if (text(b) !== 'good') throw new FlathubFetchError(ErrorCodes.FORMAT, 'not a dirtree', { what: 'dirtree', reason: 'bad' });
      },
    });
    expect(text(body)).toBe('good');
    expect(seen).toEqual(['bad!', 'good']);
  });

  it('rethrows other verify errors at once, unchanged', async () => {
    const { base, requests } = await serve((_req, res) => res.end('x'));
    const { http } = client(base);
    const boom = new Error('disk full');
    await expect(
      http.get('x', {
        purpose: 'file',
        maxBytes: 10,
        verify: () => {
          throw boom;
        },
      }),
    ).rejects.toBe(boom);
    expect(requests).toHaveLength(1);
  });

  it('retries a connection dropped before the response', async () => {
    const { base } = await serve((req, res, n) => {
      if (n === 0) req.socket.destroy();
      else res.end('after reset');
    });
    const { http, records } = client(base);
    expect(text(await http.get('x', { purpose: 'other', maxBytes: 100 }))).toBe('after reset');
    expect(records[0]?.error?.class).toBe('reset');
    expect(records[0]?.willRetry).toBe(true);
  });

  it('retries a refused connection and reports ERR_NETWORK when it stays refused', async () => {
    const { port } = await serve(() => {});
    await cleanups.pop()?.(); // close the server: the port now refuses
    const { http, records } = client(`http://127.0.0.1:${port}/`, { retry: 1 });
    const err = await rejection(http.get('x', { purpose: 'other', maxBytes: 10 }));
    expect(err.code).toBe(ErrorCodes.NETWORK);
    expect(records.map((r) => [r.error?.class, r.error?.code])).toEqual([
      ['refused', 'ECONNREFUSED'],
      ['refused', 'ECONNREFUSED'],
    ]);
  });

  it('keeps at most maxInFlight requests in flight and queues the rest', async () => {
    let active = 0;
    let peak = 0;
    const { base } = await serve((_req, res) => {
      active++;
      peak = Math.max(peak, active);
      setTimeout(() => {
        active--;
        res.end('ok');
      }, 30);
    });
    const { http, records } = client(base, { maxInFlight: 2 });
    await Promise.all(Array.from({ length: 6 }, (_, i) => http.get(`f${i}`, { purpose: 'file', maxBytes: 10 })));
    expect(peak).toBe(2);
    expect(records).toHaveLength(6);
    // The queued ones waited for a slot before being dispatched.
    const waits = records.map((r) => (r.timings.dispatched ?? 0) - r.timings.queued);
    expect(waits.filter((w) => w > 10).length).toBeGreaterThanOrEqual(3);
  });

  it('lets hundreds of queued requests share one signal without listener warnings', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(String(w));
    process.on('warning', onWarning);
    cleanups.push(async () => {
      process.off('warning', onWarning);
    });
    const { base } = await serve((_req, res) => setTimeout(() => res.end('x'), 2));
    const { http } = client(base, { maxInFlight: 4 });
    const ac = new AbortController();
    await Promise.all(Array.from({ length: 200 }, (_, i) => http.get(`f${i}`, { purpose: 'file', maxBytes: 10, signal: ac.signal })));
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings).toEqual([]);
  });

  it('ends with ERR_ABORTED promptly when aborted during a backoff', async () => {
    const { base } = await serve((_req, res) => res.writeHead(503).end());
    const ac = new AbortController();
    // Real sleep, one minute of backoff.
    const http = new HttpClient(base, {
      retry: { minDelay: 60_000, maxDelay: 60_000 },
      onRecord: (r) => {
        if (r.willRetry) setTimeout(() => ac.abort(), 20);
      },
    });
    cleanups.push(() => http.close());
    const started = performance.now();
    const err = await rejection(http.get('x', { purpose: 'other', maxBytes: 10, signal: ac.signal }));
    expect(err.code).toBe(ErrorCodes.ABORTED);
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('ends with ERR_ABORTED when aborted while queued or mid-request', async () => {
    const { base } = await serve(() => {}); // never answers
    const { http, records } = client(base, { maxInFlight: 1 });
    const first = new AbortController();
    const second = new AbortController();
    const p1 = http.get('a', { purpose: 'other', maxBytes: 10, signal: first.signal });
    const p2 = http.get('b', { purpose: 'other', maxBytes: 10, signal: second.signal });
    setTimeout(() => second.abort(), 20);
    setTimeout(() => first.abort(), 40);
    expect((await rejection(p2)).code).toBe(ErrorCodes.ABORTED);
    expect((await rejection(p1)).code).toBe(ErrorCodes.ABORTED);
    expect(records.map((r) => [r.url.slice(-1), r.error?.class, r.willRetry])).toEqual([
      ['b', 'aborted', false],
      ['a', 'aborted', false],
    ]);
    expect(records[0]?.timings.dispatched).toBeNull();
  });
});

describe('backoffDelay', () => {
  const retry = { ...DEFAULT_RETRY };
  it('spans [minDelay, min(maxDelay, minDelay·factor^n)]', () => {
    expect(backoffDelay(1, retry, () => 0)).toBe(250);
    expect(backoffDelay(1, retry, () => 0.999999)).toBe(500);
    expect(backoffDelay(3, retry, () => 0.999999)).toBe(2000);
    expect(backoffDelay(3, retry, () => 0.5)).toBe(1125);
    expect(backoffDelay(20, retry, () => 0.999999)).toBe(30_000);
    for (let n = 1; n < 12; n++) {
      const d = backoffDelay(n, retry, Math.random);
      expect(d).toBeGreaterThanOrEqual(250);
      expect(d).toBeLessThanOrEqual(Math.min(30_000, 250 * 2 ** n));
    }
  });
});
