/** The cache/CDN headers a record keeps (which cache answered, hit or miss, how old, validators). */
const NAMES: ReadonlySet<string> = new Set([
  'age',
  'x-cache',
  'x-cache-hits',
  'x-cache-status',
  'via',
  'x-served-by',
  'x-varnish',
  'x-timer',
  'server',
  'etag',
  'last-modified',
  'cache-control',
  'cf-cache-status',
]);

export function pickCacheHeaders(headers: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined && (NAMES.has(name) || name.startsWith('fastly-'))) out[name] = value;
  }
  return out;
}
