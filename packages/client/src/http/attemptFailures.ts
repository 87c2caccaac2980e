/** What HttpClient makes of a failed attempt: its overload signal, and the error a request gives up with. */
import { FlathubFetchError, isFlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import type { AttemptFailure } from './AttemptOutcome.js';
import type { RequestPurpose } from './Transport.js';
import { abortError } from '../errors/abortError.js';

/** Statuses that say the server (or a cache in front of it) is overloaded. */
const OVERLOAD_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504]);

/** The overload signal in a failed attempt (`503`, `first-byte-timeout`, …), or null. */
export function overloadCause(f: AttemptFailure): string | null {
  if (f.errorClass === 'http-status' && f.status !== null && OVERLOAD_STATUSES.has(f.status)) return String(f.status);
  if (f.errorClass === 'first-byte-timeout' || f.errorClass === 'connect-timeout') return f.errorClass;
  return null;
}

/** The error thrown when a request gives up. */
export function finalError(url: URL, purpose: RequestPurpose, f: AttemptFailure, attempts: number, reason: string | null): unknown {
  if (f.callerError !== undefined) return f.callerError.error;
  const suffix =
    attempts > 1 && reason !== null && reason !== 'not retryable' ? ` (${reason})` : attempts > 1 ? ` (attempt ${attempts})` : '';
  if (f.errorClass === 'checksum-mismatch' && isFlathubFetchError(f.cause)) {
    const e = f.cause;
    const message = e.message.includes(url.href) ? e.message : `${url.href}: ${e.message}`;
    return new FlathubFetchError(e.code, `${message}${suffix}`, { ...e.data, url: url.href, attempts }, { cause: e });
  }
  if (f.errorClass === 'aborted') {
    return abortError(`GET ${url.href}`, { url: url.href, purpose }, { reason: f.cause });
  }
  const data: Record<string, unknown> = { url: url.href, purpose, ...f.data, attempts };
  if (f.code === ErrorCodes.NOT_FOUND) data.what ??= purpose;
  if (f.code === ErrorCodes.SIZE_LIMIT) data.url = url.href;
  return new FlathubFetchError(
    f.code,
    `GET ${url.href}: ${f.detail}${suffix}`,
    data,
    f.cause === undefined ? undefined : { cause: f.cause },
  );
}
