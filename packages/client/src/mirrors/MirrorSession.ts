/**
 * The HTTP side of checking one server: raw exchanges through an undici keep-alive pool capped
 * at `connections` (and as many requests in flight), redirects followed by hand (at most 5) and
 * counted, bodies bounded, timings taken. GETs of whole files are memoised by path, so the
 * checks share what one of them fetched.
 */
import pLimit, { type LimitFunction } from 'p-limit';
import { FileTransport } from '../http/FileTransport.js';
import { pinnedLookup } from '../http/pinnedLookup.js';
import type { Transport } from '../http/Transport.js';
import type { TransportConnection } from '../http/TransportTrace.js';
import { UndiciTransport } from '../http/UndiciTransport.js';
import type { Exchange, ExchangeErrorKind, ExchangePurpose } from './Exchange.js';

const MAX_REDIRECTS = 5;

export interface MirrorSessionOptions {
  connections: number;
  timeouts: { connect: number; firstByte: number; bodyStall: number };
  userAgent: string;
  /** Redirect targets allowed (null: any). */
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

export class MirrorSession {
  readonly base: URL;
  readonly exchanges: Exchange[] = [];
  readonly #transport: Transport;
  readonly #limit: LimitFunction;
  readonly #options: MirrorSessionOptions;
  readonly #memo = new Map<string, Promise<Exchange>>();
  readonly #t0 = performance.now();
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
    signal?.throwIfAborted();
    const method = spec.method ?? 'GET';
    const url = this.resolve(path);
    const e: Exchange = {
      id: this.#nextId++,
      purpose: spec.purpose,
      method,
      path,
      url,
      finalUrl: url,
      range: spec.range ?? null,
      status: null,
      headers: {},
      contentLength: null,
      bytes: 0,
      body: null,
      redirects: [],
      connectionId: null,
      connectionReused: null,
      start: this.#now(),
      firstByte: null,
      end: 0,
      error: null,
      repeatOf: spec.repeatOf ?? null,
      declaredSize: spec.expectedSize ?? null,
    };
    let target = new URL(url);
    try {
      for (;;) {
        let connection: TransportConnection | null = null;
        const headers: Record<string, string> = { 'user-agent': this.#options.userAgent };
        if (spec.range !== undefined) headers.range = spec.range;
        const res = await this.#transport.request({
          url: target,
          method,
          headers,
          signal,
          timeouts: this.#options.timeouts,
          trace: {
            requestSent: (_at, c) => {
              connection = c;
            },
            responseStart: () => {},
            bodyChunk: () => {},
            responseEnd: () => {},
          },
        });
        e.firstByte = this.#now();
        const conn = connection as TransportConnection | null;
        e.connectionId = conn?.id ?? null;
        e.connectionReused = conn?.reused ?? null;
        e.status = res.status;
        e.headers = res.headers;
        const location = res.headers.location;
        if (res.status >= 300 && res.status < 400 && res.status !== 304) {
          res.dispose();
          if (location === undefined) throw new ExchangeError('redirect', `${res.status} without Location`);
          if (e.redirects.length >= MAX_REDIRECTS) throw new ExchangeError('redirect', `more than ${MAX_REDIRECTS} redirects`);
          const next = new URL(location, target);
          if (this.#options.allowUrl?.(next.href) === false)
            throw new ExchangeError('redirect', `redirect to ${next.href} refused: not an allowed URL`);
          e.redirects.push({ status: res.status, from: target.href, to: next.href });
          target = next;
          e.finalUrl = next.href;
          continue;
        }
        const cl = res.headers['content-length'];
        e.contentLength = cl !== undefined && /^\d+$/.test(cl) ? Number(cl) : null;
        if (method === 'HEAD') {
          res.dispose();
          break;
        }
        await this.#readBody(e, res.body, spec.maxBytes, () => res.dispose());
        break;
      }
    } catch (err) {
      if (signal?.aborted) throw err;
      e.error = classify(err, e);
    }
    e.end = this.#now();
    this.exchanges.push(e);
    this.#options.onExchange?.(e);
    return e;
  }

  async #readBody(e: Exchange, body: AsyncIterable<Uint8Array>, maxBytes: number, dispose: () => void): Promise<void> {
    const chunks: Uint8Array[] = [];
    try {
      for await (const chunk of body) {
        e.bytes += chunk.length;
        if (e.bytes > maxBytes) {
          dispose();
          throw new ExchangeError('too-large', `body larger than ${maxBytes} bytes`);
        }
        chunks.push(chunk);
      }
    } catch (err) {
      if (err instanceof ExchangeError) throw err;
      if (e.contentLength !== null && e.bytes < e.contentLength) {
        throw new ExchangeError('short-body', `connection closed after ${e.bytes} of ${e.contentLength} bytes`);
      }
      throw err;
    }
    if (e.contentLength !== null && e.bytes !== e.contentLength && e.headers['content-encoding'] === undefined) {
      throw new ExchangeError('short-body', `${e.bytes} bytes for Content-Length ${e.contentLength}`);
    }
    if (e.declaredSize !== null && e.bytes < e.declaredSize && e.range === null && e.headers['content-encoding'] === undefined) {
      throw new ExchangeError('short-body', `${e.bytes} bytes of the declared ${e.declaredSize}`);
    }
    e.body = Buffer.concat(chunks);
  }

  #now(): number {
    return Math.round((performance.now() - this.#t0) * 1000) / 1000;
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

function classify(err: unknown, e: Exchange): { kind: ExchangeErrorKind; message: string } {
  if (err instanceof ExchangeError) return { kind: err.kind, message: err.message };
  const code = (err as { code?: string }).code ?? '';
  const message = (err as Error).message ?? String(err);
  if (/TIMEOUT/.test(code) || (err as Error).name?.includes('Timeout')) return { kind: 'timeout', message: code || message };
  if (e.status !== null && e.contentLength !== null && e.bytes < e.contentLength) {
    return { kind: 'short-body', message: `connection closed after ${e.bytes} of ${e.contentLength} bytes` };
  }
  return { kind: 'network', message: code ? `${code}: ${message}` : message };
}
