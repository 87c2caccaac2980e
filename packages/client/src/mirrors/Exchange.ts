/**
 * One HTTP exchange of a mirror check, exactly as the server answered it: no retries, no
 * content decoding, redirects followed by hand and counted. Checks read statuses, headers and
 * byte counts from here; the JSON report's evidence points back at them by URL.
 */

/** What an exchange was for. */
export type ExchangePurpose =
  | 'summary'
  | 'summary.sig'
  | 'summary.idx'
  | 'summary.idx.sig'
  | 'idx-sig'
  | 'subsummary'
  | 'delta-index'
  | 'superblock'
  | 'delta-part'
  | 'fallback'
  | 'commit'
  | 'commitmeta'
  | 'walk'
  | 'object'
  | 'probe-missing'
  | 'probe-range'
  | 'repeat';

export type ExchangeErrorKind =
  /** DNS, refused, reset before any response, TLS. */
  | 'network'
  /** Connect, first-byte or body-stall timeout. */
  | 'timeout'
  /** The body ended before Content-Length bytes arrived. */
  | 'short-body'
  /** The body was larger than the check allows. */
  | 'too-large'
  /** Too many redirects, or a redirect without Location. */
  | 'redirect'
  | 'aborted';

export interface Exchange {
  /** Increasing per session. */
  id: number;
  purpose: ExchangePurpose;
  method: 'GET' | 'HEAD';
  /** Repository-relative path. */
  path: string;
  url: string;
  /** The URL that answered, after redirects. */
  finalUrl: string;
  range: string | null;
  /** Final status (after redirects), or null without a response. */
  status: number | null;
  /** Final response headers, lower-case names. */
  headers: Record<string, string | undefined>;
  contentLength: number | null;
  /** Body bytes received. */
  bytes: number;
  /** The body, for GETs that completed (null otherwise, or once a check dropped it). */
  body: Uint8Array | null;
  redirects: Array<{ status: number; from: string; to: string }>;
  connectionId: number | null;
  connectionReused: boolean | null;
  /** Milliseconds since the session started: sent, response headers, done. */
  start: number;
  firstByte: number | null;
  end: number;
  error: { kind: ExchangeErrorKind; message: string } | null;
  /** The exchange this one repeats (cached-error and truncation checks), or null. */
  repeatOf: number | null;
  /** The size declared elsewhere (superblock, HEAD) the body was held to, or null. */
  declaredSize: number | null;
}

/** How a check should read an exchange. */
export type ExchangeOutcome =
  /** 2xx with the complete body (or headers, for HEAD) and not an HTML page. */
  | 'ok'
  /** 404 / 410 / 403: the file is not there (libostree's rule). */
  | 'missing'
  /** Anything else (5xx, HTML page, short body, timeout, …): not evidence about the content; the http and performance checks own it. */
  | 'unreliable';

export function outcome(e: Exchange): ExchangeOutcome {
  if (e.error !== null) return 'unreliable';
  if (e.status === 404 || e.status === 410 || e.status === 403) return 'missing';
  if (e.status === null || e.status < 200 || e.status > 299) return 'unreliable';
  return isHtml(e) ? 'unreliable' : 'ok';
}

/** An HTML page where a repository file was expected (by Content-Type or by its first bytes). */
export function isHtml(e: Exchange): boolean {
  if (/^\s*text\/html\b/i.test(e.headers['content-type'] ?? '')) return true;
  if (e.body === null || e.body.length === 0) return false;
  const head = new TextDecoder().decode(e.body.subarray(0, 64)).trimStart().toLowerCase();
  return head.startsWith('<!doctype html') || head.startsWith('<html');
}

/** "404", "503", "short body (120 of 4096 bytes)", "timeout: …" — what an exchange got, for evidence. */
export function describeExchange(e: Exchange): string {
  if (e.error !== null) {
    if (e.error.kind === 'short-body') return describeShort(e);
    return `${e.error.kind}: ${e.error.message}`;
  }
  if (isHtml(e) && e.status !== null && e.status < 300) return `${e.status} with an HTML page`;
  return `HTTP ${e.status}`;
}

/**
 * A body shorter than declared: by its own Content-Length (the connection closed early), or —
 * Content-Length agreeing with the cut — by the size a superblock or a HEAD declares. A cut at a
 * power of two (≥ 64 KiB) is named: caches store large files in segments of such sizes.
 */
function describeShort(e: Exchange): string {
  const byHeader = e.contentLength !== null && e.bytes < e.contentLength;
  const text = byHeader
    ? `body ended after ${e.bytes} of ${e.contentLength} bytes (Content-Length)`
    : `body of ${e.bytes} bytes${e.contentLength !== null ? ` (Content-Length ${e.contentLength})` : ''} where ${e.declaredSize} are declared`;
  return isSegmentBoundary(e.bytes) ? `${text}: cut at ${binarySize(e.bytes)}, a power of two (a cache's segment size)` : text;
}

export function isSegmentBoundary(n: number): boolean {
  return n >= 64 * 1024 && Number.isInteger(Math.log2(n));
}

function binarySize(n: number): string {
  return n >= 1024 * 1024 ? `${n / (1024 * 1024)} MiB` : `${n / 1024} KiB`;
}
