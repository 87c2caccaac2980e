/**
 * The HTTP side of checking one server: raw exchanges through an undici keep-alive pool capped
 * at `connections` (and as many requests in flight), redirects followed by the redirect policy a
 * pull uses (http/redirects.ts), bodies bounded, every hop recorded as a pull's RequestRecord.
 * GETs of whole files are memoised by path, so the checks share what one of them fetched.
 */
import pLimit, { type LimitFunction } from 'p-limit';
import { throwIfAborted } from '../errors/abortError.js';
import { ErrorCodes } from '../errors/codes.js';
import { AttemptRecorder } from '../http/AttemptRecorder.js';
import { classifyTransportError } from '../http/classifyTransportError.js';
import { FileTransport } from '../http/FileTransport.js';
import { pinnedLookup } from '../http/pinnedLookup.js';
import { followRedirect, REDIRECT_STATUSES } from '../http/redirects.js';
import type { RequestErrorClass, RequestRecord } from '../http/RequestRecord.js';
import type { RequestPurpose, Transport } from '../http/Transport.js';
import { UndiciTransport } from '../http/UndiciTransport.js';
import { Exchange, type ExchangeErrorKind, type ExchangePurpose } from './Exchange.js';

export interface MirrorSessionOptions {
  connections: number;
  timeouts: { connect: number; firstByte: number; bodyStall: number };
  userAgent: string;
  /** Redirect targets allowed (null: any the redirect policy allows). */
  allowUrl?: ((url: string) => boolean) | null;
  signal: AbortSignal | undefined;
  onExchange?: (e: Exchange) => void;
  /** Connect to this address whatever DNS says (the host name stays in the URL, SNI and certificate check). */
  address?: string;
}

export interface RequestSpec {
  purpose: ExchangePurpose;
  method?: 'GET' | 'HEAD';
  range?: string;
  /** Largest body accepted. */
  maxBytes: number;
  repeatOf?: number;
  /**
   * The size the file is declared to have elsewhere (a superblock, a HEAD): a complete-looking
   * body shorter than this (Content-Length agreeing with the cut) is a `short-body`.
   */
  expectedSize?: number;
}

/** The purpose a pull's records would give each check's request (reports group by it). */
const RECORD_PURPOSE: Readonly<Record<ExchangePurpose, RequestPurpose>> = {
  summary: 'summary',
  'summary.sig': 'summary.sig',
  'summary.idx': 'summary.idx',
  'summary.idx.sig': 'summary.idx.sig',
  'idx-sig': 'summary.idx.sig',
  subsummary: 'subsummary',
  'delta-index': 'delta-index',
  superblock: 'superblock',
  'delta-part': 'delta-part',
  fallback: 'fallback',
  commit: 'commit',
  commitmeta: 'commitmeta',
  walk: 'dirtree',
  object: 'file',
  'probe-missing': 'other',
  'probe-range': 'other',
  repeat: 'other',
};

export class MirrorSession {
  readonly base: URL;
  readonly exchanges: Exchange[] = [];
  readonly #transport: Transport;
  readonly #limit: LimitFunction;
  readonly #options: MirrorSessionOptions;
  readonly #memo = new Map<string, Promise<Exchange>>();
  #nextId = 1;

  constructor(url: string, options: MirrorSessionOptions) {
    const base = new URL(url);
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    this.base = base;
    this.#options = options;
    this.#limit = pLimit(options.connections);
    this.#transport =
      base.protocol === 'file:'
        ? new FileTransport()
        : new UndiciTransport({
            connections: options.connections,
            allowH2: true,
            connectTimeout: options.timeouts.connect,
            headersTimeout: options.timeouts.firstByte,
            bodyTimeout: options.timeouts.bodyStall,
            ...(options.address !== undefined ? { tls: { lookup: pinnedLookup(options.address) } } : {}),
          });
  }

  get url(): string {
    return this.base.href;
  }

  /** Every hop of every exchange, as a pull records its attempts. */
  get records(): RequestRecord[] {
    return this.exchanges.flatMap((e) => e.records);
  }

  resolve(path: string): string {
    return new URL(path, this.base).href;
  }

  /** GET of a whole file, once per path for the session. */
  get(path: string, purpose: ExchangePurpose, maxBytes: number): Promise<Exchange> {
    let p = this.#memo.get(path);
    if (p === undefined) {
      p = this.request(path, { purpose, maxBytes });
      this.#memo.set(path, p);
    }
    return p;
  }

  /** One exchange (never memoised). Never throws except when the session's signal aborts. */
  request(path: string, spec: RequestSpec): Promise<Exchange> {
    return this.#limit(() => this.#exchange(path, spec));
  }

  async close(): Promise<void> {
    await this.#transport.close();
  }

  async #exchange(path: string, spec: RequestSpec): Promise<Exchange> {
    const signal = this.#options.signal;
    const method = spec.method ?? 'GET';
    const url = this.resolve(path);
    throwIfAborted(signal, `${method} ${url}`, { url });
    const e = new Exchange({
      purpose: spec.purpose,
      method,
      path,
      url,
      range: spec.range ?? null,
      repeatOf: spec.repeatOf ?? null,
      declaredSize: spec.expectedSize ?? null,
    });
    const requestId = this.#nextId;
    const visited = new Set([url]);
    let target = new URL(url);
    let rec: AttemptRecorder | null = null;
    try {
      for (;;) {
        rec = new AttemptRecorder({
          id: this.#nextId++,
          requestId,
          method,
          url: target.href,
          purpose: RECORD_PURPOSE[spec.purpose],
          attempt: e.records.length + 1,
          retryOf: e.records.length > 0 ? 'redirect' : null,
        });
        rec.dispatched(spec.range ?? null);
        const headers: Record<string, string> = { 'user-agent': this.#options.userAgent };
        if (spec.range !== undefined) headers.range = spec.range;
        const res = await this.#transport.request({ url: target, method, headers, signal, timeouts: this.#options.timeouts, trace: rec });
        rec.response(res.status, res.headers);
        e.headers = res.headers;
        const location = res.headers.location;
        if (REDIRECT_STATUSES.has(res.status)) {
          res.dispose();
          if (location === undefined || location === '') throw new ExchangeError('redirect', `${res.status} without Location`);
          const next = followRedirect(target, location, visited, { allowUrl: this.#options.allowUrl ?? null });
          if (!(next instanceof URL)) throw new ExchangeError('redirect', `redirect to ${location} refused: ${next.refused}`);
          e.records.push(rec.finish(null, false, null));
          target = next;
          continue;
        }
        if (method === 'GET') await this.#readBody(e, rec, res.body, spec.maxBytes, () => res.dispose());
        else res.dispose();
        e.records.push(rec.finish(null, false, null));
        break;
      }
    } catch (err) {
      if (signal?.aborted) throw err;
      e.error = classify(err, rec);
      if (rec !== null) e.records.push(rec.finish(recordError(err, e.error), false, null));
    }
    this.exchanges.push(e);
    this.#options.onExchange?.(e);
    return e;
  }

  async #readBody(
    e: Exchange,
    rec: AttemptRecorder,
    body: AsyncIterable<Uint8Array>,
    maxBytes: number,
    dispose: () => void,
  ): Promise<void> {
    const chunks: Uint8Array[] = [];
    const declared = rec.contentLengthHeader;
    try {
      for await (const chunk of body) {
        rec.wire(chunk.length);
        rec.body(chunk.length);
        if (rec.wireBytes > maxBytes) {
          dispose();
          throw new ExchangeError('too-large', `body larger than ${maxBytes} bytes`);
        }
        chunks.push(chunk);
      }
    } catch (err) {
      if (err instanceof ExchangeError) throw err;
      if (declared !== null && rec.wireBytes < declared) {
        throw new ExchangeError('short-body', `connection closed after ${rec.wireBytes} of ${declared} bytes`);
      }
      throw err;
    }
    const bytes = rec.wireBytes;
    if (declared !== null && bytes !== declared && e.headers['content-encoding'] === undefined) {
      throw new ExchangeError('short-body', `${bytes} bytes for Content-Length ${declared}`);
    }
    if (e.declaredSize !== null && bytes < e.declaredSize && e.range === null && e.headers['content-encoding'] === undefined) {
      throw new ExchangeError('short-body', `${bytes} bytes of the declared ${e.declaredSize}`);
    }
    e.body = Buffer.concat(chunks);
  }
}

class ExchangeError extends Error {
  constructor(
    readonly kind: ExchangeErrorKind,
    message: string,
  ) {
    super(message);
  }
}

/** What went wrong, in a check's terms; transport failures are sorted as a pull's are (classifyTransportError). */
function classify(err: unknown, rec: AttemptRecorder | null): { kind: ExchangeErrorKind; message: string } {
  if (err instanceof ExchangeError) return { kind: err.kind, message: err.message };
  const code = (err as { code?: string }).code ?? '';
  const message = (err as Error).message ?? String(err);
  const answered = rec !== null && rec.status !== null;
  const { errorClass } = classifyTransportError(err, answered);
  if (errorClass === 'connect-timeout' || errorClass === 'first-byte-timeout' || errorClass === 'body-stall') {
    return { kind: 'timeout', message: code || message };
  }
  const declared = rec?.contentLengthHeader ?? null;
  if (answered && declared !== null && rec.wireBytes < declared) {
    return { kind: 'short-body', message: `connection closed after ${rec.wireBytes} of ${declared} bytes` };
  }
  return { kind: 'network', message: code ? `${code}: ${message}` : message };
}

/** The record's error for a failed hop: the class a pull's record would carry. */
function recordError(err: unknown, error: { kind: ExchangeErrorKind; message: string }): RequestRecord['error'] {
  const byKind: Partial<Record<ExchangeErrorKind, RequestErrorClass>> = { 'short-body': 'truncated', 'too-large': 'size-violation' };
  if (error.kind === 'redirect') return { class: 'other', message: error.message, code: ErrorCodes.REDIRECT };
  const known = byKind[error.kind];
  if (known !== undefined) return { class: known, message: error.message, code: null };
  const c = classifyTransportError(err, false);
  return { class: c.errorClass, message: error.message, code: c.code };
}
