/** Wording and error code of a failed attempt, by error class (the message tail after the URL). */
import { type ErrorCode, ErrorCodes } from '../errors/codes.js';
import type { TimeoutOptions } from './HttpClientOptions.js';

export function errorCodeFor(errorClass: string): ErrorCode {
  if (errorClass === 'connect-timeout') return ErrorCodes.CONNECT_TIMEOUT;
  if (errorClass === 'first-byte-timeout') return ErrorCodes.FIRST_BYTE_TIMEOUT;
  if (errorClass === 'body-stall') return ErrorCodes.BODY_STALL;
  return ErrorCodes.NETWORK;
}

export function describeFailure(
  errorClass: string,
  code: string | null,
  err: unknown,
  ctx: { timeouts: Required<TimeoutOptions>; received: number; declared: number | null },
): string {
  const c = code !== null ? ` (${code})` : '';
  switch (errorClass) {
    case 'connect-timeout':
      return `no connection within ${ctx.timeouts.connect} ms${c}`;
    case 'first-byte-timeout':
      return `no response within ${ctx.timeouts.firstByte} ms of sending the request${c}`;
    case 'body-stall':
      return `body stalled for ${ctx.timeouts.bodyStall} ms after ${ctx.received} bytes${c}`;
    case 'reset':
      return `connection reset${c}`;
    case 'refused':
      return `connection refused${c}`;
    case 'truncated':
      return `body cut off after ${ctx.received}${ctx.declared !== null ? ` of ${ctx.declared}` : ''} bytes${c}`;
    case 'dns':
      return `DNS lookup failed${c}`;
    case 'tls':
      return `TLS failed${c}: ${(err as Error)?.message ?? String(err)}`;
    default:
      return `${(err as Error)?.message ?? String(err)}${c}`;
  }
}
