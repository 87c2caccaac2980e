/**
 * One request/response exchange on an undici dispatcher, as a dispatch handler: `head` settles
 * with the status and headers (or the error before them), and the exchange itself iterates over
 * the body chunks as undici delivers them. It does what undici's `request()` API did for
 * UndiciTransport (abort by signal, backpressure at 64 KiB, draining a small remainder on
 * dispose) without its per-request layers (an AsyncResource, a Readable stream and its async
 * iterator, adapters between the handler APIs, a listener on the signal inside undici and one
 * inside Node's HTTP/2 client), and it arms the request's TransportTrace when undici writes it.
 */
import type { Dispatcher } from 'undici';
import type { PipelinedConnection, PipelineMember, PipelineRequeueError } from './PipelinedConnection.js';
import { errors } from './undiciParts.js';
import { type TraceBinding, UndiciTraceBinder } from './UndiciTraceBinder.js';

type Controller = Dispatcher.DispatchController;
type Headers = Parameters<NonNullable<Dispatcher.DispatchHandler['onResponseStart']>>[2];

/** Body bytes buffered before undici is asked to stop reading (a Readable's default highWaterMark). */
const HIGH_WATER = 64 * 1024;

export interface ExchangeHead {
  status: number;
  headers: Headers;
}

const CLOSE = /\bclose\b/i;

export class UndiciExchange implements Dispatcher.DispatchHandler, AsyncIterable<Uint8Array>, AsyncIterator<Uint8Array>, PipelineMember {
  readonly head: Promise<ExchangeHead>;
  #resolveHead!: (head: ExchangeHead) => void;
  #rejectHead!: (err: unknown) => void;
  readonly #binding: TraceBinding | null;
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort: (() => void) | null = null;
  #controller: Controller | null = null;
  readonly #head: boolean;
  /** Set once aborted by the signal (before the request was written, it is aborted when it is). */
  #abortReason: Error | null = null;
  #started = false;
  readonly #chunks: Uint8Array[] = [];
  #queued = 0;
  /** Body bytes received, and the declared Content-Length (for dispose's limit). */
  #received = 0;
  #declared: number | null = null;
  #ended = false;
  #error: { error: unknown } | null = null;
  /** The consumer waiting in `next()`. */
  #waiter: { resolve(r: IteratorResult<Uint8Array>): void; reject(err: unknown): void } | null = null;
  /** Disposed: further chunks are dropped until more than this many bytes were received. */
  #discardLimit: number | null = null;
  #closed = false;
  /** Ended by `requeue` (not a failure of its own). */
  #requeued = false;
  /** When undici started the request on a connection (`performance.now()`), or null before. */
  startedAt: number | null = null;
  /**
   * When the server could start on the request: `startedAt`, or the end of the response before it
   * on its pipelined connection if later (set with the response head; null before).
   */
  serverStart: number | null = null;
  /**
   * Told when the response head arrives (inside undici's parser, before further requests are
   * written on the connection): ms since the server could start on it, and whether the
   * connection stays open.
   */
  onHead: ((ms: number, keptAlive: boolean) => void) | null = null;
  /** Told about a failure of the exchange below HTTP (not about an abort asked for by its signal or by `dispose`, nor a requeue). */
  onFailure: ((error: Error) => void) | null = null;
  /** The HTTP/1.1 connection (undici Client) it was dispatched to, under adaptive pipelining (set by the Client). */
  connection: PipelinedConnection | null = null;
  /** No request may be pipelined behind this one on its connection (see PipelinedConnection). */
  readonly exclusive: boolean;

  constructor(method: string, signal: AbortSignal | undefined, binding: TraceBinding | null, exclusive = false) {
    this.exclusive = exclusive;
    this.head = new Promise<ExchangeHead>((resolve, reject) => {
      this.#resolveHead = resolve;
      this.#rejectHead = reject;
    });
    this.#head = method === 'HEAD';
    this.#binding = binding;
    this.#signal = signal;
    if (signal?.aborted) this.#abortReason = signal.reason ?? new errors.RequestAbortedError();
    else if (signal !== undefined) {
      this.#onAbort = () => this.#abort(signal.reason ?? new errors.RequestAbortedError());
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
  }

  /** The request could not be dispatched at all. */
  fail(err: unknown): void {
    this.#close();
    this.#rejectHead(err);
  }

  // Dispatcher.DispatchHandler

  onRequestStart(controller: Controller): void {
    this.startedAt = performance.now();
    this.connection?.started(this, this.exclusive);
    if (this.#binding !== null) UndiciTraceBinder.arm(this.#binding);
    this.#controller = controller;
    if (this.#abortReason !== null) controller.abort(this.#abortReason);
  }

  onResponseStart(controller: Controller, statusCode: number, headers: Headers): void {
    if (statusCode < 200) return; // 1xx: informational, the response follows
    this.#started = true;
    const cl = headers['content-length'];
    const declared = !this.#head && typeof cl === 'string' && cl !== '' ? Number(cl) : Number.NaN;
    this.#declared = Number.isFinite(declared) ? declared : null;
    const sent = this.startedAt ?? performance.now();
    const connection = headers.connection;
    const keptAlive = typeof connection !== 'string' || !CLOSE.test(connection);
    this.serverStart = this.connection?.headed(this, sent, this.#declared, keptAlive) ?? sent;
    this.onHead?.(performance.now() - this.serverStart, keptAlive);
    if (this.#abortReason !== null) {
      controller.abort(this.#abortReason);
      return;
    }
    this.#resolveHead({ status: statusCode, headers });
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    this.#received += chunk.length;
    if (this.#discardLimit !== null) {
      if (this.#received > this.#discardLimit) controller.abort(new errors.RequestAbortedError());
      return;
    }
    if (this.#error !== null) return;
    this.#chunks.push(chunk);
    this.#queued += chunk.length;
    if (this.#queued >= HIGH_WATER) controller.pause();
    this.#serve();
  }

  onResponseEnd(): void {
    this.connection?.ended(this);
    this.#ended = true;
    if (this.#discardLimit !== null) this.#close();
    this.#serve();
  }

  onResponseError(_controller: Controller, error: Error): void {
    this.connection?.ended(this);
    if (this.#abortReason === null && this.#discardLimit === null && !this.#requeued) this.onFailure?.(error);
    if (!this.#started) {
      this.#close();
      this.#rejectHead(error);
      return;
    }
    if (this.#ended || this.#error !== null) return;
    this.#error = { error };
    this.#chunks.length = 0;
    if (this.#discardLimit !== null) this.#close();
    this.#serve();
  }

  // The body

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return this;
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
      this.#serve();
    });
  }

  /** The consumer stops early: an unfinished response is aborted. */
  return(): Promise<IteratorResult<Uint8Array>> {
    if (!this.#ended && this.#error === null) {
      this.#error = { error: new errors.RequestAbortedError() };
      this.#chunks.length = 0;
      this.#controller?.abort(new errors.RequestAbortedError());
    }
    this.#close();
    return Promise.resolve({ done: true, value: undefined });
  }

  /**
   * Stops reading the body: what is left is read and dropped so the connection stays reusable,
   * unless it is (or is declared) longer than `limit` bytes, which aborts the response.
   */
  dispose(limit: number): void {
    if (this.#closed || this.#ended || this.#error !== null) {
      this.#close();
      return;
    }
    this.#discardLimit = limit;
    this.#chunks.length = 0;
    this.#queued = 0;
    if ((this.#declared !== null && this.#declared > limit) || this.#received > limit) {
      this.#controller?.abort(new errors.RequestAbortedError());
      this.#close();
    } else if (this.#controller?.paused === true) this.#controller.resume();
  }

  /** Its connection closed before its response began: it fails with `error` (HttpClient retries it). */
  requeue(error: PipelineRequeueError): void {
    if (this.#started || this.#controller === null) return;
    this.#requeued = true;
    this.#controller.abort(error);
  }

  #abort(reason: Error): void {
    this.#abortReason = reason;
    if (!this.#started) {
      // Not written yet: aborted when it is (onRequestStart); being written: abort now.
      this.#controller?.abort(reason);
      return;
    }
    // A body its consumer has not finished fails with the reason, like a destroyed stream.
    if (!this.#closed && this.#error === null) {
      this.#error = { error: reason };
      this.#chunks.length = 0;
      this.#serve();
    }
    this.#controller?.abort(reason);
  }

  /** Hands the waiting consumer the next chunk, the error, or the end (one event-loop turn after the last chunk). */
  #serve(): void {
    const w = this.#waiter;
    if (w === null) return;
    const chunk = this.#chunks.shift();
    if (chunk !== undefined) {
      this.#waiter = null;
      this.#queued -= chunk.length;
      if (this.#queued < HIGH_WATER && this.#controller?.paused === true) this.#controller.resume();
      w.resolve({ done: false, value: chunk });
    } else if (this.#error !== null) {
      this.#waiter = null;
      this.#close();
      w.reject(this.#error.error);
    } else if (this.#ended) {
      // undici hands a kept-alive HTTP/1.1 connection back to its pool on the next setImmediate
      // after a response completes: a caller that sends its next request as soon as this body
      // ends then reuses the connection instead of making the pool open another.
      this.#waiter = null;
      this.#close();
      setImmediate(() => w.resolve({ done: true, value: undefined }));
    }
  }

  /** The exchange is over for its consumer: stop listening to the signal. */
  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#onAbort !== null) this.#signal?.removeEventListener('abort', this.#onAbort);
  }
}
