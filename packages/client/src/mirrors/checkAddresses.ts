/**
 * The same host's addresses compared: when a mirror's name resolves to several addresses (front
 * servers of a CDN, a dual-stack host), each is asked for the summary files on its own
 * connection, and they must serve the same bytes. A purge or a sync that reached some front
 * servers before others shows here and nowhere else (a client gets one address or another).
 */
import { promises as dns } from 'node:dns';
import { sha256Hex } from '../formats/checksum.js';
import { describeExchange, outcome } from './Exchange.js';
import { ev } from './evidence.js';
import type { MirrorContext } from './MirrorContext.js';
import type { Evidence } from './MirrorCheckResult.js';
import { MirrorSession, type MirrorSessionOptions } from './MirrorSession.js';

/** Addresses compared per host at most. */
const MAX_ADDRESSES = 6;
const FILES = ['summary.idx', 'summary'] as const;

/** The addresses of a URL's host: the `resolve` option's, else the system resolver's; [] for file: URLs and IP literals. */
export async function addressesOf(url: string, resolve: Map<string, string[]>): Promise<string[]> {
  const u = new URL(url);
  if (u.protocol === 'file:') return [];
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  const given = resolve.get(host);
  if (given !== undefined) return given;
  try {
    const found = await dns.lookup(host, { all: true });
    return [...new Set(found.map((a) => a.address))];
  } catch {
    return [];
  }
}

export async function compareAddresses(
  ctx: MirrorContext,
  addresses: readonly string[],
  options: Omit<MirrorSessionOptions, 'address'>,
): Promise<Evidence[]> {
  if (addresses.length < 2) return [];
  const file = FILES.find((f) => {
    const e = ctx.server.view.files.get(f);
    return e !== undefined && outcome(e) === 'ok';
  });
  if (file === undefined) return [];
  const url = ctx.server.session.url;
  const results = await Promise.all(
    addresses.slice(0, MAX_ADDRESSES).map(async (address) => {
      const s = new MirrorSession(url, { ...options, address });
      try {
        return { address, e: await s.request(file, { purpose: file, maxBytes: ctx.o.maxBytes }) };
      } finally {
        await s.close();
      }
    }),
  );
  const reference = ctx.primary.view.files.get(file)?.body ?? null;
  const ok = results.filter((r) => outcome(r.e) === 'ok' && r.e.body !== null);
  const digests = new Map(ok.map((r) => [r.address, sha256Hex(r.e.body as Uint8Array)]));
  const primaryDigest = reference === null ? null : sha256Hex(reference);
  // The bytes most addresses serve (the primary's when some address serves them) are the norm.
  const counts = new Map<string, number>();
  for (const d of digests.values()) counts.set(d, (counts.get(d) ?? 0) + 1);
  const norm =
    primaryDigest !== null && counts.has(primaryDigest) ? primaryDigest : [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  const evidence: Evidence[] = [];
  for (const r of results) {
    const what = `${file} at ${r.address}`;
    const d = digests.get(r.address);
    if (d === undefined) {
      evidence.push(ev('unverified', what, r.e.url, `SHA-256 ${norm ?? '?'}`, describeExchange(r.e)));
    } else if (d === norm) {
      evidence.push(ev('pass', what, r.e.url, `SHA-256 ${norm}`, 'the same as every other address'));
    } else {
      const others = [...digests.entries()].filter(([, x]) => x === norm).map(([a]) => a);
      const stale = primaryDigest !== null && d !== primaryDigest ? ' (not the primary’s: this address is behind)' : '';
      evidence.push(
        ev(
          'fail',
          what,
          r.e.url,
          `SHA-256 ${norm}`,
          `SHA-256 ${d}, unlike ${others.join(', ')}${stale}: a purge or sync reached some of the host's addresses and not others`,
        ),
      );
    }
  }
  return evidence;
}
