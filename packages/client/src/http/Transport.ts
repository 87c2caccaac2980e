/**
 * The transport contract: one HTTP exchange, body as an async iterable of chunks. The default
 * is `UndiciTransport` (keep-alive pools); `FileTransport` serves file:// URLs; tests and other
 * runtimes can supply their own. Transports do not retry, decode or limit: HttpClient does.
 */
import type { TransportTrace } from './TransportTrace.js';

/** What a request is for; reports group requests by it. */
export type RequestPurpose =
  | 'config'
  | 'summary'
  | 'summary.sig'
  | 'summary.idx'
  | 'summary.idx.sig'
  | 'subsummary'
  | 'summary-delta'
  | 'delta-index'
  | 'superblock'
  | 'delta-part'
  | 'fallback'
  | 'commit'
  | 'commitmeta'
  | 'dirtree'
  | 'dirmeta'
  | 'file'
  | 'ref'
  | 'other';

/** Timeouts of one request, in ms; 0 disables one. */
export interface TransportTimeouts {
  connect: number;
  firstByte: number;
  bodyStall: number;
}

export interface TransportRequest {
  url: URL;
  method: 'GET' | 'HEAD';
  /** Lower-case header names. */
  headers: Record<string, string>;
  signal?: AbortSignal | undefined;
  /** Observer of wire events; call what you can observe. */
  trace?: TransportTrace | undefined;
  /** Timeouts to apply when `Transport.enforcesTimeouts` is true. */
  timeouts?: TransportTimeouts | undefined;
  /**
   * A small GET (an object of a pull) that may share an HTTP/1.1 connection's pipeline with
   * others; transports that pipeline never queue requests behind one that is not. @default false
   */
  pipelinable?: boolean | undefined;
}

export interface TransportResponse {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string | undefined>;
  /** The body as sent on the wire (no content decoding). */
  body: AsyncIterable<Uint8Array>;
  /** Stops reading the body and releases the connection (or destroys it). */
  dispose(): void;
}

export interface Transport {
  request(request: TransportRequest): Promise<TransportResponse>;
  close(): Promise<void>;
  /**
   * True when the transport applies `request.timeouts.connect` and `.firstByte` itself and fails
   * with errors HttpClient classifies (undici's `UND_ERR_CONNECT_TIMEOUT` / `UND_ERR_HEADERS_TIMEOUT`,
   * or a FlathubFetchError with `ERR_CONNECT_TIMEOUT` / `ERR_FIRST_BYTE_TIMEOUT`). Otherwise HttpClient
   * runs its own first-byte timer (from `trace.requestSent`, else from dispatch). The body-stall
   * timer always runs in HttpClient.
   */
  readonly enforcesTimeouts?: boolean;
}
