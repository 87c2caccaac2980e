/** How one attempt ended, as runAttempt reports it to HttpClient's retry loop. */
import type { ErrorCode } from '../errors/codes.js';
import type { RequestErrorClass } from './RequestRecord.js';

/** Where an interrupted identity body can continue (Range: bytes=offset-, If-Range: validator). */
export interface ResumePoint {
  offset: number;
  validator: string;
  etag: string | null;
  /** Full length of the representation, when known. */
  total: number | null;
}

export interface AttemptFailure {
  kind: 'failed';
  errorClass: RequestErrorClass;
  /** Code of the FlathubFetchError thrown if this is the last attempt. */
  code: ErrorCode;
  /** What went wrong, without the URL ("HTTP 503", "connection reset (ECONNRESET)"). */
  detail: string;
  /** Extra `data` for that error. */
  data: Readonly<Record<string, unknown>>;
  cause?: unknown;
  /** Low-level code for the record (errno, undici or ours). */
  recordCode: string | null;
  retryable: boolean;
  /** Counts against the corruption allowance (bad checksum, undecodable body). */
  corruption: boolean;
  /** Server's Retry-After, ms. */
  retryAfter: number | null;
  status: number | null;
  /** Set when the next attempt can continue the body instead of starting again. */
  resume: ResumePoint | null;
  /** An error from the caller (onChunk, or a verify error that is not a checksum/format error): rethrown unchanged. */
  callerError?: { error: unknown };
}

/** A 301/302/303/307/308 with a Location: the client decides whether to follow it. */
export interface AttemptRedirect {
  kind: 'redirect';
  status: number;
  location: string;
}

export type AttemptOutcome = { kind: 'done'; bytes: number } | { kind: 'missing' } | AttemptRedirect | AttemptFailure;
