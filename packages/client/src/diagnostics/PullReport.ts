/**
 * The diagnostics of one pull, built by `buildReport()` from a `PullResult`: what was requested,
 * what came back, what was wasted, how long it took. Plain JSON data (no classes, no bigint), so
 * `toJSON()` is a shallow wrap. The serialized shape is documented in `SCHEMA.md`.
 */
import type { RequestRecord } from '../http/RequestRecord.js';
import type { PullPlan } from '../pull/PullPlan.js';
import type { PullResult } from '../pull/PullResult.js';

export const PULL_REPORT_SCHEMA = 'flathub-fetch/pull-report@1' as const;

/** Nearest-rank percentiles over a set of durations, milliseconds; all null when `count` is 0. */
export interface LatencyStats {
  count: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
  /** Sum of all samples (for Prometheus summaries). */
  sum: number;
}

export interface LatencyPair {
  /** Response headers after request headers: `firstByte - requestSent`. */
  firstByte: LatencyStats;
  /** Whole attempt, queueing included: `done - queued`. */
  total: LatencyStats;
}

export interface WastedFetch {
  /** Why the bytes were wasted. */
  kind: 'failed' | 'duplicate' | 'loose-in-delta';
  /** Record id (attempt). */
  id: number;
  url: string;
  purpose: RequestRecord['purpose'];
  status: number | null;
  /** Wire bytes counted as waste (a failed attempt resumed by the next one with `Range` only wastes what was not reused). */
  bytes: number;
}

export interface SlowRequest {
  id: number;
  url: string;
  purpose: RequestRecord['purpose'];
  attempt: number;
  status: number | null;
  wireBytes: number;
  firstByteMs: number | null;
  totalMs: number | null;
  error: string | null;
}

export interface PullReport {
  schema: typeof PULL_REPORT_SCHEMA;
  remote: string;
  ref: string | null;
  commit: string;
  repo: string;
  /** The strategy carried out; null for a failed pull that was not planned. */
  strategy: PullResult['strategy'] | null;
  /** Null for a failed pull that was not planned. */
  plan: Pick<PullPlan, 'strategy' | 'reason' | 'chosen' | 'alternatives'> | null;
  objects: PullResult['objects'];
  partsSkipped: number;
  partsRecovered: number;
  /** The decoders that ran (see `PullResult.decoders`). */
  decoders: PullResult['decoders'];
  durationMs: number;
  /** Null for a pull that completed; for a failed pull's partial report, its error's code and message. */
  failure: { code: string; message: string } | null;
  /** Earliest `timings.queued` of any attempt (ms from `performance.timeOrigin`), null without requests. */
  startedAt: number | null;
  /** Wall-clock time of `startedAt` (ISO 8601), null without requests. */
  startedDateTime: string | null;
  requests: {
    /** Attempts (one per record). */
    total: number;
    /** Attempts without an error. */
    ok: number;
    /** Attempts with an error (any class, including HTTP statuses the client treats as errors). */
    errors: number;
    /** Attempts after the first of their request, redirects not counted. */
    retries: number;
    /** Attempts that followed a redirect (`retryOf: "redirect"`). */
    redirects: number;
    /** Logical requests (distinct `requestId`). */
    logical: number;
    /** Logical requests whose last attempt failed without a retry. */
    abandoned: number;
    byPurpose: Record<string, number>;
    /** Attempts by HTTP status; `none` when no response arrived. */
    byStatus: Record<string, number>;
    /**
     * Requests an ideal pull would have made: the chosen alternative's `requests` plus one per
     * distinct metadata URL fetched (config, summaries, indexes, refs). Null when the plan did not
     * know its request count.
     */
    ideal: number | null;
    /** `total - ideal` (null when `ideal` is null). */
    excess: number | null;
  };
  bytes: {
    /** Body bytes received on the wire, all attempts. */
    wire: number;
    /** Body bytes after content decoding. */
    decoded: number;
    /** Approximate response header bytes. */
    headers: number;
    byPurpose: Record<string, { wire: number; decoded: number }>;
  };
  waste: {
    /** Attempts whose bytes were (at least partly) wasted. */
    requests: number;
    /** Wire bytes wasted. */
    bytes: number;
    failed: { requests: number; bytes: number };
    /** Successful 2xx GETs of a URL that an earlier attempt had already fetched successfully. */
    duplicates: { requests: number; bytes: number };
    /**
     * Loose objects fetched although a delta part that was fetched (or inline) had produced them.
     * `checked` is false when the result carried no delta part lists (no delta used).
     */
    looseInDelta: { checked: boolean; requests: number; bytes: number };
    items: WastedFetch[];
  };
  errors: {
    total: number;
    byClass: Record<string, number>;
    /** Failed attempts by HTTP status (`none` when no response arrived). */
    byStatus: Record<string, number>;
    /**
     * Failed attempts by who produced the failure (`errorSource()`): `cache` (an error page a
     * cache/CDN generated itself, e.g. Varnish's 503 after its first-byte timeout), `origin` (an
     * error status from the origin, passed through any cache), `network`, `content`, `client`.
     */
    bySource: Record<string, number>;
    /** Cache-generated failures by the cache that produced them (from Via/Server, e.g. `varnish (Varnish/7.1)`). */
    byCache: Record<string, number>;
  };
  /** The client's in-flight limit (`RequestRecord.inFlightLimit`): lowest, highest and last seen; null without records carrying it. */
  concurrency: { minLimit: number | null; maxLimit: number | null; lastLimit: number | null };
  retries: {
    total: number;
    /** By `retryOf` (the previous attempt's error class or status). */
    byReason: Record<string, number>;
  };
  /**
   * Retry amplification: requests sent per request needed. Under independent faults of rate p
   * with every failure retried, its expectation is 1/(1−p).
   */
  amplification: {
    /** `(requests.total − requests.redirects) / requests.logical`: 1 when nothing was retried; null without requests. */
    overall: number | null;
    /** Per cause (`retryOf`): retries it caused per request needed; `overall = 1 + Σ byCause`. */
    byCause: Record<string, number>;
  };
  connections: {
    /** Distinct connection ids seen. */
    distinct: number;
    /** Attempts that reported whether their connection was reused. */
    known: number;
    reused: number;
    /** `reused / known`, null when nothing is known. */
    reuseRatio: number | null;
  };
  latency: LatencyPair & { byPurpose: Record<string, LatencyPair> };
  throughput: {
    bucketMs: number;
    /** Wire bytes per bucket from `startedAt`; each attempt's bytes are spread evenly over [firstByte, lastByte ?? done]. */
    buckets: number[];
  };
  /** The slowest attempts by total time, slowest first. */
  slowest: SlowRequest[];
  /**
   * One entry per attempt, in completion order: the result's `RequestRecord`s themselves (a new
   * array, the same objects: a pull of a runtime has tens of thousands, and a copy of each would
   * double what the report holds).
   */
  entries: RequestRecord[];
}

export interface BuildReportOptions {
  /** How many slow requests to list. @default 10 */
  slowest?: number;
  /** Throughput bucket width, ms. @default 100 */
  bucketMs?: number;
}
