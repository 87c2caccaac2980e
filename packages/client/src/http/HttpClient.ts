/**
 * The HTTP layer of the pull engine: GETs repository-relative paths over a Transport, into memory
 * (`get`) or as a stream (`download`), with bounded concurrency, retries (exponential backoff with
 * jitter, Retry-After, a client-wide retry budget), timeouts, Range resume, size limits, content
 * decoding and caller verification — and one RequestRecord per attempt through `onRecord`.
 */
import { setMaxListeners } from 'node:events';
import createDebug from 'debug';
import { FlathubFetchError, isFlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import { abortError } from './abortError.js';
import type { AttemptFailure } from './AttemptOutcome.js';
import { AdaptiveConcurrency, type ConcurrencyChange } from './AdaptiveConcurrency.js';
import { AttemptRecorder } from './AttemptRecorder.js';
import { backoffDelay } from './backoffDelay.js';
import { FileTransport } from './FileTransport.js';
import type { HttpClientOptions, ResolvedHttpClientOptions } from './HttpClientOptions.js';
import { InFlightLimiter } from './InFlightLimiter.js';
import { raceSignal } from './raceSignal.js';
import type { RequestRecord } from './RequestRecord.js';
import { DEFAULT_USER_AGENT, resolveHttpOptions } from './resolveHttpOptions.js';
import { type FetchSpec, runAttempt, type StreamState } from './runAttempt.js';
import type { RequestPurpose, Transport } from './Transport.js';
import { UndiciTransport } from './UndiciTransport.js';

export { MISSING_STATUSES } from './missingStatuses.js';

const debug = createDebug('flathub-fetch:http');

/** Extra attempts allowed for a corrupt body (checksum/format mismatch, undecodable). */
const CORRUPTION_RETRIES = 2;

export interface GetOptions {
  purpose: RequestPurpose;
  /** Refuse bodies (after content decoding) larger than this. */
  maxBytes: number;
  /** The body must be exactly this long: longer is cut off (size-violation, final), shorter is `truncated` (retried). @default undefined */
  expectedSize?: number | undefined;
  /** Return null instead of throwing on 404/403/410. @default false */
  allowMissing?: boolean;
  /**
   * Send `Accept-Encoding: zstd, gzip` (just gzip on a Node.js without node:zlib zstd) and decode the
   * response as it streams, `maxBytes` bounding the decoded size (for large uncompressed metadata:
   * summary, summary.idx, superblocks). An encoded body is never resumed mid-way: a retry starts over.
   * @default false
   */
  acceptEncoding?: boolean;
  /**
   * Checks the complete body. A FlathubFetchError with ERR_CHECKSUM_MISMATCH or ERR_FORMAT makes the
   * client fetch again (at most 2 extra times); any other error is rethrown at once. @default undefined
   */
  verify?: ((body: Uint8Array) => void | Promise<void>) | undefined;
  signal?: AbortSignal | undefined;
}

export interface DownloadOptions extends Omit<GetOptions, 'verify'> {
  /** Receives the body as it arrives, in order; awaited (backpressure). */
  onChunk(chunk: Uint8Array): void | Promise<void>;
  /** The body starts again from byte 0: discard what `onChunk` received so far. */
  onRestart(): void;
  /** Runs after the last chunk (e.g. compares an incrementally computed hash); same retry rule as `GetOptions.verify`. */
  verify?: (() => void | Promise<void>) | undefined;
}

export interface DownloadResult {
  /** Body bytes delivered (after decoding), counting from the last restart. */
  bytes: number;
  attempts: number;
}

export class HttpClient {
  readonly base: URL;
  readonly options: ResolvedHttpClientOptions;
  readonly #transport: Transport;
  readonly #owned: boolean;
  readonly #limiter: InFlightLimiter;
  readonly #adaptive: AdaptiveConcurrency | null;
  #nextId = 1;
  #budget: number;
  /** Caller signal → this client's linked signal (one listener on the caller's, however many requests wait on it). */
  readonly #linked = new WeakMap<AbortSignal, AbortSignal>();

  constructor(base: string | URL, options: HttpClientOptions = {}) {
    const url = new URL(base);
    if (!url.pathname.endsWith('/')) url.pathname += '/';
    if (url.protocol !== 'http:' && url.protocol !== 'https:' && url.protocol !== 'file:') {
      throw new FlathubFetchError(ErrorCodes.INVALID_ARGUMENT, `unsupported URL scheme "${url.protocol}" in ${url.href}`, {
        argument: 'url',
        value: url.href,
        reason: 'only http, https and file URLs are supported',
      });
    }
    this.base = url;
    const o = resolveHttpOptions(options);
    this.options = o;
    this.#owned = o.transport === null;
    this.#transport =
      o.transport ??
      (url.protocol === 'file:'
        ? new FileTransport()
        : new UndiciTransport({
            connections: o.connections,
            pipelining: o.pipelining,
            allowH2: o.allowHttp2,
            connectTimeout: o.timeouts.connect,
            headersTimeout: o.timeouts.firstByte,
            bodyTimeout: o.timeouts.bodyStall,
            ...o.http,
          }));
    this.#limiter = new InFlightLimiter(o.maxInFlight);
    this.#adaptive = o.concurrency === 'adaptive' ? new AdaptiveConcurrency(o.maxInFlight, (c) => this.#onLimit(c)) : null;
    this.#budget = o.retry.budget;
  }

  /** Requests this client lets in flight at once now (below maxInFlight after overload, with adaptive concurrency). */
  get inFlightLimit(): number {
    return this.#limiter.limit;
  }

  /** Retries this client may still spend. */
  get retryBudget(): number {
    return this.#budget;
  }

  resolve(path: string): URL {
    return new URL(path, this.base);
  }

  /** GETs `path` (relative to the base) into memory. */
  async get(path: string, options: GetOptions & { allowMissing: true }): Promise<Uint8Array | null>;
  async get(path: string, options: GetOptions): Promise<Uint8Array>;
  async get(path: string, options: GetOptions): Promise<Uint8Array | null> {
    const chunks: Uint8Array[] = [];
    let total = 0;
    let body: Uint8Array | null = null;
    const verify = options.verify;
    const result = await this.#fetch(
      this.resolve(path),
      this.#spec(
        options,
        (c) => {
          chunks.push(c);
          total += c.length;
          body = null;
        },
        () => {
          chunks.length = 0;
          total = 0;
          body = null;
        },
        verify === undefined
          ? null
          : async () => {
              body = concat(chunks, total);
              await verify(body);
            },
      ),
    );
    if (result === null) return null;
    return body ?? concat(chunks, total);
  }

  /**
   * GETs `path` as a stream: chunks go to `onChunk` as they arrive (memory stays bounded). A
   * connection lost mid-body resumes with `Range: bytes=N-` and `If-Range` when the response had a
   * strong ETag or a Last-Modified; a 200 instead of a 206 calls `onRestart()` and streams again from 0.
   */
  async download(path: string, options: DownloadOptions & { allowMissing: true }): Promise<DownloadResult | null>;
  async download(path: string, options: DownloadOptions): Promise<DownloadResult>;
  async download(path: string, options: DownloadOptions): Promise<DownloadResult | null> {
    if (typeof options.onChunk !== 'function' || typeof options.onRestart !== 'function') {
      throw new FlathubFetchError(ErrorCodes.INVALID_ARGUMENT, 'download() needs onChunk and onRestart callbacks', {
        argument: 'onChunk',
        reason: 'onChunk and onRestart are required',
      });
    }
    return this.#fetch(
      this.resolve(path),
      this.#spec(
        options,
        (c) => options.onChunk(c),
        () => options.onRestart(),
        options.verify === undefined ? null : options.verify,
      ),
    );
  }

  async close(): Promise<void> {
    if (this.#owned) await this.#transport.close();
  }

  /**
   * A signal that follows `signal`. Hundreds of queued requests may share a pull's signal; they
   * listen on this one (no listener limit) so the caller's signal gets a single listener and Node
   * never prints a MaxListenersExceededWarning on the library's behalf.
   */
  #link(signal: AbortSignal | undefined): AbortSignal | undefined {
    if (signal === undefined) return undefined;
    let linked = this.#linked.get(signal);
    if (linked === undefined) {
      const ac = new AbortController();
      setMaxListeners(0, ac.signal);
      if (signal.aborted) ac.abort(signal.reason);
      else signal.addEventListener('abort', () => ac.abort(signal.reason), { once: true });
      linked = ac.signal;
      this.#linked.set(signal, linked);
    }
    return linked;
  }

  /** Checks a request's options and makes its FetchSpec (the caller's signal replaced by this client's linked one). */
  #spec(
    options: GetOptions | DownloadOptions,
    onChunk: FetchSpec['onChunk'],
    onRestart: FetchSpec['onRestart'],
    verify: FetchSpec['verify'],
  ): FetchSpec {
    const { maxBytes, expectedSize } = options;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
      throw new FlathubFetchError(ErrorCodes.INVALID_ARGUMENT, `maxBytes must be a non-negative integer, got ${String(maxBytes)}`, {
        argument: 'maxBytes',
        value: maxBytes,
        reason: 'not a non-negative integer',
      });
    }
    if (expectedSize !== undefined && (!Number.isSafeInteger(expectedSize) || expectedSize < 0)) {
      throw new FlathubFetchError(ErrorCodes.INVALID_ARGUMENT, `expectedSize must be a non-negative integer, got ${String(expectedSize)}`, {
        argument: 'expectedSize',
        value: expectedSize,
        reason: 'not a non-negative integer',
      });
    }
    // One literal (spreading a partial spec into a new object costs V8 microseconds per request).
    return {
      purpose: options.purpose,
      maxBytes,
      expectedSize: expectedSize ?? null,
      allowMissing: options.allowMissing ?? false,
      acceptEncoding: options.acceptEncoding ?? false,
      signal: this.#link(options.signal),
      onChunk,
      onRestart,
      verify,
    };
  }

  /** The retry loop around runAttempt. */
  async #fetch(first: URL, s: FetchSpec): Promise<DownloadResult | null> {
    const o = this.options;
    const requestId = this.#nextId;
    const state: StreamState = { delivered: 0, resume: null };
    let url = first;
    let retryOf: string | null = null;
    let corruptionRetries = 0;
    const visited = new Set([url.href]);
    for (let attempt = 1; ; attempt++) {
      const rec = new AttemptRecorder({
        id: this.#nextId++,
        requestId,
        method: 'GET',
        url: url.href,
        purpose: s.purpose,
        attempt,
        retryOf,
      });
      let release: (() => void) | null = null;
      let outcome: Awaited<ReturnType<typeof runAttempt>>;
      let epoch = 0;
      try {
        release = await this.#limiter.acquire(s.signal, () =>
          abortError(`GET ${url.href}`, { url: url.href, purpose: s.purpose }, s.signal),
        );
        epoch = this.#adaptive?.epoch ?? 0;
        rec.admitted(this.#limiter.limit);
        outcome = await runAttempt({ url, spec: s, rec, state, transport: this.#transport, options: o });
      } catch (err) {
        // Only an abort while queued (or a bug) gets here.
        const aborted = isFlathubFetchError(err, ErrorCodes.ABORTED);
        this.#emit(
          rec.finish(
            { class: aborted ? 'aborted' : 'other', message: (err as Error).message, code: aborted ? ErrorCodes.ABORTED : null },
            false,
            null,
          ),
        );
        throw err;
      } finally {
        release?.();
      }
      this.#adapt(outcome, epoch);

      if (outcome.kind === 'redirect') {
        const from = url;
        try {
          url = this.#follow(from, outcome.location, visited, s.purpose);
        } catch (err) {
          this.#emit(rec.finish({ class: 'other', message: (err as Error).message, code: ErrorCodes.REDIRECT }, false, null));
          throw err;
        }
        this.#emit(rec.finish(null, false, null));
        debug('GET %s (%s) attempt %d: HTTP %d to %s', from.href, s.purpose, attempt, outcome.status, url.href);
        retryOf = 'redirect';
        continue;
      }

      if (outcome.kind === 'done' || outcome.kind === 'missing') {
        this.#emit(rec.finish(null, false, null));
        debug('GET %s (%s) attempt %d: %s', url.href, s.purpose, attempt, outcome.kind === 'done' ? `${outcome.bytes} bytes` : 'missing');
        return outcome.kind === 'done' ? { bytes: outcome.bytes, attempts: attempt } : null;
      }

      let finalReason: string | null = null;
      if (!outcome.retryable) finalReason = 'not retryable';
      else if (attempt - (visited.size - 1) > o.retry.retries) finalReason = `after ${attempt} attempts`;
      else if (outcome.corruption && corruptionRetries >= CORRUPTION_RETRIES)
        finalReason = `after ${attempt} attempts; the body was corrupt ${corruptionRetries + 1} times`;
      else if (this.#budget <= 0) finalReason = `after ${attempt} attempts; retry budget exhausted`;
      const willRetry = finalReason === null;
      const delay = willRetry ? this.#delay(outcome, attempt) : null;
      this.#emit(
        rec.finish({ class: outcome.errorClass, message: outcome.detail, code: outcome.recordCode ?? outcome.code }, willRetry, delay),
      );
      debug('GET %s (%s) attempt %d: %s%s', url.href, s.purpose, attempt, outcome.detail, willRetry ? `; retrying in ${delay} ms` : '');
      if (!willRetry || delay === null) throw finalError(url, s.purpose, outcome, attempt, finalReason);

      this.#budget--;
      if (outcome.corruption) corruptionRetries++;
      state.resume = outcome.resume;
      retryOf = outcome.errorClass === 'http-status' && outcome.status !== null ? String(outcome.status) : outcome.errorClass;
      const aborted = () => abortError(`GET ${url.href}`, { url: url.href, purpose: s.purpose }, s.signal);
      try {
        await raceSignal(o.sleep(delay, s.signal), s.signal, aborted);
      } catch (err) {
        throw s.signal?.aborted ? aborted() : err;
      }
    }
  }

  /** Feeds an attempt's outcome to adaptive concurrency: overload signals lower the limit, successes raise it. */
  #adapt(outcome: Awaited<ReturnType<typeof runAttempt>>, epoch: number): void {
    const a = this.#adaptive;
    if (a === null) return;
    if (outcome.kind === 'done' || outcome.kind === 'missing') a.success();
    else if (outcome.kind === 'failed') {
      const cause = overloadCause(outcome);
      if (cause !== null) a.overload(epoch, cause);
    }
  }

  #onLimit(change: ConcurrencyChange): void {
    this.#limiter.limit = change.limit;
    debug('in-flight limit %d → %d (%s%s)', change.previous, change.limit, change.reason, change.cause ? ` after ${change.cause}` : '');
    try {
      this.options.onConcurrencyChange?.(change);
    } catch (err) {
      debug('onConcurrencyChange threw (ignored): %s', (err as Error)?.message ?? err);
    }
  }

  /**
   * The URL a redirect leads to, or ERR_REDIRECT: only http(s), never https→http, no loop, at
   * most `maxRedirects` hops (`visited` holds the URLs of this request so far).
   */
  #follow(from: URL, location: string, visited: Set<string>, purpose: RequestPurpose): URL {
    const refuse = (reason: string) =>
      new FlathubFetchError(ErrorCodes.REDIRECT, `GET ${from.href}: redirect to ${location} refused: ${reason}`, {
        url: from.href,
        location,
        reason,
        purpose,
      });
    let to: URL;
    try {
      to = new URL(location, from);
    } catch {
      throw refuse('not a valid URL');
    }
    if (to.protocol !== 'http:' && to.protocol !== 'https:') throw refuse(`${to.protocol} is not http or https`);
    if (from.protocol === 'https:' && to.protocol === 'http:') throw refuse('downgrade from https to http');
    if (visited.has(to.href)) throw refuse('redirect loop');
    if (visited.size > this.options.maxRedirects) throw refuse(`more than ${this.options.maxRedirects} redirects`);
    visited.add(to.href);
    return to;
  }

  /** Backoff for retry `n`, or the server's Retry-After (capped at maxRetryAfter). */
  #delay(outcome: AttemptFailure, n: number): number {
    const { retry } = this.options;
    if (outcome.retryAfter !== null) return Math.min(outcome.retryAfter, retry.maxRetryAfter);
    return backoffDelay(n, retry, this.options.random);
  }

  #emit(record: RequestRecord): void {
    const cb = this.options.onRecord;
    if (cb === null || !this.options.recording) return;
    try {
      cb(record);
    } catch (err) {
      debug('onRecord threw (ignored): %s', (err as Error)?.message ?? err);
    }
  }
}

/** @deprecated use `resolveHttpOptions().userAgent`; kept for existing imports. */
export const USER_AGENT = DEFAULT_USER_AGENT;

/** Statuses that say the server (or a cache in front of it) is overloaded. */
const OVERLOAD_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504]);

/** The overload signal in a failed attempt (`503`, `first-byte-timeout`, …), or null. */
function overloadCause(f: AttemptFailure): string | null {
  if (f.errorClass === 'http-status' && f.status !== null && OVERLOAD_STATUSES.has(f.status)) return String(f.status);
  if (f.errorClass === 'first-byte-timeout' || f.errorClass === 'connect-timeout') return f.errorClass;
  return null;
}

/** The error thrown when a request gives up. */
function finalError(url: URL, purpose: RequestPurpose, f: AttemptFailure, attempts: number, reason: string | null): unknown {
  if (f.callerError !== undefined) return f.callerError.error;
  const suffix =
    attempts > 1 && reason !== null && reason !== 'not retryable' ? ` (${reason})` : attempts > 1 ? ` (attempt ${attempts})` : '';
  if (f.errorClass === 'checksum-mismatch' && isFlathubFetchError(f.cause)) {
    const e = f.cause;
    const message = e.message.includes(url.href) ? e.message : `${url.href}: ${e.message}`;
    return new FlathubFetchError(e.code, `${message}${suffix}`, { ...e.data, url: url.href, attempts }, { cause: e });
  }
  if (f.errorClass === 'aborted') {
    return new FlathubFetchError(
      ErrorCodes.ABORTED,
      `GET ${url.href}: aborted`,
      { url: url.href, purpose },
      f.cause === undefined ? undefined : { cause: f.cause },
    );
  }
  const data: Record<string, unknown> = { url: url.href, purpose, ...f.data, attempts };
  if (f.code === ErrorCodes.NOT_FOUND) data.what ??= purpose;
  if (f.code === ErrorCodes.SIZE_LIMIT) data.url = url.href;
  return new FlathubFetchError(
    f.code,
    `GET ${url.href}: ${f.detail}${suffix}`,
    data,
    f.cause === undefined ? undefined : { cause: f.cause },
  );
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}
