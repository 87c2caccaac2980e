/**
 * The request records of a long operation, kept compact until they are asked for.
 *
 * A pull of a runtime without deltas makes tens of thousands of requests, and its result lists
 * every attempt (`PullResult.requests`). As objects, each record is a 25-field object with a
 * timings object, a cache-headers object and their strings, about 1 KB of the JavaScript heap
 * for the whole pull. Here a record is one row of numbers in a Float64Array (outside the heap:
 * no collection traces it), the strings a few records share (purpose, HTTP version, address…)
 * interned once, and per record only its URL, range and cache headers (one joined string).
 *
 * Invariants: a record is pushed once it is final (the HTTP client emits it from `finish()`,
 * after every byte was counted); `at(i)` and iteration rebuild a record equal to the one pushed,
 * fields in the same order (JSON output is unchanged); null numbers are stored as NaN, which no
 * record field holds.
 */
import { type RequestRecord, type RequestTimings, TIMING_PHASES } from './RequestRecord.js';

// Columns of a row. Interned strings are stored as their index in the table plus one (0: null).
const C_ID = 0;
const C_REQUEST_ID = 1;
const C_METHOD = 2;
const C_PURPOSE = 3;
const C_ATTEMPT = 4;
const C_RETRY_OF = 5;
const C_STATUS = 6;
const C_HTTP_VERSION = 7;
const C_WIRE = 8;
const C_BODY = 9;
const C_HEADER = 10;
const C_ENCODING = 11;
const C_LENGTH = 12;
const C_CONNECTION = 13;
const C_REUSED = 14;
const C_ADDRESS = 15;
const C_PORT = 16;
const C_WILL_RETRY = 17;
const C_RETRY_DELAY = 18;
const C_IN_FLIGHT = 19;
const C_TIMINGS = 20;
const COLUMNS = C_TIMINGS + TIMING_PHASES.length;
/** Per-record strings: URL, range, cache headers. */
const STRINGS = 3;

const num = (v: number | null): number => (v === null ? Number.NaN : v);
const orNull = (v: number): number | null => (Number.isNaN(v) ? null : v);

export class RequestLog implements Iterable<RequestRecord> {
  #rows = new Float64Array(COLUMNS * 64);
  readonly #strings: (string | null)[] = [];
  readonly #table: string[] = [];
  readonly #index = new Map<string, number>();
  /** Errors are rare: kept by record index. */
  readonly #errors = new Map<number, NonNullable<RequestRecord['error']>>();
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(r: RequestRecord): void {
    if ((this.#length + 1) * COLUMNS > this.#rows.length) {
      const grown = new Float64Array(this.#rows.length * 2);
      grown.set(this.#rows);
      this.#rows = grown;
    }
    const rows = this.#rows;
    const b = this.#length * COLUMNS;
    rows[b + C_ID] = r.id;
    rows[b + C_REQUEST_ID] = r.requestId;
    rows[b + C_METHOD] = this.#intern(r.method);
    rows[b + C_PURPOSE] = this.#intern(r.purpose);
    rows[b + C_ATTEMPT] = r.attempt;
    rows[b + C_RETRY_OF] = this.#intern(r.retryOf);
    rows[b + C_STATUS] = num(r.status);
    rows[b + C_HTTP_VERSION] = this.#intern(r.httpVersion);
    rows[b + C_WIRE] = r.wireBytes;
    rows[b + C_BODY] = r.bodyBytes;
    rows[b + C_HEADER] = r.headerBytes;
    rows[b + C_ENCODING] = this.#intern(r.contentEncoding);
    rows[b + C_LENGTH] = num(r.contentLength);
    rows[b + C_CONNECTION] = num(r.connectionId);
    rows[b + C_REUSED] = r.connectionReused === null ? Number.NaN : r.connectionReused ? 1 : 0;
    rows[b + C_ADDRESS] = this.#intern(r.remoteAddress);
    rows[b + C_PORT] = num(r.remotePort);
    rows[b + C_WILL_RETRY] = r.willRetry ? 1 : 0;
    rows[b + C_RETRY_DELAY] = num(r.retryDelay);
    rows[b + C_IN_FLIGHT] = num(r.inFlightLimit);
    for (let i = 0; i < TIMING_PHASES.length; i++) rows[b + C_TIMINGS + i] = num(r.timings[TIMING_PHASES[i] as keyof RequestTimings]);
    const keys = Object.keys(r.cacheHeaders);
    // Header names hold no ':' and values no newline (HTTP forbids both).
    this.#strings.push(r.url, r.range, keys.length === 0 ? null : keys.map((k) => `${k}:${r.cacheHeaders[k]}`).join('\n'));
    if (r.error !== null) this.#errors.set(this.#length, { ...r.error });
    this.#length++;
  }

  /** The record at `i` (a new object each time), or undefined out of range. */
  at(i: number): RequestRecord | undefined {
    if (i < 0) i += this.#length;
    if (!Number.isInteger(i) || i < 0 || i >= this.#length) return undefined;
    const rows = this.#rows;
    const b = i * COLUMNS;
    const s = i * STRINGS;
    const timings = {} as RequestTimings;
    for (let k = 0; k < TIMING_PHASES.length; k++) {
      (timings as unknown as Record<string, number | null>)[TIMING_PHASES[k] as string] = orNull(rows[b + C_TIMINGS + k] as number);
    }
    const cacheHeaders: Record<string, string> = {};
    const joined = this.#strings[s + 2];
    if (joined != null)
      for (const line of joined.split('\n')) {
        const colon = line.indexOf(':');
        cacheHeaders[line.slice(0, colon)] = line.slice(colon + 1);
      }
    const reused = rows[b + C_REUSED] as number;
    const error = this.#errors.get(i);
    return {
      id: rows[b + C_ID] as number,
      requestId: rows[b + C_REQUEST_ID] as number,
      method: this.#string(rows[b + C_METHOD] as number) as RequestRecord['method'],
      url: this.#strings[s] as string,
      purpose: this.#string(rows[b + C_PURPOSE] as number) as RequestRecord['purpose'],
      attempt: rows[b + C_ATTEMPT] as number,
      retryOf: this.#string(rows[b + C_RETRY_OF] as number),
      range: this.#strings[s + 1] ?? null,
      status: orNull(rows[b + C_STATUS] as number),
      httpVersion: this.#string(rows[b + C_HTTP_VERSION] as number),
      wireBytes: rows[b + C_WIRE] as number,
      bodyBytes: rows[b + C_BODY] as number,
      headerBytes: rows[b + C_HEADER] as number,
      contentEncoding: this.#string(rows[b + C_ENCODING] as number),
      contentLength: orNull(rows[b + C_LENGTH] as number),
      connectionId: orNull(rows[b + C_CONNECTION] as number),
      connectionReused: Number.isNaN(reused) ? null : reused === 1,
      remoteAddress: this.#string(rows[b + C_ADDRESS] as number),
      remotePort: orNull(rows[b + C_PORT] as number),
      timings,
      error: error === undefined ? null : { ...error },
      willRetry: rows[b + C_WILL_RETRY] === 1,
      retryDelay: orNull(rows[b + C_RETRY_DELAY] as number),
      inFlightLimit: orNull(rows[b + C_IN_FLIGHT] as number),
      cacheHeaders,
    };
  }

  *[Symbol.iterator](): Iterator<RequestRecord> {
    for (let i = 0; i < this.#length; i++) yield this.at(i) as RequestRecord;
  }

  /** Every record, as objects (what a result hands out). */
  toArray(): RequestRecord[] {
    return Array.from(this);
  }

  /** Whether some record's response had this Content-Encoding (without rebuilding records). */
  hasContentEncoding(encoding: string): boolean {
    const index = this.#index.get(encoding);
    if (index === undefined) return false;
    for (let b = C_ENCODING; b < this.#length * COLUMNS; b += COLUMNS) if (this.#rows[b] === index + 1) return true;
    return false;
  }

  #intern(s: string | null): number {
    if (s === null) return 0;
    let i = this.#index.get(s);
    if (i === undefined) {
      i = this.#table.length;
      this.#table.push(s);
      this.#index.set(s, i);
    }
    return i + 1;
  }

  #string(v: number): string | null {
    return v === 0 ? null : (this.#table[v - 1] as string);
  }
}
