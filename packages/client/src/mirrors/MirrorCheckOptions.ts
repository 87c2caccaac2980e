/**
 * Options of `checkMirrors()`, each with its default, resolved in one place.
 */
import { isIP } from 'node:net';
import { invalidArgument as invalid } from '../errors/invalidArgument.js';
import { DEFAULT_USER_AGENT } from '../http/resolveHttpOptions.js';
import type { GpgKeyInput } from '../trust/GpgKeyring.js';
import type { MirrorCheckEvent } from './MirrorCheckEvent.js';

export interface PerformanceThresholds {
  /** Warn when a mirror's median first byte is this many times the primary's … @default 3 */
  warnRatio?: number;
  /** … and at least this many ms slower. @default 100 */
  warnMarginMs?: number;
  /** Fail when it is this many times the primary's … @default 8 */
  failRatio?: number;
  /** … and at least this many ms slower. @default 250 */
  failMarginMs?: number;
  /** Warn above this share of unexplained errors (0 warns on any). @default 0 */
  warnErrorRate?: number;
  /** Fail at or above this share of unexplained errors. @default 0.2 */
  failErrorRate?: number;
}

export interface MirrorCheckOptions {
  /** The reference repository URL (http, https or file). */
  primary: string;
  /** Mirror URLs to check against it. */
  mirrors: string[];
  /** Shell-style globs (`*`, `?`) of refs whose content is checked. @default ['*'] */
  refs?: string | string[];
  /** At most this many matching refs are checked (a deterministic sample when more match). @default 3 */
  maxRefs?: number;
  /** Objects downloaded and verified per server (the same set on every mirror at the same commits). @default 20 */
  sample?: number;
  /** Seed of the deterministic ref and object samples. @default 'flathub-fetch' */
  seed?: string;
  /** Public keys signatures are verified against (binary, armored, or base64). @default the primary summary's xa.gpg-keys */
  gpgKeys?: GpgKeyInput[];
  /** Fall back to the primary summary's `xa.gpg-keys` when no key is given. @default true */
  summaryKeys?: boolean;
  /** Subsummaries read from a Flatpak summary.idx (their keys, e.g. "x86_64"). @default every one the primary's index lists */
  arches?: string[];
  /**
   * How long a mirror may trail the primary, seconds. While the primary's summary (its
   * `ostree.summary.last-modified`) is younger than this, refs the mirror has not caught up on
   * yet — at an older commit of the ref's history, missing, or still listed — are a warning, not a
   * failure (a mirror syncing every hour is not broken for 59 minutes). A ref at a commit that is
   * not in the primary's recent history still fails. 0 allows no lag. @default 0
   */
  maxLag?: number;
  /** Connections (and requests in flight) per server. @default 4 */
  connections?: number;
  /** Per-request timeouts, ms. @default connect 10_000, firstByte 20_000, bodyStall 20_000 */
  timeouts?: { connect?: number; firstByte?: number; bodyStall?: number };
  /** Pause before repeating a 5xx or a short body to tell a cached error from a transient one, ms. @default 250 */
  repeatDelayMs?: number;
  /** Largest file downloaded (summaries, superblocks, sampled objects), bytes. @default 64 MiB */
  maxBytes?: number;
  /**
   * Large files read to the end per server — the largest delta parts and fallback objects of the
   * checked deltas — each held to the size and checksum its superblock declares: a cache that cuts large files while HEAD reports the
   * full length shows only in a body. 0: they are only checked by HEAD. @default 2
   */
  readParts?: number;
  /**
   * Addresses to use for a host instead of DNS (host → addresses, like curl's --resolve). A
   * mirror host with several addresses — from here or from DNS — has each address's summary
   * compared (a purge or sync that reached some front servers before others). @default {}
   */
  resolve?: Record<string, string[]>;
  performance?: PerformanceThresholds;
  userAgent?: string;
  /**
   * Redirects are followed only to URLs this accepts; another is a refused redirect (the
   * exchange fails as `redirect`), so a mirror cannot send the check to a host it may not reach
   * (the exporter's allow-list). @default every URL
   */
  allowUrl?: (url: string) => boolean;
  onEvent?: (event: MirrorCheckEvent) => void;
  signal?: AbortSignal | undefined;
}

export interface ResolvedMirrorCheckOptions {
  primary: string;
  mirrors: string[];
  refs: string[];
  maxRefs: number;
  sample: number;
  seed: string;
  gpgKeys: GpgKeyInput[];
  summaryKeys: boolean;
  arches: string[] | null;
  maxLag: number;
  connections: number;
  timeouts: { connect: number; firstByte: number; bodyStall: number };
  repeatDelayMs: number;
  maxBytes: number;
  readParts: number;
  resolve: Map<string, string[]>;
  performance: Required<PerformanceThresholds>;
  userAgent: string;
  allowUrl: ((url: string) => boolean) | null;
  signal: AbortSignal | undefined;
  onEvent: (event: MirrorCheckEvent) => void;
}

export function resolveMirrorCheckOptions(o: MirrorCheckOptions): ResolvedMirrorCheckOptions {
  const url = (name: string, v: unknown): string => {
    if (typeof v !== 'string' || !/^(https?|file):\/\//i.test(v)) throw invalid(name, v, 'expected an http(s) or file URL');
    return v.endsWith('/') ? v : `${v}/`;
  };
  const count = (name: string, v: number | undefined, d: number, min: number): number => {
    const x = v ?? d;
    if (!Number.isInteger(x) || x < min) throw invalid(name, v, `expected an integer >= ${min}`);
    return x;
  };
  if (!Array.isArray(o.mirrors) || o.mirrors.length === 0) throw invalid('mirrors', o.mirrors, 'at least one mirror URL');
  const refs = o.refs === undefined ? ['*'] : typeof o.refs === 'string' ? [o.refs] : o.refs;
  const t = o.timeouts ?? {};
  const p = o.performance ?? {};
  return {
    primary: url('primary', o.primary),
    mirrors: o.mirrors.map((m, i) => url(`mirrors[${i}]`, m)),
    refs,
    maxRefs: count('maxRefs', o.maxRefs, 3, 1),
    sample: count('sample', o.sample, 20, 0),
    seed: o.seed ?? 'flathub-fetch',
    gpgKeys: o.gpgKeys ?? [],
    summaryKeys: o.summaryKeys ?? true,
    arches: o.arches ?? null,
    maxLag: count('maxLag', o.maxLag, 0, 0),
    connections: count('connections', o.connections, 4, 1),
    timeouts: {
      connect: count('timeouts.connect', t.connect, 10_000, 0),
      firstByte: count('timeouts.firstByte', t.firstByte, 20_000, 0),
      bodyStall: count('timeouts.bodyStall', t.bodyStall, 20_000, 0),
    },
    repeatDelayMs: count('repeatDelayMs', o.repeatDelayMs, 250, 0),
    maxBytes: count('maxBytes', o.maxBytes, 64 * 1024 * 1024, 1),
    readParts: count('readParts', o.readParts, 2, 0),
    resolve: resolveMap(o.resolve),
    performance: {
      warnRatio: p.warnRatio ?? 3,
      warnMarginMs: p.warnMarginMs ?? 100,
      failRatio: p.failRatio ?? 8,
      failMarginMs: p.failMarginMs ?? 250,
      warnErrorRate: p.warnErrorRate ?? 0,
      failErrorRate: p.failErrorRate ?? 0.2,
    },
    userAgent: o.userAgent ?? DEFAULT_USER_AGENT,
    allowUrl: o.allowUrl ?? null,
    signal: o.signal,
    onEvent: o.onEvent ?? (() => {}),
  };
}

function resolveMap(resolve: Record<string, string[]> | undefined): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [host, addresses] of Object.entries(resolve ?? {})) {
    if (!Array.isArray(addresses) || addresses.length === 0 || addresses.some((a) => isIP(a) === 0))
      throw invalid(`resolve.${host}`, addresses, 'expected a list of IPv4/IPv6 addresses');
    out.set(host.toLowerCase(), [...addresses]);
  }
  return out;
}
