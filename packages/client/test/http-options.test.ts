/** HttpClient options: documented defaults resolved in one place, shorthand, and rejected values. */
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../src/errors/codes.js';
import { isFlathubFetchError } from '../src/errors/FlathubFetchError.js';
import { HttpClient } from '../src/http/HttpClient.js';
import type { HttpClientOptions } from '../src/http/HttpClientOptions.js';
import { resolveHttpOptions } from '../src/http/resolveHttpOptions.js';

describe('resolveHttpOptions', () => {
  it('applies the documented defaults', () => {
    const o = resolveHttpOptions();
    expect(o).toMatchObject({
      transport: null,
      http: {},
      connections: 8,
      pipelining: 1,
      maxInFlight: 16,
      allowHttp2: true,
      retry: {
        retries: 5,
        minDelay: 250,
        maxDelay: 30_000,
        factor: 2,
        statuses: [408, 429, 500, 502, 503, 504],
        maxRetryAfter: 60_000,
        // Was a fixed 500 retries per client (issue #16): now a budget that refills.
        budget: { ratio: 1, perSecond: 10, reserve: 100 },
      },
      timeouts: { connect: 15_000, firstByte: 30_000, bodyStall: 30_000 },
      stallTimeout: 120_000,
      userAgent: 'flathub-fetch/0.1.0',
      onRecord: null,
    });
    expect(o.random).toBe(Math.random);
    expect(typeof o.sleep).toBe('function');
  });

  it('takes a number as the retries shorthand and merges partial objects', () => {
    expect(resolveHttpOptions({ retry: 2 }).retry).toMatchObject({ retries: 2, minDelay: 250, budget: { ratio: 1, reserve: 100 } });
    expect(resolveHttpOptions({ retry: { budget: { reserve: 7 } }, timeouts: { connect: 1000 } })).toMatchObject({
      retry: { retries: 5, budget: { ratio: 1, perSecond: 10, reserve: 7 } },
      timeouts: { connect: 1000, firstByte: 30_000, bodyStall: 30_000 },
    });
  });

  it.each<[string, HttpClientOptions]>([
    ['connections', { connections: 0 }],
    ['pipelining', { pipelining: 1.5 }],
    ['maxInFlight', { maxInFlight: -1 }],
    ['retry.retries', { retry: -1 }],
    ['retry.factor', { retry: { factor: 0.5 } }],
    ['retry.maxDelay', { retry: { minDelay: 1000, maxDelay: 10 } }],
    ['retry.statuses', { retry: { statuses: [503, 404] } }],
    ['retry.budget', { retry: { budget: 500 as never } }],
    ['retry.budget.perSecond', { retry: { budget: { perSecond: 0 } } }],
    ['retry.budget.ratio', { retry: { budget: { ratio: -1 } } }],
    ['stallTimeout', { stallTimeout: -1 }],
    ['timeouts.firstByte', { timeouts: { firstByte: Number.NaN } }],
    ['timeouts.connect', { timeouts: { connect: 2 ** 40 } }],
    ['userAgent', { userAgent: 'a\r\nx-injected: 1' }],
    ['sleep', { sleep: 5 as unknown as HttpClientOptions['sleep'] }],
    ['colour', { colour: 'blue' } as unknown as HttpClientOptions],
  ])('rejects a bad %s with ERR_INVALID_ARGUMENT', (argument, options) => {
    let caught: unknown;
    try {
      resolveHttpOptions(options);
    } catch (err) {
      caught = err;
    }
    expect(isFlathubFetchError(caught, ErrorCodes.INVALID_ARGUMENT)).toBe(true);
    expect((caught as { data: { argument: string } }).data.argument).toBe(argument);
  });

  it('is what the client uses, at construction', () => {
    expect(() => new HttpClient('http://127.0.0.1:1/', { maxInFlight: 0 })).toThrow(/maxInFlight/);
    expect(() => new HttpClient('ftp://example.org/')).toThrow(/unsupported URL scheme/);
    const http = new HttpClient('http://127.0.0.1:1/repo', { retry: 3 });
    expect(http.options.retry.retries).toBe(3);
    expect(http.resolve('objects/ab/cd.commit').href).toBe('http://127.0.0.1:1/repo/objects/ab/cd.commit');
    return http.close();
  });
});
