/** errorSource(): who produced a failed attempt, from the cache headers a record keeps. */
import { describe, expect, it } from 'vitest';
import { cacheOf, errorSource } from '../src/diagnostics/errorSource.js';
import type { RequestRecord } from '../src/http/RequestRecord.js';

const rec = (status: number | null, cls: NonNullable<RequestRecord['error']>['class'], cacheHeaders: Record<string, string>) =>
  ({ status, error: { class: cls, message: '', code: null }, cacheHeaders }) as unknown as RequestRecord;

describe('errorSource', () => {
  it.each<[string, number | null, NonNullable<RequestRecord['error']>['class'], Record<string, string>, string, string | null]>([
    // Varnish 7.1's own "503 Backend fetch failed" (headers as varnishd sends them).
    [
      'Varnish synthetic 503',
      503,
      'http-status',
      { server: 'Varnish', via: '1.1 varnish (Varnish/7.1)', 'x-varnish': '32770' },
      'cache',
      'varnish (Varnish/7.1)',
    ],
    // Fastly's first-byte-timeout page: no origin Server header, X-Served-By.
    ['Fastly synthetic 503', 503, 'http-status', { 'x-served-by': 'cache-fra-123', 'x-cache': 'MISS' }, 'cache', 'fastly'],
    ['Cloudflare 502', 502, 'http-status', { server: 'cloudflare', 'cf-cache-status': 'DYNAMIC' }, 'cache', 'cloudflare'],
    [
      'origin 503 through Varnish',
      503,
      'http-status',
      { server: 'nginx/1.22.1', via: '1.1 varnish (Varnish/7.1)', 'x-varnish': '5' },
      'origin',
      'varnish (Varnish/7.1)',
    ],
    ['origin 503, no cache', 503, 'http-status', { server: 'nginx' }, 'origin', null],
    ['reset', null, 'reset', {}, 'network', null],
    ['first-byte timeout', null, 'first-byte-timeout', {}, 'network', null],
    ['checksum mismatch from a cache', 200, 'checksum-mismatch', { via: '1.1 varnish' }, 'content', 'varnish'],
    ['aborted', null, 'aborted', {}, 'client', null],
  ])('%s', (_name, status, cls, headers, source, cache) => {
    expect(errorSource(rec(status, cls, headers))).toEqual({ source, cache });
  });

  it('an attempt without an error has no source; Via names the last hop', () => {
    expect(errorSource({ ...rec(200, 'other', {}), error: null })).toBeNull();
    expect(cacheOf({ via: '1.1 origin-shield, 1.1 edge (Varnish/6.0)' })).toBe('edge (Varnish/6.0)');
    expect(cacheOf({ via: 'HTTP/1.1 squid' })).toBe('squid');
  });
});
