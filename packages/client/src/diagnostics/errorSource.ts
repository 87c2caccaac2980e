/**
 * Who produced a failed attempt: a cache/CDN in front of the origin (its own synthetic error page,
 * e.g. Varnish's "503 Backend fetch failed" after its first_byte_timeout), the origin (an error
 * status it sent, possibly passed through a cache), the network (resets, timeouts, truncation),
 * the content (checksum mismatch, undecodable or oversized body) or the client (aborted, other).
 *
 * A response is from a cache when it carries a cache's headers (Via, X-Varnish, X-Cache,
 * X-Served-By, CF-Cache-Status, Fastly-*); the cache generated the error itself when there is no
 * origin `Server` header in it — none at all, or the cache's own (`Varnish`, `cloudflare`, …):
 * caches pass the origin's `Server` through, nginx and Apache always send one.
 */
import type { RequestRecord } from '../http/RequestRecord.js';

export type ErrorSource = 'cache' | 'origin' | 'network' | 'content' | 'client';

export interface ErrorAttribution {
  source: ErrorSource;
  /** The cache that answered (from Via or Server, e.g. `varnish (Varnish/7.1)`), or null. */
  cache: string | null;
}

const CACHE_SERVERS = /varnish|cloudflare|fastly|squid|akamai|cloudfront|apachetrafficserver|\bats\b|cachefly|bunnycdn/i;
const NETWORK: ReadonlySet<string> = new Set([
  'connect-timeout',
  'first-byte-timeout',
  'body-stall',
  'reset',
  'refused',
  'dns',
  'tls',
  'truncated',
]);
const CONTENT: ReadonlySet<string> = new Set(['checksum-mismatch', 'decode', 'size-violation']);

/** The cache named by a response's headers, or null when none shows. */
export function cacheOf(headers: Readonly<Record<string, string>>): string | null {
  const via = headers.via;
  if (via !== undefined && via.trim() !== '') {
    // "1.1 varnish (Varnish/7.1)", "1.1 abc.cloudfront.net (CloudFront)": the last hop's name.
    const last = via.split(',').at(-1)?.trim() ?? via;
    return last.replace(/^(?:[A-Za-z]+\/)?\d(?:\.\d)?\s+/, '') || via;
  }
  if (headers['x-varnish'] !== undefined) return 'varnish';
  if (headers['cf-cache-status'] !== undefined) return 'cloudflare';
  if (headers['x-served-by'] !== undefined || Object.keys(headers).some((k) => k.startsWith('fastly-'))) return 'fastly';
  if (headers['x-cache'] !== undefined) return headers.server ?? 'cache';
  return null;
}

/** Attributes a failed attempt; null for an attempt without an error. */
export function errorSource(r: RequestRecord): ErrorAttribution | null {
  if (r.error === null) return null;
  const cls = r.error.class;
  const cache = r.status === null ? null : cacheOf(r.cacheHeaders);
  if (cls === 'http-status') {
    const server = r.cacheHeaders.server;
    const generated = cache !== null && (server === undefined || CACHE_SERVERS.test(server));
    return { source: generated ? 'cache' : 'origin', cache };
  }
  if (NETWORK.has(cls)) return { source: 'network', cache };
  if (CONTENT.has(cls)) return { source: 'content', cache };
  return { source: 'client', cache };
}
