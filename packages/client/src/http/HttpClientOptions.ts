/**
 * Options of HttpClient. Every field is optional and documents its default; `resolveHttpOptions()`
 * turns them into `ResolvedHttpClientOptions` in one place and rejects bad values.
 */
import type { ConcurrencyChange } from './AdaptiveConcurrency.js';
import type { RequestRecord } from './RequestRecord.js';
import type { Transport } from './Transport.js';
import type { UndiciTransportOptions } from './UndiciTransport.js';

export interface RetryOptions {
  /**
   * Retries per request after the first attempt (0 disables retrying; `Infinity`: a request is
   * retried for as long as the client makes progress — see `stallTimeout`). Until the server
   * has answered once, refused, unresolvable and timed-out connections get at most 5. @default 5
   */
  retries?: number;
  /** Shortest backoff, ms: retry n waits a uniformly random time in [minDelay, min(maxDelay, minDelay·factor^n)] ("full jitter" above the floor). @default 250 */
  minDelay?: number;
  /** Longest backoff, ms. @default 30_000 */
  maxDelay?: number;
  /** Growth of the backoff ceiling per retry. @default 2 */
  factor?: number;
  /** HTTP statuses that are retried. 403/404/410 (missing) never are. @default [408, 429, 500, 502, 503, 504] */
  statuses?: readonly number[];
  /** Longest `Retry-After` honoured, ms; a longer one is cut to this. @default 60_000 */
  maxRetryAfter?: number;
  /**
   * The rate at which this client may retry (see RetryBudget): each successful request deposits
   * `ratio` retries, time deposits `perSecond` a second, at most `reserve` are saved up. A retry
   * beyond the budget waits for it instead of failing. @default { ratio: 1, perSecond: 10, reserve: 100 }
   */
  budget?: RetryBudgetOptions;
}

export interface RetryBudgetOptions {
  /** Retries earned per successful request. @default 1 */
  ratio?: number;
  /** Retries earned per second whatever happens (the floor that lets a pull out of an outage). @default 10 */
  perSecond?: number;
  /** Most retries saved up (also the starting balance). @default 100 */
  reserve?: number;
}

export interface TimeoutOptions {
  /** TCP connect plus TLS handshake, ms (`ERR_CONNECT_TIMEOUT`); 0 disables. @default 15_000 */
  connect?: number;
  /** From sending the request to the response headers, ms (`ERR_FIRST_BYTE_TIMEOUT`); 0 disables. @default 30_000 */
  firstByte?: number;
  /** Longest wait for the next body chunk, ms (`ERR_BODY_STALL`); 0 disables. @default 30_000 */
  bodyStall?: number;
}

export interface HttpClientOptions {
  /** Transport to use instead of the default (UndiciTransport for http(s), FileTransport for file://). The client does not close a supplied transport. @default undefined */
  transport?: Transport;
  /** Low-level options of the default UndiciTransport; they override what is derived from `connections`, `pipelining`, `allowHttp2` and `timeouts`. @default {} */
  http?: UndiciTransportOptions;
  /** Connections per origin (libostree uses 8). @default 8 */
  connections?: number;
  /**
   * HTTP/1.1 pipelining depth per connection (used only while the server keeps the connection
   * alive), or `'auto'`: pipelining of small object GETs once the origin has answered promptly,
   * paused for a cool-down after a slow first byte or a failure (see UndiciTransportOptions.pipelining). @default 1
   */
  pipelining?: number | 'auto';
  /** Requests in flight at once on this client; more wait in a FIFO queue. @default 16 */
  maxInFlight?: number;
  /**
   * `adaptive`: the in-flight limit starts at `maxInFlight`, halves on each surge of overload
   * signals (429/502/503/504, first-byte or connect timeouts) down to 1, and grows back by about
   * one per limit's worth of successes (AIMD). `fixed`: always `maxInFlight`. @default 'adaptive'
   */
  concurrency?: 'adaptive' | 'fixed';
  /** Called when the adaptive in-flight limit changes (errors it throws are ignored). @default undefined */
  onConcurrencyChange?: (change: ConcurrencyChange) => void;
  /** Offer HTTP/2 on TLS connections (ALPN). @default true */
  allowHttp2?: boolean;
  /**
   * Redirects (301/302/303/307/308) followed per request; more is `ERR_REDIRECT`. Only to http(s),
   * never from https to http, never in a loop. Redirects are not retries (no budget spent). @default 10
   */
  maxRedirects?: number;
  /** Retry policy, or just the number of retries. @default see RetryOptions */
  retry?: number | RetryOptions;
  /** @default see TimeoutOptions */
  timeouts?: TimeoutOptions;
  /**
   * The stall window, ms: while requests are pending and none has succeeded (or received body
   * bytes beyond what its earlier attempts had) for this long, every pending request fails with
   * `ERR_STALLED`, and so does every later one. Time with no request pending does not count.
   * 0 disables. @default 120_000
   */
  stallTimeout?: number;
  /** User-Agent header. @default 'flathub-fetch/0.1.0' */
  userAgent?: string;
  /** Called once per attempt when it ends (errors it throws are ignored). @default undefined */
  onRecord?: (record: RequestRecord) => void;
  /**
   * Trace each attempt on the wire (DNS/connect/TLS phases, connection ids, body chunks) and
   * deliver records. Off, requests are not traced and `onRecord` is not called: the baseline
   * the recording-overhead benchmark compares against. @default true
   */
  recording?: boolean;
  /** Random source in [0, 1) for backoff jitter (tests inject one). @default Math.random */
  random?: () => number;
  /** Waits `ms` (tests inject one that records the delay); must reject when `signal` aborts. @default a timer that honours the signal */
  sleep?: (ms: number, options: { signal?: AbortSignal | undefined }) => Promise<void>;
}

/** `Required<HttpClientOptions>` with every default applied (absent `transport`/`onRecord` are null). */
export interface ResolvedHttpClientOptions {
  transport: Transport | null;
  http: UndiciTransportOptions;
  connections: number;
  pipelining: number | 'auto';
  maxInFlight: number;
  concurrency: 'adaptive' | 'fixed';
  onConcurrencyChange: ((change: ConcurrencyChange) => void) | null;
  allowHttp2: boolean;
  maxRedirects: number;
  retry: Required<Omit<RetryOptions, 'budget'>> & { budget: Required<RetryBudgetOptions> };
  timeouts: Required<TimeoutOptions>;
  stallTimeout: number;
  userAgent: string;
  onRecord: ((record: RequestRecord) => void) | null;
  recording: boolean;
  random: () => number;
  sleep: (ms: number, options: { signal?: AbortSignal | undefined }) => Promise<void>;
}
