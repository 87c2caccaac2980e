/**
 * One HTTP attempt as the transport saw it: what, when, over which connection, what came back,
 * and why it failed or was retried. Diagnostics (reports, HAR, metrics) are built from these.
 * Times are milliseconds from `performance.timeOrigin` (monotonic); a phase that did not happen
 * on this attempt (DNS/connect/TLS on a reused connection) is null. Non-null times never decrease
 * in the order they are declared in `timings`.
 */
import type { RequestPurpose } from './Transport.js';
import type { ConnectionPhases } from './TransportTrace.js';

export type RequestErrorClass =
  | 'connect-timeout'
  | 'first-byte-timeout'
  | 'body-stall'
  | 'reset'
  | 'refused'
  | 'dns'
  | 'tls'
  | 'http-status'
  | 'size-violation'
  | 'truncated'
  | 'checksum-mismatch'
  /** Content-Encoding could not be decoded (corrupt or unsupported). */
  | 'decode'
  | 'aborted'
  | 'other';

/** Connection phases (DNS, TCP connect, TLS) are set only on the attempt that opened its connection. */
export interface RequestTimings extends ConnectionPhases {
  /** The attempt was created (it may then wait for an in-flight slot: `dispatched - queued`). */
  queued: number;
  /** Handed to the transport. */
  dispatched: number | null;
  /** Request headers written. */
  requestSent: number | null;
  /** Response headers received. */
  firstByte: number | null;
  /** Last body chunk received from the network (null when the transport does not report it). */
  lastByte: number | null;
  /** The attempt ended (body consumed and checked, or failed). */
  done: number | null;
}

export interface RequestRecord {
  /** Unique per client, increasing. */
  id: number;
  /** Id of the logical request this attempt belongs to (the first attempt's id). */
  requestId: number;
  method: 'GET' | 'HEAD';
  url: string;
  purpose: RequestPurpose;
  /** 1 for the first attempt. */
  attempt: number;
  /** Why this attempt is a retry (the previous attempt's error class, or its HTTP status; `redirect` after a redirect), or null. */
  retryOf: string | null;
  /** Range requested on this attempt (resume), e.g. "bytes=1000-", or null. */
  range: string | null;
  status: number | null;
  httpVersion: string | null;
  /** Bytes of body received on the wire (before content decoding). */
  wireBytes: number;
  /** Bytes after content decoding (equal to wireBytes without Content-Encoding). */
  bodyBytes: number;
  /** Response header bytes, approximate (name + value + separators). */
  headerBytes: number;
  contentEncoding: string | null;
  contentLength: number | null;
  connectionId: number | null;
  connectionReused: boolean | null;
  remoteAddress: string | null;
  remotePort: number | null;
  timings: RequestTimings;
  error: { class: RequestErrorClass; message: string; code: string | null } | null;
  /** Whether the client will retry after this attempt. */
  willRetry: boolean;
  /** How long the client waits before the next attempt (backoff or Retry-After), ms; null without a retry. */
  retryDelay: number | null;
  /** The client's in-flight limit when this attempt got its slot (lower than maxInFlight after overload, with adaptive concurrency). */
  inFlightLimit: number | null;
  /** Cache/CDN response headers (age, x-cache, x-cache-hits, x-cache-status, via, x-served-by, x-varnish, x-timer, server, fastly-*, etag, last-modified, cache-control, cf-cache-status). */
  cacheHeaders: Record<string, string>;
}

/** The timing phases in the order they happen (a phase that did not happen is null). */
export const TIMING_PHASES: readonly (keyof RequestTimings)[] = [
  'queued',
  'dispatched',
  'dnsStart',
  'dnsEnd',
  'connectStart',
  'connectEnd',
  'tlsStart',
  'tlsEnd',
  'requestSent',
  'firstByte',
  'lastByte',
  'done',
];
