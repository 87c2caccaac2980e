/**
 * The request records of a long operation, kept compact until they are asked for.
 *
 * A pull of a runtime without deltas makes tens of thousands of requests, and its result lists
 * every attempt (`PullResult.requests`). As objects, each record is a 25-field object with a
 * timings object, a cache-headers object and their strings, about 1 KB of the JavaScript heap
 * for the whole pull. Here nothing of a record is in the heap: its numbers are a row of columns
 * (integers in an Int32Array, byte counts and times in a Float64Array), the strings records
 * share (purpose, HTTP version, address, a URL up to its last `/`…) are interned once, and the
 * rest of its strings (the URL's last segment, the range, the cache headers joined) are UTF-8
 * bytes in an arena. Rows and arena grow by fixed chunks: nothing is copied as the log grows,
 * and at most one chunk of each is unused.
 *
 * Invariants: a record is pushed once it is final (the HTTP client emits it from `finish()`,
 * after every byte was counted); `at(i)` and iteration rebuild a record equal to the one pushed,
 * fields in the same order (JSON output is unchanged). Integer columns hold fields that are
 * non-negative integers below 2³¹ (ids, counts, status, port; `push` throws on anything else),
 * with −1 for null; the float columns hold NaN for null, which no record field holds. Strings
 * are well-formed (URLs are ASCII, header values were decoded from bytes), so their UTF-8
 * round-trips exactly. Cache header names hold no `:` and values no newline (HTTP forbids both).
 */
import { type RequestRecord, type RequestTimings, TIMING_PHASES } from './RequestRecord.js';

/** Rows per chunk of columns (a power of two). */
const ROW_SHIFT = 10;
const ROWS = 1 << ROW_SHIFT;
/** Bytes per arena chunk (a record's strings longer than this get a chunk of their own). */
const ARENA_CHUNK = 256 * 1024;

// Integer columns. Interned strings are their index in the table plus one (0: null); nullable
// integers are −1 for null.
const I_ID = 0;
const I_REQUEST_ID = 1;
const I_METHOD = 2;
const I_PURPOSE = 3;
const I_ATTEMPT = 4;
const I_RETRY_OF = 5;
const I_STATUS = 6;
const I_HTTP_VERSION = 7;
const I_ENCODING = 8;
const I_CONNECTION = 9;
const I_REUSED = 10;
const I_ADDRESS = 11;
const I_PORT = 12;
const I_WILL_RETRY = 13;
const I_IN_FLIGHT = 14;
/** The URL up to and including its last `/`, interned. */
const I_URL_BASE = 15;
/** Where the record's strings are: arena chunk, offset, and the byte length of each, in this order (−1: null). */
const I_ARENA = 16;
const I_OFFSET = 17;
const I_URL_TAIL = 18;
const I_RANGE = 19;
const I_CACHE = 20;
const INTS = 21;

// Float columns (NaN: null).
const F_WIRE = 0;
const F_BODY = 1;
const F_HEADER = 2;
const F_LENGTH = 3;
const F_RETRY_DELAY = 4;
const F_TIMINGS = 5;
const FLOATS = F_TIMINGS + TIMING_PHASES.length;

const num = (v: number | null): number => (v === null ? Number.NaN : v);
const orNull = (v: number): number | null => (Number.isNaN(v) ? null : v);
const intOrNull = (v: number): number | null => (v === -1 ? null : v);

/** `v` for an integer column; a value outside the columns' range is a bug in the caller. */
function int(v: number, field: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff)
    throw new RangeError(`RequestLog: ${field} ${v} is not a non-negative 32-bit integer`);
  return v;
}
const intNull = (v: number | null, field: string): number => (v === null ? -1 : int(v, field));

export class RequestLog implements Iterable<RequestRecord> {
  readonly #ints: Int32Array[] = [];
  readonly #floats: Float64Array[] = [];
  readonly #arena: Buffer[] = [];
  /** Bytes used in the last arena chunk. */
  #arenaUsed = 0;
  readonly #table: string[] = [];
  readonly #index = new Map<string, number>();
  /** Errors are rare: kept by record index. */
  readonly #errors = new Map<number, NonNullable<RequestRecord['error']>>();
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(r: RequestRecord): void {
    const c = this.#length >> ROW_SHIFT;
    const row = this.#length & (ROWS - 1);
    if (c === this.#ints.length) {
      this.#ints.push(new Int32Array(INTS * ROWS));
      this.#floats.push(new Float64Array(FLOATS * ROWS));
    }
    const ints = this.#ints[c] as Int32Array;
    const floats = this.#floats[c] as Float64Array;
    const a = row * INTS;
    const f = row * FLOATS;
    ints[a + I_ID] = int(r.id, 'id');
    ints[a + I_REQUEST_ID] = int(r.requestId, 'requestId');
    ints[a + I_METHOD] = this.#intern(r.method);
    ints[a + I_PURPOSE] = this.#intern(r.purpose);
    ints[a + I_ATTEMPT] = int(r.attempt, 'attempt');
    ints[a + I_RETRY_OF] = this.#intern(r.retryOf);
    ints[a + I_STATUS] = intNull(r.status, 'status');
    ints[a + I_HTTP_VERSION] = this.#intern(r.httpVersion);
    ints[a + I_ENCODING] = this.#intern(r.contentEncoding);
    ints[a + I_CONNECTION] = intNull(r.connectionId, 'connectionId');
    ints[a + I_REUSED] = r.connectionReused === null ? -1 : r.connectionReused ? 1 : 0;
    ints[a + I_ADDRESS] = this.#intern(r.remoteAddress);
    ints[a + I_PORT] = intNull(r.remotePort, 'remotePort');
    ints[a + I_WILL_RETRY] = r.willRetry ? 1 : 0;
    ints[a + I_IN_FLIGHT] = intNull(r.inFlightLimit, 'inFlightLimit');
    floats[f + F_WIRE] = r.wireBytes;
    floats[f + F_BODY] = r.bodyBytes;
    floats[f + F_HEADER] = r.headerBytes;
    floats[f + F_LENGTH] = num(r.contentLength);
    floats[f + F_RETRY_DELAY] = num(r.retryDelay);
    for (let k = 0; k < TIMING_PHASES.length; k++) floats[f + F_TIMINGS + k] = num(r.timings[TIMING_PHASES[k] as keyof RequestTimings]);

    const slash = r.url.lastIndexOf('/') + 1;
    ints[a + I_URL_BASE] = this.#intern(r.url.slice(0, slash));
    const tail = r.url.slice(slash);
    let cache: string | null = null;
    for (const k in r.cacheHeaders) cache = `${cache === null ? '' : `${cache}\n`}${k}:${r.cacheHeaders[k]}`;
    const strings = [tail, r.range, cache];
    let need = 0;
    for (const t of strings) if (t !== null) need += Buffer.byteLength(t);
    let chunk = this.#arena[this.#arena.length - 1];
    if (chunk === undefined || this.#arenaUsed + need > chunk.length) {
      chunk = Buffer.allocUnsafeSlow(Math.max(ARENA_CHUNK, need));
      this.#arena.push(chunk);
      this.#arenaUsed = 0;
    }
    ints[a + I_ARENA] = this.#arena.length - 1;
    ints[a + I_OFFSET] = this.#arenaUsed;
    // Each string's byte length in its column (I_URL_TAIL, I_RANGE, I_CACHE), −1 for null.
    for (let k = 0; k < strings.length; k++) {
      const t = strings[k] as string | null;
      const n = t === null ? -1 : chunk.write(t, this.#arenaUsed);
      if (n > 0) this.#arenaUsed += n;
      ints[a + I_URL_TAIL + k] = n;
    }

    if (r.error !== null) this.#errors.set(this.#length, { ...r.error });
    this.#length++;
  }

  /** The record at `i` (a new object each time), or undefined out of range. */
  at(i: number): RequestRecord | undefined {
    if (i < 0) i += this.#length;
    if (!Number.isInteger(i) || i < 0 || i >= this.#length) return undefined;
    const ints = this.#ints[i >> ROW_SHIFT] as Int32Array;
    const floats = this.#floats[i >> ROW_SHIFT] as Float64Array;
    const a = (i & (ROWS - 1)) * INTS;
    const f = (i & (ROWS - 1)) * FLOATS;
    const timings = {} as RequestTimings;
    for (let k = 0; k < TIMING_PHASES.length; k++) {
      (timings as unknown as Record<string, number | null>)[TIMING_PHASES[k] as string] = orNull(floats[f + F_TIMINGS + k] as number);
    }
    const chunk = this.#arena[ints[a + I_ARENA] as number] as Buffer;
    let at = ints[a + I_OFFSET] as number;
    const take = (column: number): string | null => {
      const n = ints[a + column] as number;
      if (n === -1) return null;
      at += n;
      return chunk.toString('utf8', at - n, at);
    };
    const url = (this.#string(ints[a + I_URL_BASE] as number) as string) + (take(I_URL_TAIL) as string);
    const range = take(I_RANGE);
    const cache = take(I_CACHE);
    const cacheHeaders: Record<string, string> = {};
    if (cache !== null)
      for (const line of cache.split('\n')) {
        const colon = line.indexOf(':');
        cacheHeaders[line.slice(0, colon)] = line.slice(colon + 1);
      }
    const reused = ints[a + I_REUSED] as number;
    const error = this.#errors.get(i);
    return {
      id: ints[a + I_ID] as number,
      requestId: ints[a + I_REQUEST_ID] as number,
      method: this.#string(ints[a + I_METHOD] as number) as RequestRecord['method'],
      url,
      purpose: this.#string(ints[a + I_PURPOSE] as number) as RequestRecord['purpose'],
      attempt: ints[a + I_ATTEMPT] as number,
      retryOf: this.#string(ints[a + I_RETRY_OF] as number),
      range,
      status: intOrNull(ints[a + I_STATUS] as number),
      httpVersion: this.#string(ints[a + I_HTTP_VERSION] as number),
      wireBytes: floats[f + F_WIRE] as number,
      bodyBytes: floats[f + F_BODY] as number,
      headerBytes: floats[f + F_HEADER] as number,
      contentEncoding: this.#string(ints[a + I_ENCODING] as number),
      contentLength: orNull(floats[f + F_LENGTH] as number),
      connectionId: intOrNull(ints[a + I_CONNECTION] as number),
      connectionReused: reused === -1 ? null : reused === 1,
      remoteAddress: this.#string(ints[a + I_ADDRESS] as number),
      remotePort: intOrNull(ints[a + I_PORT] as number),
      timings,
      error: error === undefined ? null : { ...error },
      willRetry: ints[a + I_WILL_RETRY] === 1,
      retryDelay: orNull(floats[f + F_RETRY_DELAY] as number),
      inFlightLimit: intOrNull(ints[a + I_IN_FLIGHT] as number),
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
    for (let i = 0; i < this.#length; i++) {
      if ((this.#ints[i >> ROW_SHIFT] as Int32Array)[(i & (ROWS - 1)) * INTS + I_ENCODING] === index + 1) return true;
    }
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
