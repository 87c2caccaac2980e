/**
 * The HTTP layer of the pull engine: GETs repository-relative paths over a Transport, into memory
 * (`get`) or as a stream (`download`), with bounded concurrency, retries (exponential backoff with
 * full jitter, Retry-After, a client-wide retry budget that refills with successes and time, a
 * stall window), timeouts, Range resume, size limits, content decoding and caller verification —
 * and one RequestRecord per attempt through `onRecord`.
 */
import { createHash, type Hash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import createDebug from 'debug';
import { FlathubFetchError, isFlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import { abortError } from '../errors/abortError.js';
import type { AttemptFailure } from './AttemptOutcome.js';
import { finalError, overloadCause } from './attemptFailures.js';
import { AdaptiveConcurrency, type ConcurrencyChange, OverloadRate } from './AdaptiveConcurrency.js';
import { AttemptRecorder } from './AttemptRecorder.js';
import { backoffDelay } from './backoffDelay.js';
import { FileTransport } from './FileTransport.js';
import type { HttpClientOptions, ResolvedHttpClientOptions } from './HttpClientOptions.js';
import { InFlightLimiter } from './InFlightLimiter.js';
import { raceSignal } from './raceSignal.js';
import { followRedirect } from './redirects.js';
import type { RequestErrorClass, RequestRecord } from './RequestRecord.js';
import type { DownloadOptions, DownloadResult, GetOptions } from './HttpRequestOptions.js';
import { DEFAULT_USER_AGENT, resolveHttpOptions } from './resolveHttpOptions.js';
import { RetryBudget } from './RetryBudget.js';
import { type FetchSpec, runAttempt, type StreamState } from './runAttempt.js';
import { StallWatch } from './StallWatch.js';
import type { RequestPurpose, Transport } from './Transport.js';
import { UndiciTransport } from './UndiciTransport.js';

export { MISSING_STATUSES } from './missingStatuses.js';

const debug = createDebug('flathub-fetch:http');

/**
 * Corrupt bodies (checksum/format mismatch, undecodable) are retried until the corruption looks
 * persistent: the same corrupt body twice (a bad file on the server, not a flipped bit on the
 * way), or after this many retries of corrupt bodies in one request.
 */
const MAX_CORRUPTION_RETRIES = 8;
/** Failures that never reached the server (see HttpClient's `#reached`), and the retries they get until it has answered. */
const UNREACHED: ReadonlySet<RequestErrorClass> = new Set(['refused', 'dns', 'connect-timeout']);
const UNREACHED_RETRIES = 5;

export type { DownloadOptions, DownloadResult, GetOptions } from './HttpRequestOptions.js';

export class HttpClient {
  readonly base: URL;
  readonly options: ResolvedHttpClientOptions;
  readonly #transport: Transport;
  readonly #owned: boolean;
  readonly #limiter: InFlightLimiter;
  readonly #adaptive: AdaptiveConcurrency | null;
  readonly #overloadRate = new OverloadRate();
  #nextId = 1;
  readonly #budget: RetryBudget;
  readonly #watch: StallWatch;
  /**
   * Whether the server was ever reached (an attempt got further than a refused, unresolvable or
   * timed-out connection). Until it is, such failures get at most UNREACHED_RETRIES retries
   * whatever `retry.retries` says: retrying "as long as the pull makes progress" presumes a
   * server that answered once; one that never did is down, or the URL is wrong.
   */
  #reached = false;
  /** Aborted (with ERR_STALLED) when the stall window passes: every request listens on it. */
  readonly #own = new AbortController();
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
    this.#budget = new RetryBudget(o.retry.budget);
    setMaxListeners(0, this.#own.signal);
    this.#watch = new StallWatch(o.stallTimeout, url.href, (err) => this.#own.abort(err));
  }

  /** Requests this client lets in flight at once now (below maxInFlight after overload, with adaptive concurrency). */
  get inFlightLimit(): number {
    return this.#limiter.limit;
  }

  /** Retries this client may spend at once now (negative while retries wait for the budget to refill). */
  get retryBudget(): number {
    return this.#budget.balance;
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
  #link(signal: AbortSignal | undefined): AbortSignal {
    if (signal === undefined) return this.#own.signal;
    let linked = this.#linked.get(signal);
    if (linked === undefined) {
      const ac = new AbortController();
      setMaxListeners(0, ac.signal);
      if (signal.aborted) ac.abort(signal.reason);
      else signal.addEventListener('abort', () => ac.abort(signal.reason), { once: true });
      this.#own.signal.addEventListener('abort', () => ac.abort(this.#own.signal.reason), { once: true });
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

  /** One request under the stall window: once stalled, it fails with ERR_STALLED. */
  async #fetch(first: URL, s: FetchSpec): Promise<DownloadResult | null> {
    this.#watch.begin();
    try {
      return await this.#retryLoop(first, s);
    } catch (err) {
      const stalled = this.#watch.error;
      throw stalled !== null && isFlathubFetchError(err, ErrorCodes.ABORTED) ? stalled : err;
    } finally {
      this.#watch.end();
    }
  }

  /** The retry loop around runAttempt. */
  async #retryLoop(first: URL, s: FetchSpec): Promise<DownloadResult | null> {
    const o = this.options;
    const requestId = this.#nextId;
    const state: StreamState = { delivered: 0, resume: null };
    let url = first;
    let retryOf: string | null = null;
    let corruptionRetries = 0;
    const visited = new Set([url.href]);
    // Body bytes beyond the furthest any attempt got are progress; after a corrupt body, later
    // bodies are fingerprinted so a corruption that repeats byte for byte is known persistent.
    const { onChunk, onRestart } = s;
    let high = 0;
    let fingerprint: Hash | null = null;
    const corruptSeen = new Set<string>();
    s.onChunk = (c) => {
      fingerprint?.update(c);
      if (state.delivered + c.length > high) {
        high = state.delivered + c.length;
        this.#watch.progress();
      }
      return onChunk(c);
    };
    s.onRestart = () => {
      if (fingerprint !== null) fingerprint = createHash('sha1');
      onRestart();
    };
    for (let attempt = 1; ; attempt++) {
      fingerprint = corruptionRetries > 0 && state.resume === null ? createHash('sha1') : null;
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
      if (outcome.kind !== 'failed' || !UNREACHED.has(outcome.errorClass)) this.#reached = true;

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
        this.#watch.progress();
        this.#budget.deposit();
        this.#emit(rec.finish(null, false, null));
        debug('GET %s (%s) attempt %d: %s', url.href, s.purpose, attempt, outcome.kind === 'done' ? `${outcome.bytes} bytes` : 'missing');
        return outcome.kind === 'done' ? { bytes: outcome.bytes, attempts: attempt } : null;
      }

      const repeated = outcome.corruption && fingerprint !== null && seenBefore(corruptSeen, fingerprint.digest('hex'));
      const retries = this.#reached ? o.retry.retries : Math.min(o.retry.retries, UNREACHED_RETRIES);
      let finalReason: string | null = null;
      if (!outcome.retryable) finalReason = 'not retryable';
      else if (attempt - (visited.size - 1) > retries) finalReason = `after ${attempt} attempts`;
      else if (repeated) finalReason = `after ${attempt} attempts; the same corrupt body came twice`;
      else if (outcome.corruption && corruptionRetries >= MAX_CORRUPTION_RETRIES)
        finalReason = `after ${attempt} attempts; the body was corrupt ${corruptionRetries + 1} times`;
      const willRetry = finalReason === null;
      // The backoff, or longer when the retry budget is spent: the retry waits for its refill.
      const delay = willRetry ? Math.max(this.#delay(outcome, attempt), this.#budget.withdraw()) : null;
      this.#watch.failed(`GET ${url.href}: ${outcome.detail}`);
      this.#emit(
        rec.finish({ class: outcome.errorClass, message: outcome.detail, code: outcome.recordCode ?? outcome.code }, willRetry, delay),
      );
      debug('GET %s (%s) attempt %d: %s%s', url.href, s.purpose, attempt, outcome.detail, willRetry ? `; retrying in ${delay} ms` : '');
      if (!willRetry || delay === null) throw finalError(url, s.purpose, outcome, attempt, finalReason);

      if (outcome.corruption) corruptionRetries++;
      state.resume = outcome.resume;
      retryOf = outcome.errorClass === 'http-status' && outcome.status !== null ? String(outcome.status) : outcome.errorClass;
      const aborted = () => abortError(`GET ${url.href}`, { url: url.href, purpose: s.purpose }, s.signal);
      try {
        await raceSignal(o.sleep(delay, { signal: s.signal }), s.signal, aborted);
      } catch (err) {
        throw s.signal?.aborted ? aborted() : err;
      }
    }
  }

  /** Feeds an attempt's outcome to adaptive concurrency: overload signals lower the limit, successes raise it. */
  #adapt(outcome: Awaited<ReturnType<typeof runAttempt>>, epoch: number): void {
    const a = this.#adaptive;
    if (a === null) return;
    if (outcome.kind === 'done' || outcome.kind === 'missing') {
      this.#overloadRate.add(0);
      a.success();
    } else if (outcome.kind === 'failed') {
      const cause = overloadCause(outcome);
      this.#overloadRate.add(cause === null ? 0 : 1);
      if (cause !== null && this.#overloadRate.congested) a.overload(epoch, cause);
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
   * The URL a redirect leads to, or ERR_REDIRECT when the redirect policy (http/redirects.ts)
   * refuses it (`visited` holds the URLs of this request so far).
   */
  #follow(from: URL, location: string, visited: Set<string>, purpose: RequestPurpose): URL {
    const refuse = (reason: string) =>
      new FlathubFetchError(ErrorCodes.REDIRECT, `GET ${from.href}: redirect to ${location} refused: ${reason}`, {
        url: from.href,
        location,
        reason,
        purpose,
      });
    const to = followRedirect(from, location, visited, { maxRedirects: this.options.maxRedirects });
    if (to instanceof URL) return to;
    throw refuse(to.refused);
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

/** Adds `digest` to `seen`; true when it was there already. */
function seenBefore(seen: Set<string>, digest: string): boolean {
  if (seen.has(digest)) return true;
  seen.add(digest);
  return false;
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
