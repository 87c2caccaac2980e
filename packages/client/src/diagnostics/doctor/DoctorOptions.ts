/** Options of `diagnoseConnection()`, each with its default, resolved in one place. */
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { invalidArgument as invalid } from '../../errors/invalidArgument.js';
import { DEFAULT_USER_AGENT } from '../../http/resolveHttpOptions.js';
import { hostArch } from '../../remote/hostArch.js';

export type DoctorEvent =
  | { type: 'dns'; host: string; addresses: string[] }
  | { type: 'address'; address: string; phase: 'start' | 'done' }
  | { type: 'sample'; ref: string; objects: number }
  | { type: 'request'; what: string; url: string; status: number | null; ms: number | null };

export interface DiagnoseConnectionOptions {
  /** Repository URL (http or https). */
  url: string;
  /**
   * Addresses to use for a host instead of asking DNS, like curl's `--resolve`: host → addresses
   * (IPv4 and/or IPv6). The DNS answers are then reported as `override`. @default {}
   */
  resolve?: Record<string, string[]>;
  /** Objects of the sampled ref downloaded (spread over its largest and smallest). @default 8 */
  objects?: number;
  /** Subsummary of a Flatpak summary.idx whose refs are sampled. @default this machine's architecture */
  arch?: string;
  /** Ref whose objects and delta part are sampled. @default the first app ref, else the first ref */
  ref?: string;
  /** Requests repeated per address to compare first-byte times. @default 4 */
  repeats?: number;
  /** TLS options (e.g. `ca` for a private CA). @default {} */
  tls?: ConnectionOptions;
  /** Per-request timeouts, ms. @default connect 10_000, firstByte 20_000, bodyStall 20_000 */
  timeouts?: { connect?: number; firstByte?: number; bodyStall?: number };
  /** Largest body read (delta parts, objects), bytes. @default 64 MiB */
  maxBytes?: number;
  userAgent?: string;
  onEvent?: (event: DoctorEvent) => void;
  signal?: AbortSignal | undefined;
}

export interface ResolvedDoctorOptions {
  url: URL;
  host: string;
  resolve: Map<string, string[]>;
  objects: number;
  arch: string;
  ref: string | null;
  repeats: number;
  tls: ConnectionOptions;
  timeouts: { connect: number; firstByte: number; bodyStall: number };
  maxBytes: number;
  userAgent: string;
  onEvent: (event: DoctorEvent) => void;
  signal: AbortSignal | undefined;
}

export function resolveDoctorOptions(o: DiagnoseConnectionOptions): ResolvedDoctorOptions {
  let url: URL;
  try {
    url = new URL(o.url);
  } catch {
    throw invalid('url', o.url, 'not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid('url', o.url, 'expected an http or https URL');
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  const count = (name: string, v: number | undefined, d: number, min: number): number => {
    const x = v ?? d;
    if (!Number.isInteger(x) || x < min) throw invalid(name, v, `expected an integer >= ${min}`);
    return x;
  };
  const resolve = new Map<string, string[]>();
  for (const [host, addresses] of Object.entries(o.resolve ?? {})) {
    if (!Array.isArray(addresses) || addresses.length === 0) throw invalid(`resolve.${host}`, addresses, 'expected a list of addresses');
    for (const a of addresses) if (isIP(a) === 0) throw invalid(`resolve.${host}`, a, 'not an IPv4 or IPv6 address');
    resolve.set(host.toLowerCase(), [...addresses]);
  }
  const t = o.timeouts ?? {};
  return {
    url,
    host: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
    resolve,
    objects: count('objects', o.objects, 8, 0),
    arch: o.arch ?? hostArch(),
    ref: o.ref ?? null,
    repeats: count('repeats', o.repeats, 4, 1),
    tls: o.tls ?? {},
    timeouts: {
      connect: count('timeouts.connect', t.connect, 10_000, 0),
      firstByte: count('timeouts.firstByte', t.firstByte, 20_000, 0),
      bodyStall: count('timeouts.bodyStall', t.bodyStall, 20_000, 0),
    },
    maxBytes: count('maxBytes', o.maxBytes, 64 * 1024 * 1024, 1),
    userAgent: o.userAgent ?? DEFAULT_USER_AGENT,
    onEvent: o.onEvent ?? (() => {}),
    signal: o.signal,
  };
}
