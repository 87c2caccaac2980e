/**
 * Sorts an error thrown by a transport (while waiting for the response, or while reading the
 * body) into a RequestErrorClass, and says whether retrying can help. Recognises Node errno
 * codes, undici's error codes and our own transient codes (TRANSIENT_CODES).
 */
import { isFlathubFetchError } from '../errors/FlathubFetchError.js';
import { type ErrorCode, ErrorCodes, TRANSIENT_CODES } from '../errors/codes.js';
import type { RequestErrorClass } from './RequestRecord.js';

export interface TransportErrorClass {
  errorClass: RequestErrorClass;
  retryable: boolean;
  /** The most specific code found (errno, undici or ours), or null. */
  code: string | null;
}

/**
 * The peer reset the connection; or (ERR_PIPELINE_REQUEUED, PipelinedConnection) the connection a
 * request was pipelined on closed before its response began.
 */
const RESET = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_PIPELINE_REQUEUED']);
/** The connection closed (cleanly or not) before the response was complete. */
const CLOSED = new Set(['UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ERR_STREAM_PREMATURE_CLOSE']);
/** Other Node.js and undici codes of failures a new connection can get past. */
const TRANSIENT_ERRNO = new Set([
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
  'EAI_AGAIN',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'ERR_HTTP2_STREAM_ERROR',
  'ERR_HTTP2_SESSION_ERROR',
  'ERR_HTTP2_GOAWAY_SESSION',
  'ERR_HTTP2_STREAM_CANCEL',
  'ERR_HTTP2_INVALID_SESSION',
  'ERR_HTTP2_ERROR',
  // An internal assertion of undici's HTTP/1.1 parser (undici 7.30 asserts when a connection's
  // depth is lowered to 1 while pipelined responses arrive back to back, which PipelinedConnection
  // no longer does): the connection is dropped, and a retry on a fresh one succeeds.
  'ERR_ASSERTION',
]);

/** The request error class of our own transient codes a transport may throw (the timeouts of a transport that enforces them). */
const OUR_CLASSES: Partial<Record<ErrorCode, RequestErrorClass>> = {
  [ErrorCodes.CONNECT_TIMEOUT]: 'connect-timeout',
  [ErrorCodes.FIRST_BYTE_TIMEOUT]: 'first-byte-timeout',
  [ErrorCodes.BODY_STALL]: 'body-stall',
};

/**
 * @param midBody the response headers had arrived (a broken connection then means a cut-off body)
 */
export function classifyTransportError(err: unknown, midBody: boolean): TransportErrorClass {
  const code = errorCode(err);
  if (isFlathubFetchError(err)) {
    if (err.code === ErrorCodes.ABORTED) return { errorClass: 'aborted', retryable: false, code };
    if (TRANSIENT_CODES.has(err.code))
      return { errorClass: OUR_CLASSES[err.code] ?? (midBody ? 'truncated' : 'other'), retryable: true, code };
  }
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return { errorClass: 'connect-timeout', retryable: true, code };
    case 'UND_ERR_HEADERS_TIMEOUT':
      return { errorClass: 'first-byte-timeout', retryable: true, code };
    case 'UND_ERR_BODY_TIMEOUT':
      return { errorClass: 'body-stall', retryable: true, code };
    case 'ECONNREFUSED':
      return { errorClass: 'refused', retryable: true, code };
    case 'ENOTFOUND':
    case 'EAI_NONAME':
    case 'EAI_FAIL':
      return { errorClass: 'dns', retryable: false, code };
    case 'EAI_AGAIN':
      return { errorClass: 'dns', retryable: true, code };
  }
  if (code !== null && RESET.has(code)) return { errorClass: 'reset', retryable: true, code };
  if (code !== null && CLOSED.has(code)) return { errorClass: midBody ? 'truncated' : 'reset', retryable: true, code };
  if (
    code !== null &&
    (code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_') || /CERT|SELF_SIGNED|UNABLE_TO_/.test(code) || code === 'EPROTO')
  ) {
    return { errorClass: 'tls', retryable: false, code };
  }
  if (code !== null && TRANSIENT_ERRNO.has(code)) return { errorClass: midBody ? 'truncated' : 'other', retryable: true, code };
  // llhttp parse errors (HPE_*, or undici's HTTPParserError without a code for some parser
  // states): a broken proxy or connection (a response that ended short of its Content-Length
  // followed by the next one on a kept-alive connection). A fresh connection can succeed.
  if (code?.startsWith('HPE_') || isParserError(err)) return { errorClass: 'other', retryable: true, code: code ?? 'HPE' };
  return { errorClass: 'other', retryable: false, code };
}

/** The error's own code, or its cause's. */
function errorCode(err: unknown): string | null {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
  }
  return null;
}

/** undici's HTTPParserError (by name: its class is not exported), the error or its cause. */
function isParserError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if ((e as { name?: unknown }).name === 'HTTPParserError') return true;
  }
  return false;
}
