/**
 * One HTTP exchange of a mirror check, exactly as the server answered it: no retries, no
 * content decoding, redirects followed by the same policy as a pull (http/redirects.ts). Each
 * hop is recorded with the RequestRecord a pull's attempts have (`records`); the fields checks
 * read — status, byte counts, timings, the connection — are the answer's (the last hop's). The
 * JSON report's evidence points back at exchanges by URL.
 */
import type { RequestRecord } from '../http/RequestRecord.js';
import type { RequestPurpose } from '../http/Transport.js';

/** What an exchange was for: a pull's purposes for the same files, and the checks' own. */
export type ExchangePurpose =
  | Exclude<RequestPurpose, 'config' | 'summary-delta' | 'dirtree' | 'dirmeta' | 'file' | 'ref' | 'other'>
  /** `summaries/<sha256(summary.idx)>.idx.sig`, what flatpak 1.9.3+ fetches. */
  | 'idx-sig'
  /** A dirtree walked to choose the sampled files. */
  | 'walk'
  /** A sampled object. */
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
  /** A redirect the redirect policy refuses (too many hops, a loop, https→http, off the allow-list), or one without Location. */
  | 'redirect'
  | 'aborted';

/** What a session knows of an exchange before sending it. */
export interface ExchangeInit {
  purpose: ExchangePurpose;
  method: 'GET' | 'HEAD';
  path: string;
  url: string;
  range: string | null;
  repeatOf: number | null;
  declaredSize: number | null;
}

export class Exchange {
  readonly purpose: ExchangePurpose;
  readonly method: 'GET' | 'HEAD';
  /** Repository-relative path. */
  readonly path: string;
  /** The URL requested (before redirects). */
  readonly url: string;
  readonly range: string | null;
  /** The exchange this one repeats (cached-error and truncation checks), or null. */
  readonly repeatOf: number | null;
  /**
   * One RequestRecord per hop, in order (the hop after a redirect has `retryOf: 'redirect'`);
   * the last is the answer. A session neither retries nor decodes: `attempt` counts hops and
   * `bodyBytes` equals `wireBytes`. Empty only before the first request went out.
   */
  readonly records: RequestRecord[] = [];
  /** The answer's response headers in full, lower-case names (a record keeps the cache headers only). */
  headers: Record<string, string | undefined> = {};
  /** The body, for GETs that completed (null otherwise, or once a check dropped it). */
  body: Uint8Array | null = null;
  /** What went wrong, in a check's terms (a check may add a short body it found out later). */
  error: { kind: ExchangeErrorKind; message: string } | null = null;
  /** The size declared elsewhere (superblock, HEAD) the body was held to, or null. */
  declaredSize: number | null;

  constructor(init: ExchangeInit) {
    this.purpose = init.purpose;
    this.method = init.method;
    this.path = init.path;
    this.url = init.url;
    this.range = init.range;
    this.repeatOf = init.repeatOf;
    this.declaredSize = init.declaredSize;
  }

  /** The first hop's record id: what repeats point back at. */
  get id(): number {
    return this.records[0]?.requestId ?? 0;
  }

  /** The answer's record (the last hop's), or null before the first request went out. */
  get answer(): RequestRecord | null {
    return this.records.at(-1) ?? null;
  }

  /** The URL that answered, after redirects. */
  get finalUrl(): string {
    return this.answer?.url ?? this.url;
  }

  /** Final status (after redirects), or null without a response. */
  get status(): number | null {
    return this.answer?.status ?? null;
  }

  get contentLength(): number | null {
    return this.answer?.contentLength ?? null;
  }

  /** Body bytes received. */
  get bytes(): number {
    return this.answer?.wireBytes ?? 0;
  }

  /** The redirects followed: each hop but the last, with where it led. */
  get redirects(): Array<{ status: number; from: string; to: string }> {
    const out: Array<{ status: number; from: string; to: string }> = [];
    for (let i = 0; i + 1 < this.records.length; i++) {
      const r = this.records[i] as RequestRecord;
      out.push({ status: r.status ?? 0, from: r.url, to: (this.records[i + 1] as RequestRecord).url });
    }
    return out;
  }

  get connectionId(): number | null {
    return this.answer?.connectionId ?? null;
  }

  get connectionReused(): boolean | null {
    return this.answer?.connectionReused ?? null;
  }

  /** When the first hop was sent, the answer's headers arrived and it ended (performance.now() ms). */
  get start(): number {
    const t = this.records[0]?.timings;
    return t === undefined ? 0 : (t.dispatched ?? t.queued);
  }

  get firstByte(): number | null {
    return this.answer?.timings.firstByte ?? null;
  }

  get end(): number {
    return this.answer?.timings.done ?? this.start;
  }
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
