/**
 * Fetches whole resources over a Transport with a size bound, mapping failures to typed
 * errors that name the URL. Repository-relative paths are resolved against a base URL.
 */
import createDebug from 'debug';
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import { FileTransport } from './FileTransport.js';
import type { RequestPurpose, Transport } from './Transport.js';
import { UndiciTransport, type UndiciTransportOptions } from './UndiciTransport.js';

const debug = createDebug('flathub-fetch:http');

export interface GetOptions {
  purpose: RequestPurpose;
  /** Refuse bodies larger than this. */
  maxBytes: number;
  /** Return null instead of throwing on 404/403/410. @default false */
  allowMissing?: boolean;
  signal?: AbortSignal | undefined;
}

/** Statuses that mean "this file does not exist here" (libostree's rule too). */
export const MISSING_STATUSES: ReadonlySet<number> = new Set([403, 404, 410]);

export class HttpClient {
  readonly base: URL;
  readonly #transport: Transport;
  readonly #owned: boolean;

  constructor(base: string | URL, options: { transport?: Transport; http?: UndiciTransportOptions } = {}) {
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
    this.#owned = options.transport === undefined;
    this.#transport = options.transport ?? (url.protocol === 'file:' ? new FileTransport() : new UndiciTransport(options.http));
  }

  resolve(path: string): URL {
    return new URL(path, this.base);
  }

  /** GETs `path` (relative to the base) into memory. */
  async get(path: string, options: GetOptions & { allowMissing: true }): Promise<Uint8Array | null>;
  async get(path: string, options: GetOptions): Promise<Uint8Array>;
  async get(path: string, options: GetOptions): Promise<Uint8Array | null> {
    const url = this.resolve(path);
    const started = performance.now();
    let res: Awaited<ReturnType<Transport['request']>>;
    try {
      res = await this.#transport.request({ url, method: 'GET', headers: { 'user-agent': USER_AGENT }, signal: options.signal });
    } catch (err) {
      throw networkError(url, options.purpose, err, options.signal);
    }
    debug('GET %s -> %d (%s)', url.href, res.status, options.purpose);
    if (res.status !== 200) {
      res.dispose();
      if (options.allowMissing && MISSING_STATUSES.has(res.status)) return null;
      throw new FlathubFetchError(
        MISSING_STATUSES.has(res.status) ? ErrorCodes.NOT_FOUND : ErrorCodes.HTTP_STATUS,
        `GET ${url.href}: HTTP ${res.status}`,
        { url: url.href, status: res.status, purpose: options.purpose, what: options.purpose },
      );
    }
    const declared = res.headers['content-length'];
    if (declared !== undefined && Number(declared) > options.maxBytes) {
      res.dispose();
      throw sizeError(url, options, Number(declared));
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    try {
      for await (const chunk of res.body) {
        total += chunk.length;
        if (total > options.maxBytes) {
          res.dispose();
          throw sizeError(url, options, total);
        }
        chunks.push(chunk);
      }
    } catch (err) {
      if (err instanceof FlathubFetchError) throw err;
      throw networkError(url, options.purpose, err, options.signal);
    }
    if (declared !== undefined && Number(declared) !== total) {
      throw new FlathubFetchError(ErrorCodes.NETWORK, `GET ${url.href}: body is ${total} bytes, Content-Length says ${declared}`, {
        url: url.href,
        purpose: options.purpose,
        cause: 'truncated body',
      });
    }
    debug('GET %s done: %d bytes in %d ms', url.href, total, Math.round(performance.now() - started));
    return concat(chunks, total);
  }

  async close(): Promise<void> {
    if (this.#owned) await this.#transport.close();
  }
}

export const USER_AGENT = 'flathub-fetch/0.1.0';

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

function sizeError(url: URL, options: GetOptions, size: number): FlathubFetchError {
  return new FlathubFetchError(
    ErrorCodes.SIZE_LIMIT,
    `GET ${url.href}: body of ${size}+ bytes exceeds the ${options.maxBytes}-byte limit for ${options.purpose}`,
    {
      url: url.href,
      what: options.purpose,
      size,
      limit: options.maxBytes,
    },
  );
}

function networkError(url: URL, purpose: RequestPurpose, err: unknown, signal: AbortSignal | undefined): FlathubFetchError {
  if (signal?.aborted)
    return new FlathubFetchError(ErrorCodes.ABORTED, `GET ${url.href}: aborted`, { url: url.href, purpose }, { cause: err });
  const e = err as { code?: string; message?: string };
  const cause = e.code ?? e.message ?? String(err);
  return new FlathubFetchError(ErrorCodes.NETWORK, `GET ${url.href}: ${cause}`, { url: url.href, purpose, cause }, { cause: err });
}
