/**
 * The transport contract: one HTTP exchange, body as an async iterable of chunks. The default
 * is `UndiciTransport` (keep-alive pools); `FileTransport` serves file:// URLs; tests and other
 * runtimes can supply their own.
 */

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

export interface TransportRequest {
  url: URL;
  method: 'GET' | 'HEAD';
  headers: Record<string, string>;
  signal?: AbortSignal | undefined;
}

export interface TransportResponse {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string | undefined>;
  body: AsyncIterable<Uint8Array>;
  /** Stops reading the body and releases the connection (or destroys it). */
  dispose(): void;
}

export interface Transport {
  request(request: TransportRequest): Promise<TransportResponse>;
  close(): Promise<void>;
}
