/**
 * The result of `checkMirrors()`: for each mirror its overall status and one result per check,
 * each with the evidence it rests on. Serialised as is for `--json` (schema
 * `flathub-fetch/mirror-check@1`, documented in SCHEMA.md beside this file).
 */
import type { GpgKeyInfo } from '../trust/GpgKeyring.js';

export const MIRROR_CHECK_SCHEMA = 'flathub-fetch/mirror-check@1';

export const CHECK_NAMES = ['freshness', 'trust', 'completeness', 'http', 'performance'] as const;
export type CheckName = (typeof CHECK_NAMES)[number];

/** `skip`: the check had nothing it could evaluate (the reason is in its summary). */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';
export type OverallStatus = 'pass' | 'warn' | 'fail';

/**
 * One observation. `unverified`: the item could not be judged by this check because the server
 * answered with something another check owns (a 5xx, an HTML page, a short body, a timeout).
 */
export interface Evidence {
  status: 'pass' | 'warn' | 'fail' | 'info' | 'unverified';
  /** What was looked at: "summary.idx", "delta part 1 of <name>", "missing-file probe", … */
  what: string;
  url: string | null;
  expected: string | null;
  got: string | null;
}

export interface CheckResult {
  name: CheckName;
  status: CheckStatus;
  /** One line: what was found. */
  summary: string;
  evidence: Evidence[];
}

export interface FreshnessFacts {
  /** True when summary / summary.idx are byte-identical to the primary's. */
  identical: boolean;
  /** Refs whose commit differs from the primary's (or that one side lacks). */
  refsDiffering: Array<{ ref: string; primary: string | null; mirror: string | null; behind: number | null }>;
  /** How much older the mirror's summary is (ostree.summary.last-modified), seconds; null when unknown. */
  lagSeconds: number | null;
}

export interface LatencySummary {
  count: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

export interface PerformanceFacts {
  /** Requests made to this server. */
  requests: number;
  /** Requests that failed for a reason no other check explains (network, timeout, a 5xx or short body that went away when repeated). */
  errors: number;
  errorRate: number;
  /** Time to the response headers over the sampled objects, ms. */
  firstByteMs: LatencySummary;
  /** Bytes per second over the sampled objects (body bytes / request time). */
  throughput: LatencySummary;
  /** Wall time of this server's checks, ms. */
  durationMs: number;
}

/**
 * What kind of server a mirror is, from how it answered: `full-mirror` serves everything itself;
 * `proxy` serves everything itself with a cache's headers (Via, X-Cache, Age, …);
 * `redirecting-cache` answers some requests (its misses) with a redirect to another origin;
 * `redirector` redirects every content request.
 */
export type MirrorKind = 'full-mirror' | 'proxy' | 'redirecting-cache' | 'redirector';

export interface MirrorReport {
  url: string;
  status: OverallStatus;
  kind: MirrorKind;
  /** Requests it answered itself, and those it redirected to another origin (with the origins). */
  served: { itself: number; redirected: number; to: string[] };
  /** The host's addresses (when several, their summaries were compared under freshness). */
  addresses: string[];
  checks: CheckResult[];
  freshness: FreshnessFacts | null;
  performance: PerformanceFacts;
  /** Redirects followed while checking. */
  redirects: number;
}

export interface MirrorCheckResult {
  schema: typeof MIRROR_CHECK_SCHEMA;
  /** pass / warn / fail: the worst mirror's. */
  status: OverallStatus;
  primary: {
    url: string;
    /** Refs the primary advertises, and those checked (`refs` glob, at most `maxRefs`). */
    refs: { total: number; selected: string[] };
    /** Where the keys came from: the `gpgKeys` option, the primary summary's `xa.gpg-keys`, or none. */
    keySource: 'option' | 'summary' | 'none';
    keys: GpgKeyInfo[];
    /** The primary's own signatures, checked like a mirror's. */
    trust: CheckResult;
    performance: PerformanceFacts;
  };
  mirrors: MirrorReport[];
  options: { refs: string[]; maxRefs: number; sample: number; seed: string; maxLag: number; connections: number };
  startedAt: string;
  durationMs: number;
}
