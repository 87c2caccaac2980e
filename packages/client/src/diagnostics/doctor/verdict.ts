/**
 * The doctor's verdict: what the measurements say, in sentences a user can paste. Each finding
 * rests on figures in the result (requests, per-address latencies, error attribution), so the
 * Markdown block and the JSON say the same thing.
 */
import type { AddressProbe, DoctorFinding, DoctorResult } from './DoctorResult.js';

/** One family is "slower" when its median first byte is this many times the other's … */
const SLOWER_RATIO = 1.5;
/** … and at least this many ms more (loopback-fast links differ by fractions of a ms). */
const SLOWER_MARGIN_MS = 40;
/** A cache's own 5xx is its first-byte timeout when it came this many times later than good answers … */
const TIMEOUT_RATIO = 3;
/** … and at least this much later, ms. */
const TIMEOUT_MARGIN_MS = 200;
const SKEW_WARN_SECONDS = 60;
const DNS_SLOW_MS = 500;
/** Headers only proxies add (a CDN adds Via too, so Via alone is not one). */
const PROXY_HEADERS = ['x-squid-error', 'proxy-connection', 'x-cache-lookup'];
const PROXY_PRODUCTS = /squid|bluecoat|zscaler|fortigate|fortiweb|mcafee|websense|netsweeper|sophos|ironport|proxy/i;

export function doctorFindings(r: DoctorResult): DoctorFinding[] {
  const out: DoctorFinding[] = [];
  const add = (kind: DoctorFinding['kind'], severity: DoctorFinding['severity'], text: string) => out.push({ kind, severity, text });

  for (const d of r.dns) {
    if (d.source === 'dns' && d.error !== null && !r.dns.some((x) => x.family === d.family && x.addresses.length > 0)) {
      if (d.family === 4 || r.dns.every((x) => x.addresses.length === 0))
        add('dns-failed', 'problem', `DNS gives no IPv${d.family} address for ${r.host} (${d.error})`);
    } else if (d.ms !== null && d.ms > DNS_SLOW_MS && d.addresses.length > 0) {
      add(
        'dns-slow',
        'warning',
        `your DNS resolver took ${fmtMs(d.ms)} to answer the ${d.family === 4 ? 'A' : 'AAAA'} query for ${r.host}`,
      );
    }
  }

  families(r, add);

  // Addresses of one family that differ (another front server, another route).
  for (const f of [4, 6] as const) {
    const ok = r.addresses.filter((a) => a.family === f && a.unreachable === null && a.firstByte.median !== null);
    if (ok.length < 2) continue;
    const sorted = [...ok].sort((a, b) => (a.firstByte.median as number) - (b.firstByte.median as number));
    const fast = sorted[0] as AddressProbe;
    const slow = sorted.at(-1) as AddressProbe;
    if (slower(slow, fast))
      add('address-slower', 'warning', `${slow.address} answers ${ratio(slow, fast)} slower than ${fast.address} (${figures(slow, fast)})`);
  }

  errors(r, add);

  const proxy = proxyReasons(r);
  if (proxy.length > 0) add('transparent-proxy', 'warning', `a proxy on your network seems to answer for ${r.host}: ${proxy.join('; ')}`);

  if (r.clockSkewSeconds !== null && Math.abs(r.clockSkewSeconds) >= SKEW_WARN_SECONDS) {
    const behind = r.clockSkewSeconds > 0;
    add(
      'clock-skew',
      'warning',
      `your clock is ${fmtDuration(Math.abs(r.clockSkewSeconds))} ${behind ? 'behind' : 'ahead of'} the server's (its Date header): TLS certificates and signatures may be judged not yet valid or expired`,
    );
  }

  for (const c of r.ranges) {
    if (c.result === 'ignored')
      add('range-broken', 'warning', `Range is ignored for the ${c.what.split(' ')[0]} (${c.detail}): an interrupted download starts over`);
    else if (c.result === 'broken') add('range-broken', 'problem', `Range answered wrongly for ${c.what}: ${c.detail}`);
  }

  const parts = r.requests.filter((q) => q.what === 'delta part' && q.bytesPerSecond !== null);
  const bps = parts[0]?.bytesPerSecond ?? null;
  if (bps !== null && bps < 1_000_000)
    add('slow-throughput', 'info', `a delta part downloaded at ${fmtRate(bps)} (${fmtBytes(parts[0]?.bytes ?? 0)})`);

  if (!out.some((f) => f.severity !== 'info')) {
    const best = r.addresses
      .filter((a) => a.firstByte.median !== null)
      .sort((a, b) => (a.firstByte.median as number) - (b.firstByte.median as number))[0];
    add(
      'healthy',
      'info',
      `nothing wrong found: ${r.requests.length} requests, no errors${best === undefined ? '' : `, first byte ${fmtMs(best.firstByte.median as number)} over ${best.address}`}${bps !== null ? `, ${fmtRate(bps)}` : ''}`,
    );
  }
  return out;
}

type Add = (kind: DoctorFinding['kind'], severity: DoctorFinding['severity'], text: string) => void;

/** IPv4 against IPv6: one unreachable, or one clearly slower. */
function families(r: DoctorResult, add: Add): void {
  const best = (f: 4 | 6) =>
    r.addresses
      .filter((a) => a.family === f && a.unreachable === null && a.firstByte.median !== null)
      .sort((a, b) => (a.firstByte.median as number) - (b.firstByte.median as number))[0];
  const v4 = best(4);
  const v6 = best(6);
  if (r.addresses.length > 0 && r.addresses.every((a) => a.unreachable !== null)) {
    const a = r.addresses[0] as AddressProbe;
    add('unreachable', 'problem', `no address of ${r.host} answers (${r.addresses.map((x) => x.address).join(', ')}): ${a.unreachable}`);
    return;
  }
  for (const f of [4, 6] as const) {
    const all = r.addresses.filter((a) => a.family === f);
    const other = f === 4 ? v6 : v4;
    if (all.length > 0 && all.every((a) => a.unreachable !== null) && other !== undefined)
      add(
        'family-unreachable',
        'problem',
        `IPv${f} does not work here (${all[0]?.address}: ${all[0]?.unreachable}) while IPv${f === 4 ? 6 : 4} does: clients that try IPv${f} first wait for it to fail`,
      );
  }
  if (v4 === undefined || v6 === undefined) return;
  if (slower(v6, v4)) add('ipv6-slower', 'problem', `your IPv6 route is ${ratio(v6, v4)} slower than IPv4 (${figures(v6, v4)})`);
  else if (slower(v4, v6)) add('ipv4-slower', 'problem', `your IPv4 route is ${ratio(v4, v6)} slower than IPv6 (${figures(v4, v6)})`);
}

/** Failed requests, by who produced them. */
function errors(r: DoctorResult, add: Add): void {
  const failed = r.requests.filter((q) => q.error !== null);
  const good = r.requests.filter((q) => q.error === null && q.status !== null && q.status < 400 && q.firstByteMs !== null);
  const goodWait = median(good.map((q) => q.firstByteMs as number));
  const byCache = failed.filter((q) => q.error?.source === 'cache' && q.status !== null && q.status >= 500);
  if (byCache.length > 0) {
    const cache = byCache[0]?.error?.cache ?? 'the cache';
    const statuses = [...new Set(byCache.map((q) => q.status))].join('/');
    const waits = byCache.map((q) => q.firstByteMs ?? 0);
    const minWait = Math.min(...waits);
    const timeout = goodWait !== null && minWait >= goodWait * TIMEOUT_RATIO && minWait >= goodWait + TIMEOUT_MARGIN_MS;
    const what = `${byCache.length} of ${r.requests.length} requests`;
    add(
      timeout ? 'cdn-first-byte-timeout' : 'cache-errors',
      'problem',
      timeout
        ? `${statuses}s come from the CDN's first-byte timeout, not from you: ${what} got a ${statuses} made by the CDN/cache itself (${cache}) after it waited ${fmtMs(median(waits) as number)} for the origin (good answers take ${fmtMs(goodWait as number)})`
        : `${statuses}s come from the CDN/cache (${cache}), not from the origin or your connection: ${what} got an error page it made itself`,
    );
  }
  const byOrigin = failed.filter((q) => q.error?.source === 'origin');
  if (byOrigin.length > 0) {
    const statuses = [...new Set(byOrigin.map((q) => q.status))].join('/');
    const via = byOrigin[0]?.error?.cache;
    add(
      'origin-errors',
      'problem',
      `${statuses}s come from the origin server (${byOrigin[0]?.headers.server ?? 'its Server header'})${via ? `, passed through ${via}` : ''}: ${byOrigin.length} of ${r.requests.length} requests`,
    );
  }
  const net = failed.filter((q) => q.error?.source === 'network' && q.error.class !== 'truncated');
  const reachable = new Set(r.addresses.filter((a) => a.unreachable === null).map((a) => a.address));
  const stray = net.filter((q) => q.address === null || reachable.has(q.address));
  if (stray.length > 0)
    add(
      'network-errors',
      'problem',
      `${stray.length} requests failed on the way (${[...new Set(stray.map((q) => q.error?.class))].join(', ')}): ${stray[0]?.error?.message}`,
    );
  const short = failed.filter((q) => q.error?.class === 'truncated');
  if (short.length > 0)
    add(
      'short-body',
      'problem',
      `${short.length} bodies ended before their Content-Length (${short[0]?.url}: ${short[0]?.error?.message}): a cache or proxy cuts large files`,
    );
}

function proxyReasons(r: DoctorResult): string[] {
  const reasons: string[] = [];
  const headers = r.requests.map((q) => q.headers);
  const marker = PROXY_HEADERS.find((h) => headers.some((x) => x[h] !== undefined));
  if (marker !== undefined) reasons.push(`responses carry ${marker}, a header only proxies add`);
  const via = r.answeredBy.via.find((v) => PROXY_PRODUCTS.test(v));
  if (via !== undefined) reasons.push(`Via names a proxy (${via})`);
  const server = r.answeredBy.server.find((v) => PROXY_PRODUCTS.test(v));
  if (server !== undefined) reasons.push(`Server is a proxy (${server})`);
  const untrusted = r.addresses.find((a) => a.tls !== null && !a.tls.authorized && a.tls.issuer !== null);
  if (untrusted?.tls != null)
    reasons.push(
      `the certificate of ${untrusted.address} is issued by "${untrusted.tls.issuer}" and does not verify (${untrusted.tls.error}): something intercepts TLS`,
    );
  const issuers = new Set(r.addresses.map((a) => a.tls?.issuer).filter((x) => x != null));
  if (issuers.size > 1) reasons.push(`addresses present certificates from different issuers (${[...issuers].join(' / ')})`);
  const tlsButH1 = r.addresses.find((a) => a.tls?.alpn === 'h2' && a.httpVersion === '1.1');
  if (tlsButH1 !== undefined) reasons.push(`TLS offers HTTP/2 on ${tlsButH1.address} but requests were answered over HTTP/1.1`);
  return reasons;
}

function slower(slow: AddressProbe, fast: AddressProbe): boolean {
  const s = slow.firstByte.median as number;
  const f = fast.firstByte.median as number;
  return s >= f * SLOWER_RATIO && s - f >= SLOWER_MARGIN_MS;
}

function ratio(slow: AddressProbe, fast: AddressProbe): string {
  const x = (slow.firstByte.median as number) / Math.max(0.1, fast.firstByte.median as number);
  return `${x >= 3 ? Math.round(x) : x.toFixed(1)}×`;
}

function figures(slow: AddressProbe, fast: AddressProbe): string {
  return `first byte ${fmtMs(slow.firstByte.median as number)} over ${slow.address} against ${fmtMs(fast.firstByte.median as number)} over ${fast.address}, median of ${slow.firstByte.count} and ${fast.firstByte.count} requests`;
}

function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

export function fmtMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

export function fmtRate(bps: number): string {
  return bps >= 1e6 ? `${(bps / 1e6).toFixed(1)} MB/s` : `${Math.round(bps / 1e3)} kB/s`;
}

export function fmtBytes(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} kB` : `${n} B`;
}

function fmtDuration(s: number): string {
  return s >= 3600 ? `${(s / 3600).toFixed(1)} hours` : s >= 120 ? `${Math.round(s / 60)} minutes` : `${Math.round(s)} seconds`;
}
