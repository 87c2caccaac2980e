/** Options of one HttpClient request (`get`, `download`) and what a download returns. */
import type { RequestPurpose } from './Transport.js';

export interface GetOptions {
  purpose: RequestPurpose;
  /** Refuse bodies (after content decoding) larger than this. */
  maxBytes: number;
  /** The body must be exactly this long: longer is cut off (size-violation, final), shorter is `truncated` (retried). @default undefined */
  expectedSize?: number | undefined;
  /** Return null instead of throwing on 404/403/410. @default false */
  allowMissing?: boolean;
  /**
   * Send `Accept-Encoding: zstd, gzip` (just gzip on a Node.js without node:zlib zstd) and decode the
   * response as it streams, `maxBytes` bounding the decoded size (for large uncompressed metadata:
   * summary, summary.idx, superblocks). An encoded body is never resumed mid-way: a retry starts over.
   * @default false
   */
  acceptEncoding?: boolean;
  /**
   * Checks the complete body. A FlathubFetchError with ERR_CHECKSUM_MISMATCH or ERR_FORMAT makes the
   * client fetch again (until the same corrupt body comes twice, or the 9th corrupt body); any other error is rethrown at once. @default undefined
   */
  verify?: ((body: Uint8Array) => void | Promise<void>) | undefined;
  signal?: AbortSignal | undefined;
}

export interface DownloadOptions extends Omit<GetOptions, 'verify'> {
  /** Receives the body as it arrives, in order; awaited (backpressure). */
  onChunk(chunk: Uint8Array): void | Promise<void>;
  /** The body starts again from byte 0: discard what `onChunk` received so far. */
  onRestart(): void;
  /** Runs after the last chunk (e.g. compares an incrementally computed hash); same retry rule as `GetOptions.verify`. */
  verify?: (() => void | Promise<void>) | undefined;
}

export interface DownloadResult {
  /** Body bytes delivered (after decoding), counting from the last restart. */
  bytes: number;
  attempts: number;
}
