/** Adaptive concurrency (AIMD) and the limiter it drives: halving on overload, one decrease per surge, additive recovery. */
import { describe, expect, it } from 'vitest';
import { AdaptiveConcurrency, type ConcurrencyChange } from '../src/http/AdaptiveConcurrency.js';
import { InFlightLimiter } from '../src/http/InFlightLimiter.js';
import { rejection, scriptedHttp } from './support/scriptedHttp.js';

describe('AdaptiveConcurrency', () => {
  it('halves on overload, once per surge, down to 1; recovers by about +1 per limit of successes', () => {
    const changes: ConcurrencyChange[] = [];
    const a = new AdaptiveConcurrency(16, (c) => changes.push(c));
    const before = a.epoch;
    a.overload(before, '503');
    // Requests dispatched before that decrease do not decrease again.
    a.overload(before, '503');
    a.overload(before, 'first-byte-timeout');
    expect(a.limit).toBe(8);
    for (let i = 0; i < 5; i++) a.overload(a.epoch, '503');
    expect(a.limit).toBe(1);
    expect(changes.map((c) => c.limit)).toEqual([8, 4, 2, 1]);
    let successes = 0;
    while (a.limit < 16) {
      a.success();
      successes++;
    }
    // 1 → 16 additively: Σ_{k=1}^{15} k = 120 successes (rounding aside).
    expect(successes).toBeGreaterThan(100);
    expect(successes).toBeLessThan(140);
    expect(changes.at(-1)).toMatchObject({ limit: 16, reason: 'recovery', cause: null });
  });
});

describe('InFlightLimiter with a changing limit', () => {
  it('admits no new holder until below a lowered limit; a raised limit admits waiters at once', async () => {
    const l = new InFlightLimiter(3);
    const held = await Promise.all([0, 1, 2].map(() => l.acquire(undefined, () => new Error('x'))));
    l.limit = 1;
    let granted = 0;
    const waiting = [0, 1, 2].map((_) =>
      l
        .acquire(undefined, () => new Error('x'))
        .then((release) => {
          granted++;
          return release;
        }),
    );
    held[0]?.();
    held[1]?.();
    await new Promise((r) => setImmediate(r));
    expect(granted).toBe(0);
    held[2]?.();
    await new Promise((r) => setImmediate(r));
    expect(granted).toBe(1);
    l.limit = 3;
    await Promise.all(waiting);
    expect(l.active).toBe(3);
  });
});

describe('HttpClient adaptive concurrency', () => {
  const { serve, client } = scriptedHttp();

  it('lowers its limit after 503s, records it per attempt and reports changes', async () => {
    const { base } = await serve((_req, res, n) => {
      if (n < 6) res.writeHead(503).end();
      else res.end('ok');
    });
    const changes: ConcurrencyChange[] = [];
    const { http, records } = client(base, { maxInFlight: 8, onConcurrencyChange: (c) => changes.push(c) });
    await Promise.all([0, 1, 2].map((i) => http.get(`f${i}`, { purpose: 'file', maxBytes: 10 })));
    expect(changes[0]).toMatchObject({ previous: 8, limit: 4, reason: 'overload', cause: '503' });
    expect(records[0]?.inFlightLimit).toBe(8);
    expect(Math.min(...records.map((r) => r.inFlightLimit ?? 99))).toBeLessThan(8);
    expect(http.inFlightLimit).toBeLessThan(8);
  });

  it('stays fixed with concurrency: fixed', async () => {
    const { base } = await serve((_req, res) => res.writeHead(503).end());
    const { http, records } = client(base, { maxInFlight: 8, concurrency: 'fixed', retry: 2 });
    await rejection(http.get('f', { purpose: 'file', maxBytes: 10 }));
    expect(records.map((r) => r.inFlightLimit)).toEqual([8, 8, 8]);
    expect(http.inFlightLimit).toBe(8);
  });
});
