/**
 * `pull()`'s options: one shape, as the user writes them — HTTP options only under `http`,
 * with the pull's own defaults, validated by the HTTP client's rules; nothing misplaced or
 * unknown is silently ignored.
 */
import { expect, test } from 'vitest';
import { resolvePullOptions } from '../src/pull/PullOptions.js';

const base = { url: 'http://127.0.0.1:1/repo/', ref: 'app/x/x86_64/stable', repo: '/nonexistent/repo' };

test('the pull resolves its HTTP defaults in one place, under http', () => {
  const o = resolvePullOptions(base);
  expect(o.http).toMatchObject({ maxInFlight: 128, pipelining: 'auto', retry: Number.POSITIVE_INFINITY });
  expect(o.maxInFlight).toBe(128);
  const given = resolvePullOptions({ ...base, http: { maxInFlight: 4, pipelining: 1, connections: 2, retry: { minDelay: 1 } } });
  expect(given.http).toMatchObject({
    maxInFlight: 4,
    pipelining: 1,
    connections: 2,
    retry: { minDelay: 1, retries: Number.POSITIVE_INFINITY },
  });
  expect(given.maxInFlight).toBe(4);
  expect(resolvePullOptions({ ...base, http: { retry: 3 } }).http.retry).toBe(3);
  expect(resolvePullOptions({ ...base, http: { retry: { retries: 0 } } }).http.retry).toEqual({ retries: 0 });
});

test('HTTP options are validated by the HTTP client rules; misplaced and unknown options are refused', () => {
  expect(() => resolvePullOptions({ ...base, http: { maxInFlight: 0 } })).toThrow(
    expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', data: expect.objectContaining({ argument: 'maxInFlight' }) }),
  );
  expect(() => resolvePullOptions({ ...base, http: { stallTimeout: -1 } })).toThrow(
    expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
  );
  for (const [key, hint] of [
    ['connections', 'http.connections'],
    ['retries', 'http.retry'],
    ['stallTimeout', 'http.stallTimeout'],
  ] as const) {
    expect(() => resolvePullOptions({ ...base, [key]: 4 } as typeof base)).toThrow(hint);
  }
  expect(() => resolvePullOptions({ ...base, conections: 4 } as typeof base)).toThrow(/unknown pull option/);
});
