/**
 * Collects one attempt's RequestRecord: HttpClient sets what it knows (queue, dispatch, status,
 * byte counts, outcome); the transport reports wire events through the TransportTrace side.
 * `finish()` freezes the record, dropping connection phases that began before this attempt was
 * dispatched (a connection opened for an earlier, abandoned request) and clamping the rest so
 * the timings never run backwards.
 */
import { pickCacheHeaders } from './pickCacheHeaders.js';
import { type RequestErrorClass, type RequestRecord, TIMING_PHASES } from './RequestRecord.js';
import type { RequestPurpose } from './Transport.js';
import type { TransportConnection, TransportTrace } from './TransportTrace.js';

export interface AttemptInit {
  id: number;
  requestId: number;
  method: 'GET' | 'HEAD';
  url: string;
  purpose: RequestPurpose;
  attempt: number;
  retryOf: string | null;
}

const ORDER = TIMING_PHASES;
const DIGITS = /^\d+$/;

export class AttemptRecorder implements TransportTrace {
  readonly #r: RequestRecord;
  #finished = false;
  /** Called on requestSent (HttpClient re-arms its first-byte timer there). */
  onRequestSent: (() => void) | null = null;

  constructor(init: AttemptInit) {
    // One literal, fields in RequestRecord's order: every record then shares one V8 hidden class
    // (a spread of `init` plus this many fields builds each record the slow way, and a pull makes
    // one per request).
    this.#r = {
      id: init.id,
      requestId: init.requestId,
      method: init.method,
      url: init.url,
      purpose: init.purpose,
      attempt: init.attempt,
      retryOf: init.retryOf,
      range: null,
      status: null,
      httpVersion: null,
      wireBytes: 0,
      bodyBytes: 0,
      headerBytes: 0,
      contentEncoding: null,
      contentLength: null,
      connectionId: null,
      connectionReused: null,
      remoteAddress: null,
      remotePort: null,
      timings: {
        queued: performance.now(),
        dispatched: null,
        dnsStart: null,
        dnsEnd: null,
        connectStart: null,
        connectEnd: null,
        tlsStart: null,
        tlsEnd: null,
        requestSent: null,
        firstByte: null,
        lastByte: null,
        done: null,
      },
      error: null,
      willRetry: false,
      retryDelay: null,
      inFlightLimit: null,
      cacheHeaders: {},
    };
  }

  /** The in-flight limit this attempt was admitted under. */
  admitted(limit: number): void {
    this.#r.inFlightLimit = limit;
  }

  get id(): number {
    return this.#r.id;
  }

  get wireBytes(): number {
    return this.#r.wireBytes;
  }

  get status(): number | null {
    return this.#r.status;
  }

  /** The response's Content-Length, when it had a valid one. */
  get contentLengthHeader(): number | null {
    return this.#r.contentLength;
  }

  dispatched(range: string | null): void {
    this.#r.timings.dispatched = performance.now();
    this.#r.range = range;
  }

  // TransportTrace

  requestSent(at: number, connection: TransportConnection | null): void {
    if (this.#finished) return;
    const t = this.#r.timings;
    t.requestSent = at;
    if (connection !== null) {
      this.#r.connectionId = connection.id;
      this.#r.connectionReused = connection.reused;
      this.#r.remoteAddress = connection.remoteAddress;
      this.#r.remotePort = connection.remotePort;
      this.#r.httpVersion = connection.httpVersion ?? this.#r.httpVersion;
      t.dnsStart = connection.dnsStart;
      t.dnsEnd = connection.dnsEnd;
      t.connectStart = connection.connectStart;
      t.connectEnd = connection.connectEnd;
      t.tlsStart = connection.tlsStart;
      t.tlsEnd = connection.tlsEnd;
    }
    this.onRequestSent?.();
  }

  responseStart(at: number, httpVersion: string | null): void {
    if (this.#finished) return;
    this.#r.timings.firstByte ??= at;
    if (httpVersion !== null) this.#r.httpVersion = httpVersion;
  }

  bodyChunk(at: number): void {
    if (!this.#finished) this.#r.timings.lastByte = at;
  }

  responseEnd(at: number): void {
    if (!this.#finished) this.#r.timings.lastByte = at;
  }

  // HttpClient's side

  /** The response headers as HttpClient received them. */
  response(status: number, headers: Record<string, string | undefined>): void {
    const r = this.#r;
    r.status = status;
    r.timings.firstByte ??= performance.now();
    let bytes = 15;
    for (const k in headers) {
      const v = headers[k];
      if (v !== undefined) bytes += k.length + v.length + 4;
    }
    r.headerBytes = bytes;
    r.contentEncoding = headers['content-encoding'] ?? null;
    const cl = headers['content-length'];
    r.contentLength = cl !== undefined && DIGITS.test(cl) ? Number(cl) : null;
    r.cacheHeaders = pickCacheHeaders(headers);
  }

  wire(bytes: number): void {
    this.#r.wireBytes += bytes;
  }

  body(bytes: number): void {
    this.#r.bodyBytes += bytes;
  }

  /** Ends the attempt and returns its record (later calls return the same record). */
  finish(
    error: { class: RequestErrorClass; message: string; code: string | null } | null,
    willRetry: boolean,
    retryDelay: number | null,
  ): RequestRecord {
    const r = this.#r;
    if (this.#finished) return r;
    this.#finished = true;
    r.error = error;
    r.willRetry = willRetry;
    r.retryDelay = willRetry ? retryDelay : null;
    const t = r.timings;
    t.done = performance.now();
    const opened = t.dnsStart ?? t.connectStart;
    if (opened !== null && opened < (t.dispatched ?? t.queued)) {
      t.dnsStart = t.dnsEnd = t.connectStart = t.connectEnd = t.tlsStart = t.tlsEnd = null;
    }
    let prev = t.queued;
    for (const key of ORDER) {
      const v = t[key];
      if (v === null) continue;
      if (v < prev) t[key] = prev;
      else prev = v;
    }
    return r;
  }
}
